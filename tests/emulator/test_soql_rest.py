"""SOQL over real HTTPS: simple-salesforce's query_all across pages, raw response shapes.

Runs its own small org (450 seeded contacts) so paging spans several pages and the
deletes here never change what the session org's other tests see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_http import API, RestClient, https_session
from simple_salesforce import Salesforce

from crmbridge.emulator.server import EmulatorServer

SEEDED_CONTACTS = 450


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = EmulatorServer(
        Path(tmp_path_factory.mktemp("soql-rest")),
        port=0,
        seed_contacts=SEEDED_CONTACTS,
        seed=11,
    )
    server.start()
    try:
        yield dict(server.info)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rest(org: dict[str, Any]) -> Iterator[RestClient]:
    client = RestClient(org)
    yield client
    # Open keep-alive connections would hold up the server's graceful shutdown.
    client.http.close()


@pytest.fixture(scope="module")
def sf(org: dict[str, Any], rest: RestClient) -> Iterator[Salesforce]:
    session = https_session(org)
    yield Salesforce(
        instance_url=org["instance_url"], session_id=rest.token, session=session, version="59.0"
    )
    session.close()


def test_simple_salesforce_query_all_follows_every_page(sf: Salesforce) -> None:
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Contact ORDER BY LastName, Id", headers=headers)
    assert first["totalSize"] == SEEDED_CONTACTS
    assert len(first["records"]) == 200
    assert first["done"] is False
    result = sf.query_all("SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName, Id",
                          headers=headers)  # fmt: skip
    records = result["records"]
    assert result["totalSize"] == len(records) == SEEDED_CONTACTS
    assert len({r["Id"] for r in records}) == SEEDED_CONTACTS
    last_names = [r["LastName"].lower() for r in records]
    assert last_names == sorted(last_names)


def test_query_response_shape_and_next_records_url(rest: RestClient) -> None:
    response = rest.get(
        f"{API}/query",
        params={"q": "SELECT Id, Name FROM Contact"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert response.status_code == 200
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    body = response.json()
    assert list(body) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert body["totalSize"] == SEEDED_CONTACTS
    assert re.fullmatch(
        r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-200", body["nextRecordsUrl"]
    )
    record = body["records"][0]
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{record['Id']}",
    }
    second = rest.get(body["nextRecordsUrl"]).json()
    assert second["nextRecordsUrl"].endswith("-400")
    third = rest.get(second["nextRecordsUrl"]).json()
    assert third["done"] is True
    assert "nextRecordsUrl" not in third
    ids = {r["Id"] for page in (body, second, third) for r in page["records"]}
    assert len(ids) == SEEDED_CONTACTS


def test_malformed_and_unknown_field_answer_400_with_salesforce_bodies(rest: RestClient) -> None:
    malformed = rest.get(f"{API}/query", params={"q": "SELECT Id FORM Contact"})
    assert malformed.status_code == 400
    [error] = malformed.json()
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert error["message"].endswith("ERROR at Row:1:Column:11\nunexpected token: 'FORM'")
    unknown = rest.get(f"{API}/query", params={"q": "SELECT Id, Foo__c FROM Contact"})
    assert unknown.status_code == 400
    assert unknown.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Foo__c' on entity 'Contact'" in unknown.json()[0]["message"]


def test_invalid_locator_answers_invalid_query_locator(rest: RestClient) -> None:
    response = rest.get(f"{API}/query/01g5g0000000001AAA-2000")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_returns_deleted_records(rest: RestClient) -> None:
    created = rest.post(f"{API}/sobjects/Contact", json={"LastName": "Soon Deleted"})
    assert created.status_code == 201
    record_id = created.json()["id"]
    assert rest.request("DELETE", f"{API}/sobjects/Contact/{record_id}").status_code == 204
    soql = f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{record_id}'"
    live = rest.get(f"{API}/query", params={"q": soql}).json()
    assert live["totalSize"] == 0
    assert live["records"] == []
    everything = rest.get(f"{API}/queryAll", params={"q": soql}).json()
    assert everything["records"][0]["IsDeleted"] is True


def test_count_and_aggregate_shapes(rest: RestClient) -> None:
    count = rest.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Contact"}).json()
    assert count == {"totalSize": SEEDED_CONTACTS, "done": True, "records": []}
    grouped = rest.get(
        f"{API}/query", params={"q": "SELECT COUNT(Id) n FROM Contact WHERE AccountId != null"}
    ).json()
    assert grouped["records"][0]["attributes"] == {"type": "AggregateResult"}
    assert 0 < grouped["records"][0]["n"] <= SEEDED_CONTACTS


def test_totals_without_a_where_clause_leave_out_deleted_rows_unless_query_all(
    rest: RestClient,
) -> None:
    # Without WHERE the count is every row minus the deleted ones (two indexes):
    # all three ways of counting must agree with the rows actually returned.
    def totals(resource: str) -> tuple[int, int]:
        page = rest.get(f"{API}/{resource}", params={"q": "SELECT Id FROM Contact"}).json()
        count = rest.get(f"{API}/{resource}", params={"q": "SELECT COUNT() FROM Contact"})
        return page["totalSize"], count.json()["totalSize"]

    live_before, _ = totals("query")
    all_before, _ = totals("queryAll")
    ids = [
        rest.post(f"{API}/sobjects/Contact", json={"LastName": f"Counted {n}"}).json()["id"]
        for n in range(3)
    ]
    assert rest.request("DELETE", f"{API}/sobjects/Contact/{ids[0]}").status_code == 204
    assert totals("query") == (live_before + 2, live_before + 2)
    assert totals("queryAll") == (all_before + 3, all_before + 3)
    filtered = rest.get(
        f"{API}/query", params={"q": "SELECT COUNT() FROM Contact WHERE LastName LIKE 'Counted%'"}
    ).json()
    assert filtered["totalSize"] == 2
