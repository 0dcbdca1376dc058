"""Echo suppression and API calls per run (R-S3, R-S6), counted by the emulated org."""

from __future__ import annotations

import math

import sqlalchemy as sa

from crmbridge.store.repositories import change_log
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.sync_models import SyncPair
from crmbridge.sync.testing import SyncWorld


def _changes(world: SyncWorld) -> int:
    with world.session_factory() as session:
        return change_log.latest_seq(session, world.tenant_id)


def test_a_synced_change_is_not_sent_back(sync_world: SyncWorld) -> None:
    sync_world.install()
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace")
    with sync_world.salesforce() as sf:
        contact_id = sf.create("Contact", {"FirstName": "Grace", "LastName": "Hopper"})
    assert sync_world.run().status == "succeeded"
    # A platform edit goes out once ...
    sync_world.update("member", member, title="Countess")
    assert sync_world.run().status == "succeeded"
    # ... and a Salesforce edit comes in once.
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Title": "Admiral"})
    assert sync_world.run().status == "succeeded"
    seq = _changes(sync_world)
    sync_world.calls(reset=True)
    quiet = sync_world.run()
    assert quiet.status == "succeeded"
    # The Contacts came back from Salesforce with new SystemModstamps (our own writes):
    # recognised as echoes, nothing is written on either side.
    calls = sync_world.calls()["by_resource"]
    assert set(calls) == {"queryAll"}, calls
    assert _changes(sync_world) == seq
    assert quiet.total("updated") + quiet.total("created") == 0


def test_api_calls_stay_close_to_the_minimum(sync_world: SyncWorld) -> None:
    sync_world.install()
    incoming = 2100
    with sync_world.salesforce() as sf:
        for start in range(0, incoming, 200):
            results = sf.create_collection(
                "Contact",
                [
                    {"FirstName": "In", "LastName": f"Bound{i}"}
                    for i in range(start, min(start + 200, incoming))
                ],
            )
            assert all(r.success for r in results)
    outgoing = 250
    for i in range(outgoing):
        sync_world.create("member", first_name="Out", last_name=f"Going{i}")
    sync_world.calls(reset=True)
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    calls = sync_world.calls()["by_resource"]
    reads = calls.get("query", 0) + calls.get("queryAll", 0)
    # Account (empty) and Contact in pages of 2,000.
    assert reads == 1 + math.ceil(incoming / 2000), calls
    # New Contacts upserted and the Contacts made in Salesforce stamped with their
    # platform ids, in collections of 200 (chunks of 2,000 records may leave one short
    # collection each).
    writes = calls.get("composite/sobjects", 0)
    minimum = math.ceil(outgoing / 200) + math.ceil(incoming / 200)
    assert minimum <= writes <= minimum + 1, calls
    assert set(calls) == {"queryAll", "composite/sobjects"}, calls
    assert len(sync_world.records("member")) == incoming + outgoing
    with sync_world.salesforce() as sf:
        assert sf.count("SELECT COUNT() FROM Contact WHERE Platform_Id__c = null") == 0
        assert sf.count("SELECT COUNT() FROM Contact") == incoming + outgoing


def test_above_the_bulk_threshold_writes_go_through_bulk_api(sync_world: SyncWorld) -> None:
    sync_world.install()
    sync_world.put_settings(bulk_threshold=50)
    members = [sync_world.create("member", first_name="B", last_name=f"Ulk{i}") for i in range(120)]
    sync_world.calls(reset=True)
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    calls = sync_world.calls()["by_resource"]
    assert "composite/sobjects" not in calls, calls
    # One ingest job: create, upload, close, poll, results (Bulk API 2.0).
    assert 0 < calls.get("jobs/ingest", 0) <= 6, calls
    synced = {r["Platform_Id__c"] for r in sync_world.query("SELECT Platform_Id__c FROM Contact")}
    assert synced == set(members)
    record = sync_world.record("member", members[0])
    assert record is not None
    assert record.salesforce_id is not None
    assert record.sync_status == "synced"


def test_one_run_stamps_every_waiting_pair_a_page_at_a_time(sync_world: SyncWorld) -> None:
    """Pairs waiting for their link stamp are read a page of ids at a time, and the run
    goes on to the last page (an initial sync of 1,000,000 records stamps them all)."""
    sync_world.install()
    with sync_world.salesforce() as sf:
        contacts = [{"FirstName": "Page", "LastName": f"Paged {n}"} for n in range(230)]
        assert all(r.success for r in sf.create_collection("Contact", contacts))
    summary = sync_world.run(options=sync_world.options(outbound_chunk=50))
    assert summary.status == "succeeded", summary.error
    rows = sync_world.query("SELECT Id, Platform_Id__c FROM Contact WHERE LastName LIKE 'Paged%'")
    assert len(rows) == 230
    assert all(r["Platform_Id__c"] for r in rows)
    members = {r.id for r in sync_world.records("member")}
    assert {r["Platform_Id__c"] for r in rows} <= members
    with sync_world.session_factory() as session:
        waiting = pairs_repo.platform_ids_needing_outbound(
            session,
            tenant_id=sync_world.tenant_id,
            mapping_id=_contact_mapping(sync_world),
            limit=1_000,
        )
    assert waiting == []


def _contact_mapping(world: SyncWorld) -> str:
    with world.session_factory() as session:
        return str(
            session.scalar(
                sa.select(SyncPair.mapping_id).where(
                    SyncPair.tenant_id == world.tenant_id, SyncPair.salesforce_object == "Contact"
                )
            )
        )
