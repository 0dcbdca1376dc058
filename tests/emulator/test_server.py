"""The HTTPS server: free ports, TLS with the emulator's own CA, restart persistence."""

from __future__ import annotations

import json
import ssl
import stat
from pathlib import Path

import pytest
import requests
from emulator_http import API, RestClient, https_session, password_token

from crmbridge.emulator.server import EmulatorServer
from crmbridge.emulator.soql.parser import _lark


def test_port_zero_picks_a_free_port_and_tls_needs_the_emulator_ca(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path, port=0) as server:
        info = server.info
        assert info["port"] > 0
        assert info["instance_url"] == f"https://127.0.0.1:{info['port']}"
        assert https_session(info).get(info["instance_url"] + "/services/data/", timeout=30).ok
        untrusting = requests.Session()
        untrusting.trust_env = False
        untrusting.verify = ssl.get_default_verify_paths().cafile or True
        with pytest.raises(requests.exceptions.SSLError):
            untrusting.get(info["instance_url"] + "/services/data/", timeout=30)


def test_two_servers_run_side_by_side(tmp_path: Path) -> None:
    with (
        EmulatorServer(tmp_path / "a", port=0) as one,
        EmulatorServer(tmp_path / "b", port=0) as two,
    ):
        assert one.info["port"] != two.info["port"]
        assert one.info["org_id"] != two.info["org_id"]
        assert one.info["client_id"] != two.info["client_id"]
        assert RestClient(one.info).get(f"{API}/limits").ok
        assert RestClient(two.info).get(f"{API}/limits").ok


def test_restart_on_the_same_directory_keeps_org_data_and_credentials(tmp_path: Path) -> None:
    first = EmulatorServer(tmp_path, port=0)
    info = first.start()
    api = RestClient(info)
    record_id = api.post(f"{API}/sobjects/Account", json={"Name": "Persistent"}).json()["id"]
    refresh_holder = password_token(info)
    first.stop()
    second = EmulatorServer(tmp_path, port=0)
    again = second.start()
    try:
        for key in (
            "org_id",
            "user_id",
            "username",
            "password",
            "security_token",
            "client_id",
            "client_secret",
            "ca_cert",
            "admin_token",
        ):
            assert again[key] == info[key], key
        fresh = RestClient(again)
        assert fresh.get(f"{API}/sobjects/Account/{record_id}").json()["Name"] == "Persistent"
        same_session = RestClient(again, refresh_holder["access_token"])
        assert same_session.get(f"{API}/limits").status_code == 200
        created = fresh.post(f"{API}/sobjects/Account", json={"Name": "After restart"}).json()["id"]
        assert created > record_id
    finally:
        second.stop()


def test_info_file_is_written_for_the_owner_only(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path / "org", port=0) as server:
        target = tmp_path / "info" / "emulator.json"
        server.write_info(target)
        data = json.loads(target.read_text())
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    for key in (
        "login_url",
        "instance_url",
        "ca_cert",
        "client_id",
        "client_secret",
        "username",
        "password",
        "security_token",
        "org_id",
        "admin_url",
        "admin_token",
    ):
        assert data[key], key


def test_fixed_credentials_from_options(tmp_path: Path) -> None:
    with EmulatorServer(
        tmp_path,
        port=0,
        password="Secret-1",
        security_token="TOKEN123",
        client_id="my-client",
        client_secret="my-secret",
    ) as server:
        info = server.info
        assert (info["password"], info["security_token"]) == ("Secret-1", "TOKEN123")
        assert (info["client_id"], info["client_secret"]) == ("my-client", "my-secret")
        assert password_token(info)["access_token"]


def test_the_query_engine_is_warm_before_the_first_request(tmp_path: Path) -> None:
    _lark.cache_clear()
    with EmulatorServer(tmp_path, port=0):
        # Loaded by the start, not by a query: no request has been made.
        assert _lark.cache_info().currsize == 1
