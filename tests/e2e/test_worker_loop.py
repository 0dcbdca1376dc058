"""The worker against the real engine and the emulated org (R-O1, R-O4): the
``crmbridge worker`` process applies pushed changes and stops gracefully on SIGTERM;
two workers never run one tenant's sync twice; a paused tenant is not scheduled."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from crmbridge.mappings.testing import emulator_client
from crmbridge.push.testing import PushWorld, add_outbound_rule, wait_for
from crmbridge.store.push_models import WorkerLease
from crmbridge.store.sync_models import SyncRun
from crmbridge.web.testing import TEST_SECRET_KEY
from crmbridge.worker.tasks import build_worker
from crmbridge.worker.testing import ManualClock


@pytest.fixture
def scheduled(push_world: PushWorld) -> dict[str, Any]:
    """Default mappings, Auto-sync on, one Contact in the org (not synced yet)."""
    push_world.install_membership_mappings()
    on = push_world.api.client.patch(
        "/api/v1/salesforce/settings", json={"auto_sync": True}, headers=push_world.admin_headers()
    )
    assert on.status_code == 200, on.text
    with emulator_client(push_world.info) as client:
        contact_id = client.create("Contact", {"FirstName": "Ada", "LastName": "Lovelace"})
    return {"contact_id": contact_id}


def _runs(world: PushWorld, trigger: str) -> list[SyncRun]:
    with world.api.session() as session:
        statement = sa.select(SyncRun).where(
            SyncRun.tenant_id == world.tenant_id, SyncRun.trigger == trigger
        )
        return list(session.scalars(statement))


def test_the_worker_process_syncs_applies_pushes_and_stops_on_sigterm(
    push_world: PushWorld, scheduled: dict[str, Any], database_url: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CRMBRIDGE_SECRET_KEY": TEST_SECRET_KEY,
        "SALESFORCE_CA_BUNDLE": push_world.info["ca_cert"],
        "CRMBRIDGE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "crmbridge.cli", "worker", "--tick", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The first scheduled run imports the Contact.
        wait_for(
            lambda: [r for r in _runs(push_world, "schedule") if r.status == "succeeded"],
            timeout=60,
            what="the first scheduled run",
        )
        assert push_world.member_of(scheduled["contact_id"])["last_name"] == "Lovelace"
        # An edit pushed by Outbound Message is applied within a tick, long before the
        # next poll (a minute later).
        add_outbound_rule(push_world.info, endpoint_url=push_world.outbound_message_url)
        with emulator_client(push_world.info) as client:
            client.update("Contact", scheduled["contact_id"], {"LastName": "King"})
        wait_for(
            lambda: push_world.member_of(scheduled["contact_id"])["last_name"] == "King",
            timeout=30,
            what="the pushed edit to be applied",
        )
        # The push run commits the member before it records its own outcome, so wait
        # for the outcome rather than read it the instant the member changed.
        wait_for(
            lambda: [r for r in _runs(push_world, "push") if r.status not in ("queued", "running")],
            timeout=30,
            what="the push run to finish",
        )
        assert len(_runs(push_world, "schedule")) == 1
        assert [r.status for r in _runs(push_world, "push")] == ["succeeded"]
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    with push_world.api.session() as session:
        assert (
            session.scalars(sa.select(WorkerLease).where(WorkerLease.name.like("tenant:%"))).all()
            == []
        )


def test_two_workers_run_one_scheduled_sync_between_them(
    push_world: PushWorld, scheduled: dict[str, Any]
) -> None:
    api = push_world.api
    clock = ManualClock()
    workers = [
        build_worker(api.session_factory, api.app.state.settings, clock=clock, holder=f"w{i}")
        for i in range(2)
    ]
    start = threading.Barrier(2)
    reports: dict[str, Any] = {}

    def work(worker: Any) -> None:
        start.wait()
        reports[worker.holder] = worker.run_once()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status for r in _runs(push_world, "schedule")] == ["succeeded"]
    assert sum(len(report.runs) for report in reports.values()) == 1
    assert push_world.member_of(scheduled["contact_id"])["first_name"] == "Ada"


def test_a_paused_tenant_is_not_scheduled_until_resumed(
    push_world: PushWorld, scheduled: dict[str, Any]
) -> None:
    api = push_world.api
    headers = push_world.admin_headers()
    assert api.client.post("/api/v1/scheduler/pause", json={}, headers=headers).status_code == 200
    clock = ManualClock()
    worker = build_worker(api.session_factory, api.app.state.settings, clock=clock)
    assert worker.run_once().runs == []
    clock.advance(minutes=5)
    assert worker.run_once().runs == []
    assert _runs(push_world, "schedule") == []
    assert api.client.post("/api/v1/scheduler/resume", headers=headers).status_code == 200
    assert [o.status for _, o in worker.run_once().runs] == ["succeeded"]
    view = api.client.get("/api/v1/scheduler", headers=headers).json()
    assert view["last_status"] == "succeeded"
    assert view["next_run_at"] is not None


def test_serve_with_worker_applies_a_pushed_change_without_being_asked(
    push_world: PushWorld, scheduled: dict[str, Any], database_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CRMBRIDGE_SECRET_KEY": TEST_SECRET_KEY,
        "SALESFORCE_CA_BUNDLE": push_world.info["ca_cert"],
        "CRMBRIDGE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmbridge.cli",
            "serve",
            "--with-worker",
            "--no-migrate",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: [r for r in _runs(push_world, "schedule") if r.status == "succeeded"],
            timeout=60,
            what="the in-process worker's first run",
        )
        path = push_world.outbound_message_url.split("/", 3)[3]
        add_outbound_rule(push_world.info, endpoint_url=f"http://127.0.0.1:{port}/{path}")
        with emulator_client(push_world.info) as client:
            client.update("Contact", scheduled["contact_id"], {"Title": "Countess"})
        wait_for(
            lambda: push_world.member_of(scheduled["contact_id"])["title"] == "Countess",
            timeout=30,
            what="the served worker to apply the push",
        )
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
