"""A Salesforce record recreated after a delete-versus-edit conflict (docs/sync-engine.md,
"Deletes"): the platform record then shows the new Salesforce id (R-D2)."""

from __future__ import annotations

from crmbridge.domain.sync import Direction
from crmbridge.store.repositories import sync_pairs as pairs_repo
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


def test_a_recreated_contact_whose_answer_was_lost_is_adopted_with_its_new_id(
    sync_world: SyncWorld,
) -> None:
    """The create reached Salesforce but the process died before recording it (R-S10)."""
    mappings = sync_world.install()
    sync_world.patch_mapping(
        mappings["Contact"], delete_policy="propagate", conflict_policy="platform_wins"
    )
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace", phone="1")
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    old_contact = record.salesforce_id

    with sync_world.salesforce() as sf:
        sf.delete("Contact", old_contact)
    sync_world.update("member", member, phone="2")
    # Inbound plans the recreation; the pair waits for its Salesforce write.
    assert sync_world.run(direction=Direction.FROM_SALESFORCE).status == "succeeded"
    with sync_world.session_factory() as session:
        pair = pairs_repo.pairs_by_platform_id(
            session,
            tenant_id=sync_world.tenant_id,
            mapping_id=mappings["Contact"],
            platform_ids=[member],
        )[member]
        assert pair.needs_outbound
        pending = dict(pair.state["pending"])
    # What the lost upsert did: the Contact exists, stamped with the platform id.
    with sync_world.salesforce() as sf:
        result = sf.upsert("Contact", "Platform_Id__c", member, pending)
    assert result.created

    assert sync_world.run().status == "succeeded"
    (contact,) = sync_world.query(f"SELECT Id FROM Contact WHERE Platform_Id__c = '{member}'")
    assert contact["Id"] == result.id
    record = sync_world.record("member", member)
    assert record is not None
    assert (record.salesforce_id, record.sync_status) == (result.id, "synced")
