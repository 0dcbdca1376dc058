"""Queries on the audit trail of record-level sync operations (``sync_records``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.deferred import insert_rows
from crmbridge.store.sync_models import SyncRecord

#: One audit row as column values (``sync.audit.audit_row`` makes them).
AuditRow = Mapping[str, Any]


def add_records(session: Session, rows: Sequence[AuditRow]) -> None:
    """Insert audit rows in the caller's transaction, in one statement.

    Rows, not ORM objects: a sync page writes thousands and never reads them back.
    """
    if rows:
        insert_rows(session.connection(), _SYNC_RECORDS, list(rows))


_SYNC_RECORDS: sa.Table = SyncRecord.__table__  # type: ignore[assignment]


def list_records(
    session: Session,
    *,
    tenant_id: str,
    limit: int,
    before: tuple[datetime, int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    direction: str | None = None,
    salesforce_object: str | None = None,
    record_id: str | None = None,
    outcome: str | None = None,
    run_id: str | None = None,
) -> list[SyncRecord]:
    """Audit rows newest first, continuing before the ``before`` position."""
    query = (
        sa.select(SyncRecord)
        .where(SyncRecord.tenant_id == tenant_id)
        .order_by(SyncRecord.created_at.desc(), SyncRecord.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(SyncRecord.created_at >= since)
    if until is not None:
        query = query.where(SyncRecord.created_at < until)
    if direction is not None:
        query = query.where(SyncRecord.direction == direction)
    if salesforce_object is not None:
        query = query.where(SyncRecord.salesforce_object == salesforce_object)
    if record_id is not None:
        query = query.where(
            sa.or_(SyncRecord.platform_id == record_id, SyncRecord.salesforce_id == record_id)
        )
    if outcome is not None:
        query = query.where(SyncRecord.outcome == outcome)
    if run_id is not None:
        query = query.where(SyncRecord.run_id == run_id)
    if before is not None:
        at, row_id = before
        query = query.where(
            sa.or_(
                SyncRecord.created_at < at,
                sa.and_(SyncRecord.created_at == at, SyncRecord.id < row_id),
            )
        )
    return list(session.scalars(query))


def get_record(session: Session, *, tenant_id: str, record_id: int) -> SyncRecord | None:
    """One audit row (``None`` for another tenant's)."""
    row = session.get(SyncRecord, record_id)
    return row if row is not None and row.tenant_id == tenant_id else None


def delete_older_than(
    session: Session, *, tenant_id: str, cutoff: datetime, batch: int = 5000
) -> int:
    """Delete up to ``batch`` audit rows older than ``cutoff``; return how many went."""
    ids = list(
        session.scalars(
            sa.select(SyncRecord.id)
            .where(SyncRecord.tenant_id == tenant_id, SyncRecord.created_at < cutoff)
            .order_by(SyncRecord.id)
            .limit(batch)
        )
    )
    if not ids:
        return 0
    session.execute(sa.delete(SyncRecord).where(SyncRecord.id.in_(ids)))
    return len(ids)


def count_by_outcome(
    session: Session, *, tenant_id: str, run_id: str
) -> dict[tuple[str, str, str], int]:
    """(object, direction, outcome) → rows of one run."""
    rows = session.execute(
        sa.select(
            SyncRecord.salesforce_object,
            SyncRecord.direction,
            SyncRecord.outcome,
            sa.func.count(),
        )
        .where(SyncRecord.tenant_id == tenant_id, SyncRecord.run_id == run_id)
        .group_by(SyncRecord.salesforce_object, SyncRecord.direction, SyncRecord.outcome)
    )
    return {(str(o), str(d), str(out)): int(n) for o, d, out, n in rows}
