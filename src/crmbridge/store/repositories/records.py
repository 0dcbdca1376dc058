"""Queries on platform records; every write also appends its change-log entry."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.domain.entities.changes import ValueChange, apply_changes
from crmbridge.store.db import utcnow
from crmbridge.store.models import Record
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
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    append_change(
        session,
        tenant_id=tenant_id,
        entity_type=entity_type,
        record_id=record_id,
        operation="create",
        record_version=record.version,
        changes=changes,
        context=context,
    )
    return record


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
    record.data = data
    record.updated_at = utcnow()
    record.sync_status = sync_status or "pending"
    session.flush()
    append_change(
        session,
        tenant_id=record.tenant_id,
        entity_type=record.entity_type,
        record_id=record.id,
        operation="update",
        record_version=record.version,
        changes=changes,
        context=context,
    )
    return record, changes


def soft_delete_record(session: Session, record: Record, *, context: ChangeContext) -> Record:
    """Mark deleted (the sync still sees it) and append a ``delete`` entry with the last values."""
    now = utcnow()
    record.deleted_at = now
    record.updated_at = now
    record.sync_status = "pending"
    session.flush()
    append_change(
        session,
        tenant_id=record.tenant_id,
        entity_type=record.entity_type,
        record_id=record.id,
        operation="delete",
        record_version=record.version,
        changes=[ValueChange(field=k, old=v, new=None) for k, v in sorted(record.data.items())],
        context=context,
    )
    return record


def set_sync_state(
    session: Session,
    record: Record,
    *,
    sync_status: str,
    salesforce_id: str | None = None,
) -> None:
    """Record the sync's outcome; not a data change: no version bump, no change-log entry."""
    values: dict[str, Any] = {"sync_status": sync_status}
    if salesforce_id is not None:
        values["salesforce_id"] = salesforce_id
    session.execute(
        sa.update(Record)
        .where(Record.id == record.id, Record.tenant_id == record.tenant_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for key, value in values.items():
        sa.orm.attributes.set_committed_value(record, key, value)


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
