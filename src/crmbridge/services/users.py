"""People who log in: tenant users (managed by CLIENT_ADMIN) and operators."""

from __future__ import annotations

import uuid
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from crmbridge.domain.entities import FieldError, RecordValidationError
from crmbridge.services.access import TENANT_ROLES, Principal, Role
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import AuthenticationFailed, Conflict, NotFound, TenantSuspended
from crmbridge.services.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from crmbridge.store.db import utcnow
from crmbridge.store.models import User
from crmbridge.store.repositories import tenants as tenant_repo
from crmbridge.store.repositories import users as repo


def user_view(user: User) -> dict[str, Any]:
    """The public face of a user (never the password hash)."""
    return {
        "id": user.id,
        "tenant_id": user.tenant_id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
    }


def normalize_email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise RecordValidationError([FieldError(field="email", message=str(exc))]) from None


def check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise RecordValidationError(
            [
                FieldError(
                    field="password",
                    message=f"must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters",
                )
            ]
        )


def create_user(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str | None,
    email: str,
    role: Role,
    name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a user of ``tenant_id``, or an operator when ``role`` is SUPER_ADMIN.

    ``password_hash`` lets test factories skip the (deliberately slow) hashing.
    """
    if (role is Role.SUPER_ADMIN) != (tenant_id is None):
        raise RecordValidationError(
            [FieldError(field="role", message="SUPER_ADMIN users have no tenant; others do")]
        )
    if tenant_id is not None and role not in TENANT_ROLES:
        raise RecordValidationError([FieldError(field="role", message="not a tenant role")])
    email = normalize_email(email)
    if password is not None:
        check_password(password)
        password_hash = hash_password(password)
    if repo.email_taken(session, email):
        raise Conflict("A user with this e-mail already exists.")
    now = utcnow()
    user = repo.add_user(
        session,
        User(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            email=email,
            name=name.strip(),
            role=role.value,
            password_hash=password_hash,
            is_active=True,
            created_at=now,
            updated_at=now,
        ),
    )
    record_audit(
        session,
        principal,
        action="user.create",
        target_type="user",
        target_id=user.id,
        tenant_id=tenant_id,
        after=user_view(user),
    )
    return user


def get_tenant_user(session: Session, tenant_id: str, user_id: str) -> User:
    user = repo.get_tenant_user(session, tenant_id, user_id)
    if user is None:
        raise NotFound("No user with this id.")
    return user


def list_tenant_users(session: Session, tenant_id: str) -> list[User]:
    return repo.list_tenant_users(session, tenant_id)


def update_user(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    user_id: str,
    changes: dict[str, Any],
) -> User:
    """Change name, role, is_active and/or password of a tenant user."""
    user = get_tenant_user(session, tenant_id, user_id)
    before = user_view(user)
    if "role" in changes:
        role = Role(changes["role"])
        if role not in TENANT_ROLES:
            raise RecordValidationError([FieldError(field="role", message="not a tenant role")])
        user.role = role.value
    if "name" in changes:
        user.name = str(changes["name"]).strip()
    if "is_active" in changes:
        user.is_active = bool(changes["is_active"])
    if changes.get("password") is not None:
        check_password(changes["password"])
        user.password_hash = hash_password(changes["password"])
    user.updated_at = utcnow()
    session.flush()
    after = user_view(user)
    if "password" in changes:
        # Only the fact that it changed is recorded, never the value or its hash.
        after["password"] = "changed"
    record_audit(
        session,
        principal,
        action="user.update",
        target_type="user",
        target_id=user.id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return user


def delete_user(session: Session, principal: Principal, *, tenant_id: str, user_id: str) -> None:
    user = get_tenant_user(session, tenant_id, user_id)
    if principal.kind == "user" and principal.id == user.id:
        raise Conflict("You cannot delete your own account.")
    before = user_view(user)
    repo.delete_user(session, user)
    record_audit(
        session,
        principal,
        action="user.delete",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
    )


def authenticate_password(session: Session, email: str, password: str) -> User:
    """The active user with this e-mail and password, or :class:`AuthenticationFailed`."""
    user = repo.get_user_by_email(session, email.strip().lower())
    if not verify_password(password, user.password_hash if user else None):
        raise AuthenticationFailed("Wrong e-mail or password.")
    assert user is not None
    if not user.is_active:
        raise AuthenticationFailed("Wrong e-mail or password.")
    if user.tenant_id is not None:
        tenant = tenant_repo.get_tenant(session, user.tenant_id)
        if tenant is None or tenant.status != "active":
            raise TenantSuspended()
    user.last_login_at = utcnow()
    session.flush()
    return user


def principal_for_user(user: User) -> Principal:
    return Principal(
        kind="user", id=user.id, label=user.email, role=Role(user.role), tenant_id=user.tenant_id
    )
