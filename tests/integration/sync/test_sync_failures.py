"""Record-level failures (R-S8): a composite partial failure keeps the good records and
dead-letters the bad one with Salesforce's message; edit and retry fixes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crmbridge.emulator.server import EmulatorServer
from crmbridge.sync.testing import SyncWorld

#: Salesforce refuses phone numbers with letters; the platform accepts "555 x12".
SCHEMA = {
    "objects": {
        "Contact": {
            "validation_rules": [
                {
                    "name": "Phone_Digits",
                    "regex": {"field": "Phone", "pattern": "[0-9 +()-]+"},
                    "error_message": "Phone may only contain digits.",
                    "error_field": "Phone",
                }
            ]
        },
        "Account": {
            "validation_rules": [
                {
                    "name": "Account_Phone_Digits",
                    "regex": {"field": "Phone", "pattern": "[0-9 +()-]+"},
                    "error_message": "Account phone may only contain digits.",
                    "error_field": "Phone",
                }
            ]
        },
    }
}


@pytest.fixture
def sync_org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An org whose Contacts refuse letters in Phone."""
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(SCHEMA), encoding="utf-8")
    server = EmulatorServer(tmp_path / "org", port=0, schema_file=schema)
    server.start()
    try:
        yield dict(server.info)
    finally:
        server.stop()


def test_a_rejected_record_is_dead_lettered_and_the_others_are_kept(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    good = [
        sync_world.create("member", first_name="Good", last_name=f"No{i}", phone="555 01")
        for i in range(3)
    ]
    bad = sync_world.create("member", first_name="Bad", last_name="Phone", phone="555 x12")
    summary = sync_world.run()
    assert summary.status == "partially_failed"
    synced = {r["Platform_Id__c"] for r in sync_world.query("SELECT Platform_Id__c FROM Contact")}
    assert synced == set(good)
    client, headers = sync_world.api.client, sync_world.headers()
    (letter,) = client.get("/api/v1/sync/dead-letters", headers=headers).json()["items"]
    assert letter["platform_id"] == bad
    assert letter["direction"] == "outbound"
    assert letter["error"]["code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert letter["error"]["message"] == "Phone may only contain digits."
    assert letter["error"]["category"] == "validation"
    assert letter["advice"]
    record = sync_world.record("member", bad)
    assert record is not None
    assert record.sync_status == "failed"
    log = client.get("/api/v1/sync/records", params={"outcome": "failed"}, headers=headers).json()[
        "items"
    ]
    assert [(r["platform_id"], r["error"]["code"]) for r in log] == [
        (bad, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    ]
    # A dead letter is not retried by itself: the next run leaves it alone.
    assert sync_world.run().status == "succeeded"
    assert client.get("/api/v1/sync/dead-letters", headers=headers).json()["items"] != []

    # An admin fixes the value and retries.
    retried = client.post(
        f"/api/v1/sync/dead-letters/{letter['id']}/retry",
        json={"values": {"phone": "555 12"}},
        headers=headers,
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "retrying"
    fixed = sync_world.run()
    assert fixed.status == "succeeded", fixed.error
    (contact,) = sync_world.query(f"SELECT Phone FROM Contact WHERE Platform_Id__c = '{bad}'")
    assert contact["Phone"] == "555 12"
    assert client.get("/api/v1/sync/dead-letters", headers=headers).json()["items"] == []
    settled = client.get(f"/api/v1/sync/dead-letters/{letter['id']}", headers=headers).json()
    assert settled["status"] == "resolved"


def test_a_dead_letter_can_be_discarded(sync_world: SyncWorld) -> None:
    sync_world.install()
    sync_world.create("member", first_name="Bad", last_name="Phone", phone="555 x12")
    assert sync_world.run().status == "partially_failed"
    client, headers = sync_world.api.client, sync_world.headers()
    (letter,) = client.get("/api/v1/sync/dead-letters", headers=headers).json()["items"]
    viewer = client.post(
        f"/api/v1/sync/dead-letters/{letter['id']}/discard",
        headers=sync_world.headers("CLIENT_VIEWER"),
    )
    assert viewer.status_code == 403
    discarded = client.post(f"/api/v1/sync/dead-letters/{letter['id']}/discard", headers=headers)
    assert discarded.status_code == 200
    assert discarded.json()["status"] == "discarded"
    again = client.post(f"/api/v1/sync/dead-letters/{letter['id']}/retry", headers=headers)
    assert again.status_code == 409
    assert client.get("/api/v1/sync/dead-letters", headers=headers).json()["items"] == []


def test_a_child_waits_while_its_parent_fails_and_follows_once_it_is_fixed(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    parent = sync_world.create("organization", name="Parent", phone="x1")
    child = sync_world.create("organization", name="Child", parent_id=parent)
    sibling = sync_world.create("organization", name="Sibling")
    first = sync_world.run()
    assert first.status == "partially_failed"
    synced = {r["Platform_Id__c"] for r in sync_world.query("SELECT Platform_Id__c FROM Account")}
    assert synced == {sibling}
    client, headers = sync_world.api.client, sync_world.headers()
    letters = client.get(
        "/api/v1/sync/dead-letters", params={"status": "unsettled"}, headers=headers
    ).json()["items"]
    by_record = {letter["platform_id"]: letter for letter in letters}
    assert by_record[parent]["status"] == "open"
    assert by_record[parent]["error"]["message"] == "Account phone may only contain digits."
    # The child was not sent: it waits for its parent instead of failing on it.
    assert by_record[child]["status"] == "retrying"
    assert "failed to sync" in by_record[child]["error"]["message"]

    fixed = client.post(
        f"/api/v1/sync/dead-letters/{by_record[parent]['id']}/retry",
        json={"values": {"phone": "12"}},
        headers=headers,
    )
    assert fixed.status_code == 200, fixed.text
    second = sync_world.run()
    assert second.status == "succeeded", second.error
    accounts = {
        r["Platform_Id__c"]: r
        for r in sync_world.query("SELECT Id, ParentId, Platform_Id__c FROM Account")
    }
    assert set(accounts) == {parent, child, sibling}
    assert accounts[child]["ParentId"] == accounts[parent]["Id"]
