"""Platform records of every entity type: create, read, update, delete, list.

All entity types go through the same functions; the entity registry and the tenant's
custom fields say what is valid. Every write appends its change-log entry in the same
transaction (the repository does both), so the sync sees every change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.util import identity_key
from uuid6 import uuid7

from crmbridge.domain.entities import (
    EntityType,
    FieldError,
    FieldSpec,
    RecordValidationError,
    record_fields,
    validate_record_input,
)
from crmbridge.services.custom_fields import custom_field_specs
from crmbridge.services.errors import NotFound, StaleVersion
from crmbridge.store.models import CustomFieldDefinition, Record
from crmbridge.store.repositories import records as repo
from crmbridge.store.repositories.change_log import ChangeContext

#: Walking a parent chain further than this means a cycle or bad data.
MAX_HIERARCHY_DEPTH = 100


@dataclass(frozen=True, kw_only=True)
class RecordPage:
    """One page of a list, oldest change first."""

    #: The records, ordered by ``(updated_at, id)``.
    records: list[Record]
    #: Position after the last record, when more may follow.
    next_position: tuple[datetime, str] | None


def fields_for(session: Session, *, tenant_id: str, entity: EntityType) -> dict[str, FieldSpec]:
    """Core and custom fields of ``entity`` for this tenant.

    Read once per transaction (a sync page validates hundreds of records); writing a
    custom field definition in the transaction forgets what was read.
    """
    cache = _known(session).fields
    key = (tenant_id, entity.name)
    fields = cache.get(key)
    if fields is None:
        custom = custom_field_specs(session, tenant_id=tenant_id, entity_type=entity.name)
        fields = cache[key] = record_fields(entity, custom)
    return fields


@dataclass
class _Known:
    """What one transaction has read already (a sync page writes hundreds of records)."""

    transaction: object
    #: Field specs per (tenant, entity type).
    fields: dict[tuple[str, str], dict[str, FieldSpec]] = field(default_factory=dict)
    #: Records seen live, as (tenant, entity type, id); a delete here forgets its id.
    live: set[tuple[str, str, str]] = field(default_factory=set)


_KNOWN = "crmbridge.records.known"


def _known(session: Session) -> _Known:
    """The reads of the session's current transaction (begun now if none is open, so
    that what is read next is kept for it rather than for no transaction)."""
    if session.get_transaction() is None:
        session.connection()
    transaction = session.get_transaction()
    known = session.info.get(_KNOWN)
    if not isinstance(known, _Known) or known.transaction is not transaction:
        known = session.info[_KNOWN] = _Known(transaction=transaction)
    return known


@event.listens_for(Session, "before_flush")
def _forget_fields_on_definition_writes(
    session: Session, _context: UOWTransaction, _instances: object
) -> None:
    if any(
        isinstance(o, CustomFieldDefinition)
        for o in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info.pop(_KNOWN, None)


def _live_ids(session: Session, *, tenant_id: str, entity_type: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` are live records, asking the database only about unseen ones.

    Records the session holds are judged as the session has them (their unflushed
    changes are the truth); the others are read without flushing the session first
    (nothing of theirs is waiting to be flushed), so validating a page of records does
    not flush it record by record.
    """
    live = _known(session).live
    found = {i for i in ids if (tenant_id, entity_type, i) in live}
    unseen = {i for i in ids if i not in found}
    if not unseen:
        return found
    held: dict[str, Record] = {}
    for record_id in unseen:
        record = session.identity_map.get(identity_key(Record, record_id))
        if isinstance(record, Record):
            held[record_id] = record
    held.update((o.id, o) for o in session.new if isinstance(o, Record) and o.id in unseen)
    hits = {
        i
        for i, r in held.items()
        if r.tenant_id == tenant_id and r.entity_type == entity_type and r.deleted_at is None
    }
    ask = unseen - held.keys()
    if ask:
        with session.no_autoflush:
            hits |= repo.existing_record_ids(
                session, tenant_id=tenant_id, entity_type=entity_type, record_ids=ask
            )
    live.update((tenant_id, entity_type, i) for i in hits)
    return found | hits


