"""A Salesforce record recreated after a delete-versus-edit conflict (docs/sync-engine.md,
"Deletes"): the platform record then shows the new Salesforce id (R-D2)."""

from __future__ import annotations

from crmbridge.sync.testing import SyncWorld


def test_a_member_edited_while_its_contact_was_deleted_links_to_the_recreated_contact(
    sync_world: SyncWorld,
) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(
        mappings["Contact"], delete_policy="propagate", conflict_policy="platform_wins"
    )
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace", phone="1")
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    assert record.salesforce_id is not None
    old_contact = record.salesforce_id

    with sync_world.salesforce() as sf:
        sf.delete("Contact", old_contact)
    sync_world.update("member", member, phone="2")
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error

    (contact,) = sync_world.query(
        f"SELECT Id, Phone FROM Contact WHERE Platform_Id__c = '{member}'"
    )
    assert contact["Id"] != old_contact
    assert contact["Phone"] == "2"
    record = sync_world.record("member", member)
    assert record is not None
    assert (record.salesforce_id, record.sync_status) == (contact["Id"], "synced")
