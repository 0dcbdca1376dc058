"""``crmbridge demo --once``, the README's first command, end to end in a subprocess on
a fresh data directory with the embedded SQLite default; then again on the same one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from crmbridge.config import Settings
from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.testing import emulator_client
from crmbridge.web.app import create_app

# The demo runs on its own SQLite file, never on the suite's database: once is enough.
pytestmark = pytest.mark.storeless

SEED_CONTACTS = 60


def _demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CRMBRIDGE_SECRET_KEY", "CRMBRIDGE_BASE_URL")
    }
    env.update({"CRMBRIDGE_DATA_DIR": str(data_dir), "COLUMNS": "200"})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmbridge.cli",
            "demo",
            "--once",
            "--port",
            "0",
            "--seed-contacts",
            str(SEED_CONTACTS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _api_of(data_dir: Path, key: str) -> tuple[TestClient, dict[str, str]]:
    settings = Settings(CRMBRIDGE_DATA_DIR=str(data_dir))  # type: ignore[call-arg]
    return TestClient(create_app(settings)), {"Authorization": f"Bearer {key}"}


def _org_counts(data_dir: Path) -> dict[str, Any]:
    with EmulatorServer(data_dir / "demo-org", port=0) as org, emulator_client(org.info) as sf:
        contacts = sf.query("SELECT Id, LastName FROM Contact WHERE Movement_Exclude__c = false")
        return {
            "contacts": {c["Id"]: c["LastName"] for c in contacts},
            "stamped": sf.count("SELECT COUNT() FROM Contact WHERE Platform_Id__c != null"),
        }


def test_the_demo_sets_everything_up_syncs_and_reuses_it_when_run_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "crmbridge-data"
    first = _demo(data_dir).stdout
    assert f"{SEED_CONTACTS} Contact" in first  # seeded on first start
    assert "Tenant 'Demo Members': created" in first
    assert "Salesforce: connected through OAuth" in first
    assert "Mapping member ↔ Contact: installed" in first
    assert "First sync succeeded" in first
    key = re.search(r"API key\s+(crmb_\S+)", first)
    login = re.search(r"Admin sign-in\s+(\S+)\s+(\S+) / (\S+)", first)
    assert key is not None
    assert login is not None
    assert "curl" in first
    assert "/query?q=SELECT" in first
    state = json.loads((data_dir / "demo-state.json").read_text())
    assert (data_dir / "demo-state.json").stat().st_mode & 0o777 == 0o600
    assert state["api_key"] == key.group(1)

    org = _org_counts(data_dir)
    client, headers = _api_of(data_dir, key.group(1))
    with client:
        members = client.get("/api/v1/members?limit=200", headers=headers).json()["items"]
        assert {m["salesforce_id"]: m["last_name"] for m in members} == org["contacts"]
        # Every Contact is stamped with its member's platform id (two-way link).
        assert org["stamped"] >= len(members)
        health = client.get("/api/v1/salesforce/health", headers=headers).json()
        assert health["status"] == "connected"
        assert health["auth_flow"] == "oauth"
        mappings = client.get("/api/v1/mappings", headers=headers).json()
        assert sorted((m["platform_entity"], m["enabled"]) for m in mappings) == [
            ("member", True),
            ("organization", True),
        ]
        receiver = client.get("/api/v1/inbound/settings", headers=headers).json()
        assert receiver["outbound_message_secret_set"] is True
        # The admin's printed login works.
        form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert form is not None
        signed_in = client.post(
            "/login",
            data={
                "email": login.group(2),
                "password": login.group(3),
                "csrf_token": form.group(1),
            },
            follow_redirects=False,
        )
        assert signed_in.status_code in (302, 303), signed_in.text

    second = _demo(data_dir).stdout
    assert "existing org" in second  # not seeded again
    assert "Tenant 'Demo Members': found" in second
    assert "Salesforce: already connected" in second
    assert "Mapping member ↔ Contact: already installed" in second
    assert f"API key        {key.group(1)}" in second
    client, headers = _api_of(data_dir, key.group(1))
    with client:
        again = client.get("/api/v1/members?limit=200", headers=headers).json()["items"]
        assert len(again) == len(members)
        me = client.get("/api/v1/me", headers=headers).json()
        assert me["tenant"]["id"] == state["tenant_id"]
        assert me["tenant"]["name"] == "Demo Members"
    assert _org_counts(data_dir)["contacts"] == org["contacts"]
    engine = sa.create_engine(f"sqlite:///{data_dir / 'crmbridge.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM tenants")).scalar() == 1
            assert conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar() == 1
            # One connect: the second run found the connection and kept it.
            connects = "SELECT COUNT(*) FROM audit_log WHERE action = 'salesforce.connect'"
            assert conn.execute(sa.text(connects)).scalar() == 1
    finally:
        engine.dispose()
