"""The worker loop decides when to run, drain and purge; the tasks are stand-ins here
that record their calls (tests/e2e/test_worker_*.py run the real engine)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from push_world import hold_org, new_org_id
from sqlalchemy.orm import Session

from crmbridge.store.db import utcnow
from crmbridge.store.repositories import inbox, salesforce_connections, schedules, sync_state
from crmbridge.web.testing import ApiWorld
from crmbridge.worker.loop import RunOutcome, Worker, WorkerConfig
from crmbridge.worker.schedule import Frequency, Schedule
from crmbridge.worker.testing import ManualClock


@dataclass
class Tasks:
    """Stand-in tasks recording what the loop asked for."""

    schedules: dict[str, Schedule] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    drains: list[str] = field(default_factory=list)
    purges: list[datetime] = field(default_factory=list)
    #: When set, a drain waits for it (to make two workers overlap).
    hold_drains: threading.Event | None = None
    drain_started: threading.Event = field(default_factory=threading.Event)
    run_started: threading.Event = field(default_factory=threading.Event)

    def load_schedule(self, _session: Session, tenant_id: str) -> Schedule:
        return self.schedules.get(tenant_id, Schedule())

    def start_run(self, tenant_id: str) -> RunOutcome:
        self.runs.append(tenant_id)
        self.run_started.set()
        return RunOutcome(run_id=f"run-{len(self.runs)}", status="succeeded")

    def drain(self, tenant_id: str) -> int:
        self.drains.append(tenant_id)
        self.drain_started.set()
        if self.hold_drains is not None:
            assert self.hold_drains.wait(10)
        return 0

    def purge(self, now: datetime) -> int:
        self.purges.append(now)
        return 3

    def worker(self, api: ApiWorld, clock: ManualClock, holder: str = "w1") -> Worker:
        return Worker(
            api.session_factory,
            load_schedule=self.load_schedule,
            start_run=self.start_run,
            drain=self.drain,
            purge=self.purge,
            clock=clock,
            holder=holder,
            config=WorkerConfig(tick_seconds=0.01),
        )


def _schedulable_tenant(api: ApiWorld, *, auto_sync: bool = True) -> str:
    tenant = api.new_tenant()
    hold_org(api, tenant, new_org_id())
    with api.session_factory.begin() as session:
        connection = salesforce_connections.get_connection(session, tenant)
        assert connection is not None
        connection.auto_sync = auto_sync
    return tenant


def test_a_realtime_tenant_runs_every_minute(api: ApiWorld) -> None:
    tenant = _schedulable_tenant(api)
    tasks, clock = Tasks(), ManualClock()
    worker = tasks.worker(api, clock)
    report = worker.run_once()
    assert [(t, o.status) for t, o in report.runs] == [(tenant, "succeeded")]
    clock.advance(seconds=59)
    assert worker.run_once().runs == []
    clock.advance(seconds=1)
    assert len(worker.run_once().runs) == 1
    assert tasks.runs == [tenant, tenant]
    with api.session() as session:
        row = schedules.get_schedule(session, tenant)
        assert row is not None
        assert row.last_started_at == clock()
        assert row.last_run_id == "run-2"
        assert row.last_status == "succeeded"


def test_hourly_daily_and_manual_frequencies(api: ApiWorld) -> None:
    hourly, daily, manual = (_schedulable_tenant(api) for _ in range(3))
    clock = ManualClock(datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
    tasks = Tasks(
        schedules={
            hourly: Schedule(frequency=Frequency.HOURLY),
            daily: Schedule(
                frequency=Frequency.DAILY, daily_at=time(2, 0), timezone="Europe/Berlin"
            ),
            manual: Schedule(frequency=Frequency.MANUAL),
        }
    )
    worker = tasks.worker(api, clock)
    worker.run_once()  # 09:00: the hourly tenant starts; the daily one waits for 02:00 Berlin
    assert tasks.runs == [hourly]
    for _ in range(24 * 4):  # a day in 15-minute steps
        clock.advance(minutes=15)
        worker.run_once()
    assert tasks.runs.count(hourly) == 25
    assert tasks.runs.count(daily) == 1
    assert manual not in tasks.runs
    with api.session() as session:
        row = schedules.get_schedule(session, daily)
        assert row is not None
        # 02:00 in Berlin (winter) is 01:00 UTC, the first 15-minute tick at or after it.
        assert row.last_started_at == datetime(2025, 1, 7, 1, 0, tzinfo=UTC)


def test_paused_disconnected_suspended_and_auto_sync_off_tenants_are_not_scheduled(
    api: ApiWorld,
) -> None:
    paused, waiting, disconnected, suspended = (_schedulable_tenant(api) for _ in range(4))
    auto_off = _schedulable_tenant(api, auto_sync=False)
    running = _schedulable_tenant(api)
    with api.session_factory.begin() as session:
        for tenant, change in (
            (paused, {"sync_paused": True, "sync_paused_reason": "Paused by admin"}),
            (waiting, {"status": "needs_reauthorization", "sync_paused": True}),
            (disconnected, {"status": "disconnected"}),
        ):
            connection = salesforce_connections.get_connection(session, tenant)
            for key, value in change.items():
                setattr(connection, key, value)
    operator = api.headers_for("SUPER_ADMIN", None)
    api.client.post(f"/api/v1/operator/tenants/{suspended}/suspend", headers=operator)
    tasks = Tasks()
    tasks.worker(api, ManualClock()).run_once()
    assert tasks.runs == [running]
    assert auto_off not in tasks.drains


def test_two_workers_never_sync_one_tenant_at_once(api: ApiWorld) -> None:
    tenant = _schedulable_tenant(api)
    clock = ManualClock()
    tasks = Tasks(hold_drains=threading.Event())
    first, second = tasks.worker(api, clock, "w1"), tasks.worker(api, clock, "w2")
    runner = threading.Thread(target=first.run_once)
    runner.start()
    # w1 holds the tenant's lease (draining, its run not started yet): w2 also finds
    # the run due, but not the lease.
    assert tasks.drain_started.wait(10)
    assert second.run_once().busy == [tenant]
    tasks.hold_drains.set()
    runner.join()
    assert tasks.runs == [tenant]
    # Once w1 is done, w2 sees the run was just started and that nothing is due.
    assert second.run_once().runs == []
    clock.advance(minutes=1)
    assert [t for t, _ in second.run_once().runs] == [tenant]


def test_pushed_entries_are_drained_between_polls_for_realtime_tenants_only(
    api: ApiWorld,
) -> None:
    realtime, hourly = _schedulable_tenant(api), _schedulable_tenant(api)
    clock = ManualClock()
    tasks = Tasks(schedules={hourly: Schedule(frequency=Frequency.HOURLY)})
    worker = tasks.worker(api, clock)
    worker.run_once()  # both run once (and drain before their run)
    assert sorted(tasks.drains) == sorted([realtime, hourly])
    tasks.drains.clear()
    clock.advance(seconds=10)
    worker.run_once()
    assert tasks.drains == []  # nothing waiting, no run due
    with api.session_factory.begin() as session:
        for tenant in (realtime, hourly):
            inbox.add_entries_once(session, [_entry(tenant, clock())])
    worker.run_once()
    assert tasks.drains == [realtime]  # the hourly tenant's entry waits for its run
    assert tasks.runs == sorted([realtime, hourly], key=tasks.runs.index)


def _entry(tenant: str, now: datetime) -> dict[str, object]:
    return {
        "tenant_id": tenant,
        "source": "webhook",
        "dedupe_key": f"k-{now.isoformat()}",
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


def test_the_purge_runs_at_most_hourly_across_workers(api: ApiWorld) -> None:
    clock = ManualClock()
    tasks = Tasks()
    first, second = tasks.worker(api, clock, "w1"), tasks.worker(api, clock, "w2")
    assert first.run_once().purged == 3
    assert second.run_once().purged is None
    clock.advance(minutes=59)
    assert first.run_once().purged is None
    clock.advance(minutes=1)
    assert second.run_once().purged == 3
    assert tasks.purges == [clock() - timedelta(hours=1), clock()]


def test_a_stopped_worker_leaves_its_loop(api: ApiWorld) -> None:
    _schedulable_tenant(api)
    tasks = Tasks()
    worker = tasks.worker(api, ManualClock())
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    assert tasks.run_started.wait(10)
    worker.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_tenant_the_engine_holds_waits_until_the_hold_ends(api: ApiWorld) -> None:
    tenant = _schedulable_tenant(api)
    clock = ManualClock(utcnow())  # the API's view below reads the real clock
    hold = clock() + timedelta(minutes=10)
    with api.session_factory.begin() as session:
        sync_state.set_resume(
            session, tenant_id=tenant, resume_at=hold, reason="REQUEST_LIMIT_EXCEEDED"
        )
    tasks = Tasks()
    worker = tasks.worker(api, clock)
    assert worker.run_once().runs == []
    view = api.client.get("/api/v1/scheduler", headers=api.headers_for("CLIENT_VIEWER", tenant))
    held_until = datetime.fromisoformat(view.json()["held_until"].replace("Z", "+00:00"))
    assert held_until == hold
    assert view.json()["next_run_at"] == view.json()["held_until"]
    clock.advance(minutes=10)
    assert [t for t, _ in worker.run_once().runs] == [tenant]
