"""The worker loop: scheduled runs, push draining and purges, one tenant at a time.

Each pass (:meth:`Worker.run_once`):

1. lists the tenants that may sync on a schedule: active, Auto-sync on, connection
   connected and not paused (R-O4; a connection waiting for re-authorization is
   paused too, R-A5), and not held by the engine until a later time (rate limit,
   API budget, R-S7);
2. for each, decides from its frequency (R-O1) whether a scheduled run is due and, for
   real-time tenants, whether pushed entries wait; if there is work it takes the
   tenant's lease (so two workers never sync one tenant at once), drains the inbox,
   then starts the run;
3. at most once an hour for the whole installation, purges expired audit rows (sync
   records past the tenant's retention) and settled inbox entries.

The tasks themselves are thin calls into the sync engine and the push processor,
passed in as functions (``start_run``, ``drain``, ``purge``), so tests can wrap them
and the loop never knows how a sync works. The clock is a function too: tests move
time by hand instead of sleeping.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.store.db import utcnow
from crmbridge.store.repositories import inbox as inbox_repo
from crmbridge.store.repositories import schedules as repo
from crmbridge.worker.leases import (
    DEFAULT_LEASE_TTL,
    holding_lease,
    tenant_lease_name,
    try_acquire,
    worker_identity,
)
from crmbridge.worker.schedule import Schedule, is_run_due

log = structlog.get_logger(__name__)

#: The lease that makes the purge run at most once per interval installation-wide.
PURGE_LEASE = "maintenance:purge"


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How a scheduled run ended."""

    #: The run's id, when one was created.
    run_id: str | None
    #: The run's final status (``succeeded``, ``partially_failed``, ``failed``, ``paused``).
    status: str
    error: str = ""


#: Starts and finishes one scheduled run of a tenant.
StartRun = Callable[[str], RunOutcome]
#: Applies a tenant's pending pushed entries; returns how many it settled.
Drain = Callable[[str], int]
#: Deletes expired rows; returns how many.
Purge = Callable[[datetime], int]
#: The tenant's schedule (its sync settings).
LoadSchedule = Callable[[Session, str], Schedule]


@dataclass
class TickReport:
    """What one pass did (for logs and tests)."""

    #: (tenant, outcome) per run started.
    runs: list[tuple[str, RunOutcome]] = field(default_factory=list)
    #: Entries settled per tenant.
    drained: dict[str, int] = field(default_factory=dict)
    #: Tenants with work that another worker was busy with.
    busy: list[str] = field(default_factory=list)
    #: Rows purged (``None`` when no purge was due).
    purged: int | None = None


@dataclass(frozen=True, kw_only=True)
class WorkerConfig:
    """The loop's knobs."""

    #: Seconds between passes when nothing wakes the loop earlier.
    tick_seconds: float = 5.0
    #: Lifetime of the tenant lease between renewals.
    lease_ttl: timedelta = DEFAULT_LEASE_TTL
    #: How often the purge runs (installation-wide).
    purge_every: timedelta = timedelta(hours=1)


