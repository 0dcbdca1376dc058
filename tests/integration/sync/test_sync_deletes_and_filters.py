"""Delete policies (R-S5) and the Salesforce filter (R-F6: Movement_Exclude__c)."""

from __future__ import annotations

from crmbridge.sync.testing import SyncWorld


def _contact_from_salesforce(world: SyncWorld, **values: object) -> tuple[str, str]:
    """A Contact made in Salesforce and synced; returns (Contact id, member id)."""
    with world.salesforce() as sf:
        contact_id = sf.create("Contact", {"FirstName": "Kim", "LastName": "Lee", **values})
    assert world.run().status == "succeeded"
    (member,) = [m for m in world.records("member") if m.salesforce_id == contact_id]
    return contact_id, member.id


def _alive_in_salesforce(world: SyncWorld, contact_id: str) -> bool:
    rows = world.query(
        f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact_id}'", include_deleted=True
    )
    return bool(rows) and rows[0]["IsDeleted"] is False


def test_archive_keeps_the_platform_record_restorable_and_stops_syncing_it(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()  # the default delete policy is archive
    contact_id, member = _contact_from_salesforce(sync_world)
    with sync_world.salesforce() as sf:
        sf.delete("Contact", contact_id)
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    assert record.deleted_at is not None  # archived: hidden, still stored
    assert record.data["last_name"] == "Lee"


def test_archive_leaves_salesforce_alone_when_the_platform_deletes(sync_world: SyncWorld) -> None:
    sync_world.install()
    contact_id, member = _contact_from_salesforce(sync_world)
    sync_world.delete("member", member)
    assert sync_world.run().status == "succeeded"
    assert _alive_in_salesforce(sync_world, contact_id)
    # The pair is detached: a later Salesforce edit does not bring the record back.
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Title": "Back"})
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    assert record.deleted_at is not None
    assert [m.id for m in sync_world.records("member")] == []


def test_ignore_leaves_the_platform_record_untouched(sync_world: SyncWorld) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], delete_policy="ignore")
    contact_id, member = _contact_from_salesforce(sync_world)
    with sync_world.salesforce() as sf:
        sf.delete("Contact", contact_id)
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    assert record.deleted_at is None
    # Detached: an edit on the platform creates nothing in Salesforce.
    sync_world.update("member", member, title="Still here")
    assert sync_world.run().status == "succeeded"
    assert sync_world.query(f"SELECT Id FROM Contact WHERE Platform_Id__c = '{member}'") == []


def test_propagate_deletes_the_platform_record(sync_world: SyncWorld) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], delete_policy="propagate")
    contact_id, member = _contact_from_salesforce(sync_world)
    with sync_world.salesforce() as sf:
        sf.delete("Contact", contact_id)
    summary = sync_world.run()
    assert summary.status == "succeeded"
    assert summary.total("deleted") == 1
    record = sync_world.record("member", member)
    assert record is not None
    assert record.deleted_at is not None


def test_excluded_contacts_are_never_imported(sync_world: SyncWorld) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        sf.create("Contact", {"LastName": "Kept", "FirstName": "A"})
        sf.create(
            "Contact", {"LastName": "Excluded", "FirstName": "B", "Movement_Exclude__c": True}
        )
    assert sync_world.run().status == "succeeded"
    assert sorted(m.data["last_name"] for m in sync_world.records("member")) == ["Kept"]


def test_a_contact_that_becomes_excluded_is_removed_per_the_delete_policy(
    sync_world: SyncWorld,
) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], delete_policy="propagate")
    contact_id, member = _contact_from_salesforce(sync_world)
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Movement_Exclude__c": True})
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    assert record.deleted_at is not None
    # The Contact itself stays in Salesforce: only the platform lets go of it.
    assert _alive_in_salesforce(sync_world, contact_id)
    rows = sync_world.api.client.get(
        "/api/v1/sync/records", params={"record_id": member}, headers=sync_world.headers()
    ).json()["items"]
    assert any(r["operation"] == "delete" and r["direction"] == "inbound" for r in rows)
