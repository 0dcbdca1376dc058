"""The change log (transactional outbox, R-D3): written with each record write, read by the sync.

Entries get their per-tenant ``seq`` when the session flushes them: one
:func:`next_change_seqs` reservation per tenant and flush, numbered in the order they
were appended, instead of one locking UPDATE and one flush per entry (a sync page
writes hundreds of records in one transaction).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from crmbridge.domain.entities.changes import ValueChange
from crmbridge.store.db import utcnow
from crmbridge.store.models import ChangeLogEntry, Tenant
from crmbridge.store.repositories.tenants import next_change_seqs


@dataclass(frozen=True, kw_only=True)
class ChangeContext:
    """Where a record write comes from; stored on its change-log entry."""

    #: ``api``, ``ui``, ``import`` or ``sync``.
    source: str
    #: What caused it: a sync run id (for echo suppression), a request id, an import id.
    origin: str = ""
    #: Who: ``user:<id>``, ``api_key:<id>``, ``sync`` …
    actor: str = ""


def append_change(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    record_id: str,
    operation: str,
    record_version: int,
    changes: Sequence[ValueChange],
    context: ChangeContext,
) -> ChangeLogEntry:
    """Add one entry in the caller's transaction (called by the record repository)."""
    old_values: dict[str, Any] = {c.field: c.old for c in changes}
    new_values: dict[str, Any] = {c.field: c.new for c in changes}
    entry = ChangeLogEntry(
        tenant_id=tenant_id,
        entity_type=entity_type,
        record_id=record_id,
        operation=operation,
        record_version=record_version,
        changed_fields=[c.field for c in changes],
        old_values=old_values,
        new_values=new_values,
        source=context.source,
        origin=context.origin[:255],
        actor=context.actor[:100],
        created_at=utcnow(),
    )
    # Numbered at the next flush (see _number_new_entries), in the order appended.
    entry.info_order = next(_appended)  # type: ignore[attr-defined]
    session.add(entry)
    return entry


#: Order of appends within the process (numbering follows it within a flush).
_appended = itertools.count()


@event.listens_for(Session, "before_flush")
def _number_new_entries(
    session: Session, _context: UOWTransaction, _instances: Iterable[object] | None
) -> None:
    """Give the entries about to be inserted their ``seq``: one reservation per tenant.

    The reservation's UPDATE locks the tenant row until the transaction ends, so per
    tenant the numbers stay gap-free and in commit order (see :func:`next_change_seqs`).
    """
    waiting = sorted(
        (o for o in session.new if isinstance(o, ChangeLogEntry) and o.seq is None),
        key=lambda entry: getattr(entry, "info_order", 0),
    )
    by_tenant: dict[str, list[ChangeLogEntry]] = {}
    for entry in waiting:
        by_tenant.setdefault(entry.tenant_id, []).append(entry)
    for tenant_id, entries in by_tenant.items():
        first = next_change_seqs(session, tenant_id, count=len(entries))
        for offset, entry in enumerate(entries):
            entry.seq = first + offset


def read_changes(
    session: Session,
    *,
    tenant_id: str,
    after_seq: int,
    limit: int,
    entity_types: Collection[str] | None = None,
) -> list[ChangeLogEntry]:
    """Entries of ``tenant_id`` with ``seq > after_seq``, oldest first, at most ``limit``.

    This is how the sync engine reads what changed on the platform: keep the last
    ``seq`` processed (with the work it covers, in one transaction) and ask for the
    next batch. Per tenant, ``seq`` is gap-free and in commit order.
    """
    query = (
        sa.select(ChangeLogEntry)
        .where(ChangeLogEntry.tenant_id == tenant_id, ChangeLogEntry.seq > after_seq)
        .order_by(ChangeLogEntry.seq)
        .limit(limit)
    )
    if entity_types is not None:
        query = query.where(ChangeLogEntry.entity_type.in_(list(entity_types)))
    return list(session.scalars(query))


def latest_seq(session: Session, tenant_id: str) -> int:
    """The newest sequence number given out for ``tenant_id`` (0 when none)."""
    value = session.scalar(sa.select(Tenant.change_seq).where(Tenant.id == tenant_id))
    return int(value or 0)


def count_changes(session: Session, tenant_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(ChangeLogEntry)
    if tenant_id is not None:
        query = query.where(ChangeLogEntry.tenant_id == tenant_id)
    return int(session.scalar(query) or 0)
