"""query, queryAll and query locators over REST (paging, batchSize, errors)."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_http import API, RestClient, error_codes

from crmbridge.emulator.server import EmulatorServer

CONTACTS = 450


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = EmulatorServer(tmp_path_factory.mktemp("query-org"), port=0)
    server.start()
    assert server.ctx is not None
    server.ctx.store.insert_many(
        "Contact",
        [{"LastName": f"Person {i:03d}", "Email": f"p{i}@example.org"} for i in range(CONTACTS)],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(org: EmulatorServer) -> RestClient:
    return RestClient(org.info)


def test_query_pages_with_next_records_url_and_batch_size(api: RestClient) -> None:
    response = api.get(
        f"{API}/query",
        params={"q": "SELECT Id, LastName FROM Contact ORDER BY LastName"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert response.status_code == 200
    page = response.json()
    assert page["totalSize"] == CONTACTS
    assert page["done"] is False
    assert len(page["records"]) == 200
    assert page["nextRecordsUrl"].startswith(f"{API}/query/")
    seen = [r["LastName"] for r in page["records"]]
    while not page["done"]:
        page = api.get(page["nextRecordsUrl"]).json()
        seen += [r["LastName"] for r in page["records"]]
    assert "nextRecordsUrl" not in page
    assert seen == [f"Person {i:03d}" for i in range(CONTACTS)]


def test_default_page_is_2000_records_and_small_batches_are_raised_to_200(api: RestClient) -> None:
    whole = api.get(f"{API}/query", params={"q": "SELECT Id FROM Contact"}).json()
    assert whole["done"] is True
    assert len(whole["records"]) == CONTACTS
    small = api.get(
        f"{API}/query",
        params={"q": "SELECT Id FROM Contact"},
        headers={"Sforce-Query-Options": "batchSize=10"},
    ).json()
    assert len(small["records"]) == 200


def test_query_all_includes_deleted_records(api: RestClient) -> None:
    record_id = api.post(f"{API}/sobjects/Contact", json={"LastName": "Soon gone"}).json()["id"]
    api.delete(f"{API}/sobjects/Contact/{record_id}")
    soql = f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{record_id}'"
    assert api.get(f"{API}/query", params={"q": soql}).json()["totalSize"] == 0
    everything = api.get(f"{API}/queryAll", params={"q": soql}).json()
    assert everything["totalSize"] == 1
    assert everything["records"][0]["IsDeleted"] is True


def test_query_all_pages_under_its_own_resource(api: RestClient) -> None:
    page = api.get(
        f"{API}/queryAll",
        params={"q": "SELECT Id FROM Contact"},
        headers={"Sforce-Query-Options": "batchSize=300"},
    ).json()
    assert page["nextRecordsUrl"].startswith(f"{API}/queryAll/")
    assert api.get(page["nextRecordsUrl"]).status_code == 200


def test_count_query_answers_total_size_only(api: RestClient) -> None:
    body = api.get(
        f"{API}/query", params={"q": "SELECT COUNT() FROM Contact WHERE Email LIKE 'p1%'"}
    ).json()
    assert body == {"totalSize": 111, "done": True, "records": []}


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELEC Id FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Nope__c FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("", "MALFORMED_QUERY"),
    ],
)
def test_bad_queries_get_400_with_salesforce_codes(api: RestClient, soql: str, code: str) -> None:
    response = api.get(f"{API}/query", params={"q": soql})
    assert response.status_code == 400
    assert error_codes(response) == [code]
    assert "fields" not in response.json()[0]


def test_unknown_locator_is_invalid_query_locator(api: RestClient) -> None:
    response = api.get(f"{API}/query/01gD0000002HU6KIAW-2000")
    assert response.status_code == 400
    assert error_codes(response) == ["INVALID_QUERY_LOCATOR"]
