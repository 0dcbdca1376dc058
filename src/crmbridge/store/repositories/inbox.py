"""Queries on the push inbox and the receivers' secrets (R-S2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crmbridge.store.push_models import InboundEndpoint, InboxEntry


def get_endpoint(session: Session, tenant_id: str) -> InboundEndpoint | None:
    return session.get(InboundEndpoint, tenant_id)


def add_endpoint(session: Session, endpoint: InboundEndpoint) -> InboundEndpoint:
    session.add(endpoint)
    session.flush()
    return endpoint


def add_entries_once(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert inbox entries, skipping any whose (tenant, source, key) is already stored.

    A delivery that races another delivery of the same notification waits for it and
    then inserts nothing (``ON CONFLICT DO NOTHING`` on both databases).

    Returns:
        How many entries were new.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(InboxEntry)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "dedupe_key"])
        # rowcount is not reliable for multi-row inserts on every driver; RETURNING is.
        .returning(InboxEntry.id)
    )
    return len(session.execute(statement).all())


def due_entries(session: Session, *, tenant_id: str, now: datetime, limit: int) -> list[InboxEntry]:
    """Pending entries whose time has come, in arrival order."""
    statement = (
        sa.select(InboxEntry)
        .where(
            InboxEntry.tenant_id == tenant_id,
            InboxEntry.status == "pending",
            sa.or_(InboxEntry.next_attempt_at.is_(None), InboxEntry.next_attempt_at <= now),
        )
        .order_by(InboxEntry.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def tenants_with_due_entries(session: Session, *, now: datetime) -> list[str]:
    """Tenants that have pending entries due now."""
    statement = (
        sa.select(InboxEntry.tenant_id)
        .where(
            InboxEntry.status == "pending",
            sa.or_(InboxEntry.next_attempt_at.is_(None), InboxEntry.next_attempt_at <= now),
        )
        .distinct()
    )
    return list(session.scalars(statement))


def get_entry(session: Session, *, tenant_id: str, entry_id: int) -> InboxEntry | None:
    entry = session.get(InboxEntry, entry_id)
    return entry if entry is not None and entry.tenant_id == tenant_id else None


def list_entries(
    session: Session,
    *,
    tenant_id: str,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[InboxEntry]:
    """Entries of a tenant, newest first."""
    statement = sa.select(InboxEntry).where(InboxEntry.tenant_id == tenant_id)
    if status:
        statement = statement.where(InboxEntry.status == status)
    if before_id is not None:
        statement = statement.where(InboxEntry.id < before_id)
    return list(session.scalars(statement.order_by(InboxEntry.id.desc()).limit(limit)))


def count_by_status(session: Session, *, tenant_id: str) -> dict[str, int]:
    statement = (
        sa.select(InboxEntry.status, sa.func.count())
        .where(InboxEntry.tenant_id == tenant_id)
        .group_by(InboxEntry.status)
    )
    return {status: int(count) for status, count in session.execute(statement)}


def last_received_at(session: Session, *, tenant_id: str) -> datetime | None:
    statement = sa.select(sa.func.max(InboxEntry.received_at)).where(
        InboxEntry.tenant_id == tenant_id
    )
    value: datetime | None = session.scalar(statement)
    return value


def purge_settled_entries(session: Session, *, received_before: datetime) -> int:
    """Delete processed and skipped entries received before a time; failed ones stay."""
    statement = sa.delete(InboxEntry).where(
        InboxEntry.status.in_(("processed", "skipped")),
        InboxEntry.received_at < received_before,
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
