"""Fault injection at start and through the loopback-only admin endpoint."""

from __future__ import annotations

import time
from typing import Any

import pytest
from emulator_http import API, RestClient, error_codes, https_session, password_token

from crmbridge.emulator.server import EmulatorServer


@pytest.fixture
def org(tmp_path: Any) -> Any:
    server = EmulatorServer(tmp_path, port=0, fault_seed=1)
    server.start()
    yield server
    server.stop()


def test_admin_endpoint_needs_the_admin_token(org: EmulatorServer) -> None:
    http = https_session(org.info)
    url = org.info["admin_url"] + "/faults"
    assert http.get(url, timeout=30).status_code == 403
    assert http.get(url, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 403
    api = RestClient(org.info)
    assert api.admin("GET", "/faults").json()["latency_ms"] == 0
    assert api.admin("POST", "/faults", json={"nonsense": 1}).status_code == 400


def test_503_share_answers_server_unavailable(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    assert api.admin("POST", "/faults", json={"error_503_rate": 1.0}).ok
    response = api.get(f"{API}/limits")
    assert response.status_code == 503
    assert error_codes(response) == ["SERVER_UNAVAILABLE"]
    api.admin("POST", "/faults", json={"error_503_rate": 0})
    assert api.get(f"{API}/limits").status_code == 200


def test_lock_errors_hit_writes_only_and_write_nothing(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    api.admin("POST", "/faults", json={"lock_error_rate": 1.0})
    assert api.get(f"{API}/sobjects/Account/describe").status_code == 200
    response = api.post(f"{API}/sobjects/Account", json={"Name": "Locked"})
    assert response.status_code == 400
    assert error_codes(response) == ["UNABLE_TO_LOCK_ROW"]
    assert org.ctx is not None
    assert org.ctx.store.count("Account") == 0


def test_latency_is_added_to_each_call(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    api.admin("POST", "/faults", json={"latency_ms": 300})
    started = time.monotonic()
    api.get(f"{API}/limits")
    assert time.monotonic() - started >= 0.3


def test_expire_tokens_makes_sessions_invalid(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    assert api.admin("POST", "/faults", json={"expire_tokens": True}).json()["expired_tokens"] >= 1
    assert error_codes(api.get(f"{API}/limits")) == ["INVALID_SESSION_ID"]


def test_quota_exhaustion_and_setting_usage(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    api.admin("POST", "/faults", json={"exhaust_quota": True})
    assert error_codes(api.get(f"{API}/limits")) == ["REQUEST_LIMIT_EXCEEDED"]
    api.admin("POST", "/faults", json={"api_usage": 5, "api_quota": 100})
    assert api.get(f"{API}/limits").headers["sforce-limit-info"] == "api-usage=6/100"


def test_password_reset_kills_sessions_and_refresh_tokens(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    reset = api.admin("POST", "/faults", json={"reset_password": org.info["username"]}).json()
    assert error_codes(api.get(f"{API}/limits")) == ["INVALID_SESSION_ID"]
    old = https_session(org.info).post(
        org.info["token_url"],
        data={
            "grant_type": "password",
            "client_id": org.info["client_id"],
            "client_secret": org.info["client_secret"],
            "username": org.info["username"],
            "password": org.info["password"] + org.info["security_token"],
        },
        timeout=30,
    )
    assert old.json()["error"] == "invalid_grant"
    fresh = {**org.info, "password": reset["password"], "security_token": reset["security_token"]}
    assert password_token(fresh)["access_token"]


def test_deactivated_user_cannot_log_in(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    api.admin("POST", "/faults", json={"deactivate_user": org.info["username"]})
    response = https_session(org.info).post(
        org.info["token_url"],
        data={
            "grant_type": "password",
            "client_id": org.info["client_id"],
            "client_secret": org.info["client_secret"],
            "username": org.info["username"],
            "password": org.info["password"] + org.info["security_token"],
        },
        timeout=30,
    )
    assert response.json() == {"error": "inactive_user", "error_description": "user is inactive"}
    api.admin("POST", "/faults", json={"activate_user": org.info["username"]})
    assert password_token(org.info)["access_token"]


def test_clock_offset_expires_tokens_and_moves_timestamps(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    record_id = api.post(f"{API}/sobjects/Account", json={"Name": "Now"}).json()["id"]
    api.admin("POST", "/faults", json={"clock_offset_seconds": 3 * 3600})
    assert error_codes(api.get(f"{API}/limits")) == ["INVALID_SESSION_ID"]
    later = RestClient(org.info)
    later_id = later.post(f"{API}/sobjects/Account", json={"Name": "Later"}).json()["id"]
    stamps = [
        later.get(f"{API}/sobjects/Account/{i}").json()["CreatedDate"]
        for i in (record_id, later_id)
    ]
    assert stamps[1][:13] != stamps[0][:13]


def test_call_counts_per_resource(org: EmulatorServer) -> None:
    api = RestClient(org.info)
    api.admin("DELETE", "/calls")
    api.get(f"{API}/limits")
    api.get(f"{API}/query", params={"q": "SELECT Id FROM Account"})
    api.get(f"{API}/query", params={"q": "SELECT Id FROM Contact"})
    counts = api.admin("GET", "/calls").json()
    assert counts["by_resource"] == {"limits": 1, "query": 2}
    assert counts["total"] == 3


def test_faults_can_be_set_at_start(tmp_path: Any) -> None:
    with EmulatorServer(tmp_path, port=0, error_503_rate=1.0) as server:
        response = RestClient(server.info).get(f"{API}/limits")
        assert response.status_code == 503
        assert error_codes(response) == ["SERVER_UNAVAILABLE"]
