"""Pushed changes are applied by the sync engine (R-S2): an edit in the emulated org
arrives by Outbound Message or webhook, is acknowledged, processed, and changes the
platform record exactly once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa

from crmbridge.mappings.testing import emulator_client
from crmbridge.push.processing import drain_inbox
from crmbridge.push.testing import (
    AckDroppingProxy,
    PushWorld,
    add_outbound_rule,
    outbound_queue,
    wait_for,
)
from crmbridge.push.webhook import signature_header
from crmbridge.store.models import ChangeLogEntry
from crmbridge.store.push_models import InboxEntry
from crmbridge.store.sync_models import SyncRecord, SyncRun
from crmbridge.sync.runs import RunKind, RunRequest, run_sync
from crmbridge.worker.tasks import build_worker
from crmbridge.worker.testing import ManualClock


@pytest.fixture
def synced(push_world: PushWorld) -> dict[str, Any]:
    """The default member/organization mappings, one Contact synced to a member."""
    api = push_world.api
    push_world.install_membership_mappings()
    with emulator_client(push_world.info) as client:
        account_id = client.create("Account", {"Name": "Radium Institute"})
        contact_id = client.create(
            "Contact", {"FirstName": "Marie", "LastName": "Curie", "AccountId": account_id}
        )
    summary = run_sync(
        api.session_factory,
        api.app.state.settings,
        push_world.tenant_id,
        request=RunRequest(kind=RunKind.NOW),
    )
    assert summary.status == "succeeded", summary
    member = _member(push_world, contact_id)
    assert member["last_name"] == "Curie"
    return {"contact_id": contact_id, "member_id": member["id"]}


def _member(world: PushWorld, contact_id: str) -> dict[str, Any]:
    return world.member_of(contact_id)


def _entries(world: PushWorld) -> list[InboxEntry]:
    with world.api.session() as session:
        statement = (
            sa.select(InboxEntry)
            .where(InboxEntry.tenant_id == world.tenant_id)
            .order_by(InboxEntry.id)
        )
        return list(session.scalars(statement))


def _sync_changes(world: PushWorld, member_id: str) -> list[ChangeLogEntry]:
    with world.api.session() as session:
        statement = sa.select(ChangeLogEntry).where(
            ChangeLogEntry.record_id == member_id, ChangeLogEntry.source == "sync"
        )
        return list(session.scalars(statement.order_by(ChangeLogEntry.seq)))


def _drain(world: PushWorld) -> Any:
    return drain_inbox(world.api.session_factory, world.api.app.state.settings, world.tenant_id)


def test_an_edit_in_salesforce_arrives_by_outbound_message_and_changes_the_member_once(
    push_world: PushWorld, synced: dict[str, Any]
) -> None:
    # Two rules on Contact: each change is announced twice, with two notification ids.
    for name in ("crmbridge_a", "crmbridge_b"):
        add_outbound_rule(push_world.info, name=name, endpoint_url=push_world.outbound_message_url)
    before = len(_sync_changes(push_world, synced["member_id"]))
    with emulator_client(push_world.info) as client:
        client.update("Contact", synced["contact_id"], {"LastName": "Skłodowska-Curie"})
    entries = wait_for(lambda: (e := _entries(push_world)) and len(e) == 2 and e, what="both")
    assert {e.salesforce_id for e in entries} == {synced["contact_id"]}
    report = _drain(push_world)
    assert (report.processed, report.failed, report.skipped) == (2, 0, 0)
    assert _member(push_world, synced["contact_id"])["last_name"] == "Skłodowska-Curie"
    # Applied once: one change-log entry for the two notifications.
    assert len(_sync_changes(push_world, synced["member_id"])) == before + 1
    entries = _entries(push_world)
    assert {e.status for e in entries} == {"processed"}
    assert entries[0].run_id == report.run_id
    # Processing the same entries again (an admin retry, a crash before marking) is a no-op.
    with push_world.api.session_factory.begin() as session:
        for entry in session.scalars(sa.select(InboxEntry)):
            entry.status = "pending"
    assert _drain(push_world).processed == 2
    assert len(_sync_changes(push_world, synced["member_id"])) == before + 1
    with push_world.api.session() as session:
        run = session.get(SyncRun, report.run_id)
        assert run is not None
        assert (run.trigger, run.kind, run.status) == ("push", "specific", "succeeded")
        sources = set(
            session.scalars(sa.select(SyncRecord.source).where(SyncRecord.run_id == run.id))
        )
        assert sources == {"push"}


def test_a_crash_between_store_and_ack_is_redelivered_and_applied_once(
    push_world: PushWorld, synced: dict[str, Any]
) -> None:
    before = len(_sync_changes(push_world, synced["member_id"]))
    path = push_world.outbound_message_url.split("/", 3)[3]
    with AckDroppingProxy(push_world.server.base_url, drops=1) as proxy:
        add_outbound_rule(push_world.info, endpoint_url=f"{proxy.url}/{path}")
        with emulator_client(push_world.info) as client:
            client.update("Contact", synced["contact_id"], {"Email": "marie@radium.example"})
        # Stored at the first delivery; processed before Salesforce even redelivers.
        wait_for(lambda: _entries(push_world), what="the first delivery")
        assert _drain(push_world).processed == 1
        wait_for(
            lambda: [q for q in outbound_queue(push_world.info) if q["state"] == "delivered"],
            what="the redelivery and its Ack",
        )
        assert proxy.forwarded == 2
    [entry] = _entries(push_world)  # the redelivered notification was already stored
    assert entry.status == "processed"
    assert _drain(push_world).processed == 0
    assert _member(push_world, synced["contact_id"])["email"] == "marie@radium.example"
    assert len(_sync_changes(push_world, synced["member_id"])) == before + 1


def test_the_worker_drains_pushed_changes_between_polls(
    push_world: PushWorld, synced: dict[str, Any]
) -> None:
    api = push_world.api
    settings_ok = api.client.patch(
        "/api/v1/salesforce/settings", json={"auto_sync": True}, headers=push_world.admin_headers()
    )
    assert settings_ok.status_code == 200, settings_ok.text
    clock = ManualClock()
    worker = build_worker(api.session_factory, api.app.state.settings, clock=clock)
    first = worker.run_once()  # the first scheduled run
    assert [outcome.status for _, outcome in first.runs] == ["succeeded"]
    add_outbound_rule(push_world.info, endpoint_url=push_world.outbound_message_url)
    with emulator_client(push_world.info) as client:
        client.update("Contact", synced["contact_id"], {"FirstName": "Maria"})
    wait_for(lambda: _entries(push_world), what="the notification")
    clock.advance(seconds=5)  # no poll is due for another 55 seconds
    tick = worker.run_once()
    assert tick.runs == []
    assert tick.drained == {push_world.tenant_id: 1}
    assert _member(push_world, synced["contact_id"])["first_name"] == "Maria"


def test_a_signed_webhook_with_ids_only_changes_the_member(
    push_world: PushWorld, synced: dict[str, Any]
) -> None:
    with emulator_client(push_world.info) as client:
        client.update("Contact", synced["contact_id"], {"Title": "Professor"})
    body = json.dumps(
        {
            "organization_id": push_world.info["org_id"],
            "object": "Contact",
            "ids": [synced["contact_id"]],
        }
    ).encode()
    secret = push_world.secrets["webhook_secret"]
    response = push_world.api.client.post(
        f"/api/v1/inbound/salesforce/webhook/{push_world.tenant_id}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Crmbridge-Signature": signature_header(
                secret, timestamp=int(time.time()), body=body
            ),
        },
    )
    assert response.status_code == 202, response.text
    processed = push_world.api.client.post(
        "/api/v1/inbound/process", headers=push_world.admin_headers()
    )
    assert processed.status_code == 200, processed.text
    assert processed.json()["processed"] == 1
    assert _member(push_world, synced["contact_id"])["title"] == "Professor"
    listed = push_world.api.client.get(
        "/api/v1/inbound/entries?status=processed", headers=push_world.admin_headers()
    ).json()
    assert [(e["salesforce_id"], e["ids_only"], e["run_id"]) for e in listed] == [
        (synced["contact_id"], True, processed.json()["run_id"])
    ]


def test_a_signed_webhook_with_whole_records_is_applied_as_sent(
    push_world: PushWorld, synced: dict[str, Any]
) -> None:
    with emulator_client(push_world.info) as client:
        client.update("Contact", synced["contact_id"], {"Title": "Director"})
        # What an Apex trigger serializes after querying the record with its parent.
        [record] = client.query(
            "SELECT Id, Title, AccountId, Account.Name, Account.Platform_Id__c, "
            "Movement_Exclude__c, Platform_Id__c, SystemModstamp, LastModifiedDate "
            f"FROM Contact WHERE Id = '{synced['contact_id']}'"
        )
    body = json.dumps(
        {
            "organization_id": push_world.info["org_id"],
            "object": "Contact",
            "records": [record],
        }
    ).encode()
    secret = push_world.secrets["webhook_secret"]
    response = push_world.api.client.post(
        f"/api/v1/inbound/salesforce/webhook/{push_world.tenant_id}",
        content=body,
        headers={
            "X-Crmbridge-Signature": signature_header(secret, timestamp=int(time.time()), body=body)
        },
    )
    assert response.status_code == 202, response.text
    report = _drain(push_world)
    assert (report.processed, report.run_id) == (1, None)  # no sync run: nothing re-read
    assert _member(push_world, synced["contact_id"])["title"] == "Director"
    assert _member(push_world, synced["contact_id"])["company"] == "Radium Institute"
    [entry] = _entries(push_world)
    assert entry.status == "processed"
    with push_world.api.session() as session:
        audit = session.scalars(
            sa.select(SyncRecord).where(SyncRecord.run_id == entry.run_id)
        ).all()
        assert [(a.source, a.operation, a.outcome) for a in audit] == [
            ("webhook", "update", "succeeded")
        ]
        assert session.get(SyncRun, entry.run_id) is None
    # Without the parent's fields the record cannot be judged as sent: it is re-read.
    with emulator_client(push_world.info) as client:
        client.update("Contact", synced["contact_id"], {"Title": "Chair"})
        [partial] = client.query(
            "SELECT Id, Title, AccountId, Movement_Exclude__c, Platform_Id__c, SystemModstamp "
            f"FROM Contact WHERE Id = '{synced['contact_id']}'"
        )
    body = json.dumps(
        {"organization_id": push_world.info["org_id"], "object": "Contact", "records": [partial]}
    ).encode()
    signature = signature_header(secret, timestamp=int(time.time()), body=body)
    assert (
        push_world.api.client.post(
            f"/api/v1/inbound/salesforce/webhook/{push_world.tenant_id}",
            content=body,
            headers={"X-Crmbridge-Signature": signature},
        ).status_code
        == 202
    )
    again = _drain(push_world)
    assert again.processed == 1
    assert again.run_id is not None
    assert _member(push_world, synced["contact_id"])["title"] == "Chair"


def test_entries_of_unmapped_objects_are_skipped_with_the_reason(
    push_world: PushWorld, synced: dict[str, Any]
) -> None:
    add_outbound_rule(
        push_world.info,
        sobject="Lead",
        fields=("LastName", "Company"),
        endpoint_url=push_world.outbound_message_url,
    )
    with emulator_client(push_world.info) as client:
        client.create("Lead", {"LastName": "Franklin", "Company": "King's College"})
    wait_for(lambda: _entries(push_world), what="the Lead notification")
    report = _drain(push_world)
    assert report.skipped == 1
    [entry] = _entries(push_world)
    assert entry.status == "skipped"
    assert "No enabled mapping reads this object" in entry.error_message
    # An admin may put it back in line (e.g. after adding a lead mapping).
    headers = push_world.api.headers_for("CLIENT_STAFF", push_world.tenant_id)
    retried = push_world.api.client.post(
        f"/api/v1/inbound/entries/{entry.id}/retry", headers=headers
    )
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending"
