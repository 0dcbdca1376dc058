"""Lookups set through the parent's external id in REST and collection writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_http import API, RestClient


@pytest.fixture(scope="module")
def rest(emulator_info: dict[str, Any]) -> Iterator[RestClient]:
    client = RestClient(emulator_info)
    yield client
    client.http.close()


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def _account(rest: RestClient, platform_id: str) -> str:
    response = rest.request(
        "PATCH",
        f"{API}/sobjects/Account/Platform_Id__c/{platform_id}",
        json={"Name": f"Acme {platform_id}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _one(rest: RestClient, soql: str) -> dict[str, Any]:
    response = rest.get(f"{API}/query", params={"q": soql})
    assert response.status_code == 200, response.text
    (record,) = response.json()["records"]
    return record  # type: ignore[no-any-return]


def test_collection_upsert_sets_lookups_by_the_parents_external_id(rest: RestClient) -> None:
    parent = f"org-{_tag()}"
    account_id = _account(rest, parent)
    child = f"m-{_tag()}"
    response = rest.request(
        "PATCH",
        f"{API}/composite/sobjects/Contact/Platform_Id__c",
        json={
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Contact"},
                    "Platform_Id__c": child,
                    "LastName": "Ng",
                    "Account": {"Platform_Id__c": parent},
                }
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()[0]["success"] is True
    record = _one(rest, f"SELECT AccountId FROM Contact WHERE Platform_Id__c = '{child}'")
    assert record["AccountId"] == account_id


def test_a_missing_parent_fails_only_that_record_with_the_foreign_key_message(
    rest: RestClient,
) -> None:
    parent = f"org-{_tag()}"
    _account(rest, parent)
    good, bad = f"m-{_tag()}", f"m-{_tag()}"
    response = rest.request(
        "PATCH",
        f"{API}/composite/sobjects/Contact/Platform_Id__c",
        json={
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Contact"},
                    "Platform_Id__c": good,
                    "LastName": "Good",
                    "Account": {"Platform_Id__c": parent},
                },
                {
                    "attributes": {"type": "Contact"},
                    "Platform_Id__c": bad,
                    "LastName": "Bad",
                    "Account": {"Platform_Id__c": "org-nowhere"},
                },
            ],
        },
    )
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["success"] is True
    assert second["success"] is False
    (error,) = second["errors"]
    assert error["statusCode"] == "INVALID_FIELD"
    assert error["message"] == (
        "Foreign key external ID: org-nowhere not found for field Platform_Id__c in entity Account"
    )
    count = rest.get(
        f"{API}/query", params={"q": f"SELECT COUNT() FROM Contact WHERE Platform_Id__c = '{bad}'"}
    )
    assert count.json()["totalSize"] == 0


def test_single_record_upsert_and_update_accept_a_self_reference(rest: RestClient) -> None:
    root = f"org-{_tag()}"
    root_id = _account(rest, root)
    child = f"org-{_tag()}"
    created = rest.request(
        "PATCH",
        f"{API}/sobjects/Account/Platform_Id__c/{child}",
        json={"Name": "Branch", "Parent": {"Platform_Id__c": root}},
    )
    assert created.status_code == 201, created.text
    record = _one(rest, f"SELECT ParentId FROM Account WHERE Platform_Id__c = '{child}'")
    assert record["ParentId"] == root_id
    cleared = rest.request(
        "PATCH", f"{API}/sobjects/Account/{created.json()['id']}", json={"ParentId": None}
    )
    assert cleared.status_code == 204, cleared.text


def test_a_polymorphic_lookup_names_the_parent_type(rest: RestClient) -> None:
    contact = f"m-{_tag()}"
    made = rest.request(
        "PATCH", f"{API}/sobjects/Contact/Platform_Id__c/{contact}", json={"LastName": "Who"}
    )
    assert made.status_code == 201, made.text
    task = rest.post(
        f"{API}/sobjects/Task",
        json={
            "Subject": "Call",
            "Who": {"attributes": {"type": "Contact"}, "Platform_Id__c": contact},
        },
    )
    assert task.status_code == 201, task.text
    record = _one(rest, f"SELECT WhoId FROM Task WHERE Id = '{task.json()['id']}'")
    assert record["WhoId"] == made.json()["id"]
