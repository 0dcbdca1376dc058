"""Queries on tenant events (what a tenant's admins must know)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.connection_models import TenantEvent
from crmbridge.store.db import utcnow


def add_tenant_event(
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
    event = TenantEvent(
        tenant_id=tenant_id,
        kind=kind,
        severity=severity,
        title=title,
        detail=detail,
        action=action,
        data=dict(data or {}),
        created_at=utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def list_tenant_events(
    session: Session,
    *,
    tenant_id: str,
    before_id: int | None = None,
    kind_prefix: str | None = None,
    limit: int = 50,
) -> list[TenantEvent]:
    """Newest first."""
    query = (
        sa.select(TenantEvent)
        .where(TenantEvent.tenant_id == tenant_id)
        .order_by(TenantEvent.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(TenantEvent.id < before_id)
    if kind_prefix:
        query = query.where(TenantEvent.kind.startswith(kind_prefix, autoescape=True))
    return list(session.scalars(query))
