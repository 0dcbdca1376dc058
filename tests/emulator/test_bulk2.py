"""Bulk API 2.0 ingest and query jobs over HTTPS: simple-salesforce's bulk2 and raw HTTP."""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_http import API, RestClient, error_codes, https_session
from simple_salesforce import Salesforce

FINAL = ("JobComplete", "Failed", "Aborted")


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


def _wait(rest: RestClient, kind: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        info = rest.get(f"{API}/jobs/{kind}/{job_id}").json()
        if info["state"] in FINAL or time.monotonic() > deadline:
            return info  # type: ignore[no-any-return]
        time.sleep(0.05)


def _ingest(rest: RestClient, job: dict[str, Any], data: bytes) -> dict[str, Any]:
    created = rest.post(f"{API}/jobs/ingest", json=job)
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    upload = rest.request(
        "PUT",
        f"{API}/jobs/ingest/{job_id}/batches",
        data=data,
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 201, upload.text
    closed = rest.patch(f"{API}/jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert closed.status_code == 200
    return _wait(rest, "ingest", job_id)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _count(rest: RestClient, soql: str) -> int:
    return int(rest.get(f"{API}/query", params={"q": soql}).json()["totalSize"])


# --- simple-salesforce ----------------------------------------------------------------------


def test_simple_salesforce_bulk2_upsert_then_query(sf: Salesforce) -> None:
    tag = _tag()
    records = [
        {"Platform_Id__c": f"{tag}-{i}", "LastName": f"Bulk {i}", "Email": f"b{i}@{tag}.org"}
        for i in range(250)
    ]
    first = sf.bulk2.Contact.upsert(records=records, external_id_field="Platform_Id__c", wait=0.1)
    assert first[0]["numberRecordsProcessed"] == 250
    assert first[0]["numberRecordsFailed"] == 0
    records[0]["LastName"] = "Changed"
    again = sf.bulk2.Contact.upsert(
        records=records[:10], external_id_field="Platform_Id__c", wait=0.1
    )
    job_id = again[0]["job_id"]
    successes = _rows(sf.bulk2.Contact.get_successful_records(job_id))
    assert {row["sf__Created"] for row in successes} == {"false"}
    pages = list(
        sf.bulk2.Contact.query(
            f"SELECT Id, LastName, Platform_Id__c FROM Contact WHERE Email LIKE '%@{tag}.org' "
            "ORDER BY Platform_Id__c",
            max_records=100,
            wait=0.1,
        )
    )
    assert len(pages) == 3
    rows = [row for page in pages for row in _rows(page)]
    assert len(rows) == 250
    assert {r["LastName"] for r in rows if r["Platform_Id__c"] == f"{tag}-0"} == {"Changed"}


def test_simple_salesforce_bulk2_insert_reports_failed_rows(sf: Salesforce) -> None:
    tag = _tag()
    result = sf.bulk2.Lead.insert(
        records=[
            {"LastName": "Ok", "Company": tag, "Status": "Open - Not Contacted"},
            {"LastName": "", "Company": tag, "Status": "Open - Not Contacted"},
        ],
        wait=0.1,
    )
    assert result[0]["numberRecordsFailed"] == 1
    failed = _rows(sf.bulk2.Lead.get_failed_records(result[0]["job_id"]))
    assert failed[0]["sf__Error"] == (
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    )
    assert failed[0]["sf__Id"] == ""


# --- raw HTTP: ingest -----------------------------------------------------------------------


def test_create_job_answers_the_documented_job_info(rest: RestClient) -> None:
    response = rest.post(
        f"{API}/jobs/ingest",
        json={"object": "Account", "operation": "insert", "lineEnding": "LF"},
    )
    assert response.status_code == 200
    info = response.json()
    assert info["id"].startswith("750")
    assert info["state"] == "Open"
    assert info["contentUrl"] == f"services/data/v59.0/jobs/ingest/{info['id']}/batches"
    assert info["columnDelimiter"] == "COMMA"
    assert info["apiVersion"] == 59.0
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    listed = rest.get(f"{API}/jobs/ingest").json()
    assert listed["done"] is True
    assert listed["nextRecordsUrl"] is None
    assert info["id"] in {j["id"] for j in listed["records"]}
    aborted = rest.patch(f"{API}/jobs/ingest/{info['id']}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    assert rest.delete(f"{API}/jobs/ingest/{info['id']}").status_code == 204
    assert rest.get(f"{API}/jobs/ingest/{info['id']}").status_code == 404


@pytest.mark.parametrize(
    ("job", "code"),
    [
        ({"object": "Account", "operation": "merge"}, "INVALIDJOB"),
        ({"object": "Nope__c", "operation": "insert"}, "INVALIDENTITY"),
        ({"object": "Contact", "operation": "upsert"}, "INVALIDJOB"),
        (
            {"object": "Contact", "operation": "upsert", "externalIdFieldName": "Email"},
            "INVALIDJOB",
        ),
        ({"object": "Contact", "operation": "insert", "columnDelimiter": "COLON"}, "INVALIDJOB"),
    ],
)
def test_bad_job_definitions_are_refused(rest: RestClient, job: dict[str, Any], code: str) -> None:
    response = rest.post(f"{API}/jobs/ingest", json=job)
    assert response.status_code == 400
    assert error_codes(response) == [code]


def test_upsert_with_relationship_column_null_marker_and_results(rest: RestClient) -> None:
    tag = _tag()
    account = rest.post(
        f"{API}/sobjects/Account", json={"Name": f"Parent {tag}", "Platform_Id__c": f"acc-{tag}"}
    ).json()["id"]
    data = (
        "Platform_Id__c,LastName,Title,Account.Platform_Id__c\n"
        f"{tag}-a,Alpha,Boss,acc-{tag}\n"
        f"{tag}-b,Beta,,nope-{tag}\n"
        f"{tag}-c,,Clerk,\n"
    ).encode()
    info = _ingest(
        rest,
        {"object": "Contact", "operation": "upsert", "externalIdFieldName": "Platform_Id__c"},
        data,
    )
    assert info["state"] == "JobComplete"
    assert info["numberRecordsProcessed"] == 3
    assert info["numberRecordsFailed"] == 2
    job_id = info["id"]
    ok = rest.get(f"{API}/jobs/ingest/{job_id}/successfulResults/")
    assert ok.headers["Content-Type"].startswith("text/csv")
    (success,) = _rows(ok.text)
    assert list(success) == [
        "sf__Id",
        "sf__Created",
        "Platform_Id__c",
        "LastName",
        "Title",
        "Account.Platform_Id__c",
    ]
    assert success["sf__Created"] == "true"
    contact = rest.get(f"{API}/sobjects/Contact/{success['sf__Id']}").json()
    assert contact["AccountId"] == account
    failed = _rows(rest.get(f"{API}/jobs/ingest/{job_id}/failedResults/").text)
    errors = {row["Platform_Id__c"]: row["sf__Error"] for row in failed}
    assert errors[f"{tag}-b"].startswith("INVALID_FIELD:Foreign key external ID: nope-")
    assert errors[f"{tag}-c"].startswith("REQUIRED_FIELD_MISSING:")
    assert _rows(rest.get(f"{API}/jobs/ingest/{job_id}/unprocessedrecords/").text) == []
    # #N/A clears a field; an empty value leaves it alone.
    cleared = _ingest(
        rest,
        {"object": "Contact", "operation": "upsert", "externalIdFieldName": "Platform_Id__c"},
        f"Platform_Id__c,Title,LastName\n{tag}-a,#N/A,\n".encode(),
    )
    assert cleared["numberRecordsFailed"] == 0
    contact = rest.get(f"{API}/sobjects/Contact/{success['sf__Id']}").json()
    assert contact["Title"] is None
    assert contact["LastName"] == "Alpha"


def test_update_delete_and_hard_delete_jobs(rest: RestClient) -> None:
    tag = _tag()
    ids = [
        rest.post(f"{API}/sobjects/Account", json={"Name": f"{tag} {i}"}).json()["id"]
        for i in range(3)
    ]
    updated = _ingest(
        rest,
        {"object": "Account", "operation": "update"},
        f"Id,Industry\n{ids[0]},Banking\n{ids[1]},Not An Industry Value\n".encode(),
    )
    assert updated["numberRecordsFailed"] == 0  # Industry is not a restricted picklist
    assert rest.get(f"{API}/sobjects/Account/{ids[0]}").json()["Industry"] == "Banking"
    deleted = _ingest(
        rest, {"object": "Account", "operation": "delete"}, f"Id\n{ids[0]}\n".encode()
    )
    assert deleted["numberRecordsProcessed"] == 1
    hard = _ingest(
        rest, {"object": "Account", "operation": "hardDelete"}, f"Id\n{ids[1]}\n".encode()
    )
    assert hard["numberRecordsFailed"] == 0
    gone = rest.get(
        f"{API}/queryAll",
        params={"q": f"SELECT Id, IsDeleted FROM Account WHERE Name LIKE '{tag}%'"},
    ).json()["records"]
    by_id = {r["Id"]: r["IsDeleted"] for r in gone}
    assert by_id == {ids[0]: True, ids[2]: False}
    bad = _ingest(
        rest, {"object": "Account", "operation": "delete"}, f"Id,Name\n{ids[2]},x\n".encode()
    )
    assert bad["state"] == "Failed"


def test_tab_delimiter_and_crlf_line_endings(rest: RestClient) -> None:
    tag = _tag()
    info = _ingest(
        rest,
        {"object": "Lead", "operation": "insert", "columnDelimiter": "TAB", "lineEnding": "CRLF"},
        f'LastName\tCompany\tDescription\r\nTab\t{tag}\t"two\r\nlines"\r\n'.encode(),
    )
    assert info["numberRecordsFailed"] == 0
    assert info["columnDelimiter"] == "TAB"
    record = rest.get(
        f"{API}/query", params={"q": f"SELECT Description FROM Lead WHERE Company = '{tag}'"}
    ).json()["records"][0]
    assert record["Description"] == "two\r\nlines"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'LastName,Company\n"Unclosed,quote\n', "ClientInputError : Invalid CSV"),
        (b"LastName,Company\r\nCr,Lf\r\n", "LineEnding is invalid on user data"),
        (b"LastName,Nope__c\nx,y\n", "InvalidBatch : Field name not found : Nope__c"),
        (b"LastName,Company\nonly-one-value\n", "ClientInputError : Row 2 has 1 values"),
    ],
)
def test_malformed_csv_fails_the_job_and_changes_nothing(
    rest: RestClient, data: bytes, message: str
) -> None:
    before = _count(rest, "SELECT COUNT() FROM Lead")
    info = _ingest(rest, {"object": "Lead", "operation": "insert"}, data)
    assert info["state"] == "Failed"
    assert message in info["errorMessage"]
    assert info["numberRecordsProcessed"] == 0
    assert _count(rest, "SELECT COUNT() FROM Lead") == before
    unprocessed = rest.get(f"{API}/jobs/ingest/{info['id']}/unprocessedrecords/")
    assert unprocessed.status_code == 200


def test_upload_rules_one_csv_per_open_job(rest: RestClient) -> None:
    job_id = rest.post(f"{API}/jobs/ingest", json={"object": "Lead", "operation": "insert"}).json()[
        "id"
    ]
    url = f"{API}/jobs/ingest/{job_id}/batches"
    wrong_type = rest.request(
        "PUT", url, data=b"LastName\nx\n", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 400
    first = rest.request(
        "PUT", url, data=b"LastName,Company\nx,y\n", headers={"Content-Type": "text/csv"}
    )
    assert first.status_code == 201
    second = rest.request(
        "PUT", url, data=b"LastName,Company\nx,y\n", headers={"Content-Type": "text/csv"}
    )
    assert second.status_code == 409
    assert error_codes(second) == ["INVALIDJOBSTATE"]
    rest.patch(f"{API}/jobs/ingest/{job_id}", json={"state": "Aborted"})
    again = rest.patch(f"{API}/jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert again.status_code == 400
    assert error_codes(again) == ["INVALIDJOBSTATE"]
    assert rest.get(f"{API}/jobs/ingest/7505g0000000000AAA").status_code == 404


# --- raw HTTP: query ------------------------------------------------------------------------


def test_query_job_pages_with_locator_and_record_counts(rest: RestClient) -> None:
    created = rest.post(
        f"{API}/jobs/query",
        json={
            "operation": "query",
            "query": "SELECT Id, Name, Account.Name FROM Contact ORDER BY Id",
        },
    )
    assert created.status_code == 200
    assert created.json()["state"] == "UploadComplete"
    info = _wait(rest, "query", created.json()["id"])
    assert info["state"] == "JobComplete"
    assert info["jobType"] == "V2Query"
    total = info["numberRecordsProcessed"]
    assert total == _count(rest, "SELECT COUNT() FROM Contact")
    url = f"{API}/jobs/query/{info['id']}/results"
    seen: list[dict[str, str]] = []
    locator = ""
    pages = 0
    while True:
        params = {"maxRecords": "70", **({"locator": locator} if locator else {})}
        page = rest.get(url, params=params)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/csv")
        rows = _rows(page.text)
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(rows)
        assert list(rows[0]) == ["Id", "Name", "Account.Name"] if rows else True
        seen.extend(rows)
        pages += 1
        locator = page.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert len(seen) == total
    assert pages == -(-total // 70)
    assert [r["Id"] for r in seen] == sorted(r["Id"] for r in seen)
    wrong_version = rest.get(url.replace("v59.0", "v60.0"))
    assert wrong_version.status_code == 409


def test_query_all_sees_deleted_records(rest: RestClient) -> None:
    tag = _tag()
    lead = rest.post(f"{API}/sobjects/Lead", json={"LastName": "Gone", "Company": tag}).json()["id"]
    rest.delete(f"{API}/sobjects/Lead/{lead}")
    soql = f"SELECT Id, IsDeleted FROM Lead WHERE Company = '{tag}'"
    for operation, expected in (("query", []), ("queryAll", [{"Id": lead, "IsDeleted": "true"}])):
        job = rest.post(f"{API}/jobs/query", json={"operation": operation, "query": soql}).json()
        _wait(rest, "query", job["id"])
        body = rest.get(f"{API}/jobs/query/{job['id']}/results").text
        assert _rows(body) == expected


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
        ("SELECT COUNT() FROM Contact", "FUNCTIONALITY_NOT_ENABLED"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "FUNCTIONALITY_NOT_ENABLED"),
    ],
)
def test_query_job_refuses_bad_or_unsupported_soql(rest: RestClient, soql: str, code: str) -> None:
    response = rest.post(f"{API}/jobs/query", json={"operation": "query", "query": soql})
    assert response.status_code == 400
    assert error_codes(response) == [code]


def test_query_results_before_completion_and_bad_locators(rest: RestClient) -> None:
    job = rest.post(
        f"{API}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Account"}
    ).json()
    _wait(rest, "query", job["id"])
    bad = rest.get(f"{API}/jobs/query/{job['id']}/results", params={"locator": "!!notbase64"})
    assert bad.status_code == 400
    assert rest.delete(f"{API}/jobs/query/{job['id']}").status_code == 204
    assert rest.get(f"{API}/jobs/query/{job['id']}/results").status_code == 404
