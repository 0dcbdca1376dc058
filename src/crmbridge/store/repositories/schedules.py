"""Queries of the scheduler: which tenants may sync on a schedule, and their state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.models import Tenant
from crmbridge.store.push_models import SyncSchedule
from crmbridge.store.sync_models import SyncTenantState


def schedulable_tenant_ids(session: Session) -> list[str]:
    """Active tenants with Auto-sync on and a connected, not paused connection (R-O4)."""
    statement = (
        sa.select(Tenant.id)
        .join(SalesforceConnection, SalesforceConnection.tenant_id == Tenant.id)
        .where(
            Tenant.status == "active",
            SalesforceConnection.status == "connected",
            SalesforceConnection.sync_paused.is_(False),
            SalesforceConnection.auto_sync.is_(True),
        )
        .order_by(Tenant.id)
    )
    return list(session.scalars(statement))


def get_or_add_schedule(session: Session, *, tenant_id: str, now: datetime) -> SyncSchedule:
    """The tenant's schedule row, created (first seen now) on first use."""
    schedule = session.get(SyncSchedule, tenant_id)
    if schedule is None:
        schedule = SyncSchedule(
            tenant_id=tenant_id,
            first_seen_at=now,
            last_status="",
            last_error="",
            updated_at=now,
        )
        session.add(schedule)
        session.flush()
    return schedule


def get_schedule(session: Session, tenant_id: str) -> SyncSchedule | None:
    return session.get(SyncSchedule, tenant_id)


def sync_held_until(session: Session, tenant_id: str) -> datetime | None:
    """Until when the sync engine asked to hold the tenant's sync (rate limit, API
    budget), if it did."""
    row = session.get(SyncTenantState, tenant_id)
    return row.resume_at if row is not None else None
