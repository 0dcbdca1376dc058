"""The change log (R-D3): every record write has its entry, in the same transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crmbridge.domain.entities import get_entity_type
from crmbridge.services import factories
from crmbridge.services import records as service
from crmbridge.store.db import create_session_factory
from crmbridge.store.models import Record
from crmbridge.store.repositories import records as repo
from crmbridge.store.repositories.change_log import (
    ChangeContext,
    count_changes,
    latest_seq,
    read_changes,
)
from crmbridge.store.repositories.records import count_records
from crmbridge.store.testing import counting_inserts
from crmbridge.web.deps import DbSession
from crmbridge.web.testing import ApiWorld

MEMBER = get_entity_type("member")
API = ChangeContext(source="api", origin="request:1", actor="user:u1")


def _tenant(session: Session) -> str:
    tenant = factories.create_tenant(session).id
    session.commit()
    return tenant


def test_create_update_delete_each_write_one_entry_with_old_and_new_values(
    db_session: Session,
) -> None:
    tenant = _tenant(db_session)
    record = service.create_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        payload={"first_name": "Ada", "last_name": "Lovelace"},
        context=API,
    )
    service.update_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        record_id=record.id,
        payload={"first_name": "Augusta", "phone": "+44 1"},
        context=ChangeContext(source="sync", origin="run-42", actor="sync"),
    )
    service.delete_record(
        db_session, tenant_id=tenant, entity=MEMBER, record_id=record.id, context=API
    )
    db_session.commit()
    entries = read_changes(db_session, tenant_id=tenant, after_seq=0, limit=10)
    assert [(e.seq, e.operation, e.record_version) for e in entries] == [
        (1, "create", 1),
        (2, "update", 2),
        (3, "delete", 3),
    ]
    create, update, delete = entries
    assert create.new_values["first_name"] == "Ada"
    assert create.source == "api"
    assert create.origin == "request:1"
    assert update.changed_fields == ["first_name", "phone"]
    assert update.old_values == {"first_name": "Ada", "phone": None}
    assert update.new_values == {"first_name": "Augusta", "phone": "+44 1"}
    assert (update.source, update.origin, update.actor) == ("sync", "run-42", "sync")
    assert delete.old_values["first_name"] == "Augusta"
    assert latest_seq(db_session, tenant) == 3


def test_an_update_that_changes_nothing_writes_nothing(db_session: Session) -> None:
    tenant = _tenant(db_session)
    record = factories.create_record(db_session, tenant_id=tenant, data={"title": "Dr"})
    db_session.commit()
    service.update_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        record_id=record.id,
        payload={"title": "Dr"},
        context=API,
    )
    db_session.commit()
    assert record.version == 1
    assert count_changes(db_session, tenant) == 1


def test_a_failure_after_the_record_write_keeps_neither_record_nor_entry(
    db_session: Session,
) -> None:
    tenant = _tenant(db_session)
    # The record INSERT succeeds; the entry's INSERT (at the flush that numbers it)
    # then violates the source CHECK constraint, a real database failure in the same
    # transaction.
    repo.insert_record(
        db_session,
        tenant_id=tenant,
        entity_type="member",
        record_id="r-1",
        values={"first_name": "A", "last_name": "B"},
        context=ChangeContext(source="pigeon"),
    )
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()
    db_session.rollback()
    assert count_records(db_session, tenant) == 0
    assert count_changes(db_session, tenant) == 0
    assert latest_seq(db_session, tenant) == 0


def test_a_failure_later_in_the_transaction_undoes_record_and_entry(db_session: Session) -> None:
    tenant = _tenant(db_session)
    factories.create_record(db_session, tenant_id=tenant)
    db_session.flush()
    assert count_records(db_session, tenant) == 1
    db_session.rollback()  # what a request that fails after the write does
    assert count_records(db_session, tenant) == 0
    assert count_changes(db_session, tenant) == 0


def test_a_request_failing_after_the_write_answers_500_and_keeps_nothing(
    api: ApiWorld,
) -> None:
    tenant = api.new_tenant()
    app: FastAPI = api.app

    @app.post("/test-only/create-then-fail")
    def create_then_fail(session: DbSession) -> None:
        service.create_record(
            session,
            tenant_id=tenant,
            entity=MEMBER,
            payload={"first_name": "A", "last_name": "B"},
            context=API,
        )
        raise RuntimeError("boom after the write")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/test-only/create-then-fail")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    with api.session() as session:
        assert count_records(session, tenant) == 0
        assert count_changes(session, tenant) == 0


def test_sequence_numbers_are_per_tenant_and_gap_free(db_session: Session) -> None:
    first, second = _tenant(db_session), _tenant(db_session)
    for _ in range(3):
        factories.create_record(db_session, tenant_id=first)
        factories.create_record(db_session, tenant_id=second, entity_type="team")
    db_session.commit()
    for tenant in (first, second):
        seqs = [e.seq for e in read_changes(db_session, tenant_id=tenant, after_seq=0, limit=99)]
        assert seqs == list(range(1, len(seqs) + 1))


def test_read_changes_pages_in_order_and_filters_by_entity_type(db_session: Session) -> None:
    tenant = _tenant(db_session)
    for _ in range(5):
        factories.create_record(db_session, tenant_id=tenant, entity_type="team")
    db_session.commit()
    page1 = read_changes(db_session, tenant_id=tenant, after_seq=0, limit=2)
    page2 = read_changes(db_session, tenant_id=tenant, after_seq=page1[-1].seq, limit=2)
    assert [e.seq for e in page1 + page2] == [1, 2, 3, 4]
    assert (
        read_changes(db_session, tenant_id=tenant, after_seq=0, limit=9, entity_types=["lead"])
        == []
    )


def test_recording_the_sync_outcome_is_not_a_change(db_session: Session) -> None:
    tenant = _tenant(db_session)
    record = factories.create_record(db_session, tenant_id=tenant)
    db_session.commit()
    repo.set_sync_state(
        db_session, record, sync_status="synced", salesforce_id="003000000000001AAA"
    )
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Record, record.id)
    assert stored is not None
    assert (stored.sync_status, stored.salesforce_id, stored.version) == (
        "synced",
        "003000000000001AAA",
        1,
    )
    assert count_changes(db_session, tenant) == 1
    found = repo.get_record_by_salesforce_id(
        db_session, tenant_id=tenant, entity_type="member", salesforce_id="003000000000001AAA"
    )
    assert found is not None
    assert found.id == record.id


def test_concurrent_writers_cannot_lose_an_update(db_session: Session) -> None:
    tenant = _tenant(db_session)
    record = factories.create_record(db_session, tenant_id=tenant)
    db_session.commit()
    other = create_session_factory(db_session.get_bind())()  # type: ignore[arg-type]
    try:
        theirs = other.get(Record, record.id)
        assert theirs is not None
        service.update_record(
            db_session,
            tenant_id=tenant,
            entity=MEMBER,
            record_id=record.id,
            payload={"title": "Mine"},
            context=API,
        )
        db_session.commit()
        repo.update_record(other, theirs, values={"title": "Theirs"}, context=API)
        with pytest.raises(StaleDataError):  # the repository's writes go out at the flush
            other.flush()
        other.rollback()
    finally:
        other.close()
    db_session.expire_all()
    assert db_session.get(Record, record.id).data["title"] == "Mine"  # type: ignore[union-attr]
    assert count_changes(db_session, tenant) == 2


def test_inbound_sync_writes_are_logged_with_their_run_and_marked_synced(
    db_session: Session,
) -> None:
    tenant = _tenant(db_session)
    run = ChangeContext(source="sync", origin="sync-run:7", actor="sync")
    record = service.create_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        payload={"first_name": "Grace", "last_name": "Hopper"},
        context=run,
        salesforce_id="003000000000002AAA",
        sync_status="synced",
    )
    service.update_record(
        db_session,
        tenant_id=tenant,
        entity=MEMBER,
        record_id=record.id,
        payload={"title": "RADM"},
        context=run,
        sync_status="synced",
    )
    db_session.commit()
    assert (record.salesforce_id, record.sync_status, record.version) == (
        "003000000000002AAA",
        "synced",
        2,
    )
    entries = read_changes(db_session, tenant_id=tenant, after_seq=0, limit=10)
    assert {(e.source, e.origin) for e in entries} == {("sync", "sync-run:7")}


def test_one_flush_inserts_many_entries_and_records_in_batches(db_session: Session) -> None:
    """A sync page's rows go in multi-row statements, on SQLite too (insert sentinels)."""
    tenant = _tenant(db_session)
    with counting_inserts(db_session.get_bind()) as inserts:  # type: ignore[arg-type]
        for i in range(300):
            service.create_record(
                db_session,
                tenant_id=tenant,
                entity=MEMBER,
                payload={"first_name": "Batch", "last_name": f"Member {i}"},
                context=API,
                flush=False,
            )
        db_session.flush()
    db_session.commit()
    assert count_changes(db_session, tenant_id=tenant) == 300
    seqs = [c.seq for c in read_changes(db_session, tenant_id=tenant, after_seq=0, limit=400)]
    assert seqs == list(range(seqs[0], seqs[0] + 300))
    assert inserts.get("change_log", 0) <= 10, inserts
    assert inserts.get("records", 0) <= 10, inserts
