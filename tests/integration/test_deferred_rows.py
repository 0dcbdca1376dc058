"""Rows written without ORM objects (``store.deferred``): a sync page's creates.

They must behave as pending ORM objects do: visible to the transaction's next query,
numbered in the change log without gaps, committed with the transaction, gone with a
rollback, and inserted with one statement per table.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.domain.entities import RecordValidationError, get_entity_type
from crmbridge.services import factories
from crmbridge.services import records as service
from crmbridge.store.deferred import _insert_plan, insert_rows, pending_rows, write_deferred
from crmbridge.store.models import ChangeLogEntry, Record
from crmbridge.store.repositories.change_log import ChangeContext, latest_seq, read_changes
from crmbridge.store.repositories.records import count_records
from crmbridge.store.testing import counting_inserts

MEMBER = get_entity_type("member")
ORGANIZATION = get_entity_type("organization")
SYNC = ChangeContext(source="sync", origin="run-1", actor="sync")


def _tenant(session: Session) -> str:
    tenant = factories.create_tenant(session).id
    session.commit()
    return tenant


def _stage(session: Session, tenant: str, n: int, *, start: int = 0) -> list[str]:
    return factories.stage_members(session, tenant, n, start=start)


def test_staged_records_are_seen_by_the_next_query_and_written_as_create_entries(
    db_session: Session,
) -> None:
    tenant = _tenant(db_session)
    assert count_records(db_session, tenant_id=tenant) == 0  # the page's transaction is open
    ids = _stage(db_session, tenant, 3)
    assert pending_rows(db_session, Record.__table__) == 3  # type: ignore[arg-type]
    # A query in the same transaction sees them (as autoflush would show ORM objects).
    assert count_records(db_session, tenant_id=tenant) == 3
    assert pending_rows(db_session, Record.__table__) == 0  # type: ignore[arg-type]
    db_session.commit()
    record = db_session.get(Record, ids[1])
    assert record is not None
    # The same values as the ORM path stores for the same payload (defaults included).
    orm = service.create_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        payload={"first_name": "Row", "last_name": "Member 1", "email": "m1@x.org"},
        context=SYNC,
    )
    assert record.data == orm.data
    assert record.data["email"] == "m1@x.org"
    assert (record.version, record.salesforce_id, record.sync_status) == (
        1,
        "003000000000000001",
        "synced",
    )
    entries = read_changes(db_session, tenant_id=tenant, after_seq=0, limit=10)
    assert [(e.seq, e.record_id, e.operation, e.record_version) for e in entries] == [
        (1, ids[0], "create", 1),
        (2, ids[1], "create", 1),
        (3, ids[2], "create", 1),
        (4, orm.id, "create", 1),
    ]
    staged, by_orm = entries[1], entries[3]
    assert staged.changed_fields == by_orm.changed_fields == sorted(record.data)
    assert staged.old_values == by_orm.old_values == dict.fromkeys(record.data)
    assert staged.new_values == by_orm.new_values == record.data
    assert (entries[1].source, entries[1].origin, entries[1].actor) == ("sync", "run-1", "sync")


def test_staged_rows_are_written_by_the_commit_with_one_insert_per_table(
    db_session: Session,
) -> None:
    tenant = _tenant(db_session)
    with counting_inserts(db_session.get_bind()) as inserts:  # type: ignore[arg-type]
        _stage(db_session, tenant, 300)
        db_session.commit()
    assert inserts == {"records": 1, "change_log": 1}
    assert count_records(db_session, tenant_id=tenant) == 300
    assert latest_seq(db_session, tenant) == 300


def test_a_broken_constraint_fails_the_write_as_an_integrity_error_and_writes_nothing(
    db_session: Session,
) -> None:
    # Both ways of writing (executemany on SQLite, COPY on PostgreSQL) fail alike.
    tenant = _tenant(db_session)
    _stage(db_session, tenant, 3)
    db_session.commit()
    _stage(db_session, tenant, 2, start=10)
    _stage(db_session, tenant, 1, start=1)  # Salesforce ids are unique per entity type
    with pytest.raises(sa.exc.IntegrityError):
        write_deferred(db_session)
    db_session.rollback()
    assert count_records(db_session, tenant_id=tenant) == 3
    assert latest_seq(db_session, tenant) == 3


def test_a_rollback_drops_staged_rows_and_their_numbers(db_session: Session) -> None:
    tenant = _tenant(db_session)
    _stage(db_session, tenant, 5)
    db_session.rollback()
    assert pending_rows(db_session, Record.__table__) == 0  # type: ignore[arg-type]
    db_session.commit()  # nothing left over to write
    assert count_records(db_session, tenant_id=tenant) == 0
    assert latest_seq(db_session, tenant) == 0
    _stage(db_session, tenant, 2, start=10)
    db_session.commit()
    seqs = [e.seq for e in read_changes(db_session, tenant_id=tenant, after_seq=0, limit=10)]
    assert seqs == [1, 2]


def test_staged_and_orm_entries_share_one_gap_free_sequence(db_session: Session) -> None:
    tenant = _tenant(db_session)
    first = service.create_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        payload={"first_name": "Orm", "last_name": "One"},
        context=SYNC,
        flush=False,
    )
    staged = _stage(db_session, tenant, 2)
    db_session.flush()
    # A staged record updated later in the transaction: its create comes first.
    service.update_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        record_id=staged[0],
        payload={"first_name": "Changed"},
        context=SYNC,
    )
    db_session.commit()
    entries = read_changes(db_session, tenant_id=tenant, after_seq=0, limit=10)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    by_record = [(e.record_id, e.operation) for e in entries]
    assert by_record.index((staged[0], "create")) < by_record.index((staged[0], "update"))
    assert {first.id, *staged} == {e.record_id for e in entries}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ChangeLogEntry)) == 4


def test_invalid_values_or_a_missing_parent_stage_nothing(db_session: Session) -> None:
    tenant = _tenant(db_session)
    with pytest.raises(RecordValidationError):
        service.create_record_deferred(
            db_session,
            tenant_id=tenant,
            entity=MEMBER,
            payload={"first_name": "Bad", "last_name": "Mail", "email": "not an address"},
            context=SYNC,
        )
    with pytest.raises(RecordValidationError):
        service.create_record_deferred(
            db_session,
            tenant_id=tenant,
            entity=ORGANIZATION,
            payload={"name": "Child", "parent_id": "00000000-0000-0000-0000-000000000000"},
            context=SYNC,
        )
    write_deferred(db_session)
    db_session.commit()
    assert count_records(db_session, tenant_id=tenant) == 0
    assert count_records(db_session, tenant_id=tenant) == 0
    assert latest_seq(db_session, tenant) == 0


def test_a_staged_parent_counts_as_live_for_its_children(db_session: Session) -> None:
    tenant = _tenant(db_session)
    parent = service.create_record_deferred(
        db_session, tenant_id=tenant, entity=ORGANIZATION, payload={"name": "Parent"}, context=SYNC
    )
    child = service.create_record_deferred(
        db_session,
        tenant_id=tenant,
        entity=ORGANIZATION,
        payload={"name": "Child", "parent_id": parent},
        context=SYNC,
    )
    db_session.commit()
    stored = db_session.get(Record, child)
    assert stored is not None
    assert stored.data["parent_id"] == parent


def test_rows_inserted_directly_read_back_as_the_orm_would_write_them(
    db_session: Session,
) -> None:
    """``insert_rows`` converts values with the columns' own processors (JSON, UTC
    timestamps), each distinct timestamp once; a row leaving out a defaulted column goes
    through SQLAlchemy, which fills the default."""
    tenant = _tenant(db_session)
    at = datetime(2026, 12, 3, 18, 0, 5, 123456, tzinfo=UTC)
    other_zone = at.astimezone(timezone(timedelta(hours=-5)))  # the same instant
    full = {
        "id": "rec-1",
        "tenant_id": tenant,
        "entity_type": "member",
        "data": {"first_name": "Ünï", "n": 2**70, "tags": ["a", None]},
        "version": 3,
        "salesforce_id": None,
        "sync_status": "synced",
        "created_at": at,
        "updated_at": other_zone,
        "deleted_at": None,
    }
    short = {k: v for k, v in full.items() if k not in ("version", "sync_status")}
    short = {**short, "id": "rec-2", "data": {}, "created_at": at + timedelta(seconds=1)}
    table: sa.Table = Record.__table__  # type: ignore[assignment]
    assert _insert_plan(db_session.connection().dialect, table, tuple(full)) is not None
    assert _insert_plan(db_session.connection().dialect, table, tuple(short)) is None
    # ``None`` in a JSON column is JSON ``null`` (not SQL NULL), as SQLAlchemy writes it.
    nothing = {**full, "id": "rec-3", "data": None}
    insert_rows(db_session.connection(), table, [full, short, nothing])
    db_session.commit()
    sql_null = db_session.execute(sa.text("SELECT data IS NULL FROM records WHERE id = 'rec-3'"))
    assert not sql_null.scalar()
    first, second = (db_session.get(Record, i) for i in ("rec-1", "rec-2"))
    assert first is not None
    assert second is not None
    assert first.data == full["data"]
    assert (first.version, first.sync_status) == (3, "synced")
    assert first.created_at == at
    assert first.updated_at == at
    assert first.created_at.utcoffset() == timedelta(0)
    assert (second.version, second.sync_status, second.data) == (1, "pending", {})
    assert second.created_at == at + timedelta(seconds=1)


def test_new_record_ids_are_time_ordered_so_id_indexes_grow_at_their_end(
    db_session: Session,
) -> None:
    """Record ids are UUID version 7: ids made in a later millisecond sort after earlier
    ones, whichever path made them (a sync page's rows or the API's ORM object)."""
    tenant = _tenant(db_session)
    first = _stage(db_session, tenant, 2)
    time.sleep(0.002)
    orm = factories.create_record(db_session, tenant_id=tenant, context=SYNC).id
    time.sleep(0.002)
    last = _stage(db_session, tenant, 2, start=2)
    db_session.commit()
    made = [*first, orm, *last]
    assert {uuid.UUID(i).version for i in made} == {7}
    # Ids of different milliseconds keep their order; inside one millisecond the rest
    # of the id is random.
    assert max(first) < orm < min(last)
    stored = db_session.scalars(
        sa.select(Record.id).where(Record.tenant_id == tenant).order_by(Record.id)
    ).all()
    assert stored[2] == orm
