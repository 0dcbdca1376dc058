"""sObject Collections, composite and composite/batch over real HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_http import API, RestClient, error_codes, https_session
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


@pytest.fixture(scope="module")
def rest(emulator_info: dict[str, Any]) -> Iterator[RestClient]:
    client = RestClient(emulator_info)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def sf(emulator_info: dict[str, Any], rest: RestClient) -> Iterator[Salesforce]:
    session = https_session(emulator_info)
    yield Salesforce(
        instance_url=emulator_info["instance_url"],
        session_id=rest.token,
        session=session,
        version="59.0",
    )
    session.close()


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _count(rest: RestClient, soql: str) -> int:
    response = rest.get(f"{API}/query", params={"q": soql})
    assert response.status_code == 200, response.text
    return int(response.json()["totalSize"])


def _usage(response: Any) -> int:
    return int(response.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])


def test_create_returns_results_in_request_order_with_per_record_errors(sf: Salesforce) -> None:
    tag = _tag()
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": f"Coll {tag}"},
                {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
                {"attributes": {"type": "Contact"}, "LastName": f"Last {tag}"},
            ],
        },
    )
    assert [r["success"] for r in results] == [True, False, True]
    assert results[0]["id"].startswith("001")
    assert len(results[0]["id"]) == 18
    assert results[2]["id"].startswith("003")
    assert results[1]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [LastName]",
            "fields": ["LastName"],
        }
    ]
    assert "id" not in results[1]
    assert sf.Account.get(results[0]["id"])["Name"] == f"Coll {tag}"


def test_all_or_none_failure_rolls_back_every_record(rest: RestClient) -> None:
    tag = _tag()
    response = rest.post(
        f"{API}/composite/sobjects",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "Name": f"AON {tag}"},
                {"attributes": {"type": "Account"}},
            ],
        },
    )
    assert response.status_code == 200
    first, second = response.json()
    assert first["success"] is False
    assert first["errors"][0]["statusCode"] == ROLLED_BACK
    assert second["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert _count(rest, f"SELECT COUNT() FROM Account WHERE Name = 'AON {tag}'") == 0


def test_update_and_delete_report_each_record(rest: RestClient) -> None:
    tag = _tag()
    created = rest.post(
        f"{API}/composite/sobjects",
        json={"records": [{"attributes": {"type": "Lead"}, "LastName": "U", "Company": tag}] * 2},
    ).json()
    ids = [r["id"] for r in created]
    updated = rest.patch(
        f"{API}/composite/sobjects",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "id": ids[0], "Lead_Score__c": 77},
                {"attributes": {"type": "Lead"}, "id": ids[1], "Status": "Not a status"},
                {"attributes": {"type": "Lead"}, "Lead_Score__c": 1},
            ]
        },
    ).json()
    assert [u["success"] for u in updated] == [True, False, False]
    assert updated[1]["id"] == ids[1]
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert updated[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    score = rest.get(f"{API}/sobjects/Lead/{ids[0]}").json()["Lead_Score__c"]
    assert score == 77
    deleted = rest.delete(
        f"{API}/composite/sobjects", params={"ids": f"{ids[0]},{ids[0]}", "allOrNone": "false"}
    ).json()
    assert deleted[0] == {"id": ids[0], "success": True, "errors": []}
    assert deleted[1]["success"] is False
    assert deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_upsert_by_external_id_tells_created_from_updated(sf: Salesforce) -> None:
    tag = _tag()
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Contact"}, "Platform_Id__c": f"{tag}-1", "LastName": "One"},
            {"attributes": {"type": "Contact"}, "Platform_Id__c": f"{tag}-2", "LastName": "Two"},
        ],
    }
    first = sf.restful("composite/sobjects/Contact/Platform_Id__c", method="PATCH", json=body)
    assert [r["created"] for r in first] == [True, True]
    body["records"][0]["LastName"] = "Uno"
    second = sf.restful("composite/sobjects/Contact/Platform_Id__c", method="PATCH", json=body)
    assert [r["created"] for r in second] == [False, False]
    assert [r["id"] for r in second] == [r["id"] for r in first]
    assert sf.Contact.get(first[0]["id"])["LastName"] == "Uno"


def test_retrieve_returns_records_and_null_for_missing(rest: RestClient) -> None:
    created = rest.post(
        f"{API}/composite/sobjects",
        json={"records": [{"attributes": {"type": "Account"}, "Name": "Retrieve me"}]},
    ).json()
    account_id = created[0]["id"]
    missing = "001" + "5g0000000000AAA"[:12] + "AAA"
    response = rest.get(
        f"{API}/composite/sobjects/Account",
        params={"ids": f"{account_id},{missing}", "fields": "Name,Industry"},
    )
    assert response.status_code == 200
    found, absent = response.json()
    assert found["attributes"] == {
        "type": "Account",
        "url": f"{API}/sobjects/Account/{account_id}",
    }
    assert found["Name"] == "Retrieve me"
    assert "Industry" in found
    assert absent is None


def test_more_than_200_records_is_rejected_and_nothing_is_written(rest: RestClient) -> None:
    tag = _tag()
    records = [{"attributes": {"type": "Account"}, "Name": f"Many {tag}"}] * 201
    response = rest.post(f"{API}/composite/sobjects", json={"records": records})
    assert response.status_code == 400
    assert error_codes(response) == ["EXCEEDED_ID_LIMIT"]
    assert "200" in response.json()[0]["message"]
    assert _count(rest, f"SELECT COUNT() FROM Account WHERE Name = 'Many {tag}'") == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "JSON_PARSER_ERROR"),
        (b"[1, 2]", "JSON_PARSER_ERROR"),
        (b'{"records": [], "bogus": 1}', "JSON_PARSER_ERROR"),
        (b'{"allOrNone": "maybe", "records": []}', "JSON_PARSER_ERROR"),
    ],
)
def test_malformed_collection_bodies_get_the_documented_error(
    rest: RestClient, body: bytes, code: str
) -> None:
    response = rest.post(
        f"{API}/composite/sobjects", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_codes(response) == [code]


def test_missing_type_fails_that_record_only(rest: RestClient) -> None:
    results = rest.post(
        f"{API}/composite/sobjects",
        json={"records": [{"Name": "no attributes"}, {"attributes": {"type": "Nope__c"}}]},
    ).json()
    assert [r["errors"][0]["statusCode"] for r in results] == ["INVALID_TYPE", "INVALID_TYPE"]


def test_composite_resolves_references_and_counts_as_one_call(rest: RestClient) -> None:
    tag = _tag()
    before = _usage(rest.get(f"{API}/limits"))
    response = rest.post(
        f"{API}/composite",
        json={
            "allOrNone": True,
            "collateSubrequests": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Account",
                    "referenceId": "NewAccount",
                    "body": {"Name": f"Ref {tag}"},
                },
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Contact",
                    "referenceId": "NewContact",
                    "body": {"LastName": tag, "AccountId": "@{NewAccount.id}"},
                },
                {
                    "method": "GET",
                    "url": f"{API}/query?q=SELECT+Id,AccountId+FROM+Contact+WHERE+LastName='{tag}'",
                    "referenceId": "Found",
                },
                {
                    "method": "PATCH",
                    "url": f"{API}/sobjects/Account/@{{Found.records[0].AccountId}}",
                    "referenceId": "Rename",
                    "body": {"Description": "via @{NewContact.id}"},
                },
            ],
        },
    )
    assert response.status_code == 200
    assert _usage(response) == before + 1
    results = {r["referenceId"]: r for r in response.json()["compositeResponse"]}
    assert results["NewAccount"]["httpStatusCode"] == 201
    assert results["NewAccount"]["httpHeaders"]["Location"].startswith(f"{API}/sobjects/Account/")
    account_id = results["NewAccount"]["body"]["id"]
    assert results["Found"]["body"]["records"][0]["AccountId"] == account_id
    assert results["Rename"]["httpStatusCode"] == 204
    account = rest.get(f"{API}/sobjects/Account/{account_id}").json()
    assert account["Description"] == f"via {results['NewContact']['body']['id']}"


def test_composite_all_or_none_rolls_back_earlier_subrequests(rest: RestClient) -> None:
    tag = _tag()
    response = rest.post(
        f"{API}/composite",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Account",
                    "referenceId": "Acc",
                    "body": {"Name": f"Gone {tag}"},
                },
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Contact",
                    "referenceId": "Bad",
                    "body": {"AccountId": "@{Acc.id}"},
                },
                {
                    "method": "GET",
                    "url": f"{API}/sobjects/Contact/@{{Bad.id}}",
                    "referenceId": "After",
                },
            ],
        },
    )
    results = response.json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [400, 400, 400]
    assert results[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert results[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert _count(rest, f"SELECT COUNT() FROM Account WHERE Name = 'Gone {tag}'") == 0


def test_composite_without_all_or_none_keeps_what_succeeded(rest: RestClient) -> None:
    tag = _tag()
    results = rest.post(
        f"{API}/composite",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Account",
                    "referenceId": "Kept",
                    "body": {"Name": f"Kept {tag}"},
                },
                {
                    "method": "POST",
                    "url": f"{API}/sobjects/Contact",
                    "referenceId": "Bad",
                    "body": {},
                },
            ]
        },
    ).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [201, 400]
    assert _count(rest, f"SELECT COUNT() FROM Account WHERE Name = 'Kept {tag}'") == 1


def test_composite_rejects_more_than_25_subrequests(rest: RestClient) -> None:
    item = {"method": "GET", "url": f"{API}/limits", "referenceId": "x"}
    items = [{**item, "referenceId": f"r{i}"} for i in range(26)]
    response = rest.post(f"{API}/composite", json={"compositeRequest": items})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "LIMIT_EXCEEDED"


def test_batch_describes_25_objects_in_one_call(rest: RestClient) -> None:
    objects = ["Account", "Contact", "Lead", "Opportunity", "Campaign"] * 5
    before = _usage(rest.get(f"{API}/limits"))
    response = rest.post(
        f"{API}/composite/batch",
        json={
            "batchRequests": [
                {"method": "GET", "url": f"v59.0/sobjects/{name}/describe"} for name in objects
            ]
        },
    )
    assert response.status_code == 200
    assert _usage(response) == before + 1
    body = response.json()
    assert body["hasErrors"] is False
    assert [r["result"]["name"] for r in body["results"]] == objects
    assert all(r["statusCode"] == 200 for r in body["results"])


def test_batch_halts_after_an_error_when_asked(rest: RestClient) -> None:
    body = rest.post(
        f"{API}/composite/batch",
        json={
            "haltOnError": True,
            "batchRequests": [
                {"method": "GET", "url": "v59.0/sobjects/Account/describe"},
                {"method": "GET", "url": "v59.0/sobjects/NoSuchThing/describe"},
                {"method": "GET", "url": "v59.0/limits"},
            ],
        },
    ).json()
    assert body["hasErrors"] is True
    assert [r["statusCode"] for r in body["results"]] == [200, 404, 412]
    assert body["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"


def test_simple_salesforce_surfaces_a_bad_collection_as_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [{"attributes": {"type": "Account"}, "Name": "x"}] * 201},
        )
