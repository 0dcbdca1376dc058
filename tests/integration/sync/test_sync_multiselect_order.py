"""Multi-select picklist values are a set: their order alone is no change (R-S4).

Salesforce returns a multi-select picklist's values in the picklist's defined order,
whatever order they were saved in (Salesforce Help, knowledge article 000231088,
"Multi-Select Picklist Value Ordering Behavior"), so the platform's order and
Salesforce's may differ for equal values.
"""

from __future__ import annotations

from crmbridge.sync.testing import SyncWorld


def test_a_contacts_tags_in_another_order_are_not_written_back(sync_world: SyncWorld) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        contact_id = sf.create(
            "Contact",
            {
                "FirstName": "Kim",
                "LastName": "Lee",
                "Member_Tags__c": "Course Enrolled;Event No-Show;Membership Active",
            },
        )
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    (member,) = sync_world.records("member")
    assert sorted(member.data["tags"]) == ["course_enrolled", "event_no_show", "membership_active"]
    assert summary.counts["Contact/outbound"].get("updated", 0) == 0
    (contact,) = sync_world.query(f"SELECT Member_Tags__c FROM Contact WHERE Id = '{contact_id}'")
    assert contact["Member_Tags__c"] == "Course Enrolled;Event No-Show;Membership Active"

    with sync_world.salesforce() as sf:
        sf.update(
            "Contact",
            contact_id,
            {"Member_Tags__c": "Membership Active;Course Enrolled;Event No-Show"},
        )
    again = sync_world.run()
    assert again.status == "succeeded", again.error
    assert again.total("updated") == 0
    record = sync_world.record("member", member.id)
    assert record is not None
    assert record.version == member.version


def test_a_tag_added_on_either_side_still_syncs(sync_world: SyncWorld) -> None:
    sync_world.install()
    member = sync_world.create(
        "member", first_name="Ada", last_name="Lovelace", tags=["course_enrolled"]
    )
    assert sync_world.run().status == "succeeded"
    sync_world.update("member", member, tags=["course_enrolled", "event_attended"])
    assert sync_world.run().status == "succeeded"
    (contact,) = sync_world.query(
        f"SELECT Id, Member_Tags__c FROM Contact WHERE Platform_Id__c = '{member}'"
    )
    assert set(contact["Member_Tags__c"].split(";")) == {"Course Enrolled", "Event Attended"}
    with sync_world.salesforce() as sf:
        sf.update(
            "Contact",
            contact["Id"],
            {"Member_Tags__c": "Event Attended;Course Enrolled;Membership Expired"},
        )
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member)
    assert record is not None
    assert sorted(record.data["tags"]) == [
        "course_enrolled",
        "event_attended",
        "membership_expired",
    ]
