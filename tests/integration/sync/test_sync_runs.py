"""Runs as objects (R-O2, R-O5): one at a time per tenant, stale runs, cancelling,
re-authorization pauses, and the audit trail's retention (R-S9)."""

from __future__ import annotations

from datetime import timedelta

from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_runs
from crmbridge.store.repositories.sync_records import AuditRow, add_records
from crmbridge.sync import RunRequest, cancel_run, enqueue_run, execute_run, purge_sync_records
from crmbridge.sync.audit import audit_row
from crmbridge.sync.testing import SyncWorld


def test_a_second_run_is_refused_while_one_is_running(sync_world: SyncWorld) -> None:
    sync_world.install()
    with sync_world.session_factory.begin() as session:
        running = enqueue_run(session, tenant_id=sync_world.tenant_id, request=RunRequest())
        running.status = "running"
        running.started_at = running.heartbeat_at = utcnow()
    refused = sync_world.run()
    assert refused.status == "failed"
    assert "Another sync run" in refused.error


def test_a_run_whose_process_died_is_marked_failed_and_the_next_one_proceeds(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    with sync_world.session_factory.begin() as session:
        dead = enqueue_run(session, tenant_id=sync_world.tenant_id, request=RunRequest())
        dead.status = "running"
        dead.started_at = dead.heartbeat_at = utcnow() - timedelta(hours=1)
        dead_id = dead.id
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    with sync_world.session_factory() as session:
        old = sync_runs.get_run(session, tenant_id=sync_world.tenant_id, run_id=dead_id)
        assert old is not None
        assert old.status == "failed"
        assert "stopped without finishing" in old.error


def test_a_queued_run_can_be_cancelled_before_it_starts(sync_world: SyncWorld) -> None:
    sync_world.install()
    with sync_world.session_factory.begin() as session:
        run = enqueue_run(session, tenant_id=sync_world.tenant_id, request=RunRequest())
        run_id = run.id
    with sync_world.session_factory.begin() as session:
        cancel_run(session, tenant_id=sync_world.tenant_id, run_id=run_id)
    summary = execute_run(
        sync_world.session_factory, sync_world.settings, sync_world.tenant_id, run_id=run_id
    )
    assert summary.status == "failed"
    assert summary.error == "Cancelled before it started."
    assert summary.api_calls == 0


def test_a_revoked_login_pauses_the_run_and_the_connection(sync_world: SyncWorld) -> None:
    sync_world.install()
    sync_world.create("member", first_name="Ada", last_name="Lovelace")
    sync_world.faults(reset_password=True)
    summary = sync_world.run()
    assert summary.status == "paused"
    assert "Re-authorize" in summary.error
    health = sync_world.api.client.get(
        "/api/v1/salesforce/health", headers=sync_world.headers()
    ).json()
    assert health["status"] == "needs_reauthorization"
    # Until an admin re-authorizes, runs pause at once.
    again = sync_world.run()
    assert again.status == "paused"
    assert again.api_calls == 0


def test_audit_rows_older_than_the_retention_are_purged(sync_world: SyncWorld) -> None:
    sync_world.put_settings(audit_retention_days=30)
    now = utcnow()

    def row(age_days: int) -> AuditRow:
        return audit_row(
            tenant_id=sync_world.tenant_id,
            run_id=None,
            direction="inbound",
            mapping_id="m",
            salesforce_object="Contact",
            platform_entity="member",
            platform_id=None,
            salesforce_id=None,
            operation="update",
            outcome="succeeded",
            source="poll",
            at=now - timedelta(days=age_days),
        )

    with sync_world.session_factory.begin() as session:
        add_records(session, [row(40), row(31), row(29), row(1)])
    purged = purge_sync_records(sync_world.session_factory, tenant_id=sync_world.tenant_id, batch=1)
    assert purged == 2
    rows = sync_world.api.client.get("/api/v1/sync/records", headers=sync_world.headers()).json()[
        "items"
    ]
    assert len(rows) == 2


def test_settings_cannot_change_while_a_test_run_runs(sync_world: SyncWorld) -> None:
    with sync_world.session_factory.begin() as session:
        run = enqueue_run(
            session, tenant_id=sync_world.tenant_id, request=RunRequest(kind="test_run")
        )
        run.status = "running"
        run.started_at = run.heartbeat_at = utcnow()
    client = sync_world.api.client
    refused = client.put(
        "/api/v1/sync/settings",
        json={"conflict_policy": "platform_wins"},
        headers=sync_world.headers(),
    )
    assert refused.status_code == 409
    settings = client.get("/api/v1/sync/settings", headers=sync_world.headers()).json()
    assert settings["conflict_policy"] == "most_recent"


def test_a_run_of_a_paused_tenant_ends_paused_without_calling_salesforce(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    client = sync_world.api.client
    paused = client.post(
        "/api/v1/scheduler/pause", json={"reason": "Data cleanup"}, headers=sync_world.headers()
    )
    assert paused.status_code in (200, 204), paused.text
    summary = sync_world.run()
    assert summary.status == "paused"
    assert "Data cleanup" in summary.error
    assert summary.api_calls == 0
