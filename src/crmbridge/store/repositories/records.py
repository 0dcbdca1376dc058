"""Queries on platform records; every write also appends its change-log entry.

Writes do not flush: the record and its entry go to the database together at the
session's next flush (a sync page flushes once for hundreds of records). The entry's
``record_version`` is the version the record will have after that flush.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.domain.entities.changes import ValueChange, apply_changes
from crmbridge.store.db import utcnow
from crmbridge.store.deferred import defer_insert
from crmbridge.store.models import ChangeLogEntry, Record
from crmbridge.store.repositories.change_log import ChangeContext, append_change


def insert_record(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    record_id: str,
    values: dict[str, Any],
    context: ChangeContext,
    salesforce_id: str | None = None,
    sync_status: str = "pending",
) -> Record:
    """Insert a record and its ``create`` change-log entry, in the caller's transaction."""
    data, changes = apply_changes({}, values)
    now = utcnow()
    record = Record(
        id=record_id,
        tenant_id=tenant_id,
        entity_type=entity_type,
        data=data,
        salesforce_id=salesforce_id,
        sync_status=sync_status,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    append_change(
        session,
        tenant_id=tenant_id,
        entity_type=entity_type,
        record_id=record_id,
        operation="create",
        record_version=1,
        changes=changes,
        context=context,
    )
    return record


def defer_new_record(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    record_id: str,
    values: dict[str, Any],
    context: ChangeContext,
    salesforce_id: str | None = None,
    sync_status: str = "pending",
) -> None:
    """:func:`insert_record` as rows, not ORM objects (``store.deferred``): for a sync
    page's creates, which the page never reads back as objects."""
    created = [c for c in sorted(values) if values[c] is not None]
    data = {name: values[name] for name in created}
    now = utcnow()
    defer_insert(
        session,
        _RECORDS,
        {
            "id": record_id,
            "tenant_id": tenant_id,
            "entity_type": entity_type,
            "data": data,
            "version": 1,
            "salesforce_id": salesforce_id,
            "sync_status": sync_status,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        },
    )
    defer_insert(
        session,
        _CHANGE_LOG,
        {
            "tenant_id": tenant_id,
            "entity_type": entity_type,
            "record_id": record_id,
            "operation": "create",
            "record_version": 1,
            "changed_fields": created,
            "old_values": dict.fromkeys(created),
            "new_values": data,
            "source": context.source,
            "origin": context.origin[:255],
            "actor": context.actor[:100],
            "created_at": now,
        },
    )


_RECORDS: sa.Table = Record.__table__  # type: ignore[assignment]
_CHANGE_LOG: sa.Table = ChangeLogEntry.__table__  # type: ignore[assignment]


def update_record(
    session: Session,
    record: Record,
    *,
    values: dict[str, Any],
    context: ChangeContext,
    sync_status: str | None = None,
) -> tuple[Record, tuple[ValueChange, ...]]:
    """Apply ``values`` (``None`` clears) and append an ``update`` entry if anything changed.

    The version column makes the UPDATE conditional on the version read, so a
    concurrent writer makes this fail with ``StaleDataError`` instead of being lost.
    """
    data, changes = apply_changes(record.data, values)
    if not changes:
        return record, changes
    version = next_version(session, record)
    record.data = data
    record.updated_at = utcnow()
    record.sync_status = sync_status or "pending"
    append_change(
        session,
        tenant_id=record.tenant_id,
        entity_type=record.entity_type,
        record_id=record.id,
        operation="update",
        record_version=version,
        changes=changes,
        context=context,
    )
    return record, changes


def soft_delete_record(session: Session, record: Record, *, context: ChangeContext) -> Record:
    """Mark deleted (the sync still sees it) and append a ``delete`` entry with the last values."""
    version = next_version(session, record)
    now = utcnow()
    record.deleted_at = now
    record.updated_at = now
    record.sync_status = "pending"
    append_change(
        session,
        tenant_id=record.tenant_id,
        entity_type=record.entity_type,
        record_id=record.id,
        operation="delete",
        record_version=version,
        changes=[ValueChange(field=k, old=v, new=None) for k, v in sorted(record.data.items())],
        context=context,
    )
    return record


def next_version(session: Session, record: Record) -> int:
    """The version ``record`` will have once the write about to be made is flushed.

    The version column goes up by one per flushed UPDATE, not per change: a record
    inserted or changed earlier in this flush is flushed first, so each write gets its
    own version and its change-log entry names it.
    """
    state = sa.inspect(record)
    if state.pending or state.modified:
        session.flush()
    return record.version + 1


@dataclass(frozen=True, kw_only=True)
class SyncMark:
    """A sync outcome to show on a record (see :func:`set_sync_states`)."""

    record: Record
    #: ``pending``, ``synced`` or ``failed``.
    sync_status: str
    #: A Salesforce id to show as the record's counterpart; ``None`` keeps the shown one.
    salesforce_id: str | None = None


def set_sync_state(
    session: Session,
    record: Record,
    *,
    sync_status: str,
    salesforce_id: str | None = None,
) -> None:
    """Record the sync's outcome; not a data change: no version bump, no change-log entry."""
    set_sync_states(
        session, [SyncMark(record=record, sync_status=sync_status, salesforce_id=salesforce_id)]
    )


def set_sync_states(session: Session, marks: Sequence[SyncMark]) -> None:
    """Show the sync's outcomes on many records: one statement per shape, not per record.

    Not a data change: no version bump, no change-log entry (so not through the ORM's
    versioned UPDATE); the loaded records are told the new values.
    """
    table = Record.__table__
    for with_id in (False, True):
        rows = [m for m in marks if (m.salesforce_id is not None) is with_id]
        if not rows:
            continue
        values: dict[str, Any] = {"sync_status": sa.bindparam("b_status")}
        if with_id:
            values["salesforce_id"] = sa.bindparam("b_salesforce_id")
        statement = (
            sa.update(table)
            .where(
                table.c.id == sa.bindparam("b_id"), table.c.tenant_id == sa.bindparam("b_tenant")
            )
            .values(**values)
        )
        session.execute(
            statement,
            [
                {
                    "b_id": m.record.id,
                    "b_tenant": m.record.tenant_id,
                    "b_status": m.sync_status,
                    "b_salesforce_id": m.salesforce_id,
                }
                for m in rows
            ],
        )
        for mark in rows:
            sa.orm.attributes.set_committed_value(mark.record, "sync_status", mark.sync_status)
            if with_id:
                sa.orm.attributes.set_committed_value(
                    mark.record, "salesforce_id", mark.salesforce_id
                )


def get_record(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    record_id: str,
    include_deleted: bool = False,
) -> Record | None:
    query = sa.select(Record).where(
        Record.id == record_id, Record.tenant_id == tenant_id, Record.entity_type == entity_type
    )
    if not include_deleted:
        query = query.where(Record.deleted_at.is_(None))
    return session.scalar(query)


def get_record_by_salesforce_id(
    session: Session, *, tenant_id: str, entity_type: str, salesforce_id: str
) -> Record | None:
    return session.scalar(
        sa.select(Record).where(
            Record.tenant_id == tenant_id,
            Record.entity_type == entity_type,
            Record.salesforce_id == salesforce_id,
        )
    )


def list_records(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
    updated_since: datetime | None = None,
    include_deleted: bool = False,
) -> list[Record]:
    """Records ordered by ``(updated_at, id)``, starting after the ``after`` position."""
    query = (
        sa.select(Record)
        .where(Record.tenant_id == tenant_id, Record.entity_type == entity_type)
        .order_by(Record.updated_at, Record.id)
        .limit(limit)
    )
    if not include_deleted:
        query = query.where(Record.deleted_at.is_(None))
    if updated_since is not None:
        query = query.where(Record.updated_at >= updated_since)
    if after is not None:
        after_time, after_id = after
        query = query.where(
            sa.or_(
                Record.updated_at > after_time,
                sa.and_(Record.updated_at == after_time, Record.id > after_id),
            )
        )
    return list(session.scalars(query))


def existing_record_ids(
    session: Session, *, tenant_id: str, entity_type: str, record_ids: Collection[str]
) -> set[str]:
    """Which of ``record_ids`` are live records of ``entity_type`` in ``tenant_id``."""
    if not record_ids:
        return set()
    query = sa.select(Record.id).where(
        Record.tenant_id == tenant_id,
        Record.entity_type == entity_type,
        Record.id.in_(list(record_ids)),
        Record.deleted_at.is_(None),
    )
    return set(session.scalars(query))


def parent_of(
    session: Session, *, tenant_id: str, entity_type: str, record_id: str, field: str
) -> str | None:
    """The value of reference ``field`` of one record (for walking hierarchies)."""
    record = get_record(session, tenant_id=tenant_id, entity_type=entity_type, record_id=record_id)
    if record is None:
        return None
    value = record.data.get(field)
    return str(value) if value is not None else None


def count_records(session: Session, tenant_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(Record)
    if tenant_id is not None:
        query = query.where(Record.tenant_id == tenant_id)
    return int(session.scalar(query) or 0)
