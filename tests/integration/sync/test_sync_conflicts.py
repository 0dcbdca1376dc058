"""Conflicts are decided per field under the tenant's or the mapping's policy (R-S4);
manual review holds the field with both values until an admin picks."""

from __future__ import annotations

import time

import pytest

from crmbridge.sync.testing import SyncWorld


def _synced_member(world: SyncWorld) -> tuple[str, str]:
    """A member synced to a Contact; returns (platform id, Contact id)."""
    member = world.create("member", first_name="Ada", last_name="Lovelace", phone="100")
    assert world.run().status == "succeeded"
    (contact,) = world.query(f"SELECT Id FROM Contact WHERE Platform_Id__c = '{member}'")
    return member, str(contact["Id"])


def _both(
    world: SyncWorld, member: str, contact_id: str, field: str, sf_field: str
) -> tuple[object, object]:
    record = world.record("member", member)
    assert record is not None
    (contact,) = world.query(f"SELECT {sf_field} FROM Contact WHERE Id = '{contact_id}'")
    return record.data.get(field), contact[sf_field]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("platform_wins", "111"), ("salesforce_wins", "222")],
)
def test_a_field_changed_on_both_sides_follows_the_tenants_policy(
    sync_world: SyncWorld, policy: str, expected: str
) -> None:
    sync_world.install()
    sync_world.put_settings(conflict_policy=policy)
    member, contact_id = _synced_member(sync_world)
    sync_world.update("member", member, phone="111")
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Phone": "222"})
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    assert _both(sync_world, member, contact_id, "phone", "Phone") == (expected, expected)


@pytest.mark.parametrize("salesforce_last", [True, False])
def test_most_recent_takes_the_later_edit(sync_world: SyncWorld, salesforce_last: bool) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], conflict_policy="most_recent")
    member, contact_id = _synced_member(sync_world)
    if salesforce_last:
        sync_world.update("member", member, phone="111")
        time.sleep(0.05)
        with sync_world.salesforce() as sf:
            sf.update("Contact", contact_id, {"Phone": "222"})
    else:
        with sync_world.salesforce() as sf:
            sf.update("Contact", contact_id, {"Phone": "222"})
        time.sleep(0.05)
        sync_world.update("member", member, phone="111")
    assert sync_world.run().status == "succeeded"
    expected = "222" if salesforce_last else "111"
    assert _both(sync_world, member, contact_id, "phone", "Phone") == (expected, expected)


@pytest.mark.parametrize(
    "policy", ["platform_wins", "salesforce_wins", "most_recent", "manual_review"]
)
def test_edits_to_different_fields_on_both_sides_both_survive(
    sync_world: SyncWorld, policy: str
) -> None:
    sync_world.install()
    sync_world.put_settings(conflict_policy=policy)
    member, contact_id = _synced_member(sync_world)
    sync_world.update("member", member, phone="555")
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Title": "Countess"})
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    assert _both(sync_world, member, contact_id, "phone", "Phone") == ("555", "555")
    assert _both(sync_world, member, contact_id, "title", "Title") == ("Countess", "Countess")


def test_manual_review_holds_the_field_until_an_admin_picks(sync_world: SyncWorld) -> None:
    sync_world.install()
    sync_world.put_settings(conflict_policy="manual_review")
    member, contact_id = _synced_member(sync_world)
    sync_world.update("member", member, phone="111")
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Phone": "222", "Title": "Countess"})
    held = sync_world.run()
    assert held.status == "succeeded", held.error
    # The conflicting field waits with both values; the other field synced.
    assert _both(sync_world, member, contact_id, "phone", "Phone") == ("111", "222")
    assert _both(sync_world, member, contact_id, "title", "Title") == ("Countess", "Countess")
    client, headers = sync_world.api.client, sync_world.headers()
    reviews = client.get("/api/v1/sync/reviews", headers=headers).json()["items"]
    (review,) = reviews
    assert review["platform_id"] == member
    assert review["conflicts"] == [
        {
            "field": "Phone",
            "base": "100",
            "base_known": True,
            "platform": "111",
            "salesforce": "222",
        }
    ]
    # Another run keeps holding it and writes nothing over either side.
    again = sync_world.run()
    assert again.status == "succeeded"
    assert _both(sync_world, member, contact_id, "phone", "Phone") == ("111", "222")

    viewer = client.post(
        f"/api/v1/sync/reviews/{review['id']}/resolve",
        json={"picks": {"Phone": "salesforce"}},
        headers=sync_world.headers("CLIENT_VIEWER"),
    )
    assert viewer.status_code == 403
    missing = client.post(
        f"/api/v1/sync/reviews/{review['id']}/resolve", json={"picks": {}}, headers=headers
    )
    assert missing.status_code == 422
    resolved = client.post(
        f"/api/v1/sync/reviews/{review['id']}/resolve",
        json={"picks": {"Phone": "salesforce"}},
        headers=sync_world.headers("CLIENT_STAFF"),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    applied = sync_world.run()
    assert applied.status == "succeeded", applied.error
    assert _both(sync_world, member, contact_id, "phone", "Phone") == ("222", "222")
    assert client.get("/api/v1/sync/reviews", headers=headers).json()["items"] == []
    # Later edits sync normally again.
    sync_world.update("member", member, phone="333")
    assert sync_world.run().status == "succeeded"
    assert _both(sync_world, member, contact_id, "phone", "Phone") == ("333", "333")


def test_a_platform_pick_is_written_to_salesforce(sync_world: SyncWorld) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], conflict_policy="manual_review")
    member, contact_id = _synced_member(sync_world)
    sync_world.update("member", member, phone="111")
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Phone": "222"})
    sync_world.run()
    client, headers = sync_world.api.client, sync_world.headers()
    (review,) = client.get("/api/v1/sync/reviews", headers=headers).json()["items"]
    resolved = client.post(
        f"/api/v1/sync/reviews/{review['id']}/resolve",
        json={"picks": {"Phone": "platform"}},
        headers=headers,
    )
    assert resolved.status_code == 200
    assert sync_world.run().status == "succeeded"
    assert _both(sync_world, member, contact_id, "phone", "Phone") == ("111", "111")
