"""``crmbridge connect`` end to end: the password form, and the OAuth form waiting for the
callback that a running ``crmbridge serve`` receives; status, test, disconnect and key
rotation from the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmbridge.connections.testing import approve_consent, org_settings
from crmbridge.emulator.server import EmulatorServer
from crmbridge.store.testing import empty_database

CLI = [sys.executable, "-m", "crmbridge.cli"]
OLD_KEY = "cli-old-secret-key-0123456789-abcdefghij"
NEW_KEY = "cli-new-secret-key-9876543210-klmnopqrst"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with EmulatorServer(tmp_path / "org", port=0) as server:
        yield dict(server.info)


@pytest.fixture
def cli_env(tmp_path: Path, org: dict[str, Any]) -> Iterator[dict[str, str]]:
    port = _free_port()
    with empty_database(tmp_path) as url:
        yield {
            **os.environ,
            "DATABASE_URL": url,
            "CRMBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "CRMBRIDGE_SECRET_KEY": OLD_KEY,
            "SALESFORCE_CA_BUNDLE": org["ca_cert"],
            "CRMBRIDGE_BASE_URL": f"http://127.0.0.1:{port}",
            "CRMBRIDGE_TEST_PORT": str(port),
        }


def _run(
    env: dict[str, str], *args: str, stdin: str | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=90, check=False
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def serve(cli_env: dict[str, str]) -> Iterator[str]:
    _run(cli_env, "db", "upgrade")
    port = cli_env["CRMBRIDGE_TEST_PORT"]
    server = subprocess.Popen(
        [*CLI, "serve", "--port", port, "--no-migrate"],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "crmbridge serve exited early"
            assert time.monotonic() < deadline, "crmbridge serve did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_password_flow_status_test_disconnect_and_key_rotation(
    cli_env: dict[str, str], org: dict[str, Any]
) -> None:
    _run(cli_env, "db", "upgrade")
    tenant = _run(cli_env, "tenant", "create", "Acme").stdout.strip()
    wrong = _run(
        cli_env,
        "connect", "--tenant", "Acme", "--password-flow", "--username", org["username"],
        "--password-stdin", "--environment", "custom", "--login-url", org["login_url"],
        stdin="not-the-password\n" + org["security_token"] + "\n",
        ok=False,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "Salesforce refused the login" in wrong.stderr
    assert "not-the-password" not in wrong.stderr + wrong.stdout

    connected = _run(
        cli_env,
        "connect", "--tenant", tenant, "--password-flow", "--username", org["username"],
        "--password-stdin", "--environment", "custom", "--login-url", org["login_url"],
        stdin=org["password"] + "\n" + org["security_token"] + "\n",
    )  # fmt: skip
    assert f"({org['org_id']}) as {org['username']}" in connected.stdout
    status = _run(cli_env, "connection", "status", "--tenant", "Acme").stdout
    assert "status: connected" in status
    assert "login flow: password" in status

    # Rotate the key: the new key plus the old one to read what is stored, then re-seal.
    rotated_env = {
        **cli_env,
        "CRMBRIDGE_SECRET_KEY": NEW_KEY,
        "CRMBRIDGE_SECRET_KEY_PREVIOUS": OLD_KEY,
    }
    # The SOAP session, the password and the security token.
    assert "Re-sealed 3 secret(s)" in _run(rotated_env, "secrets", "rotate").stdout
    new_only = {**cli_env, "CRMBRIDGE_SECRET_KEY": NEW_KEY}
    checks = _run(new_only, "connection", "test", "--tenant", "Acme").stdout
    assert "ok   credentials" in checks
    assert "FAIL" not in checks
    old_only = _run(cli_env, "connection", "test", "--tenant", "Acme", ok=False)
    assert old_only.returncode == 1
    assert "CRMBRIDGE_SECRET_KEY_PREVIOUS" in old_only.stderr

    disconnected = _run(new_only, "connection", "disconnect", "--tenant", "Acme").stdout
    assert "Salesforce revoked crmbridge's token" in disconnected
    assert (
        "status: disconnected" in _run(new_only, "connection", "status", "--tenant", "Acme").stdout
    )


def test_oauth_connect_waits_for_the_callback_received_by_serve(
    cli_env: dict[str, str], org: dict[str, Any], serve: str
) -> None:
    tenant = _run(cli_env, "tenant", "create", "Beta").stdout.strip()
    key = _run(
        cli_env, "apikey", "create", "--tenant", tenant, "--role", "CLIENT_ADMIN", "--name", "k"
    ).stdout.strip()
    configured = httpx.patch(
        f"{serve}/api/v1/salesforce/settings",
        json=org_settings(org),
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert configured.status_code == 200, configured.text

    waiting = subprocess.Popen(
        [*CLI, "connect", "--tenant", "Beta", "--timeout", "60"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiting.stdout is not None
        assert "Open this URL" in waiting.stdout.readline()
        authorize_url = waiting.stdout.readline().strip()
        assert authorize_url.startswith(org["login_url"] + "/services/oauth2/authorize?")
        redirect = approve_consent(
            authorize_url,
            username=org["username"],
            password=org["password"],
            verify=org["ca_cert"],
        )
        assert redirect.startswith(f"{serve}/api/v1/salesforce/oauth/callback?")
        # The browser follows the redirect to crmbridge serve.
        landing = httpx.get(redirect, headers={"Accept": "text/html"}, timeout=30)
        assert landing.status_code == 303
        output, errors = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, errors
    assert f"as {org['username']}" in output
    status = _run(cli_env, "connection", "status", "--tenant", tenant).stdout
    assert "status: connected" in status
    assert "login flow: oauth" in status
