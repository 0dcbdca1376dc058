"""describeGlobal, sObject basic information and describe, with If-Modified-Since."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_http import API, RestClient


@pytest.fixture(scope="module")
def api(emulator_info: dict[str, Any]) -> RestClient:
    return RestClient(emulator_info)


def fields_by_name(describe: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in describe["fields"]}


def test_describe_global_lists_objects_with_prefixes_and_urls(api: RestClient) -> None:
    body = api.get(f"{API}/sobjects").json()
    assert body["encoding"] == "UTF-8"
    assert body["maxBatchSize"] == 200
    entries = {o["name"]: o for o in body["sobjects"]}
    contact = entries["Contact"]
    assert contact["keyPrefix"] == "003"
    assert contact["labelPlural"] == "Contacts"
    assert contact["queryable"]
    assert contact["createable"]
    assert contact["replicateable"]
    assert contact["urls"]["describe"] == f"{API}/sobjects/Contact/describe"
    assert contact["urls"]["rowTemplate"] == f"{API}/sobjects/Contact/{{ID}}"
    assert entries["Organization"]["createable"] is False
    assert {
        "Account",
        "Lead",
        "Opportunity",
        "OpportunityStage",
        "RecordType",
        "Campaign",
        "CampaignMember",
        "Task",
        "Event",
        "Note",
        "EmailMessage",
        "User",
    } <= set(entries)


def test_describe_reports_field_attributes(api: RestClient) -> None:
    describe = api.get(f"{API}/sobjects/Contact/describe").json()
    assert describe["name"] == "Contact"
    assert describe["keyPrefix"] == "003"
    fields = fields_by_name(describe)
    platform_id = fields["Platform_Id__c"]
    assert platform_id["externalId"]
    assert platform_id["unique"]
    assert platform_id["idLookup"]
    assert platform_id["custom"]
    assert platform_id["type"] == "string"
    assert platform_id["length"] == 255
    account_id = fields["AccountId"]
    assert account_id["type"] == "reference"
    assert account_id["referenceTo"] == ["Account"]
    assert account_id["relationshipName"] == "Account"
    assert account_id["soapType"] == "tns:ID"
    last_name = fields["LastName"]
    assert not last_name["nillable"]
    assert last_name["createable"]
    assert last_name["length"] == 80
    created = fields["CreatedDate"]
    assert created["type"] == "datetime"
    assert not created["createable"]
    assert not created["updateable"]
    tags = fields["Member_Tags__c"]
    assert tags["type"] == "multipicklist"
    assert {
        "active": True,
        "defaultValue": False,
        "label": "Event Attended",
        "validFor": None,
        "value": "Event Attended",
    } in tags["picklistValues"]
    formula = fields["Account_Name__c"]
    assert formula["calculated"]
    assert formula["calculatedFormula"] == "Account.Name"
    assert fields["Member_SSN__c"]["encrypted"]
    assert fields["Member_SSN__c"]["type"] == "encryptedstring"
    assert fields["MailingAddress"]["type"] == "address"
    assert fields["MailingCity"]["compoundFieldName"] == "MailingAddress"


def test_describe_lists_child_relationships_and_record_types(api: RestClient) -> None:
    account = api.get(f"{API}/sobjects/Account/describe").json()
    children = {
        (c["relationshipName"], c["childSObject"], c["field"])
        for c in account["childRelationships"]
    }
    assert ("Contacts", "Contact", "AccountId") in children
    assert ("ChildAccounts", "Account", "ParentId") in children
    assert ("Opportunities", "Opportunity", "AccountId") in children
    opportunity = api.get(f"{API}/sobjects/Opportunity/describe").json()
    infos = {i["developerName"]: i for i in opportunity["recordTypeInfos"]}
    assert infos["Master"]["master"]
    assert infos["Master"]["recordTypeId"] == "012000000000000AAA"
    assert infos["New_Business"]["defaultRecordTypeMapping"]
    assert infos["New_Business"]["recordTypeId"].startswith("012")
    stage = fields_by_name(opportunity)["StageName"]
    assert stage["restrictedPicklist"]
    assert "Closed Won" in [v["value"] for v in stage["picklistValues"]]
    lead_status = fields_by_name(api.get(f"{API}/sobjects/Lead/describe").json())["Status"]
    assert [v["value"] for v in lead_status["picklistValues"] if v["defaultValue"]] == [
        "Open - Not Contacted"
    ]


def test_if_modified_since_answers_304_when_the_schema_is_unchanged(api: RestClient) -> None:
    first = api.get(f"{API}/sobjects/Account/describe")
    last_modified = first.headers["last-modified"]
    unchanged = api.get(
        f"{API}/sobjects/Account/describe", headers={"If-Modified-Since": last_modified}
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert (
        api.get(f"{API}/sobjects", headers={"If-Modified-Since": last_modified}).status_code == 304
    )
    older = api.get(
        f"{API}/sobjects", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert older.status_code == 200


def test_basic_information_and_unknown_objects(api: RestClient) -> None:
    info = api.get(f"{API}/sobjects/Account").json()
    assert info["objectDescribe"]["name"] == "Account"
    assert all(item["attributes"]["type"] == "Account" for item in info["recentItems"])
    for path in ("sobjects/Nope", "sobjects/Nope/describe"):
        response = api.get(f"{API}/{path}")
        assert response.status_code == 404
        assert response.json()[0]["errorCode"] == "NOT_FOUND"
