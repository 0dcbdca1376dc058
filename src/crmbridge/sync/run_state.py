"""What inbound and outbound share during one run: the client, the clock, the budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.domain.sync import ApiUsageReading, CallCount, Urgency
from crmbridge.salesforce.client import SalesforceClient
from crmbridge.store.repositories import sync_runs as runs_repo
from crmbridge.store.statistics import StatisticsKeeper
from crmbridge.sync.context import MappingRun, RunOptions
from crmbridge.sync.settings import SyncSettings
from crmbridge.sync.tracker import RunTracker

#: How long a stored usage reading is trusted before the run's first call refreshes it.
USAGE_FRESH_FOR = timedelta(minutes=10)


class BudgetPause(Exception):
    """The API budget says stop; the run ends paused until ``resume_at``."""

    def __init__(self, reason: str, resume_at: datetime) -> None:
        super().__init__(reason)
        self.reason = reason
        self.resume_at = resume_at


class RunCancelled(Exception):
    """Someone asked the run to stop."""


@dataclass
class RunState:
    """The shared state of one run."""

    tenant_id: str
    run_id: str
    session_factory: sessionmaker[Session]
    settings: SyncSettings
    options: RunOptions
    client: SalesforceClient
    tracker: RunTracker
    #: Every enabled mapping of the tenant (for links between objects).
    mapping_runs: list[MappingRun]
    #: The mappings this run syncs, parents first.
    selected: list[MappingRun]
    urgency: Urgency = Urgency.ROUTINE
    #: A run that writes nothing and moves no watermark or cursor (R-O3 test runs).
    dry_watermarks: bool = False
    #: Problems that make the run partially failed (in words).
    problems: list[str] = field(default_factory=list)
    #: Mappings that did not finish this run (paused, or a call kept failing).
    unfinished: set[str] = field(default_factory=set)
    #: When the run started (by the run's clock): the watermark's signpost is based on it.
    started_at: datetime | None = None
    _stored_usage: ApiUsageReading | None = None
    _statistics: StatisticsKeeper | None = None

    def now(self) -> datetime:
        """The run's clock."""
        return self.options.clock()

    @property
    def statistics(self) -> StatisticsKeeper:
        """Keeps the planner's view of the tables this run fills current (PostgreSQL)."""
        if self._statistics is None:
            bind = self.session_factory.kw.get("bind")
            self._statistics = StatisticsKeeper(bind if isinstance(bind, Engine) else None)
        return self._statistics

    def mapping_ids_by_object(self) -> dict[str, list[str]]:
        """Enabled mapping ids per Salesforce object."""
        found: dict[str, list[str]] = {}
        for run in self.mapping_runs:
            found.setdefault(run.sobject, []).append(run.id)
        return found

    def runs_by_entity(self, *, selected_only: bool = True) -> dict[str, list[MappingRun]]:
        """Mappings per platform entity type."""
        found: dict[str, list[MappingRun]] = {}
        for run in self.selected if selected_only else self.mapping_runs:
            found.setdefault(run.entity_name, []).append(run)
        return found

    def remember_usage(self, used: int | None, limit: int | None, at: datetime | None) -> None:
        """The usage stored on the connection before the run (a first reading).

        A reading older than :data:`USAGE_FRESH_FOR` is not trusted: the window has moved
        on (or the quota was reset), and the run's first response brings a fresh one.
        """
        if used is not None and limit and at is not None and self.now() - at <= USAGE_FRESH_FOR:
            self._stored_usage = ApiUsageReading(used=used, limit=limit, observed_at=at)

    def check_budget(self, calls_needed: int = 1) -> None:
        """Stop (raise :class:`BudgetPause`) when the next calls would pass the budget.

        Raises:
            BudgetPause: routine work reached the configured share of the daily limit.
            RunCancelled: someone asked the run to stop.
        """
        self.tracker.api_calls = self.client.usage.calls
        usage = self.client.usage
        reading = self._stored_usage
        if usage.used is not None and usage.limit:
            reading = ApiUsageReading(
                used=usage.used, limit=usage.limit, observed_at=usage.last_success_at or self.now()
            )
        now = self.now()
        decision = self.settings.api_budget().decide(
            usage=reading,
            urgency=self.urgency,
            now=now,
            calls_needed=calls_needed,
            own_calls=self._own_calls(now),
        )
        if not decision.proceed:
            assert decision.resume_at is not None
            raise BudgetPause(decision.reason, decision.resume_at)

    def _own_calls(self, now: datetime) -> list[CallCount]:
        with self.session_factory() as session:
            runs = runs_repo.api_calls_since(
                session, tenant_id=self.tenant_id, since=now - timedelta(hours=24)
            )
        return [
            CallCount(at=run.started_at, calls=run.api_calls)
            for run in runs
            if run.started_at is not None
        ]
