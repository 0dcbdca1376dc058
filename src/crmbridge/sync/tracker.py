"""Run accounting: counts per object and direction, progress (done / total, rate, ETA),
reported to a callback (the CLI's progress bar) and saved on the run row (the API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.domain.sync import FlowDirection, RunProgress
from crmbridge.store.repositories import sync_runs as runs_repo

#: Outcomes counted per stream.
OUTCOMES = ("created", "updated", "deleted", "linked", "unchanged", "held", "failed", "skipped")


@dataclass(frozen=True, kw_only=True)
class ProgressSnapshot:
    """What the progress callback receives."""

    #: The run's id.
    run_id: str
    #: The core's progress value (per stream done / failed / total).
    progress: RunProgress
    #: Counts per ``(object, direction)`` and outcome.
    counts: dict[tuple[str, str], dict[str, int]]
    #: What the run is doing now, in words ("Contact inbound, page 3").
    activity: str
    #: The time of the snapshot.
    at: datetime

    @property
    def rate(self) -> float | None:
        """Records per second since the start."""
        return self.progress.rate(self.at)

    @property
    def eta(self) -> datetime | None:
        """The predicted end, when the totals are known."""
        return self.progress.eta(self.at)


ProgressCallback = Callable[[ProgressSnapshot], None]


@dataclass
class RunTracker:
    """Mutable counts of one run (one thread uses it)."""

    run_id: str
    tenant_id: str
    session_factory: sessionmaker[Session]
    clock: Callable[[], datetime]
    callback: ProgressCallback | None = None
    progress: RunProgress = field(init=False)
    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    activity: str = ""
    api_calls: int = 0
    #: How often the run row is updated with progress (and its heartbeat).
    save_every: timedelta = timedelta(seconds=2)
    _saved_at: datetime | None = None

    def __post_init__(self) -> None:
        self.progress = RunProgress(started_at=self.clock())

    def set_total(self, sobject: str, direction: FlowDirection, total: int) -> None:
        """How many records a stream has to process (when known)."""
        current = self.progress.stream(sobject, direction)
        known = current.total or 0
        self.progress = self.progress.with_total(
            object=sobject, direction=direction, total=max(total, known), at=self.clock()
        )

    def add_total(self, sobject: str, direction: FlowDirection, more: int) -> None:
        """More records for a stream (outbound learns its total chunk by chunk)."""
        current = self.progress.stream(sobject, direction)
        self.progress = self.progress.with_total(
            object=sobject,
            direction=direction,
            total=(current.total or 0) + more,
            at=self.clock(),
        )

    def count(self, sobject: str, direction: FlowDirection, outcome: str, n: int = 1) -> None:
        """Count ``n`` records of a stream with ``outcome``."""
        if n <= 0:
            return
        stream = self.counts.setdefault((sobject, direction.value), dict.fromkeys(OUTCOMES, 0))
        stream[outcome] = stream.get(outcome, 0) + n
        failed = n if outcome == "failed" else 0
        self.progress = self.progress.record(
            object=sobject, direction=direction, done=n - failed, failed=failed, at=self.clock()
        )

    def doing(self, activity: str) -> None:
        """Say what the run does now and report."""
        self.activity = activity
        self.report()

    def report(self, *, force: bool = False) -> None:
        """Tell the callback, and save to the run row every ``save_every``."""
        now = self.clock()
        snapshot = ProgressSnapshot(
            run_id=self.run_id,
            progress=self.progress,
            counts={k: dict(v) for k, v in self.counts.items()},
            activity=self.activity,
            at=now,
        )
        if self.callback is not None:
            self.callback(snapshot)
        if force or self._saved_at is None or now - self._saved_at >= self.save_every:
            self._saved_at = now
            with self.session_factory.begin() as session:
                run = runs_repo.get_run(session, tenant_id=self.tenant_id, run_id=self.run_id)
                if run is not None:
                    run.progress = self.progress_json(now)
                    run.heartbeat_at = now
                    run.api_calls = self.api_calls

    def cancel_requested(self) -> bool:
        """Whether someone asked the run to stop."""
        with self.session_factory() as session:
            run = runs_repo.get_run(session, tenant_id=self.tenant_id, run_id=self.run_id)
            return bool(run is not None and run.cancel_requested)

    def progress_json(self, now: datetime) -> dict[str, Any]:
        """The run row's ``progress`` document."""
        eta = self.progress.eta(now)
        rate = self.progress.rate(now)
        return {
            "activity": self.activity,
            "done": self.progress.done,
            "failed": self.progress.failed,
            "total": self.progress.total,
            "fraction": self.progress.fraction,
            "rate_per_second": round(rate, 2) if rate is not None else None,
            "eta": eta.isoformat() if eta is not None else None,
            "streams": [
                {
                    "object": s.object,
                    "direction": s.direction.value,
                    "total": s.total,
                    "done": s.done,
                    "failed": s.failed,
                    **self.counts.get((s.object, s.direction.value), {}),
                }
                for s in self.progress.streams
            ],
        }
