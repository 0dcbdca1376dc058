"""The worker's tasks: thin calls into the sync engine and the push processor.

:func:`build_worker` wires a :class:`~crmbridge.worker.loop.Worker` to them;
``crmbridge worker``, ``crmbridge serve --with-worker`` and ``crmbridge demo`` use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.push.processing import drain_inbox
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import inbox as inbox_repo
from crmbridge.store.repositories import tenants as tenants_repo
from crmbridge.sync.audit import purge_sync_records
from crmbridge.sync.runs import RunKind, RunRequest, run_sync
from crmbridge.sync.settings import load_sync_settings
from crmbridge.worker.loop import RunOutcome, Worker, WorkerConfig
from crmbridge.worker.schedule import Frequency, Schedule

log = structlog.get_logger(__name__)

#: Processed and skipped inbox entries are kept this long (Salesforce redelivers an
#: Outbound Message for up to 24 hours; a week leaves room to look at them).
INBOX_RETENTION = timedelta(days=7)


def schedule_of(session: Session, tenant_id: str) -> Schedule:
    """The tenant's schedule, from its sync settings (R-O1)."""
    settings = load_sync_settings(session, tenant_id=tenant_id)
    return Schedule(
        frequency=Frequency(settings.frequency.value),
        daily_at=settings.daily_at,
        timezone=settings.time_zone,
    )


def build_worker(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    config: WorkerConfig | None = None,
    holder: str | None = None,
) -> Worker:
    """A worker running the real tasks against ``session_factory``'s database."""

    def start_run(tenant_id: str) -> RunOutcome:
        summary = run_sync(
            session_factory,
            settings,
            tenant_id,
            request=RunRequest(
                kind=RunKind.SCHEDULED, trigger="schedule", requested_by="scheduler"
            ),
        )
        return RunOutcome(run_id=summary.run_id, status=summary.status, error=summary.error)

    def drain(tenant_id: str) -> int:
        return drain_inbox(session_factory, settings, tenant_id, clock=clock).settled

    def purge(now: datetime) -> int:
        total = 0
        with session_factory() as session:
            tenant_ids = [t.id for t in tenants_repo.list_tenants(session)]
        for tenant_id in tenant_ids:
            total += purge_sync_records(session_factory, tenant_id=tenant_id, now=now)
        with session_factory.begin() as session:
            total += inbox_repo.purge_settled_entries(
                session, received_before=now - INBOX_RETENTION
            )
        log.info("worker.purged", rows=total)
        return total

    return Worker(
        session_factory,
        load_schedule=schedule_of,
        start_run=start_run,
        drain=drain,
        purge=purge,
        clock=clock,
        holder=holder,
        config=config,
    )


def start_worker_thread(worker: Worker) -> threading.Thread:
    """Run ``worker`` in a daemon thread (``serve --with-worker``, the demo)."""
    thread = threading.Thread(target=worker.run_forever, name="crmbridge-worker", daemon=True)
    thread.start()
    return thread
