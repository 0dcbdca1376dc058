"""The sync API end to end: runs started through the API against the emulated org, the
role matrix (SPEC section 2), another tenant's ids answering 404, settings, status."""

from __future__ import annotations

from typing import Any

import pytest

from crmbridge.sync.testing import SyncWorld


def _post(world: SyncWorld, path: str, body: Any = None, role: str = "CLIENT_ADMIN") -> Any:
    return world.api.client.post(f"/api/v1{path}", json=body, headers=world.headers(role))


def _get(world: SyncWorld, path: str, role: str = "CLIENT_ADMIN", **params: Any) -> Any:
    return world.api.client.get(f"/api/v1{path}", params=params, headers=world.headers(role))


def test_an_admin_starts_a_run_and_reads_its_counts_and_progress(sync_world: SyncWorld) -> None:
    sync_world.install()
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace")
    started = _post(sync_world, "/sync/runs", {"kind": "now"})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    run = _get(sync_world, f"/sync/runs/{run_id}", role="CLIENT_VIEWER").json()
    assert run["status"] == "succeeded", run["error"]
    assert run["kind"] == "now"
    assert run["requested_by"]
    assert run["started_at"] is not None
    assert run["finished_at"] is not None
    assert run["api_calls"] > 0
    assert set(run["mapping_versions"].values()) == {1}
    progress = run["progress"]
    assert progress["done"] >= 1
    assert progress["failed"] == 0
    contact = next(
        s for s in progress["streams"] if s["object"] == "Contact" and s["direction"] == "outbound"
    )
    assert contact["created"] == 1
    listed = _get(sync_world, "/sync/runs").json()["items"]
    assert [r["id"] for r in listed] == [run_id]
    log = _get(sync_world, "/sync/records", run_id=run_id).json()["items"]
    created = [r for r in log if r["platform_id"] == member]
    assert created[0]["operation"] == "create"
    assert created[0]["outcome"] == "succeeded"
    assert {c["field"] for c in created[0]["changes"]} >= {"FirstName", "LastName"}


@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        ("CLIENT_ADMIN", "full", 202),
        ("CLIENT_STAFF", "now", 403),
        ("CLIENT_STAFF", "specific", 202),
        ("CLIENT_VIEWER", "specific", 403),
    ],
)
def test_who_may_start_which_run(sync_world: SyncWorld, role: str, kind: str, status: int) -> None:
    sync_world.install()
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace")
    body: dict[str, Any] = {"kind": kind}
    if kind == "specific":
        body["platform_ids"] = [member]
    response = _post(sync_world, "/sync/runs", body, role=role)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert _get(sync_world, "/sync/runs").json()["items"] == []


def test_bad_run_requests_answer_422_and_start_nothing(sync_world: SyncWorld) -> None:
    for body in (
        {"kind": "range"},
        {"kind": "specific"},
        {"kind": "range", "start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
        {"kind": "later"},
        {"kind": "range", "start": "2024-01-01T00:00:00", "end": "2024-01-02T00:00:00"},
    ):
        response = _post(sync_world, "/sync/runs", body)
        assert response.status_code == 422, (body, response.text)
    assert _get(sync_world, "/sync/runs").json()["items"] == []


def test_another_tenants_runs_reviews_and_dead_letters_answer_404(sync_world: SyncWorld) -> None:
    sync_world.install()
    started = _post(sync_world, "/sync/runs", {"kind": "now"}).json()
    other = sync_world.api.new_tenant()
    headers = sync_world.api.headers_for("CLIENT_ADMIN", other)
    client = sync_world.api.client
    for path in (
        f"/api/v1/sync/runs/{started['id']}",
        "/api/v1/sync/reviews/00000000-0000-0000-0000-000000000000",
        "/api/v1/sync/dead-letters/00000000-0000-0000-0000-000000000000",
        "/api/v1/sync/records/1",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    assert (
        client.post(f"/api/v1/sync/runs/{started['id']}/cancel", headers=headers).status_code == 404
    )
    assert client.get("/api/v1/sync/runs", headers=headers).json()["items"] == []
    assert client.get("/api/v1/sync/records", headers=headers).json()["items"] == []


def test_unauthenticated_requests_answer_401(sync_world: SyncWorld) -> None:
    response = sync_world.api.client.get("/api/v1/sync/runs")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_settings_are_read_by_everyone_changed_by_admins_validated_and_audited(
    sync_world: SyncWorld,
) -> None:
    defaults = _get(sync_world, "/sync/settings", role="CLIENT_VIEWER").json()
    assert defaults["conflict_policy"] == "most_recent"
    assert defaults["frequency"] == "realtime"
    client = sync_world.api.client
    staff = client.put(
        "/api/v1/sync/settings",
        json={"frequency": "hourly"},
        headers=sync_world.headers("CLIENT_STAFF"),
    )
    assert staff.status_code == 403
    bad = client.put(
        "/api/v1/sync/settings",
        json={"frequency": "weekly", "api_budget_share": 2, "time_zone": "Mars/Base"},
        headers=sync_world.headers(),
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "frequency",
        "api_budget_share",
        "time_zone",
    }
    assert _get(sync_world, "/sync/settings").json() == defaults
    saved = client.put(
        "/api/v1/sync/settings",
        json={"frequency": "daily", "daily_at": "03:30:00", "conflict_policy": "platform_wins"},
        headers=sync_world.headers(),
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["daily_at"] == "03:30:00"
    assert _get(sync_world, "/sync/settings").json()["conflict_policy"] == "platform_wins"
    audit = client.get("/api/v1/audit-log", headers=sync_world.headers())
    assert audit.status_code == 200
    changes = [e for e in audit.json() if e["action"] == "sync_settings.update"]
    assert len(changes) == 1
    assert changes[0]["after"]["frequency"] == "daily"


def test_status_lights_show_each_object_and_reach_the_connection_health(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    before = _get(sync_world, "/sync/status", role="CLIENT_VIEWER").json()["objects"]
    assert {o["object"]: o["light"] for o in before} == {"Account": "amber", "Contact": "amber"}
    sync_world.create("member", first_name="Ada", last_name="Lovelace")
    assert _post(sync_world, "/sync/runs", {"kind": "now"}).status_code == 202
    after = {o["object"]: o for o in _get(sync_world, "/sync/status").json()["objects"]}
    assert after["Contact"]["light"] == "green", after
    assert after["Contact"]["synced_up_to"] is not None
    health = _get(sync_world, "/salesforce/health").json()
    assert {o["object"] for o in health["objects"]} == {"Account", "Contact"}
    assert health["last_inbound_entry_at"] is not None or after["Contact"]["synced_up_to"]


def test_the_sync_log_pages_with_a_cursor_and_filters(sync_world: SyncWorld) -> None:
    sync_world.install()
    for i in range(5):
        sync_world.create("member", first_name="P", last_name=f"Page{i}")
    assert _post(sync_world, "/sync/runs", {"kind": "now"}).status_code == 202
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "direction": "outbound", "object": "Contact"}
        if cursor:
            params["cursor"] = cursor
        page = _get(sync_world, "/sync/records", **params).json()
        seen.extend(r["id"] for r in page["items"])
        assert all(r["direction"] == "outbound" for r in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    tampered = _get(sync_world, "/sync/records", limit=2, cursor="abc.def")
    assert tampered.status_code == 422
    one = _get(sync_world, f"/sync/records/{seen[0]}").json()
    assert one["id"] == seen[0]
