"""Sync runs (R-O2, R-O5): what was asked, what happened, and the one entry point.

:func:`run_sync` is what the CLI, the scheduler, the API and the demo call: it creates
a run row, runs inbound (parents first) then outbound for the selected mappings, and
finishes the run with its status and counts. :func:`enqueue_run` /
:func:`execute_run` split the same work in two for callers that answer first and run
later (the API starts runs in the background).

A run ends ``succeeded``, ``partially_failed`` (some records or mappings failed),
``failed`` (nothing could be done: not connected, another run active, a bug), or
``paused`` (the connection needs re-authorization, the API budget or Salesforce's rate
limit says wait: ``resume_at`` says until when; the next scheduled run after it resumes
by itself).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.domain.sync import Direction, Urgency
from crmbridge.services.errors import Conflict, ServiceError
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_runs as runs_repo
from crmbridge.store.sync_models import SyncRun
from crmbridge.sync.context import RunOptions
from crmbridge.sync.tracker import ProgressCallback

log = structlog.get_logger(__name__)

#: A running run whose heartbeat is older than this died (its process was killed).
STALE_AFTER = timedelta(minutes=10)
#: Records per object a test run syncs at most (R-O3, seed 002).
TEST_RUN_LIMIT = 25


class RunKind(enum.StrEnum):
    """What started a run and what it covers (R-O2, R-O3)."""

    #: The schedule (real-time, hourly, daily): incremental, routine budget.
    SCHEDULED = "scheduled"
    #: "Sync now": incremental.
    NOW = "now"
    #: Full resync: every Salesforce record and every platform record.
    FULL = "full"
    #: Changes in a date range.
    RANGE = "range"
    #: Named records only (platform or Salesforce ids); urgent budget.
    SPECIFIC = "specific"
    #: At most 25 records per object, most recently edited first, watermarks untouched.
    TEST_RUN = "test_run"


class RunRefused(Conflict):
    """The run cannot start (another run of the tenant is active)."""


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """What a run should do.

    Attributes mirror the API body of ``POST /api/v1/sync/runs``.
    """

    #: The kind of run.
    kind: RunKind = RunKind.NOW
    #: Mapping ids, Salesforce object names or platform entity names; empty: all enabled.
    objects: tuple[str, ...] = ()
    #: Only this direction (``to_salesforce`` = outbound only, ``from_salesforce`` =
    #: inbound only); ``None``: as the mappings and settings say.
    direction: Direction | None = None
    #: Range start (inclusive) and end (exclusive), for ``RANGE``.
    start: datetime | None = None
    end: datetime | None = None
    #: Platform record ids, for ``SPECIFIC``.
    platform_ids: tuple[str, ...] = ()
    #: Salesforce record ids, for ``SPECIFIC``.
    salesforce_ids: tuple[str, ...] = ()
    #: ``schedule``, ``api``, ``cli``, ``push``, ``demo``.
    trigger: str = "api"
    #: Who asked (audit label).
    requested_by: str = ""

    def __post_init__(self) -> None:
        # Plain strings are accepted for the enums (``kind="full"``).
        object.__setattr__(self, "kind", RunKind(self.kind))
        if self.direction is not None:
            object.__setattr__(self, "direction", Direction(self.direction))
        if self.kind is RunKind.RANGE and (self.start is None or self.end is None):
            raise ValueError("a range run needs a start and an end")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("the range must end after it starts")
        if self.kind is RunKind.SPECIFIC and not (self.platform_ids or self.salesforce_ids):
            raise ValueError("a run of specific records needs platform or Salesforce ids")

    @property
    def urgency(self) -> Urgency:
        """Specific records and test runs are for a person waiting: urgent budget."""
        return (
            Urgency.URGENT if self.kind in (RunKind.SPECIFIC, RunKind.TEST_RUN) else Urgency.ROUTINE
        )

    def to_json(self) -> dict[str, Any]:
        """The run row's ``request`` document."""
        return {
            "kind": self.kind.value,
            "objects": list(self.objects),
            "direction": self.direction.value if self.direction else None,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "platform_ids": list(self.platform_ids),
            "salesforce_ids": list(self.salesforce_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, trigger: str, requested_by: str) -> RunRequest:
        """Read a request stored by :meth:`to_json`."""
        return cls(
            kind=RunKind(data.get("kind", "now")),
            objects=tuple(data.get("objects") or ()),
            direction=Direction(data["direction"]) if data.get("direction") else None,
            start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
            end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
            platform_ids=tuple(data.get("platform_ids") or ()),
            salesforce_ids=tuple(data.get("salesforce_ids") or ()),
            trigger=trigger,
            requested_by=requested_by,
        )


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    """How a run ended."""

    run_id: str
    status: str
    kind: str
    started_at: datetime | None
    finished_at: datetime | None
    #: Per ``"Object/direction"``: counts per outcome (created, updated, failed …).
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Why it failed, paused or partially failed (in words).
    error: str = ""
    #: For a paused run: when work may resume.
    resume_at: datetime | None = None
    #: Salesforce API calls made.
    api_calls: int = 0

    @property
    def ok(self) -> bool:
        """Whether everything synced."""
        return self.status == "succeeded"

    def total(self, outcome: str) -> int:
        """One outcome summed over every object and direction."""
        return sum(c.get(outcome, 0) for c in self.counts.values())


def summary_of(run: SyncRun) -> RunSummary:
    """The summary of a stored run."""
    counts: dict[str, dict[str, int]] = {}
    for stream in (run.progress or {}).get("streams", []):
        key = f"{stream['object']}/{stream['direction']}"
        counts[key] = {
            k: int(v)
            for k, v in stream.items()
            if k not in ("object", "direction", "total") and isinstance(v, int)
        }
    return RunSummary(
        run_id=run.id,
        status=run.status,
        kind=run.kind,
        started_at=run.started_at,
        finished_at=run.finished_at,
        counts=counts,
        error=run.error,
        resume_at=run.resume_at,
        api_calls=run.api_calls,
    )


def enqueue_run(session: Session, *, tenant_id: str, request: RunRequest) -> SyncRun:
    """Create a queued run in the caller's transaction (run it with :func:`execute_run`)."""
    run = SyncRun(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        kind=request.kind.value,
        status="queued",
        trigger=request.trigger[:20],
        requested_by=request.requested_by[:254],
        request=request.to_json(),
        mapping_versions={},
        progress={},
        api_calls=0,
        error="",
        cancel_requested=False,
        created_at=utcnow(),
    )
    return runs_repo.add_run(session, run)


def run_sync(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    *,
    request: RunRequest,
    progress: ProgressCallback | None = None,
    options: RunOptions | None = None,
) -> RunSummary:
    """Run a sync for one tenant now and return how it ended.

    Args:
        session_factory: opens the run's short transactions (never one long one).
        settings: the process settings (Salesforce CA, secrets).
        tenant_id: the tenant.
        request: what to sync (:class:`RunRequest`).
        progress: called with a :class:`~crmbridge.sync.tracker.ProgressSnapshot` as the
            run advances (the CLI's progress bar).
        options: clock, sleep, randomness and page sizes (tests change them).

    Returns:
        The run's summary; the run row holds the same and more.
    """
    with session_factory.begin() as session:
        run = enqueue_run(session, tenant_id=tenant_id, request=request)
        run_id = run.id
    return execute_run(
        session_factory, settings, tenant_id, run_id=run_id, progress=progress, options=options
    )


def execute_run(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    *,
    run_id: str,
    progress: ProgressCallback | None = None,
    options: RunOptions | None = None,
) -> RunSummary:
    """Run a queued run (see :func:`run_sync`); a run that is not queued is left alone."""
    from crmbridge.sync.executor import RunExecutor

    options = options or RunOptions()
    try:
        claimed = _claim(session_factory, tenant_id, run_id, now=options.clock())
    except RunRefused as refused:
        return _finish_refused(session_factory, tenant_id, run_id, str(refused))
    if claimed is None:
        with session_factory() as session:
            stored = runs_repo.get_run(session, tenant_id=tenant_id, run_id=run_id)
            if stored is None:
                raise ServiceError("No run with this id.")
            return summary_of(stored)
    executor = RunExecutor(
        session_factory,
        settings,
        tenant_id,
        run_id=run_id,
        request=claimed,
        progress=progress,
        options=options,
    )
    return executor.execute()


def _claim(
    session_factory: sessionmaker[Session], tenant_id: str, run_id: str, *, now: datetime
) -> RunRequest | None:
    """Mark the run running, unless another run of the tenant is running."""
    from crmbridge.store.repositories import sync_state as state_repo

    with session_factory.begin() as session:
        # Lock the tenant's sync row first: two workers claiming at once serialize here.
        row = state_repo.tenant_state(session, tenant_id=tenant_id, lock=True)
        row.updated_at = utcnow()
        session.flush()
        run = runs_repo.get_run(session, tenant_id=tenant_id, run_id=run_id)
        if run is None or run.status != "queued":
            return None
        for other in runs_repo.active_runs(session, tenant_id=tenant_id):
            if other.id == run.id or other.status != "running":
                continue
            beat = other.heartbeat_at or other.started_at or other.created_at
            if now - beat > STALE_AFTER:
                other.status = "failed"
                other.error = "The run stopped without finishing (its process ended)."
                other.finished_at = now
                continue
            raise RunRefused("Another sync run of this tenant is running; try again when it ends.")
        run.status = "running"
        run.started_at = now
        run.heartbeat_at = now
        return RunRequest.from_json(
            dict(run.request), trigger=run.trigger, requested_by=run.requested_by
        )


def _finish_refused(
    session_factory: sessionmaker[Session], tenant_id: str, run_id: str, reason: str
) -> RunSummary:
    with session_factory.begin() as session:
        run = runs_repo.get_run(session, tenant_id=tenant_id, run_id=run_id)
        if run is None:
            raise ServiceError("No run with this id.")
        run.status = "failed"
        run.error = reason
        run.finished_at = utcnow()
        return summary_of(run)


def cancel_run(session: Session, *, tenant_id: str, run_id: str) -> SyncRun:
    """Ask a run to stop: a queued run ends at once, a running one at its next step.

    Raises:
        crmbridge.services.errors.NotFound: no such run for this tenant.
        Conflict: the run has already ended.
    """
    from crmbridge.services.errors import NotFound

    run = runs_repo.get_run(session, tenant_id=tenant_id, run_id=run_id)
    if run is None:
        raise NotFound("No run with this id.")
    if run.status not in runs_repo.ACTIVE_STATUSES:
        raise Conflict(f"The run has already ended ({run.status}).")
    run.cancel_requested = True
    if run.status == "queued":
        run.status = "failed"
        run.error = "Cancelled before it started."
        run.finished_at = utcnow()
    session.flush()
    return run


def select_mappings(runs: Sequence[Any], objects: Sequence[str]) -> list[Any]:
    """The mapping runs named by id, Salesforce object or platform entity (all: empty)."""
    if not objects:
        return list(runs)
    wanted = {o.lower() for o in objects}
    return [
        r
        for r in runs
        if r.id.lower() in wanted or r.sobject.lower() in wanted or r.entity_name.lower() in wanted
    ]
