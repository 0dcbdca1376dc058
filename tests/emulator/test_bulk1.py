"""Bulk API 1.0 query jobs over HTTPS, the way tap-salesforce drives them."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from emulator_http import API, RestClient, https_session

NS = {"a": "http://www.force.com/2009/06/asyncapi/dataload"}
ASYNC = "/services/async/61.0"


@pytest.fixture(scope="module")
def rest(emulator_info: dict[str, Any]) -> Iterator[RestClient]:
    client = RestClient(emulator_info)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def bulk(emulator_info: dict[str, Any], rest: RestClient) -> Iterator[requests.Session]:
    session = https_session(emulator_info)
    session.headers["X-SFDC-Session"] = rest.token
    yield session
    session.close()


def _url(info: dict[str, Any], path: str) -> str:
    return info["instance_url"] + ASYNC + path


def _xml(response: requests.Response) -> ElementTree.Element:
    assert response.headers["Content-Type"].startswith("application/xml"), response.text
    return ElementTree.fromstring(response.content)


def _text(element: ElementTree.Element, name: str) -> str:
    return element.findtext(f"a:{name}", namespaces=NS) or ""


def _wait_batch(
    bulk: requests.Session, info: dict[str, Any], job_id: str, batch_id: str
) -> ElementTree.Element:
    deadline = time.monotonic() + 30
    while True:
        batch = _xml(bulk.get(_url(info, f"/job/{job_id}/batch/{batch_id}")))
        if _text(batch, "state") in ("Completed", "Failed", "NotProcessed"):
            return batch
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_json_job_xml_batches_and_csv_results_like_tap_salesforce(
    emulator_info: dict[str, Any], bulk: requests.Session, rest: RestClient
) -> None:
    json_headers = {"Content-Type": "application/json"}
    created = bulk.post(
        _url(emulator_info, "/job"),
        data=json.dumps({"operation": "queryAll", "object": "Contact", "contentType": "CSV"}),
        headers={**json_headers, "Sforce-Enable-PKChunking": "true; chunkSize=100000"},
    )
    assert created.status_code == 201
    job = created.json()
    assert job["id"].startswith("750")
    assert job["state"] == "Open"
    assert job["operation"] == "queryAll"
    batch = _xml(
        bulk.post(
            _url(emulator_info, f"/job/{job['id']}/batch"),
            data="SELECT Id, LastName, Account.Name FROM Contact ORDER BY Id",
            headers={"Content-Type": "text/csv"},
        )
    )
    assert batch.tag == "{{{}}}batchInfo".format(NS["a"])
    batch_id = _text(batch, "id")
    assert batch_id.startswith("751")
    assert _text(batch, "jobId") == job["id"]
    assert _text(batch, "state") in ("Queued", "InProgress", "Completed")
    closed = bulk.post(
        _url(emulator_info, f"/job/{job['id']}"),
        data=json.dumps({"state": "Closed"}),
        headers=json_headers,
    )
    assert closed.json()["state"] == "Closed"
    done = _wait_batch(bulk, emulator_info, job["id"], batch_id)
    assert _text(done, "state") == "Completed"
    total = int(_text(done, "numberRecordsProcessed"))
    listing = _xml(bulk.get(_url(emulator_info, f"/job/{job['id']}/batch")))
    assert [_text(b, "id") for b in listing.findall("a:batchInfo", NS)] == [batch_id]
    results = _xml(bulk.get(_url(emulator_info, f"/job/{job['id']}/batch/{batch_id}/result")))
    assert results.tag == "{{{}}}result-list".format(NS["a"])
    result_ids = [r.text for r in results.findall("a:result", NS)]
    assert len(result_ids) == 1
    data = bulk.get(
        _url(emulator_info, f"/job/{job['id']}/batch/{batch_id}/result/{result_ids[0]}")
    )
    assert data.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(data.text)))
    assert len(rows) == total
    assert list(rows[0]) == ["Id", "LastName", "Account.Name"]
    expected = rest.get(f"{API}/queryAll", params={"q": "SELECT COUNT() FROM Contact"}).json()
    assert total == expected["totalSize"]
    info = bulk.get(_url(emulator_info, f"/job/{job['id']}"), headers=json_headers).json()
    assert info["numberBatchesCompleted"] == 1
    assert info["numberRecordsProcessed"] == total


def test_xml_job_and_a_failing_batch(emulator_info: dict[str, Any], bulk: requests.Session) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<jobInfo xmlns="{NS["a"]}"><operation>query</operation><object>Account</object>'
        "<contentType>CSV</contentType></jobInfo>"
    )
    job = _xml(
        bulk.post(
            _url(emulator_info, "/job"), data=body, headers={"Content-Type": "application/xml"}
        )
    )
    assert job.tag == "{{{}}}jobInfo".format(NS["a"])
    job_id = _text(job, "id")
    assert _text(job, "apiVersion") == "61.0"
    batch = _xml(
        bulk.post(
            _url(emulator_info, f"/job/{job_id}/batch"),
            data="SELECT Nope FROM Account",
            headers={"Content-Type": "text/csv"},
        )
    )
    failed = _wait_batch(bulk, emulator_info, job_id, _text(batch, "id"))
    assert _text(failed, "state") == "Failed"
    assert _text(failed, "stateMessage").startswith("InvalidBatch : ")
    assert "INVALID_FIELD" in _text(failed, "stateMessage")


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "code"),
    [
        ("/job", {"X-SFDC-Session": "not-a-session"}, "", 401, "InvalidSessionId"),
        ("/job", {"Content-Type": "application/xml"}, "<jobInfo", 400, "InvalidXML"),
        ("/job/7505g0000000000AAA", {}, None, 400, "InvalidJob"),
    ],
)
def test_errors_have_the_bulk_1_shape(
    emulator_info: dict[str, Any],
    bulk: requests.Session,
    path: str,
    headers: dict[str, str],
    body: str | None,
    status: int,
    code: str,
) -> None:
    url = _url(emulator_info, path)
    response = (
        bulk.get(url, headers=headers)
        if body is None
        else bulk.post(url, data=body, headers=headers)
    )
    assert response.status_code == status
    error = _xml(response)
    assert error.tag == "{{{}}}error".format(NS["a"])
    assert _text(error, "exceptionCode") == code


def test_json_errors_and_non_query_operations(
    emulator_info: dict[str, Any], bulk: requests.Session
) -> None:
    response = bulk.post(
        _url(emulator_info, "/job"),
        data=json.dumps({"operation": "insert", "object": "Account", "contentType": "CSV"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["exceptionCode"] == "InvalidJob"
    unknown = bulk.post(
        _url(emulator_info, "/job"),
        data=json.dumps({"operation": "query", "object": "Nope__c", "contentType": "CSV"}),
        headers={"Content-Type": "application/json"},
    )
    assert unknown.json()["exceptionCode"] == "InvalidEntity"
