"""The command line end to end: set up a tenant, a user and a key, then serve and use it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crmbridge.store.testing import empty_database

CLI = [sys.executable, "-m", "crmbridge.cli"]


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with empty_database(tmp_path) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CRMBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "CRMBRIDGE_SECRET_KEY": "cli-test-secret-key-0123456789-abcdefgh",
        }
        yield env


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [*CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_sets_up_a_tenant_whose_key_works_against_crmbridge_serve(
    cli_env: dict[str, str],
) -> None:
    _run(cli_env, "db", "upgrade")
    assert "up to date" in _run(cli_env, "db", "current")
    tenant_id = _run(cli_env, "tenant", "create", "Acme Members")
    assert tenant_id in _run(cli_env, "tenant", "list")
    _run(
        cli_env,
        "user",
        "create",
        "--tenant",
        "Acme Members",
        "--email",
        "admin@acme.example.com",
        "--role",
        "CLIENT_ADMIN",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    key = _run(
        cli_env,
        "apikey",
        "create",
        "--tenant",
        tenant_id,
        "--role",
        "CLIENT_STAFF",
        "--name",
        "host",
    )
    assert key.startswith("crmb_")
    failed = subprocess.run(
        [*CLI, "user", "create", "--email", "x@acme.example.com", "--role", "CLIENT_ADMIN"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 1
    assert "error:" in failed.stderr

    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
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
        headers = {"Authorization": f"Bearer {key}"}
        me = httpx.get(f"{base}/api/v1/me", headers=headers, timeout=5).json()
        assert me["tenant"]["name"] == "Acme Members"
        created = httpx.post(
            f"{base}/api/v1/leads",
            json={"last_name": "Curie", "status": "QUALIFIED"},
            headers=headers,
            timeout=5,
        )
        assert created.status_code == 201
        assert created.headers["x-request-id"]
        listed = httpx.get(f"{base}/api/v1/leads", headers=headers, timeout=5).json()
        assert [lead["last_name"] for lead in listed["items"]] == ["Curie"]
        login = httpx.get(f"{base}/login", timeout=5)
        assert login.status_code == 200
        revoked_id = _run(cli_env, "apikey", "list", "--tenant", tenant_id).split("\t")[0]
        _run(cli_env, "apikey", "revoke", revoked_id, "--tenant", tenant_id)
        assert httpx.get(f"{base}/api/v1/me", headers=headers, timeout=5).status_code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    # The server's log has the requests, never the key.
    assert "/api/v1/leads" in output
    assert key not in output
    assert key[10:] not in output