class Worker:
    """Runs scheduled syncs and drains pushed changes until stopped.

    Args:
        session_factory: opens the worker's own short transactions.
        load_schedule: reads a tenant's schedule from its sync settings.
        start_run: runs one scheduled sync of a tenant to its end.
        drain: applies a tenant's pending pushed entries.
        purge: deletes expired rows (audit retention, settled inbox entries).
        clock: the time source (aware UTC).
        holder: this worker's name in leases (default: host, pid, random).
        config: intervals.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        load_schedule: LoadSchedule,
        start_run: StartRun,
        drain: Drain,
        purge: Purge,
        clock: Callable[[], datetime] = utcnow,
        holder: str | None = None,
        config: WorkerConfig | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.load_schedule = load_schedule
        self.start_run = start_run
        self.drain = drain
        self.purge = purge
        self.clock = clock
        self.holder = holder or worker_identity()
        self.config = config or WorkerConfig()
        self._wake = threading.Event()
        self._stop = threading.Event()

    # --- control ------------------------------------------------------------------------

    def wake(self) -> None:
        """Start the next pass now (e.g. pushed entries just arrived)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the work in hand, then leave :meth:`run_forever`."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def run_forever(self) -> None:
        """Pass after pass until :meth:`stop`; a failing pass is logged, not fatal."""
        log.info("worker.started", holder=self.holder)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("worker.pass_failed")
            self._wake.wait(self.config.tick_seconds)
        log.info("worker.stopped", holder=self.holder)

    # --- one pass -----------------------------------------------------------------------

    def run_once(self) -> TickReport:
        """One pass over every schedulable tenant, then the purge if it is due."""
        report = TickReport()
        with self.session_factory() as session:
            tenant_ids = repo.schedulable_tenant_ids(session)
        for tenant_id in tenant_ids:
            if self._stop.is_set():
                break
            try:
                self._serve_tenant(tenant_id, report)
            except Exception:
                # One tenant's failure must not starve the others.
                log.exception("worker.tenant_failed", tenant_id=tenant_id)
        if not self._stop.is_set():
            report.purged = self._purge_if_due()
        return report

    def _plan(self, tenant_id: str) -> tuple[bool, bool]:
        """(a scheduled run is due, pushed entries wait to be drained now)."""
        now = self.clock()
        with self.session_factory.begin() as session:
            schedule = self.load_schedule(session, tenant_id)
            row = repo.get_or_add_schedule(session, tenant_id=tenant_id, now=now)
            held = repo.sync_held_until(session, tenant_id)
            if held is not None and held > now:
                # The engine said wait (Salesforce's rate limit, the API budget): a run
                # now would only end paused again. The first tick after it resumes.
                return False, False
            due = is_run_due(
                schedule,
                last_started_at=row.last_started_at,
                first_seen_at=row.first_seen_at,
                now=now,
            )
            waiting = schedule.drains_push_continuously and bool(
                inbox_repo.due_entries(session, tenant_id=tenant_id, now=now, limit=1)
            )
        return due, waiting

    def _serve_tenant(self, tenant_id: str, report: TickReport) -> None:
        due, waiting = self._plan(tenant_id)
        if not (due or waiting):
            return
        with holding_lease(
            self.session_factory,
            name=tenant_lease_name(tenant_id),
            holder=self.holder,
            clock=self.clock,
            ttl=self.config.lease_ttl,
        ) as held:
            if not held:
                report.busy.append(tenant_id)
                return
            # Another worker may have run it between our look and our lease.
            due, _ = self._plan(tenant_id)
            settled = self.drain(tenant_id)
            if settled:
                report.drained[tenant_id] = settled
            if due and not self._stop.is_set():
                report.runs.append((tenant_id, self._scheduled_run(tenant_id)))

    def _scheduled_run(self, tenant_id: str) -> RunOutcome:
        started = self.clock()
        with self.session_factory.begin() as session:
            row = repo.get_or_add_schedule(session, tenant_id=tenant_id, now=started)
            row.last_started_at = started
            row.updated_at = started
        try:
            outcome = self.start_run(tenant_id)
        except Exception as exc:
            log.exception("worker.run_failed", tenant_id=tenant_id)
            outcome = RunOutcome(run_id=None, status="error", error=str(exc)[:2000])
        finished = self.clock()
        with self.session_factory.begin() as session:
            row = repo.get_or_add_schedule(session, tenant_id=tenant_id, now=finished)
            row.last_run_id = outcome.run_id
            row.last_finished_at = finished
            row.last_status = outcome.status[:20]
            row.last_error = outcome.error
            row.updated_at = finished
        log.info(
            "worker.scheduled_run",
            tenant_id=tenant_id,
            run_id=outcome.run_id,
            status=outcome.status,
        )
        return outcome

    def _purge_if_due(self) -> int | None:
        # The purge lease is taken and kept until it expires: whichever worker gets it
        # purges, and nobody purges again before ``purge_every`` has passed.
        if not try_acquire(
            self.session_factory,
            name=PURGE_LEASE,
            # A holder name of its own per attempt: not even this worker re-enters it.
            holder=f"{self.holder}:purge:{secrets.token_hex(4)}",
            clock=self.clock,
            ttl=self.config.purge_every,
        ):
            return None
        try:
            return self.purge(self.clock())
        except Exception:
            log.exception("worker.purge_failed")
            return None
