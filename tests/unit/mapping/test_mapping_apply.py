"""Applying mappings to records: values, traces, per-field errors, lookups, preview."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from crmbridge.domain.mapping.apply import map_to_platform, map_to_salesforce
from crmbridge.domain.mapping.batches import (
    collect_lookup_requests,
    map_records_to_platform,
    map_records_to_salesforce,
)
from crmbridge.domain.mapping.context import (
    LookupKey,
    LookupRequest,
    MappingContext,
    RelatedValueKey,
)
from crmbridge.domain.mapping.defaults import default_object_mapping
from crmbridge.domain.mapping.model import Direction, ObjectMapping, direct, transformed
from crmbridge.domain.mapping.transforms import ExternalIdReference, Split

CONTEXT = MappingContext(time_zone="America/Los_Angeles", today=date(2024, 3, 10))


def default(entity: str, sf_object: str) -> ObjectMapping:
    mapping = default_object_mapping(entity, sf_object)
    assert mapping is not None
    return mapping


class InMemoryAccounts:
    """An in-memory RelatedRecordResolver: Accounts by Name, created on demand."""

    def __init__(self, existing: dict[str, str] | None = None) -> None:
        self.accounts = dict(existing or {})
        self.calls: list[list[LookupRequest]] = []
        self.created: list[str] = []

    def resolve_related(self, requests: Sequence[LookupRequest]) -> Mapping[LookupKey, str | None]:
        self.calls.append(list(requests))
        found: dict[LookupKey, str | None] = {}
        for request in requests:
            name = request.key.value
            match = next((i for n, i in self.accounts.items() if n.lower() == name.lower()), None)
            if match is None and request.create_missing:
                match = f"001{len(self.accounts):012d}AAA"
                self.accounts[name] = match
                self.created.append(name)
            found[request.key] = match
        return found

    def read_related_values(self, keys: Sequence[RelatedValueKey]) -> Mapping[RelatedValueKey, Any]:
        names = {i: n for n, i in self.accounts.items()}
        return {k: names[k.record_id] for k in keys if k.record_id in names}


LEAD = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.org",
    "company": None,
    "status": "PROPOSAL_SENT",
    "source": "web",
    "score": 87,
    "zip_code": "94105",
    "insurance_type": "Life",
}


def test_a_platform_lead_maps_to_salesforce_with_the_seed_004_table() -> None:
    mapped = map_to_salesforce(LEAD, default("lead", "Lead"), context=CONTEXT)
    assert mapped.ok, mapped.errors
    assert mapped.values == {
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": "ada@example.org",
        "Company": "[not provided]",
        "PostalCode": "94105",
        "Lead_Score__c": 87,
        "Status": "Proposal Sent",
        "LeadSource": "Web",
        "Insurance_Type__c": "Life",
    }


def test_each_field_carries_a_trace_of_its_steps() -> None:
    mapped = map_to_salesforce(LEAD, default("lead", "Lead"), context=CONTEXT)
    status = next(f for f in mapped.fields if f.target_fields == ("Status",))
    assert status.input == "PROPOSAL_SENT"
    ((step),) = status.steps
    assert (step.kind, step.input, step.output) == ("value_map", "PROPOSAL_SENT", "Proposal Sent")
    company = next(f for f in mapped.fields if f.target_fields == ("Company",))
    assert [s.kind for s in company.steps] == ["default_value"]
    json.dumps(mapped.to_dict())  # the preview endpoint returns it as JSON


def test_a_field_that_fails_is_reported_and_the_others_still_map() -> None:
    mapped = map_to_salesforce(
        {**LEAD, "status": "ARCHIVED"}, default("lead", "Lead"), context=CONTEXT
    )
    assert not mapped.ok
    assert mapped.errors == {
        "status → Status": "'ARCHIVED' has no Salesforce value in the value map; add it to "
        "the map or set a default for unmapped values"
    }
    assert "Status" not in mapped.values
    assert mapped.values["LastName"] == "Lovelace"


def test_fields_the_record_does_not_carry_are_skipped_not_blanked() -> None:
    mapped = map_to_salesforce({"first_name": "Ada"}, default("lead", "Lead"), context=CONTEXT)
    assert mapped.values == {"FirstName": "Ada"}
    skipped = next(f for f in mapped.fields if f.target_fields == ("LastName",))
    assert skipped.skipped == "the record does not carry last_name"


def test_per_field_direction_is_respected() -> None:
    mapping = default("lead", "Lead")
    outbound = map_to_salesforce(
        {**LEAD, "converted_at": "2024-03-01T10:00:00Z"}, mapping, context=CONTEXT
    )
    assert "ConvertedDate" not in outbound.values  # converted_at only comes from Salesforce
    inbound = map_to_platform(
        {"LastName": "Lovelace", "ConvertedDate": "2024-03-01", "Status": "Closed - Converted"},
        mapping,
        context=CONTEXT,
    )
    assert inbound.values["status"] == "CONVERTED"
    assert inbound.values["converted_at"] == "2024-03-01T08:00:00+00:00"  # LA midnight
    referral = default("referral", "Lead")
    assert map_to_platform({"LastName": "X"}, referral, context=CONTEXT).values == {}


def test_a_salesforce_lead_maps_to_the_platform() -> None:
    record = {
        "attributes": {"type": "Lead", "url": "/services/data/v62.0/sobjects/Lead/00Q1"},
        "Id": "00Q000000000001AAA",
        "FirstName": "Grace",
        "LastName": "Hopper",
        "Company": "Navy",
        "Status": "Negotiating",
        "LeadSource": "Purchased List",
        "Lead_Score__c": 42.0,
        "OwnerId": "005000000000001AAA",
    }
    mapped = map_to_platform(record, default("lead", "Lead"), context=CONTEXT)
    assert mapped.ok, mapped.errors
    assert mapped.values == {
        "first_name": "Grace",
        "last_name": "Hopper",
        "company": "Navy",
        "status": "NEGOTIATION",
        "source": "PURCHASED_LIST",
        "score": 42.0,
        "owner_id": None,  # an owner who is no platform user is left to routing rules
    }


def test_a_batch_that_needs_one_missing_account_twice_creates_it_once() -> None:
    accounts = InMemoryAccounts({"Existing Ltd": "001000000000000EEE"})
    members = [
        {"last_name": "A", "company": "Acme"},
        {"last_name": "B", "company": "ACME "},
        {"last_name": "C", "company": "Existing Ltd"},
        {"last_name": "D", "company": None},
    ]
    mapped = map_records_to_salesforce(
        members, default("member", "Contact"), context=CONTEXT, resolver=accounts
    )
    assert len(accounts.calls) == 1
    assert accounts.created == ["Acme"]
    ids = [m.values.get("AccountId") for m in mapped]
    assert ids[0] == ids[1] == accounts.accounts["Acme"]
    assert ids[2] == "001000000000000EEE"
    assert "AccountId" not in mapped[3].values or ids[3] is None


def test_lookup_requests_are_distinct_and_say_whether_to_create() -> None:
    requests = collect_lookup_requests(
        [{"company": "Acme"}, {"company": "acme"}, {"company": "Beta"}],
        default("member", "Contact"),
        context=CONTEXT,
    )
    assert [(r.key.value, r.create_missing) for r in requests] == [("Acme", True), ("Beta", True)]


def test_a_preview_creates_nothing_and_says_what_it_would_create() -> None:
    accounts = InMemoryAccounts()
    (mapped,) = map_records_to_salesforce(
        [{"last_name": "A", "company": "Newco"}],
        default("member", "Contact"),
        context=CONTEXT,
        resolver=accounts,
        allow_create=False,
    )
    assert accounts.created == []
    assert mapped.ok
    field = next(f for f in mapped.fields if f.target_fields == ("AccountId",))
    assert field.steps[0].notes == ("no Account with Name 'Newco' yet: it would be created",)


def test_lookups_not_resolved_for_the_batch_fail_on_their_field() -> None:
    mapped = map_to_salesforce({"company": "Acme"}, default("member", "Contact"), context=CONTEXT)
    assert "was not looked up" in mapped.errors["company → AccountId"]


def test_inbound_lookups_read_the_parent_the_query_brought_along() -> None:
    mapping = default("member", "Contact")
    assert "Account.Name" in mapping.salesforce_read_fields()
    record = {
        "LastName": "A",
        "AccountId": "001000000000001AAA",
        "Account": {"Name": "Acme", "Platform_Id__c": "org-7"},
        "Movement_Exclude__c": False,
    }
    mapped = map_to_platform(record, mapping, context=CONTEXT)
    assert mapped.values["company"] == "Acme"
    assert mapped.values["organization_id"] == "org-7"


def test_inbound_lookups_without_the_parent_are_read_in_one_batch_call() -> None:
    accounts = InMemoryAccounts({"Acme": "001000000000001AAA"})
    mapped = map_records_to_platform(
        [{"LastName": "A", "AccountId": "001000000000001AAA"}],
        default("member", "Contact"),
        context=CONTEXT,
        resolver=accounts,
    )
    assert mapped[0].values["company"] == "Acme"


def test_references_travel_by_external_id_until_the_parent_is_linked() -> None:
    mapping = default("opportunity", "Opportunity")
    record = {"name": "Deal", "organization_id": "org-1", "stage": "prospecting"}
    mapped = map_to_salesforce(record, mapping, context=CONTEXT)
    assert mapped.values["AccountId"] == ExternalIdReference(
        relationship_name="Account",
        object_name="Account",
        external_id_field="Platform_Id__c",
        value="org-1",
    )
    assert mapped.salesforce_body()["Account"] == {"Platform_Id__c": "org-1"}
    assert mapped.salesforce_body()["StageName"] == "Prospecting"
    linked = MappingContext(links={("Account", "org-1"): "001000000000009AAA"})
    assert map_to_salesforce(record, mapping, context=linked).values["AccountId"] == (
        "001000000000009AAA"
    )


def test_a_polymorphic_who_links_to_a_member_or_a_lead() -> None:
    mapping = default("activity", "Task")
    links = MappingContext(
        links={("Contact", "m-1"): "003000000000001AAA", ("Lead", "l-1"): "00Q000000000001AAA"}
    )
    note = {"kind": "NOTE", "subject": "Hi", "lead_id": "l-1", "member_id": None}
    assert map_to_salesforce(note, mapping, context=links).values["WhoId"] == "00Q000000000001AAA"
    both = {**note, "member_id": "m-1"}
    clash = map_to_salesforce(both, mapping, context=links)
    assert clash.errors == {
        "lead_id → WhoId": "WhoId is already set by member_id → WhoId to '003000000000001AAA'"
    }
    inbound = map_to_platform(
        {"Subject": "Hi", "WhoId": "00Q000000000001AAA", "Type": "Call"}, mapping, context=links
    )
    assert inbound.ok, inbound.errors
    assert inbound.values["lead_id"] == "l-1"
    assert inbound.values["member_id"] is None
    assert inbound.values["kind"] == "CALL"


def test_flags_map_one_flag_at_a_time_into_a_nested_object() -> None:
    mapping = default("goal", "CampaignMember")
    inbound = map_to_platform(
        {
            "CampaignId": "701000000000001AAA",
            "Campaign": {"Movement_Include__c": True, "Platform_Id__c": None},
            "Status": "Responded",
            "Voted__c": True,
            "Contacted__c": False,
        },
        mapping,
        context=MappingContext(links={("Campaign", "c-1"): "701000000000001AAA"}),
    )
    assert inbound.values["sub_goals"] == {"voted": True, "contacted": False}
    assert inbound.values["campaign_id"] == "c-1"
    outbound = map_to_salesforce(
        {"status": "Responded", "sub_goals": {"voted": True}}, mapping, context=CONTEXT
    )
    assert outbound.values == {"Status": "Responded", "Voted__c": True, "Contacted__c": None}


def test_formulas_compose_support_ticket_tasks() -> None:
    ticket = {
        "ticket_number": "T-42",
        "subject": "Login fails",
        "status": "PENDING",
        "priority": "URGENT",
        "url": "https://platform.example/tickets/42",
        "description": None,
        "opened_at": "2024-03-10T23:30:00-07:00",
        "member_id": "m-1",
    }
    mapping = default("support_ticket", "Task")
    unlinked = map_to_salesforce(ticket, mapping, context=CONTEXT)
    assert unlinked.errors == {
        "member_id → WhoId": "the member m-1 has no Contact in Salesforce yet; it links once "
        "that record syncs"
    }
    linked = MappingContext(
        time_zone="America/Los_Angeles", links={("Contact", "m-1"): "003000000000001AAA"}
    )
    mapped = map_to_salesforce(ticket, mapping, context=linked)
    assert mapped.ok, mapped.errors
    assert mapped.values["WhoId"] == "003000000000001AAA"
    assert mapped.values["Subject"] == "Support ticket T-42: Login fails"
    assert mapped.values["Description"] == (
        "Ticket T-42 is PENDING.\nhttps://platform.example/tickets/42"
    )
    assert mapped.values["Status"] == "Waiting on someone else"
    assert mapped.values["Priority"] == "High"
    assert mapped.values["ActivityDate"] == "2024-03-10"  # the tenant's day, not UTC's


def test_inbound_formulas_fill_platform_fields() -> None:
    mapping = default("activity", "EmailMessage")
    mapped = map_to_platform(
        {"Subject": "Quote", "MessageDate": "2024-03-10T12:00:00.000+0000"},
        mapping,
        context=CONTEXT,
    )
    assert mapped.values["kind"] == "EMAIL"
    assert mapped.values["occurred_at"] == "2024-03-10T12:00:00+00:00"


def test_tags_travel_as_a_multi_select_picklist() -> None:
    mapping = default("member", "Contact")
    out = map_to_salesforce(
        {"tags": ["membership_active", "event_no_show"]}, mapping, context=CONTEXT
    )
    assert out.values == {"Member_Tags__c": "Membership Active;Event No-Show"}
    back = map_to_platform(
        {"Member_Tags__c": "Membership Active;Event No-Show"}, mapping, context=CONTEXT
    )
    assert back.values["tags"] == ["membership_active", "event_no_show"]


def test_opt_ins_become_opt_outs() -> None:
    mapping = default("member", "Contact")
    out = map_to_salesforce({"email_opt_in": True, "phone_opt_in": False}, mapping, context=CONTEXT)
    assert out.values == {"HasOptedOutOfEmail": False, "DoNotCall": True}


def test_a_split_fills_several_salesforce_fields() -> None:
    mapping = ObjectMapping(
        platform_entity="member",
        salesforce_object="Contact",
        fields=(
            transformed(
                "full_name",
                ("FirstName", "LastName"),
                Split(from_right=True),
                direction=Direction.TO_SALESFORCE,
            ),
        ),
    )
    mapped = map_to_salesforce({"full_name": "Mary Ann Smith"}, mapping, context=CONTEXT)
    assert mapped.values == {"FirstName": "Mary Ann", "LastName": "Smith"}


def test_records_outside_the_filter_are_marked() -> None:
    contact = {"LastName": "X", "Movement_Exclude__c": True}
    mapped = map_to_platform(contact, default("member", "Contact"), context=CONTEXT)
    assert mapped.excluded_by_filter
    activity = map_to_salesforce({"kind": "EMAIL"}, default("activity", "Task"), context=CONTEXT)
    assert activity.excluded_by_filter


def test_disabled_mappings_map_nothing() -> None:
    from dataclasses import replace

    mapping = replace(default("lead", "Lead"), enabled=False)
    assert map_to_salesforce(LEAD, mapping, context=CONTEXT).values == {}


@pytest.mark.parametrize("value", ["2024-02-30", "yesterday"])
def test_bad_dates_are_a_per_field_error(value: str) -> None:
    mapping = ObjectMapping(
        platform_entity="opportunity",
        salesforce_object="Opportunity",
        fields=(direct("name", "Name"), *default("opportunity", "Opportunity").fields[-1:]),
    )
    mapped = map_to_salesforce({"name": "N", "close_date": value}, mapping, context=CONTEXT)
    assert mapped.values == {"Name": "N"}
    assert "does not match the date format ISO 8601" in mapped.errors["close_date → CloseDate"]


def test_links_match_15_and_18_character_ids() -> None:
    context = MappingContext(links={("Account", "org-1"): "001000000000009AAA"})
    assert context.platform_id_for("Account", "001000000000009") == "org-1"
    assert context.platform_id_for("Account", "001000000000009AAA") == "org-1"
    assert context.platform_id_for("Contact", "001000000000009AAA") is None