def prime_live_ids(
    session: Session, *, tenant_id: str, entity_type: str, ids: Collection[str]
) -> None:
    """Learn in one query which of ``ids`` are live, for the references about to be checked.

    A sync page primes the parents its records point to, so validating them asks the
    database nothing more.
    """
    if ids:
        _live_ids(session, tenant_id=tenant_id, entity_type=entity_type, ids=list(ids))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def record_view(record: Record, fields: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """The API representation: metadata, then every field (null when unset)."""
    view: dict[str, Any] = {
        "id": record.id,
        "entity_type": record.entity_type,
        "version": record.version,
        "salesforce_id": record.salesforce_id,
        "sync_status": record.sync_status,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "deleted_at": _iso(record.deleted_at),
    }
    for name in fields:
        view[name] = record.data.get(name)
    return view


def _check_references(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    values: Mapping[str, Any],
    record_id: str,
    creating: bool = False,
) -> None:
    """Every reference names a live record, and no hierarchy becomes a cycle.

    A record being created cannot close a cycle: its id does not exist yet, so no live
    record can point at it, and the parent walk (a query per level) is skipped.
    """
    errors: list[FieldError] = []
    for spec in entity.references:
        target = values.get(spec.name)
        if target is None or spec.references is None:
            continue
        found = _live_ids(session, tenant_id=tenant_id, entity_type=spec.references, ids=[target])
        if not found:
            errors.append(FieldError(field=spec.name, message=f"no {spec.references} with this id"))
        elif (
            not creating
            and spec.references == entity.name
            and _creates_cycle(
                session,
                tenant_id=tenant_id,
                entity=entity,
                field=spec.name,
                start=target,
                record_id=record_id,
            )
        ):
            errors.append(FieldError(field=spec.name, message="would make the hierarchy a cycle"))
    if errors:
        raise RecordValidationError(errors)


def _creates_cycle(
    session: Session, *, tenant_id: str, entity: EntityType, field: str, start: str, record_id: str
) -> bool:
    current: str | None = start
    for _ in range(MAX_HIERARCHY_DEPTH):
        if current is None:
            return False
        if current == record_id:
            return True
        current = repo.parent_of(
            session, tenant_id=tenant_id, entity_type=entity.name, record_id=current, field=field
        )
    return True


def create_record(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    payload: Mapping[str, Any],
    context: ChangeContext,
    record_id: str | None = None,
    salesforce_id: str | None = None,
    sync_status: str = "pending",
    flush: bool = True,
) -> Record:
    """Validate ``payload`` and insert the record with its change-log entry.

    The inbound sync passes ``salesforce_id`` and ``sync_status="synced"`` for records
    that arrive from Salesforce (with ``context.source == "sync"``); it creates them
    with :func:`create_record_deferred`.

    Raises:
        RecordValidationError: invalid fields or references (nothing written).
    """
    record_id, values = _new_record_values(
        session, tenant_id=tenant_id, entity=entity, payload=payload, record_id=record_id
    )
    record = repo.insert_record(
        session,
        tenant_id=tenant_id,
        entity_type=entity.name,
        record_id=record_id,
        values=values,
        context=context,
        salesforce_id=salesforce_id,
        sync_status=sync_status,
    )
    if flush:
        session.flush()
    return record


def create_record_deferred(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    payload: Mapping[str, Any],
    context: ChangeContext,
    record_id: str | None = None,
    salesforce_id: str | None = None,
    sync_status: str = "pending",
) -> str:
    """:func:`create_record` for a sync page: validated the same way, written as rows
    with the page's next statement or commit (``store.deferred``), no ORM object.

    Returns:
        The new record's id.

    Raises:
        RecordValidationError: invalid fields or references (nothing written).
    """
    record_id, values = _new_record_values(
        session, tenant_id=tenant_id, entity=entity, payload=payload, record_id=record_id
    )
    repo.defer_new_record(
        session,
        tenant_id=tenant_id,
        entity_type=entity.name,
        record_id=record_id,
        values=values,
        context=context,
        salesforce_id=salesforce_id,
        sync_status=sync_status,
    )
    return record_id


def new_record_id() -> str:
    """A new platform record's id: a UUID version 7 (RFC 9562, section 5.7), which
    starts with its creation time in milliseconds, so the indexes keyed on record ids
    (the records' own, the pairs', the change log's and the audit rows') grow at their
    right edge instead of at random places. A page of 2,000 new records then dirties a
    few index pages per index rather than most of them; with random (version 4) ids
    the commits of a 100,000-record initial sync were about 1.5x as slow (the SQLite
    floor of ``bench/bench_sync.py``, docs/performance.md). The id shows when the
    record was created, which its ``created_at`` shows anyway."""
    return str(uuid7())


def _new_record_values(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    payload: Mapping[str, Any],
    record_id: str | None,
) -> tuple[str, dict[str, Any]]:
    """A new record's id and validated values; the id counts as live from now on."""
    fields = fields_for(session, tenant_id=tenant_id, entity=entity)
    values = validate_record_input(entity, payload, fields=fields, partial=False)
    record_id = record_id or new_record_id()
    _check_references(
        session,
        tenant_id=tenant_id,
        entity=entity,
        values=values,
        record_id=record_id,
        creating=True,
    )
    _known(session).live.add((tenant_id, entity.name, record_id))
    return record_id, values


def get_record(session: Session, *, tenant_id: str, entity: EntityType, record_id: str) -> Record:
    """The live record, or :class:`NotFound` (also for other tenants' ids)."""
    record = repo.get_record(
        session, tenant_id=tenant_id, entity_type=entity.name, record_id=record_id
    )
    if record is None:
        raise NotFound(f"No {entity.label.lower()} with this id.")
    return record


def _check_version(record: Record, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != record.version:
        raise StaleVersion(
            f"The record is at version {record.version}, not {expected_version}; "
            "re-read it and apply your change again."
        )


def update_record(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    record_id: str,
    payload: Mapping[str, Any],
    context: ChangeContext,
    expected_version: int | None = None,
    sync_status: str | None = None,
    record: Record | None = None,
    flush: bool = True,
) -> Record:
    """Apply a partial update; an update that changes nothing writes nothing.

    ``sync_status`` (default ``pending``: the change still has to reach Salesforce) lets
    the inbound sync mark values that came from Salesforce as ``synced``. ``record``:
    the live record, when the caller has loaded it already (saves a query).
    ``flush=False`` leaves the write to the session's next flush.
    """
    if (
        record is None
        or record.id != record_id
        or record.tenant_id != tenant_id
        or record.entity_type != entity.name
        or record.deleted_at is not None
    ):
        record = get_record(session, tenant_id=tenant_id, entity=entity, record_id=record_id)
    fields = fields_for(session, tenant_id=tenant_id, entity=entity)
    values = validate_record_input(entity, payload, fields=fields, partial=True)
    _check_version(record, expected_version)
    _check_references(
        session, tenant_id=tenant_id, entity=entity, values=values, record_id=record.id
    )
    repo.update_record(session, record, values=values, context=context, sync_status=sync_status)
    if flush:
        session.flush()
    return record


def delete_record(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    record_id: str,
    context: ChangeContext,
    expected_version: int | None = None,
) -> Record:
    record = get_record(session, tenant_id=tenant_id, entity=entity, record_id=record_id)
    _check_version(record, expected_version)
    _known(session).live.discard((tenant_id, entity.name, record.id))
    repo.soft_delete_record(session, record, context=context)
    session.flush()
    return record


def list_records(
    session: Session,
    *,
    tenant_id: str,
    entity: EntityType,
    limit: int,
    after: tuple[datetime, str] | None = None,
    updated_since: datetime | None = None,
    include_deleted: bool = False,
) -> RecordPage:
    """One page of records ordered by last change; ``after`` continues a previous page."""
    rows = repo.list_records(
        session,
        tenant_id=tenant_id,
        entity_type=entity.name,
        limit=limit + 1,
        after=after,
        updated_since=updated_since,
        include_deleted=include_deleted,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    position = (rows[-1].updated_at, rows[-1].id) if more and rows else None
    return RecordPage(records=rows, next_position=position)
