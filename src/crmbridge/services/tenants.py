"""Tenants: create, list, suspend, resume (operator only)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import FieldError, RecordValidationError
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import NotFound, TenantSuspended
from crmbridge.store.models import Tenant
from crmbridge.store.repositories import tenants as repo


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "status": tenant.status,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    }


def create_tenant(session: Session, principal: Principal, *, name: str) -> Tenant:
    """A new, active tenant."""
    name = name.strip()
    if not name or len(name) > 200:
        raise RecordValidationError([FieldError(field="name", message="1-200 characters")])
    tenant = repo.add_tenant(session, tenant_id=str(uuid.uuid4()), name=name)
    record_audit(
        session,
        principal,
        action="tenant.create",
        target_type="tenant",
        target_id=tenant.id,
        tenant_id=None,
        after=tenant_view(tenant),
    )
    return tenant


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = repo.get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound("No tenant with this id.")
    return tenant


def get_active_tenant(session: Session, tenant_id: str) -> Tenant:
    """The tenant, refusing suspended ones (they may do nothing)."""
    tenant = get_tenant(session, tenant_id)
    if tenant.status != "active":
        raise TenantSuspended()
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return repo.list_tenants(session)


def set_tenant_status(
    session: Session, principal: Principal, tenant_id: str, *, suspended: bool
) -> Tenant:
    """Suspend or resume a tenant (idempotent)."""
    tenant = get_tenant(session, tenant_id)
    before = tenant_view(tenant)
    status = "suspended" if suspended else "active"
    if tenant.status != status:
        repo.set_tenant_status(session, tenant, status)
        record_audit(
            session,
            principal,
            action="tenant.suspend" if suspended else "tenant.resume",
            target_type="tenant",
            target_id=tenant.id,
            tenant_id=None,
            before=before,
            after=tenant_view(tenant),
        )
    return tenant
