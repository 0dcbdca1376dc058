"""Named leases with an expiry: one holder at a time across processes and machines.

Taking a lease is one conditional ``UPDATE`` (free, expired, or already ours), or an
``INSERT`` when the name was never used; both are atomic on SQLite (one writer at a
time) and on PostgreSQL (a concurrent ``UPDATE`` re-checks its condition on the row
the other transaction committed; a concurrent ``INSERT`` hits the primary key). Each
call belongs in its own short transaction, committed at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crmbridge.store.push_models import WorkerLease


def try_acquire_lease(
    session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take (or extend) the lease ``name`` for ``holder`` if it is free, expired or ours."""
    taken = session.execute(
        sa.update(WorkerLease)
        .where(
            WorkerLease.name == name,
            sa.or_(WorkerLease.holder == holder, WorkerLease.expires_at <= now),
        )
        .values(
            acquired_at=sa.case((WorkerLease.holder == holder, WorkerLease.acquired_at), else_=now),
            holder=holder,
            expires_at=now + ttl,
        )
    )
    if (taken.rowcount or 0) == 1:  # type: ignore[attr-defined]
        return True
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created = session.execute(
        insert(WorkerLease)
        .values(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(WorkerLease.name)
    )
    return created.first() is not None


def renew_lease(session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend a lease ``holder`` still holds; false when another worker took it over."""
    renewed = session.execute(
        sa.update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.holder == holder)
        .values(expires_at=now + ttl)
    )
    return (renewed.rowcount or 0) == 1  # type: ignore[attr-defined]


def release_lease(session: Session, *, name: str, holder: str) -> bool:
    """Give a lease up (only its holder can)."""
    released = session.execute(
        sa.delete(WorkerLease).where(WorkerLease.name == name, WorkerLease.holder == holder)
    )
    return (released.rowcount or 0) == 1  # type: ignore[attr-defined]


def get_lease(session: Session, name: str) -> WorkerLease | None:
    return session.get(WorkerLease, name)
