"""Transient failures injected at the emulated org are retried to success (R-S8);
the rate limit and the API budget pause the sync, which resumes by itself (R-S7)."""

from __future__ import annotations

from crmbridge.store.repositories import sync_state
from crmbridge.sync.runs import RunKind
from crmbridge.sync.testing import SyncWorld


def _both_sides_agree(world: SyncWorld, members: list[str], contacts: list[str]) -> None:
    salesforce = {
        r["Platform_Id__c"]: r
        for r in world.query("SELECT Id, LastName, Platform_Id__c FROM Contact")
    }
    platform = {r.id: r for r in world.records("member")}
    assert set(members) <= set(salesforce)
    assert set(salesforce) == set(platform)
    assert {r.salesforce_id for r in platform.values()} >= set(contacts)
    # No duplicate on either side.
    assert len(salesforce) == len(members) + len(contacts)
    assert len(platform) == len(members) + len(contacts)


def _unsettled(world: SyncWorld) -> list[dict[str, object]]:
    response = world.api.client.get(
        "/api/v1/sync/dead-letters", params={"status": "unsettled"}, headers=world.headers()
    )
    return list(response.json()["items"])


def test_503_and_lock_errors_are_retried_to_success(sync_world: SyncWorld) -> None:
    sync_world.install()
    members = [
        sync_world.create("member", first_name="M", last_name=f"Platform{i}") for i in range(30)
    ]
    with sync_world.salesforce() as sf:
        contacts = [
            sf.create("Contact", {"FirstName": "S", "LastName": f"Org{i}"}) for i in range(20)
        ]
    sync_world.faults(error_503_rate=0.5, lock_error_rate=0.5, seed=3)
    try:
        runs = [sync_world.run()]
        # Records that still failed wait for their backoff; time passes between runs.
        while _unsettled(sync_world) and len(runs) < 6:
            sync_world.clock.advance(minutes=20)
            runs.append(sync_world.run())
    finally:
        sync_world.faults(error_503_rate=0, lock_error_rate=0)
    assert not _unsettled(sync_world), [r.error for r in runs]
    assert runs[-1].status == "succeeded", [r.error for r in runs]
    _both_sides_agree(sync_world, members, contacts)
    # The faults really happened: more calls than a clean run needs.
    assert sum(r.api_calls for r in runs) > 4


def test_an_expired_token_is_renewed_and_the_run_goes_on(sync_world: SyncWorld) -> None:
    sync_world.install()
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace")
    assert sync_world.run().status == "succeeded"
    sync_world.faults(expire_tokens=True)
    sync_world.update("member", member, title="Countess")
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    (contact,) = sync_world.query(f"SELECT Title FROM Contact WHERE Platform_Id__c = '{member}'")
    assert contact["Title"] == "Countess"


def test_request_limit_exceeded_pauses_and_a_later_run_resumes(sync_world: SyncWorld) -> None:
    sync_world.install()
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace")
    sync_world.faults(exhaust_quota=True)
    paused = sync_world.run()
    assert paused.status == "paused"
    assert "REQUEST_LIMIT_EXCEEDED" in paused.error
    assert paused.resume_at is not None
    # Until then, runs end at once without calling Salesforce.
    sync_world.faults(api_usage=0)
    sync_world.calls(reset=True)
    waiting = sync_world.run()
    assert waiting.status == "paused"
    assert sync_world.calls()["by_resource"] == {}
    status = sync_world.api.client.get("/api/v1/sync/status", headers=sync_world.headers()).json()
    assert status["paused_until"] is not None
    # After the pause the next run resumes by itself and catches up.
    sync_world.clock.advance(minutes=16)
    resumed = sync_world.run()
    assert resumed.status == "succeeded", resumed.error
    assert sync_world.query(f"SELECT Id FROM Contact WHERE Platform_Id__c = '{member}'") != []
    with sync_world.session_factory() as session:
        hold = sync_state.peek_tenant_state(session, tenant_id=sync_world.tenant_id)
        assert hold is not None
        assert hold.resume_at is None


def test_routine_work_stops_at_the_budget_share_but_specific_records_go_on(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    sync_world.put_settings(api_budget_share=0.5)
    member = sync_world.create("member", first_name="Ada", last_name="Lovelace")
    sync_world.faults(api_usage=600, api_quota=1000)
    routine = sync_world.run()
    assert routine.status == "paused"
    assert routine.resume_at is not None
    assert "60" in routine.error or "600" in routine.error
    assert sync_world.query(f"SELECT Id FROM Contact WHERE Platform_Id__c = '{member}'") == []
    urgent = sync_world.run(RunKind.SPECIFIC, platform_ids=(member,))
    assert urgent.status == "succeeded", urgent.error
    assert sync_world.query(f"SELECT Id FROM Contact WHERE Platform_Id__c = '{member}'") != []
