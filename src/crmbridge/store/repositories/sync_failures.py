"""Queries on failed records (``sync_failures``): retries and dead letters."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.sync_models import SyncFailure

#: Statuses of a failure that still needs work.
OPEN_STATUSES = ("retrying", "open")


def find_failure(
    session: Session, *, tenant_id: str, mapping_id: str, direction: str, record_key: str
) -> SyncFailure | None:
    """The unsettled failure of one record, if any."""
    return session.scalar(
        sa.select(SyncFailure).where(
            SyncFailure.tenant_id == tenant_id,
            SyncFailure.mapping_id == mapping_id,
            SyncFailure.direction == direction,
            SyncFailure.record_key == record_key,
            SyncFailure.status.in_(OPEN_STATUSES),
        )
    )


def failures_for_keys(
    session: Session,
    *,
    tenant_id: str,
    mapping_id: str,
    direction: str,
    record_keys: Collection[str],
) -> dict[str, SyncFailure]:
    """Unsettled failures of several records, by record key."""
    found: dict[str, SyncFailure] = {}
    keys = sorted(set(record_keys))
    for start in range(0, len(keys), 500):
        for row in session.scalars(
            sa.select(SyncFailure).where(
                SyncFailure.tenant_id == tenant_id,
                SyncFailure.mapping_id == mapping_id,
                SyncFailure.direction == direction,
                SyncFailure.record_key.in_(keys[start : start + 500]),
                SyncFailure.status.in_(OPEN_STATUSES),
            )
        ):
            found[row.record_key] = row
    return found


def due_failures(
    session: Session, *, tenant_id: str, mapping_id: str, direction: str, now: datetime, limit: int
) -> list[SyncFailure]:
    """Failures whose retry time has come (``retrying``), oldest first."""
    return list(
        session.scalars(
            sa.select(SyncFailure)
            .where(
                SyncFailure.tenant_id == tenant_id,
                SyncFailure.mapping_id == mapping_id,
                SyncFailure.direction == direction,
                SyncFailure.status == "retrying",
                sa.or_(SyncFailure.next_retry_at.is_(None), SyncFailure.next_retry_at <= now),
            )
            .order_by(SyncFailure.next_retry_at, SyncFailure.id)
            .limit(limit)
        )
    )


def run_failure_keys_with_code(
    session: Session,
    *,
    tenant_id: str,
    mapping_id: str,
    direction: str,
    run_id: str,
    error_code: str,
) -> list[str]:
    """Record keys of one run's unsettled failures with one error code (e.g. waiting for
    a parent). Keys only: a large initial sync can hold tens of thousands of them."""
    return [
        key
        for key in session.scalars(
            sa.select(SyncFailure.record_key)
            .where(
                SyncFailure.tenant_id == tenant_id,
                SyncFailure.mapping_id == mapping_id,
                SyncFailure.direction == direction,
                SyncFailure.run_id == run_id,
                SyncFailure.error_code == error_code,
                SyncFailure.status.in_(OPEN_STATUSES),
            )
            .order_by(SyncFailure.id)
        )
        if key
    ]


def add_failure(session: Session, failure: SyncFailure) -> SyncFailure:
    """Insert a failure."""
    session.add(failure)
    session.flush()
    return failure


def get_failure(session: Session, *, tenant_id: str, failure_id: str) -> SyncFailure | None:
    """One failure (``None`` for another tenant's)."""
    row = session.get(SyncFailure, failure_id)
    return row if row is not None and row.tenant_id == tenant_id else None


def list_failures(
    session: Session,
    *,
    tenant_id: str,
    limit: int,
    statuses: Collection[str],
    before: tuple[datetime, str] | None = None,
    salesforce_object: str | None = None,
    direction: str | None = None,
) -> list[SyncFailure]:
    """Failures newest first, continuing before the ``before`` position."""
    query = (
        sa.select(SyncFailure)
        .where(SyncFailure.tenant_id == tenant_id, SyncFailure.status.in_(list(statuses)))
        .order_by(SyncFailure.last_failed_at.desc(), SyncFailure.id.desc())
        .limit(limit)
    )
    if salesforce_object is not None:
        query = query.where(SyncFailure.salesforce_object == salesforce_object)
    if direction is not None:
        query = query.where(SyncFailure.direction == direction)
    if before is not None:
        at, row_id = before
        query = query.where(
            sa.or_(
                SyncFailure.last_failed_at < at,
                sa.and_(SyncFailure.last_failed_at == at, SyncFailure.id < row_id),
            )
        )
    return list(session.scalars(query))


def count_open(session: Session, *, tenant_id: str) -> dict[tuple[str, str], int]:
    """(mapping id, status) → unsettled failures."""
    rows = session.execute(
        sa.select(SyncFailure.mapping_id, SyncFailure.status, sa.func.count())
        .where(SyncFailure.tenant_id == tenant_id, SyncFailure.status.in_(OPEN_STATUSES))
        .group_by(SyncFailure.mapping_id, SyncFailure.status)
    )
    return {(str(m), str(s)): int(n) for m, s, n in rows}


def scheduled_later(
    session: Session, *, tenant_id: str, mapping_id: str, direction: str, now: datetime
) -> set[str]:
    """Record keys whose retry is due after ``now``, or that wait for an admin."""
    rows = session.execute(
        sa.select(SyncFailure.record_key).where(
            SyncFailure.tenant_id == tenant_id,
            SyncFailure.mapping_id == mapping_id,
            SyncFailure.direction == direction,
            SyncFailure.status.in_(OPEN_STATUSES),
            sa.or_(SyncFailure.next_retry_at.is_(None), SyncFailure.next_retry_at > now),
        )
    )
    return {str(r[0]) for r in rows if r[0]}
