"""The sync engine's reads and restores of platform records (``records``).

Writes of field values go through :mod:`crmbridge.services.records`, which logs each
change; this module only reads records in bulk (deleted ones too: the sync sees
deletions) and lifts a soft delete when an edit in Salesforce wins over it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from crmbridge.domain.entities.changes import ValueChange
from crmbridge.store.db import utcnow
from crmbridge.store.models import Record
from crmbridge.store.repositories.change_log import ChangeContext, append_change
from crmbridge.store.repositories.records import next_version

_CHUNK = 500

#: Fields whose lower-cased value has an index (migration 0008): ``email``, the match
#: key of every default mapping. A match on another field reads every record of the
#: entity type.
INDEXED_MATCH_FIELDS = frozenset({"email"})


def lowered_field(session: Session, field: str) -> sa.ColumnElement[str]:
    """``lower()`` of a record field's text, spelled as its index is where there is one.

    An index on an expression serves a query only when the query spells the same
    expression with the JSON path as a literal, not a bound parameter (sqlite.org,
    "Indexes On Expressions"; PostgreSQL, "Indexes on Expressions").
    """
    if field in INDEXED_MATCH_FIELDS:
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":
            path = sa.literal_column(f"'$.{field}'")
            return sa.func.lower(sa.func.json_extract(Record.data, path), type_=sa.String)
        if dialect == "postgresql":
            key = sa.literal_column(f"'{field}'")
            return sa.func.lower(Record.data.op("->>")(key), type_=sa.String)
    return sa.func.lower(Record.data[field].as_string())


def records_by_ids(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    record_ids: Collection[str],
    with_data: bool = True,
) -> dict[str, Record]:
    """Records by id, deleted ones included.

    ``with_data=False`` leaves the field values unread until touched (a batch that
    only shows sync outcomes on records needs their ids and status, not their JSON).
    """
    found: dict[str, Record] = {}
    ids = sorted(set(record_ids))
    query = sa.select(Record)
    if not with_data:
        query = query.options(defer(Record.data))
    for start in range(0, len(ids), _CHUNK):
        for record in session.scalars(
            query.where(
                Record.tenant_id == tenant_id,
                Record.entity_type == entity_type,
                Record.id.in_(ids[start : start + _CHUNK]),
            )
        ):
            found[record.id] = record
    return found


def shown_salesforce_ids(
    session: Session, *, tenant_id: str, entity_type: str, salesforce_ids: Collection[str]
) -> set[str]:
    """Which of ``salesforce_ids`` a record of ``entity_type`` shows already (deleted ones too).

    ``records.salesforce_id`` is unique per entity type, so a page's creates check here
    once instead of once per record.
    """
    shown: set[str] = set()
    ids = sorted(set(salesforce_ids))
    for start in range(0, len(ids), _CHUNK):
        shown.update(
            session.scalars(
                sa.select(Record.salesforce_id).where(
                    Record.tenant_id == tenant_id,
                    Record.entity_type == entity_type,
                    Record.salesforce_id.in_(ids[start : start + _CHUNK]),
                )
            )
        )
    return shown


def record_ids_page(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    after_id: str | None,
    limit: int,
    updated_from: datetime | None = None,
    updated_before: datetime | None = None,
) -> list[str]:
    """Ids of an entity's records (deleted included) in id order, for full resyncs."""
    query = (
        sa.select(Record.id)
        .where(Record.tenant_id == tenant_id, Record.entity_type == entity_type)
        .order_by(Record.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(Record.id > after_id)
    if updated_from is not None:
        query = query.where(Record.updated_at >= updated_from)
    if updated_before is not None:
        query = query.where(Record.updated_at < updated_before)
    return list(session.scalars(query))


def latest_record_ids(
    session: Session, *, tenant_id: str, entity_type: str, limit: int
) -> list[str]:
    """The most recently changed live records (test runs sync these first)."""
    query = (
        sa.select(Record.id)
        .where(
            Record.tenant_id == tenant_id,
            Record.entity_type == entity_type,
            Record.deleted_at.is_(None),
        )
        .order_by(Record.updated_at.desc(), Record.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def undelete(session: Session, record: Record, *, context: ChangeContext) -> None:
    """Lift a soft delete, logged as an update of ``deleted_at`` (R-D3)."""
    version = next_version(session, record)
    deleted_at = record.deleted_at
    record.deleted_at = None
    record.updated_at = utcnow()
    append_change(
        session,
        tenant_id=record.tenant_id,
        entity_type=record.entity_type,
        record_id=record.id,
        operation="update",
        record_version=version,
        changes=[
            ValueChange(
                field="deleted_at",
                old=deleted_at.isoformat() if deleted_at else None,
                new=None,
            )
        ],
        context=context,
    )


def live_records_by_field(
    session: Session,
    *,
    tenant_id: str,
    entity_type: str,
    field: str,
    values: Collection[str],
) -> dict[str, list[str]]:
    """Live records whose ``field`` equals one of ``values`` ignoring case.

    Returns:
        Lower-cased value → ids of the records holding it (match keys such as e-mail).
    """
    found: dict[str, list[str]] = {}
    lowered = sorted({v.strip().lower() for v in values if v and v.strip()})
    column = lowered_field(session, field)
    for start in range(0, len(lowered), _CHUNK):
        rows = session.execute(
            sa.select(column, Record.id).where(
                Record.tenant_id == tenant_id,
                Record.entity_type == entity_type,
                Record.deleted_at.is_(None),
                column.in_(lowered[start : start + _CHUNK]),
            )
        )
        for value, record_id in rows:
            found.setdefault(str(value), []).append(str(record_id))
    return found
