"""The scheduler API: what the scheduler will do for a tenant, pause and resume (R-O4)."""

from __future__ import annotations

from push_world import hold_org, new_org_id

from crmbridge.store.db import utcnow
from crmbridge.store.repositories import inbox, salesforce_connections
from crmbridge.web.testing import ApiWorld
from crmbridge.worker.leases import tenant_lease_name, try_acquire


def _tenant(api: ApiWorld) -> str:
    tenant = api.new_tenant()
    hold_org(api, tenant, new_org_id())
    with api.session_factory.begin() as session:
        connection = salesforce_connections.get_connection(session, tenant)
        assert connection is not None
        connection.auto_sync = True
    return tenant


def test_the_scheduler_view_says_what_will_happen(api: ApiWorld) -> None:
    tenant = _tenant(api)
    viewer = api.headers_for("CLIENT_VIEWER", tenant)
    view = api.client.get("/api/v1/scheduler", headers=viewer)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["frequency"] == "realtime"
    assert body["scheduled"] is True
    assert body["next_run_at"] is not None  # never ran: due now
    assert body["running"] is False
    assert body["pending_push_entries"] == 0
    assert try_acquire(
        api.session_factory, name=tenant_lease_name(tenant), holder="w1", clock=utcnow
    )
    assert api.client.get("/api/v1/scheduler", headers=viewer).json()["running"] is True


def test_pause_and_resume(api: ApiWorld) -> None:
    tenant = _tenant(api)
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    paused = api.client.post(
        "/api/v1/scheduler/pause", json={"reason": "data clean-up"}, headers=admin
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert paused.json()["scheduled"] is False
    assert paused.json()["next_run_at"] is None
    assert "data clean-up" in paused.json()["paused_reason"]
    # The connection's health shows it too, and the admins get an event.
    health = api.client.get("/api/v1/salesforce/health", headers=admin).json()
    assert health["sync_paused"] is True
    events = api.client.get("/api/v1/events?kind=sync.", headers=admin).json()
    assert [e["kind"] for e in events] == ["sync.paused"]
    # Pausing twice changes nothing; resuming ends it.
    assert api.client.post("/api/v1/scheduler/pause", json={}, headers=admin).status_code == 200
    resumed = api.client.post("/api/v1/scheduler/resume", headers=admin)
    assert resumed.status_code == 200
    assert resumed.json()["paused"] is False
    assert resumed.json()["scheduled"] is True
    audit = api.client.get("/api/v1/audit-log", headers=admin).json()
    actions = [entry["action"] for entry in audit]
    assert actions.count("sync.pause") == 1
    assert actions.count("sync.resume") == 1


def test_resume_does_not_override_a_connection_waiting_for_reauthorization(
    api: ApiWorld,
) -> None:
    tenant = _tenant(api)
    with api.session_factory.begin() as session:
        connection = salesforce_connections.get_connection(session, tenant)
        assert connection is not None
        connection.status = "needs_reauthorization"
        connection.sync_paused = True
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    response = api.client.post("/api/v1/scheduler/resume", headers=admin)
    assert response.status_code == 409
    assert "re-authorize" in response.json()["detail"]
    with api.session() as session:
        connection = salesforce_connections.get_connection(session, tenant)
        assert connection is not None
        assert connection.sync_paused is True


def test_pause_without_a_connection_and_roles(api: ApiWorld) -> None:
    bare = api.new_tenant()
    admin = api.headers_for("CLIENT_ADMIN", bare)
    assert api.client.post("/api/v1/scheduler/pause", json={}, headers=admin).status_code == 409
    tenant = _tenant(api)
    for role in ("CLIENT_STAFF", "CLIENT_VIEWER"):
        headers = api.headers_for(role, tenant)
        assert (
            api.client.post("/api/v1/scheduler/pause", json={}, headers=headers).status_code == 403
        )
        assert api.client.post("/api/v1/scheduler/resume", headers=headers).status_code == 403
        assert api.client.post("/api/v1/inbound/process", headers=headers).status_code == 403
    other = api.headers_for("CLIENT_ADMIN", bare)
    other["X-Crmbridge-Tenant"] = tenant
    assert api.client.get("/api/v1/scheduler", headers=other).status_code == 404


def test_processing_now_waits_for_a_running_sync(api: ApiWorld) -> None:
    tenant = _tenant(api)
    with api.session_factory.begin() as session:
        inbox.add_entries_once(
            session,
            [
                {
                    "tenant_id": tenant,
                    "source": "webhook",
                    "dedupe_key": "k1",
                    "sobject": "Contact",
                    "salesforce_id": "003Hs00000AbCdEIAV",
                    "fields": {},
                    "action_id": "",
                    "status": "pending",
                    "attempts": 0,
                    "error_category": "",
                    "error_message": "",
                    "received_at": utcnow(),
                }
            ],
        )
    assert try_acquire(
        api.session_factory, name=tenant_lease_name(tenant), holder="w1", clock=utcnow
    )
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    busy = api.client.post("/api/v1/inbound/process", headers=admin)
    assert busy.status_code == 409
    assert api.client.get("/api/v1/scheduler", headers=admin).json()["pending_push_entries"] == 1
