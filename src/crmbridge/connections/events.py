"""Events for a tenant's admins (R-A5: "notifies the tenant admins").

An event is a row the admin UI lists and ``GET /api/v1/events`` answers; it says what
happened and what to do. Kinds used by the connection services:

| kind | severity | when |
|---|---|---|
| ``salesforce.connected`` | info | an org was connected or re-authorized (sync resumes) |
| ``salesforce.needs_reauthorization`` | error | a renewal failed; sync is paused |
| ``salesforce.disconnected`` | info | an admin disconnected the org |
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crmbridge.store.connection_models import TenantEvent
from crmbridge.store.repositories import tenant_events as repo

CONNECTED = "salesforce.connected"
NEEDS_REAUTHORIZATION = "salesforce.needs_reauthorization"
DISCONNECTED = "salesforce.disconnected"


def record_tenant_event(
    session: Session,
    *,
    tenant_id: str,
    kind: str,
    severity: str,
    title: str,
    detail: str = "",
    action: str = "",
    data: dict[str, Any] | None = None,
) -> TenantEvent:
    """Write one event in the caller's transaction (never with secret values)."""
    return repo.add_tenant_event(
        session,
        tenant_id=tenant_id,
        kind=kind,
        severity=severity,
        title=title,
        detail=detail,
        action=action,
        data=data,
    )


def list_events(
    session: Session,
    *,
    tenant_id: str,
    before_id: int | None = None,
    kind_prefix: str | None = None,
    limit: int = 50,
) -> list[TenantEvent]:
    """The tenant's events, newest first."""
    return repo.list_tenant_events(
        session, tenant_id=tenant_id, before_id=before_id, kind_prefix=kind_prefix, limit=limit
    )


def event_view(event: TenantEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "severity": event.severity,
        "title": event.title,
        "detail": event.detail,
        "action": event.action,
        "data": dict(event.data or {}),
        "created_at": event.created_at,
    }
