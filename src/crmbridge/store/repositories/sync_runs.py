"""Queries on sync runs (``sync_runs``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.sync_models import SyncRun

#: Statuses of a run that has not ended.
ACTIVE_STATUSES = ("queued", "running")


def add_run(session: Session, run: SyncRun) -> SyncRun:
    """Insert a run."""
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, *, tenant_id: str, run_id: str) -> SyncRun | None:
    """One run (``None`` for another tenant's)."""
    run = session.get(SyncRun, run_id)
    return run if run is not None and run.tenant_id == tenant_id else None


def active_runs(session: Session, *, tenant_id: str) -> list[SyncRun]:
    """Runs of the tenant that are queued or running, oldest first."""
    return list(
        session.scalars(
            sa.select(SyncRun)
            .where(SyncRun.tenant_id == tenant_id, SyncRun.status.in_(ACTIVE_STATUSES))
            .order_by(SyncRun.created_at, SyncRun.id)
        )
    )


def list_runs(
    session: Session,
    *,
    tenant_id: str,
    limit: int,
    before: tuple[datetime, str] | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> list[SyncRun]:
    """Runs newest first, continuing before the ``before`` position."""
    query = (
        sa.select(SyncRun)
        .where(SyncRun.tenant_id == tenant_id)
        .order_by(SyncRun.created_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(SyncRun.status == status)
    if kind is not None:
        query = query.where(SyncRun.kind == kind)
    if before is not None:
        at, run_id = before
        query = query.where(
            sa.or_(SyncRun.created_at < at, sa.and_(SyncRun.created_at == at, SyncRun.id < run_id))
        )
    return list(session.scalars(query))


def api_calls_since(session: Session, *, tenant_id: str, since: datetime) -> list[SyncRun]:
    """Runs started since ``since`` (their API calls still count in the 24-hour window)."""
    return list(
        session.scalars(
            sa.select(SyncRun).where(
                SyncRun.tenant_id == tenant_id,
                SyncRun.started_at.is_not(None),
                SyncRun.started_at >= since,
                SyncRun.api_calls > 0,
            )
        )
    )
