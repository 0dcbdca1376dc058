"""Pushed records take the polled records' path; manual runs (R-O2, R-O3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crmbridge.store.repositories import change_log
from crmbridge.sync import apply_inbound_records, fetch_and_apply
from crmbridge.sync.runs import RunKind
from crmbridge.sync.testing import SyncWorld


def _mapping_id(world: SyncWorld, mappings: dict[str, str]) -> str:
    return mappings["Contact"]


def test_a_pushed_record_is_applied_once_and_the_poll_does_not_apply_it_again(
    sync_world: SyncWorld,
) -> None:
    mappings = sync_world.install()
    with sync_world.salesforce() as sf:
        contact_id = sf.create("Contact", {"FirstName": "Push", "LastName": "Ed"})
        pushed = sf.get_record(
            "Contact",
            contact_id,
            ["Id", "FirstName", "LastName", "SystemModstamp", "IsDeleted", "Movement_Exclude__c"],
        )
    with sync_world.session_factory.begin() as session:
        result = apply_inbound_records(
            session,
            tenant_id=sync_world.tenant_id,
            mapping=_mapping_id(sync_world, mappings),
            records=[pushed],
            source_label="push",
        )
    assert result.counts.get("created") == 1
    (member,) = sync_world.records("member")
    assert (member.data["first_name"], member.data["last_name"]) == ("Push", "Ed")
    with sync_world.session_factory() as session:
        seq = change_log.latest_seq(session, sync_world.tenant_id)
    # The poll reads the same version (its SystemModstamp is already applied).
    polled = sync_world.run()
    assert polled.status == "succeeded", polled.error
    assert polled.total("created") == 0
    assert [m.id for m in sync_world.records("member")] == [member.id]
    with sync_world.session_factory() as session:
        assert change_log.latest_seq(session, sync_world.tenant_id) == seq
    rows = sync_world.api.client.get(
        "/api/v1/sync/records", params={"record_id": contact_id}, headers=sync_world.headers()
    ).json()["items"]
    assert [r["source"] for r in rows if r["direction"] == "inbound"] == ["push"]


def test_a_pushed_record_with_fewer_fields_leaves_the_others_alone(sync_world: SyncWorld) -> None:
    mappings = sync_world.install()
    with sync_world.salesforce() as sf:
        contact_id = sf.create(
            "Contact", {"FirstName": "Kim", "LastName": "Lee", "Title": "Chair", "Phone": "1"}
        )
    assert sync_world.run().status == "succeeded"
    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Title": "Vice Chair"})
        pushed = sf.get_record(
            "Contact", contact_id, ["Id", "Title", "SystemModstamp", "Movement_Exclude__c"]
        )
    with sync_world.session_factory.begin() as session:
        apply_inbound_records(
            session,
            tenant_id=sync_world.tenant_id,
            mapping=mappings["Contact"],
            records=[pushed],
        )
    (member,) = sync_world.records("member")
    assert member.data["title"] == "Vice Chair"
    assert member.data["phone"] == "1"
    assert member.data["first_name"] == "Kim"


def test_a_pushed_record_without_the_filter_fields_is_read_first(sync_world: SyncWorld) -> None:
    mappings = sync_world.install()
    with sync_world.salesforce() as sf:
        contact_id = sf.create(
            "Contact", {"FirstName": "Ex", "LastName": "Cluded", "Movement_Exclude__c": True}
        )
        pushed = sf.get_record("Contact", contact_id, ["Id", "LastName", "SystemModstamp"])
    with sync_world.session_factory.begin() as session:
        result = apply_inbound_records(
            session, tenant_id=sync_world.tenant_id, mapping=mappings["Contact"], records=[pushed]
        )
    assert result.needs_fetch == [contact_id]
    fetched = fetch_and_apply(
        sync_world.session_factory,
        sync_world.settings,
        sync_world.tenant_id,
        mapping=mappings["Contact"],
        salesforce_ids=result.needs_fetch,
    )
    assert fetched.counts.get("created", 0) == 0
    assert sync_world.records("member") == []


def test_a_notification_with_ids_only_is_fetched_and_applied(sync_world: SyncWorld) -> None:
    mappings = sync_world.install()
    with sync_world.salesforce() as sf:
        contact_id = sf.create("Contact", {"FirstName": "Only", "LastName": "Id"})
    with sync_world.session_factory.begin() as session:
        partial = apply_inbound_records(
            session,
            tenant_id=sync_world.tenant_id,
            mapping=mappings["Contact"],
            records=[{"Id": contact_id}],
        )
    assert partial.needs_fetch == [contact_id]
    result = fetch_and_apply(
        sync_world.session_factory,
        sync_world.settings,
        sync_world.tenant_id,
        mapping=mappings["Contact"],
        salesforce_ids=partial.needs_fetch,
    )
    assert result.counts.get("created") == 1
    assert [m.data["last_name"] for m in sync_world.records("member")] == ["Id"]


def test_specific_records_sync_without_touching_the_others(sync_world: SyncWorld) -> None:
    sync_world.install()
    chosen = sync_world.create("member", first_name="Chosen", last_name="One")
    other = sync_world.create("member", first_name="Other", last_name="One")
    with sync_world.salesforce() as sf:
        wanted = sf.create("Contact", {"FirstName": "Wanted", "LastName": "In"})
        sf.create("Contact", {"FirstName": "Left", "LastName": "Out"})
    summary = sync_world.run(RunKind.SPECIFIC, platform_ids=(chosen,), salesforce_ids=(wanted,))
    assert summary.status == "succeeded", summary.error
    synced = {r["Platform_Id__c"] for r in sync_world.query("SELECT Platform_Id__c FROM Contact")}
    assert chosen in synced
    assert other not in synced
    names = sorted(m.data["first_name"] for m in sync_world.records("member"))
    assert names == ["Chosen", "Other", "Wanted"]


def test_a_date_range_sync_reads_only_that_window(sync_world: SyncWorld) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        sf.create("Contact", {"FirstName": "Old", "LastName": "One"})
    start = datetime.now(UTC) + timedelta(seconds=1)
    sync_world.faults(clock_offset_seconds=5)  # later Salesforce changes get later stamps
    with sync_world.salesforce() as sf:
        sf.create("Contact", {"FirstName": "New", "LastName": "One"})
    end = datetime.now(UTC) + timedelta(minutes=5)
    summary = sync_world.run(RunKind.RANGE, start=start, end=end, direction="from_salesforce")
    assert summary.status == "succeeded", summary.error
    assert [m.data["first_name"] for m in sync_world.records("member")] == ["New"]


def test_a_test_run_syncs_at_most_25_records_per_object_newest_first(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        sf.create_collection(
            "Contact", [{"FirstName": "T", "LastName": f"Test{i:02d}"} for i in range(30)]
        )
    summary = sync_world.run(RunKind.TEST_RUN)
    assert summary.status == "succeeded", summary.error
    members = sync_world.records("member")
    assert len(members) == 25
    # The watermark did not move: the next run still reads everything.
    full = sync_world.run()
    assert full.status == "succeeded", full.error
    assert len(sync_world.records("member")) == 30
