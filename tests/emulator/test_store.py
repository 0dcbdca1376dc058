"""The org store: Salesforce's validation on writes, system fields, deletes, upserts, events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crmbridge.emulator.bootstrap import bootstrap_org
from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.schema import Schema, default_schema
from crmbridge.emulator.schema_file import extend_schema
from crmbridge.emulator.store import OrgStore


class StepClock:
    """A clock that advances one second each time it is read."""

    def __init__(self) -> None:
        self.now = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


RULES = {
    "objects": {
        "Contact": {
            "validation_rules": [
                {
                    "name": "Email_Required_For_Members",
                    "require": "Email",
                    "when": {"Membership_Status__c": "Active"},
                    "error_message": "Active members need an email address.",
                    "error_field": "Email",
                },
                {
                    "name": "Phone_Digits",
                    "regex": {"field": "Phone", "pattern": "[0-9 +()-]+"},
                    "error_message": "Phone may only contain digits.",
                },
            ],
            "duplicate_rules": [{"name": "Contact_Email", "match_fields": ["Email"]}],
        },
        "Account": {"fields": [{"name": "Legacy_Code__c", "type": "string", "external_id": True}]},
    }
}


def open_store(path: Path, schema: Schema | None = None) -> OrgStore:
    store = OrgStore.open(path, schema or extend_schema(default_schema(), RULES), clock=StepClock())
    bootstrap_org(store)
    return store


@pytest.fixture
def store(tmp_path: Path) -> OrgStore:
    return open_store(tmp_path)


def fails(action: Any, *args: Any, **kwargs: Any) -> SalesforceApiError:
    with pytest.raises(SalesforceApiError) as info:
        action(*args, **kwargs)
    return info.value


def test_create_fills_system_fields_defaults_and_full_name(store: OrgStore) -> None:
    record_id = store.create("Contact", {"FirstName": "Ada", "LastName": "Lovelace"})
    record = store.get("Contact", record_id)
    assert record is not None
    assert record_id.startswith("003")
    assert len(record_id) == 18
    assert record["Name"] == "Ada Lovelace"
    assert record["OwnerId"] == record["CreatedById"] == store.default_user_id
    assert record["CreatedDate"] == record["SystemModstamp"]
    assert record["CreatedDate"].endswith("Z")
    assert len(record["CreatedDate"]) == 24
    assert record["IsDeleted"] is False
    assert record["HasOptedOutOfEmail"] is False


def test_values_are_coerced_to_their_stored_forms(store: OrgStore) -> None:
    account = store.create(
        "Account",
        {"Name": "Acme", "NumberOfEmployees": "12", "AnnualRevenue": 1234.567, "Website": 42},
    )
    contact = store.create(
        "Contact",
        {
            "LastName": "X",
            "AccountId": account[:15],
            "Birthdate": "1990-02-03",
            "Member_Tags__c": "Event Attended; Course Enrolled;Event Attended",
            "DoNotCall": "true",
        },
    )
    record = store.get("Contact", contact)
    assert record is not None
    assert record["AccountId"] == account
    assert record["Member_Tags__c"] == "Event Attended;Course Enrolled"
    assert record["DoNotCall"] is True
    stored = store.get("Account", account)
    assert stored is not None
    assert (stored["NumberOfEmployees"], stored["AnnualRevenue"], stored["Website"]) == (
        12,
        1235.0,
        "42",
    )


@pytest.mark.parametrize(
    ("values", "code", "fields"),
    [
        ({"FirstName": "A"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": "x" * 81}, "STRING_TOO_LONG", ["LastName"]),
        ({"LastName": "A", "Nope__c": 1}, "INVALID_FIELD", ["Nope__c"]),
        (
            {"LastName": "A", "CreatedDate": "2020-01-01"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["CreatedDate"],
        ),
        ({"LastName": "A", "Id": "003000000000001AAA"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Id"]),
        ({"LastName": "A", "AccountId": "not-an-id"}, "MALFORMED_ID", ["AccountId"]),
        (
            {"LastName": "A", "AccountId": "0015g0000009999AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
        (
            {"LastName": "A", "Birthdate": "yesterday"},
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            ["Birthdate"],
        ),
        ({"LastName": "A", "Email": "nobody"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        (
            {"LastName": "A", "Membership_Status__c": "Active"},
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            ["Email"],
        ),
        ({"LastName": "A", "Phone": "call me"}, "FIELD_CUSTOM_VALIDATION_EXCEPTION", []),
    ],
)
def test_invalid_creates_fail_with_salesforce_codes_and_write_nothing(
    store: OrgStore, values: dict[str, Any], code: str, fields: list[str]
) -> None:
    error = fails(store.create, "Contact", values)
    assert (error.status, error.error_code, error.fields) == (400, code, fields)
    assert store.count("Contact", include_deleted=True) == 0


def test_error_messages_are_worded_like_salesforce(store: OrgStore) -> None:
    assert fails(store.create, "Contact", {}).message == "Required fields are missing: [LastName]"
    assert fails(store.create, "Contact", {"LastName": "A", "Foo": 1}).message == (
        "No such column 'Foo' on sobject of type Contact"
    )
    assert fails(
        store.create, "Lead", {"LastName": "A", "Company": "C", "Status": "Bogus"}
    ).rest_entry() == {
        "message": "Lead Status: bad value for restricted picklist field: Bogus",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["Status"],
    }
    long_name = fails(store.create, "Contact", {"LastName": "y" * 81}).message
    assert long_name == f"Last Name: data value too large: {'y' * 81} (max length=80)"
    lead = store.create("Lead", {"LastName": "A", "Company": "C", "Status": "negotiating"})
    assert store.get("Lead", lead)["Status"] == "Negotiating"  # type: ignore[index]


def test_reference_to_the_wrong_object_type_is_a_field_integrity_error(store: OrgStore) -> None:
    contact = store.create("Contact", {"LastName": "A"})
    error = fails(store.create, "Contact", {"LastName": "B", "AccountId": contact})
    assert error.error_code == "FIELD_INTEGRITY_EXCEPTION"


def test_duplicate_rule_blocks_and_names_the_matching_record(store: OrgStore) -> None:
    first = store.create("Contact", {"LastName": "A", "Email": "a@example.org"})
    error = fails(store.create, "Contact", {"LastName": "B", "Email": "A@Example.org"})
    assert error.error_code == "DUPLICATES_DETECTED"
    assert error.matching_ids == [first]
    match = error.extra["duplicateResult"]["matchResults"][0]["matchRecords"][0]
    assert match["record"]["Id"] == first
    other = store.create("Contact", {"LastName": "C", "Email": "c@example.org"})
    assert fails(store.update, "Contact", other, {"Email": "a@example.org"}).error_code == (
        "DUPLICATES_DETECTED"
    )


def test_unique_external_id_rejects_a_second_record_with_the_value(store: OrgStore) -> None:
    first = store.create("Account", {"Name": "A", "Platform_Id__c": "org-1"})
    error = fails(store.create, "Account", {"Name": "B", "Platform_Id__c": "ORG-1"})
    assert error.error_code == "DUPLICATE_VALUE"
    assert first in error.message


def test_update_bumps_audit_fields_and_a_rejected_update_changes_nothing(store: OrgStore) -> None:
    contact = store.create("Contact", {"LastName": "A", "Title": "Old"})
    before = store.get("Contact", contact)
    store.update("Contact", contact, {"Title": "New"})
    after = store.get("Contact", contact)
    assert before
    assert after
    assert after["Title"] == "New"
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert after["LastModifiedDate"] == after["SystemModstamp"]
    assert after["CreatedDate"] == before["CreatedDate"]
    assert fails(store.update, "Contact", contact, {"LastName": None}).error_code == (
        "REQUIRED_FIELD_MISSING"
    )
    assert fails(store.update, "Contact", contact, {"Title": "t" * 200}).error_code == (
        "STRING_TOO_LONG"
    )
    assert store.get("Contact", contact) == after


def test_formula_fields_follow_the_parent_and_never_bump_system_modstamp(store: OrgStore) -> None:
    account = store.create("Account", {"Name": "Acme"})
    contact = store.create("Contact", {"LastName": "A", "AccountId": account})
    stamp = store.get("Contact", contact)["SystemModstamp"]  # type: ignore[index]
    store.update("Account", account, {"Name": "Acme Renamed"})
    record = store.get("Contact", contact, ["Account_Name__c", "SystemModstamp"])
    assert record == {"Id": contact, "Account_Name__c": "Acme Renamed", "SystemModstamp": stamp}


def test_delete_is_soft_cascades_and_clears_lookups(store: OrgStore) -> None:
    parent = store.create("Account", {"Name": "Parent"})
    child_account = store.create("Account", {"Name": "Child", "ParentId": parent})
    contact = store.create("Contact", {"LastName": "A", "AccountId": parent})
    task = store.create("Task", {"Subject": "Call", "WhoId": contact})
    store.delete("Account", parent)
    assert store.get("Account", parent) is None
    assert store.get("Contact", contact) is None
    assert store.get("Task", task) is None
    gone = store.get("Contact", contact, include_deleted=True)
    assert gone is not None
    assert gone["IsDeleted"] is True
    child = store.get("Account", child_account)
    assert child is not None
    assert child["ParentId"] is None
    assert fails(store.delete, "Account", parent).error_code == "ENTITY_IS_DELETED"
    assert fails(store.update, "Contact", contact, {"Title": "x"}).error_code == "ENTITY_IS_DELETED"
    missing = fails(store.delete, "Account", "0015g0000009999AAA")
    assert (missing.status, missing.error_code) == (404, "NOT_FOUND")


def test_upsert_creates_then_updates_and_reports_several_matches(store: OrgStore) -> None:
    created_id, created = store.upsert("Contact", "Platform_Id__c", "m-1", {"LastName": "A"})
    again_id, again = store.upsert("Contact", "platform_id__c", "M-1", {"LastName": "B"})
    assert (created, again, again_id) == (True, False, created_id)
    assert store.get("Contact", created_id)["LastName"] == "B"  # type: ignore[index]
    first = store.create("Account", {"Name": "A", "Legacy_Code__c": "L1"})
    second = store.create("Account", {"Name": "B", "Legacy_Code__c": "L1"})
    error = fails(store.upsert, "Account", "Legacy_Code__c", "L1", {"Name": "C"})
    assert (error.status, error.matching_ids) == (300, sorted([first, second]))
    assert fails(store.upsert, "Account", "Nope__c", "x", {}).error_code == "NOT_FOUND"
    assert fails(store.upsert, "Account", "Name", "x", {}).error_code == "INVALID_FIELD"


def test_opportunity_flags_follow_the_stage(store: OrgStore) -> None:
    opp = store.create(
        "Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2024-06-30"}
    )
    record = store.get("Opportunity", opp)
    assert record
    assert (record["IsClosed"], record["IsWon"], record["Probability"]) == (
        False,
        False,
        10,
    )
    store.update("Opportunity", opp, {"StageName": "Closed Won"})
    record = store.get("Opportunity", opp)
    assert record
    assert (record["IsClosed"], record["IsWon"], record["Probability"]) == (
        True,
        True,
        100,
    )
    assert record["ForecastCategoryName"] == "Closed"
    error = fails(store.update, "Opportunity", opp, {"StageName": "Won-ish"})
    assert error.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_campaign_member_is_unique_per_campaign_and_person(store: OrgStore) -> None:
    campaign = store.create("Campaign", {"Name": "Spring drive"})
    contact = store.create("Contact", {"LastName": "A"})
    member = store.create("CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    assert store.get("CampaignMember", member)["Status"] == "Sent"  # type: ignore[index]
    error = fails(store.create, "CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    assert (error.error_code, error.message) == ("DUPLICATE_VALUE", "Already a campaign member.")


def test_insert_many_keeps_good_rows_when_validating(store: OrgStore) -> None:
    results = store.insert_many(
        "Contact", [{"LastName": "A"}, {"FirstName": "no last name"}, {"LastName": "C"}]
    )
    assert [r.success for r in results] == [True, False, True]
    assert results[1].error is not None
    assert results[1].error.error_code == "REQUIRED_FIELD_MISSING"
    assert store.count("Contact") == 2


def test_trusted_insert_many_fills_defaults_names_and_keeps_given_dates(store: OrgStore) -> None:
    rows = [
        {
            "FirstName": "F",
            "LastName": f"L{i}",
            "CreatedDate": "2020-01-01T00:00:00.000Z",
            "SystemModstamp": "2020-01-01T00:00:00.000Z",
        }
        for i in range(3)
    ]
    results = store.insert_many("Contact", rows, validate=False)
    record = store.get("Contact", results[2].id)  # type: ignore[arg-type]
    assert record is not None
    assert record["Name"] == "F L2"
    assert record["SystemModstamp"].startswith("2020")
    assert record["OwnerId"] == store.default_user_id
    assert record["DoNotCall"] is False
    assert len({r.id for r in results}) == 3


def test_listeners_hear_committed_changes_only(store: OrgStore) -> None:
    heard: list[tuple[str, str, list[str]]] = []
    store.add_listener(
        lambda name, op, records: heard.append((name, op, [r["Id"] for r in records]))
    )
    contact = store.create("Contact", {"LastName": "A"})

    def failing_transaction() -> None:
        with store.transaction() as tx:
            tx.create("Contact", {"LastName": "B"})
            tx.create("Contact", {})

    fails(failing_transaction)
    store.update("Contact", contact, {"Title": "T"})
    store.delete("Contact", contact)
    assert heard == [
        ("Contact", "insert", [contact]),
        ("Contact", "update", [contact]),
        ("Contact", "delete", [contact]),
    ]
    assert store.count("Contact", include_deleted=True) == 1


def test_savepoints_undo_only_the_failed_record(store: OrgStore) -> None:
    with store.transaction() as tx:
        tx.create("Contact", {"LastName": "Kept"})

        def failing_record() -> None:
            with tx.savepoint():
                tx.create("Account", {"Name": "Undone"})
                tx.create("Contact", {})

        fails(failing_record)
    assert store.count("Contact") == 1
    assert store.count("Account") == 0


def test_reopening_the_file_keeps_records_and_continues_ids(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    first = store.create("Contact", {"LastName": "Before"})
    org_id = store.meta_get("org_id")
    store.close()
    again = open_store(tmp_path)
    assert again.get("Contact", first)["LastName"] == "Before"  # type: ignore[index]
    assert again.meta_get("org_id") == org_id
    assert again.create("Contact", {"LastName": "After"}) > first
    assert again.count("OpportunityStage") == 10


def test_fields_added_by_a_schema_file_become_columns_of_an_existing_org(tmp_path: Path) -> None:
    plain = open_store(tmp_path, default_schema())
    before = plain.create("Contact", {"LastName": "Old"})
    plain.close()
    grown = extend_schema(
        default_schema(),
        {"objects": {"Contact": {"fields": [{"name": "Shoe_Size__c", "type": "int"}]}}},
    )
    again = open_store(tmp_path, grown)
    again.update("Contact", before, {"Shoe_Size__c": 44})
    assert again.get("Contact", before, ["Shoe_Size__c"])["Shoe_Size__c"] == 44  # type: ignore[index]


def test_reads_go_through_a_memory_map_except_while_bulk_loading(store: OrgStore) -> None:
    def mapped() -> int:
        with store.connection() as conn:
            return int(conn.execute("PRAGMA mmap_size").fetchone()[0])

    assert mapped() > 1 << 30
    with store.bulk_load(["Contact"]):
        assert mapped() == 0
    assert mapped() > 1 << 30
