"""``crmbridge sync`` in a subprocess against a database and an emulated org."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmbridge.connections.testing import api_trusting, org_settings
from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.testing import emulator_client
from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine
from crmbridge.store.testing import empty_database
from crmbridge.web.testing import TEST_SECRET_KEY

CLI = [sys.executable, "-m", "crmbridge.cli"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A migrated database with a tenant connected to a fresh org and two mappings."""
    with (
        EmulatorServer(tmp_path / "org", port=0) as server,
        empty_database(tmp_path) as url,
    ):
        info = dict(server.info)
        migrate.upgrade(url)
        engine = create_db_engine(url)
        try:
            with api_trusting(info, engine=engine, database_url=url) as api:
                tenant_id = api.new_tenant("CLI Sync Co")
                idle_tenant = api.new_tenant("Not Connected Co")
                headers = api.headers_for("CLIENT_ADMIN", tenant_id)
                client = api.client
                assert (
                    client.patch(
                        "/api/v1/salesforce/settings", json=org_settings(info), headers=headers
                    ).status_code
                    == 200
                )
                login = client.post(
                    "/api/v1/salesforce/password-login",
                    json={
                        "username": info["username"],
                        "password": info["password"],
                        "security_token": info["security_token"],
                    },
                    headers=headers,
                )
                assert login.status_code == 200, login.text
                installed = client.post(
                    "/api/v1/mappings/defaults/install",
                    json={
                        "pairs": [
                            {"platform_entity": "organization", "salesforce_object": "Account"},
                            {"platform_entity": "member", "salesforce_object": "Contact"},
                        ]
                    },
                    headers=headers,
                )
                assert installed.status_code == 200, installed.text
                created = client.post(
                    "/api/v1/members",
                    json={"first_name": "Cli", "last_name": "Member"},
                    headers=headers,
                )
                assert created.status_code == 201, created.text
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "CRMBRIDGE_DATA_DIR": str(tmp_path / "data"),
                "CRMBRIDGE_SECRET_KEY": TEST_SECRET_KEY,
                "SALESFORCE_CA_BUNDLE": info["ca_cert"],
            }
            yield {
                "env": env,
                "info": info,
                "tenant_id": tenant_id,
                "idle_tenant": idle_tenant,
                "member_id": created.json()["id"],
            }
        finally:
            engine.dispose()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_crmbridge_sync_runs_shows_progress_and_prints_the_summary(
    world: dict[str, Any],
) -> None:
    result = _cli(world["env"], "sync", "--tenant", "CLI Sync Co")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded" in result.stdout
    assert "Contact" in result.stdout
    assert "Salesforce API calls" in result.stdout
    with emulator_client(world["info"]) as sf:
        rows = list(sf.query("SELECT Platform_Id__c, LastName FROM Contact"))
    assert [(r["Platform_Id__c"], r["LastName"]) for r in rows] == [(world["member_id"], "Member")]
    again = _cli(
        world["env"], "sync", "--tenant", world["tenant_id"], "--object", "Contact", "--full"
    )
    assert again.returncode == 0, again.stdout + again.stderr


def test_crmbridge_sync_exits_non_zero_when_the_run_fails(world: dict[str, Any]) -> None:
    not_connected = _cli(world["env"], "sync", "--tenant", world["idle_tenant"])
    assert not_connected.returncode == 1
    assert "failed" in not_connected.stdout
    assert "Connect Salesforce" in not_connected.stdout
    unknown = _cli(world["env"], "sync", "--tenant", "No Such Tenant")
    assert unknown.returncode == 1
    assert "No single tenant" in unknown.stderr
    bad = _cli(world["env"], "sync", "--tenant", world["tenant_id"], "--since", "yesterday")
    assert bad.returncode == 2
