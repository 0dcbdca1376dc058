"""The daily API quota, the Sforce-Limit-Info header and the limits resource."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_http import API, RestClient, https_session, password_token

from crmbridge.emulator.server import EmulatorServer


@pytest.fixture
def org(tmp_path: Any) -> Any:
    server = EmulatorServer(tmp_path, port=0, api_quota=10)
    server.start()
    yield server
    server.stop()


def used(response: Any) -> tuple[int, int]:
    header = response.headers["sforce-limit-info"]
    assert header.startswith("api-usage=")
    assert header.count("/") == 1
    value, limit = header.removeprefix("api-usage=").split("/")
    return int(value), int(limit)


def test_each_call_counts_once_and_the_header_says_so(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    first = api.get(f"{API}/limits")
    second = api.get(f"{API}/sobjects/Account/describe")
    assert used(first) == (1, 10)
    assert used(second) == (2, 10)
    assert first.headers["sforce-limit-info"] == "api-usage=1/10"
    body = api.get(f"{API}/limits").json()
    assert body["DailyApiRequests"] == {"Max": 10, "Remaining": 7}
    assert {"DailyBulkApiBatches", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"} <= set(
        body
    )
    assert all(set(v) == {"Max", "Remaining"} for v in body.values())


def test_login_and_token_calls_do_not_count(org: EmulatorServer) -> None:
    password_token(org.info)
    https_session(org.info).get(org.info["instance_url"] + "/services/data/", timeout=30)
    assert used(RestClient(org.info).get(f"{API}/limits")) == (1, 10)


def test_past_the_quota_every_call_gets_request_limit_exceeded(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    for _ in range(10):
        assert api.get(f"{API}/limits").status_code == 200
    for path in (f"{API}/limits", f"{API}/query?q=SELECT+Id+FROM+Account"):
        response = api.get(path)
        assert response.status_code == 403
        assert response.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
    created = api.post(f"{API}/sobjects/Account", json={"Name": "Too late"})
    assert created.status_code == 403
    assert org.ctx is not None
    assert org.ctx.store.count("Account") == 0


def test_usage_survives_a_restart(tmp_path: Any) -> None:
    server = EmulatorServer(tmp_path, port=0, api_quota=50)
    server.start()
    RestClient(server.info).get(f"{API}/limits")
    server.stop()
    server = EmulatorServer(tmp_path, port=0, api_quota=50)
    server.start()
    try:
        assert used(RestClient(server.info).get(f"{API}/limits")) == (2, 50)
    finally:
        server.stop()
