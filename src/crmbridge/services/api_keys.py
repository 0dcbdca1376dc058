"""API keys for the host application: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import FieldError, RecordValidationError
from crmbridge.services.access import TENANT_ROLES, Principal, Role
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import AuthenticationFailed, Forbidden, NotFound
from crmbridge.store.db import utcnow
from crmbridge.store.models import ApiKey
from crmbridge.store.repositories import api_keys as repo

KEY_PREFIX = "crmb_"
#: Visible part: "crmb_" and 8 random characters, enough to tell keys apart.
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 8
#: Touch ``last_used_at`` at most this often per key, to spare a write per request.
LAST_USED_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: the only moment its secret exists in clear."""

    record: ApiKey
    #: The full key, to show once.
    secret: str


def api_key_view(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "tenant_id": key.tenant_id,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "allowed_ips": list(key.allowed_ips),
        "created_by": key.created_by,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def hash_api_key(secret: str) -> str:
    """SHA-256 hex; a slow hash is not needed for 190 bits of randomness."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_allowed_ips(values: list[str]) -> list[str]:
    normalized = []
    for value in values:
        try:
            normalized.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise RecordValidationError(
                [FieldError(field="allowed_ips", message=f"{value!r} is not an IP or CIDR")]
            ) from None
    return normalized


def create_api_key(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str | None,
    name: str,
    role: Role,
    allowed_ips: list[str] | None = None,
) -> NewApiKey:
    """A new key for ``tenant_id`` (or an operator key when ``role`` is SUPER_ADMIN)."""
    if (role is Role.SUPER_ADMIN) != (tenant_id is None):
        raise RecordValidationError(
            [FieldError(field="role", message="operator keys have no tenant; others do")]
        )
    if tenant_id is not None and role not in TENANT_ROLES:
        raise RecordValidationError([FieldError(field="role", message="not a tenant role")])
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise RecordValidationError([FieldError(field="name", message="1-100 characters")])
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = repo.add_api_key(
        session,
        ApiKey(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=name,
            role=role.value,
            prefix=secret[:VISIBLE_PREFIX_LENGTH],
            key_hash=hash_api_key(secret),
            allowed_ips=_check_allowed_ips(allowed_ips or []),
            created_by=principal.label,
            created_at=utcnow(),
        ),
    )
    record_audit(
        session,
        principal,
        action="api_key.create",
        target_type="api_key",
        target_id=key.id,
        tenant_id=tenant_id,
        after=api_key_view(key),
    )
    return NewApiKey(record=key, secret=secret)


def list_api_keys(session: Session, *, tenant_id: str | None) -> list[ApiKey]:
    return repo.list_api_keys(session, tenant_id=tenant_id)


def revoke_api_key(
    session: Session, principal: Principal, *, tenant_id: str | None, key_id: str
) -> ApiKey:
    """Revoke a key (idempotent); it stops working at once."""
    key = repo.get_api_key(session, key_id, tenant_id=tenant_id)
    if key is None:
        raise NotFound("No API key with this id.")
    if key.revoked_at is None:
        before = api_key_view(key)
        key.revoked_at = utcnow()
        session.flush()
        record_audit(
            session,
            principal,
            action="api_key.revoke",
            target_type="api_key",
            target_id=key.id,
            tenant_id=tenant_id,
            before=before,
            after=api_key_view(key),
        )
    return key


def authenticate_api_key(session: Session, secret: str, *, client_ip: str | None) -> Principal:
    """The principal of a valid, unrevoked key used from an allowed address.

    Raises:
        AuthenticationFailed: unknown or revoked key.
        Forbidden: the key's IP allow-list (R-P4) does not contain ``client_ip``.
    """
    if not secret.startswith(KEY_PREFIX):
        raise AuthenticationFailed("Invalid API key.")
    digest = hash_api_key(secret)
    key = repo.get_api_key_by_hash(session, digest)
    if key is None or not hmac.compare_digest(key.key_hash, digest) or key.revoked_at:
        raise AuthenticationFailed("Invalid API key.")
    if key.allowed_ips and not _ip_allowed(client_ip, key.allowed_ips):
        raise Forbidden("This API key may not be used from your IP address.")
    return Principal(
        kind="api_key", id=key.id, label=key.name, role=Role(key.role), tenant_id=key.tenant_id
    )


def touch_api_key(session: Session, key_id: str) -> None:
    """Note that a key was used (at most once per resolution window).

    Callers run this in a short transaction of its own, never inside a request's
    transaction: on SQLite a write there would hold the database's single write lock
    for the whole request, blocking the Salesforce token renewals the request triggers.
    """
    now = utcnow()
    repo.touch_last_used(
        session,
        key_id,
        now=now,
        older_than=now - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS),
    )


def _ip_allowed(client_ip: str | None, allowed: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in allowed)
