"""One run from start to end: gate, mappings, inbound (parents first), outbound, finish.

Failures end the run by what they mean (R-S7, R-S8, R-A5): the API budget or
``REQUEST_LIMIT_EXCEEDED`` pause the tenant's sync until a time (the next scheduled run
after it resumes by itself); a connection that needs re-authorization pauses the run
(the connection factory already marked it and told the admins); a configuration error
pauses that mapping and the others go on; anything else fails the run with its message.
"""

from __future__ import annotations

import random
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections import open_salesforce_client, sync_gate
from crmbridge.connections.errors import NotConnected
from crmbridge.domain.errors import (
    ConfigurationError,
    CrmError,
    RateLimitError,
    ReauthorizationRequired,
)
from crmbridge.domain.sync import Direction, RetryStrategy
from crmbridge.mappings.service import load_enabled_mappings
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import salesforce_connections as connections_repo
from crmbridge.store.repositories import sync_runs as runs_repo
from crmbridge.store.repositories import sync_state as state_repo
from crmbridge.sync.context import MappingRun, RunOptions, build_mapping_runs
from crmbridge.sync.failures import pause_mapping
from crmbridge.sync.inbound import InboundMode, InboundRequest, apply_specific, poll_mapping
from crmbridge.sync.outbound import OutboundMode, OutboundRequest, push_outbound
from crmbridge.sync.run_state import BudgetPause, RunCancelled, RunState
from crmbridge.sync.runs import (
    TEST_RUN_LIMIT,
    RunKind,
    RunRequest,
    RunSummary,
    select_mappings,
    summary_of,
)
from crmbridge.sync.settings import load_sync_settings
from crmbridge.sync.tracker import ProgressCallback, RunTracker

log = structlog.get_logger(__name__)


class SyncPaused(Exception):
    """An admin paused the tenant's sync (R-O4); runs wait until it is resumed."""


class RunExecutor:
    """Executes one claimed run (see :func:`crmbridge.sync.runs.execute_run`)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        tenant_id: str,
        *,
        run_id: str,
        request: RunRequest,
        progress: ProgressCallback | None,
        options: RunOptions,
    ) -> None:
        self.factory = session_factory
        self.settings = settings
        self.tenant_id = tenant_id
        self.request = request
        self.options = options
        self.run_id = run_id
        self.tracker = RunTracker(
            run_id=self.run_id,
            tenant_id=tenant_id,
            session_factory=session_factory,
            clock=options.clock,
            callback=progress,
        )

    def execute(self) -> RunSummary:
        """Run it and store how it ended."""
        status, error, resume_at = "succeeded", "", None
        problems: list[str] = []
        try:
            problems = self._run()
        except BudgetPause as pause:
            status, error, resume_at = "paused", pause.reason, pause.resume_at
            self._hold(resume_at, pause.reason)
        except RateLimitError as exc:
            decision = RetryStrategy().get_retry_decision(
                exc, 1, now=self.options.clock(), rng=random.Random()
            )
            status, error, resume_at = "paused", f"{exc} {exc.advice}", decision.retry_at
            self._hold(resume_at, str(exc))
        except ReauthorizationRequired as exc:
            status, error = "paused", f"{exc.message} {exc.advice}"
        except SyncPaused as exc:
            status, error = "paused", str(exc)
        except NotConnected as exc:
            status, error = "failed", f"{exc.message} {exc.advice}"
        except RunCancelled:
            status, error = "failed", "Cancelled."
        except Exception as exc:
            log.exception("sync.run_failed", tenant_id=self.tenant_id, run_id=self.run_id)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        if status == "succeeded" and (problems or self.tracker.progress.failed):
            status = "partially_failed"
            failed = self.tracker.progress.failed
            notes = [*problems]
            if failed:
                notes.append(f"{failed} record(s) failed; see the sync log and dead letters")
            error = "; ".join(notes)
        return self._finish(status, error, resume_at)

    # --- the run ------------------------------------------------------------------------

    def _run(self) -> list[str]:
        now = self.options.clock()
        with self.factory() as session:
            gate = sync_gate(session, self.tenant_id)
            hold = state_repo.tenant_state(session, tenant_id=self.tenant_id)
            held_until, held_reason = hold.resume_at, hold.resume_reason
            sync_settings = load_sync_settings(session, tenant_id=self.tenant_id)
            active = load_enabled_mappings(session, tenant_id=self.tenant_id)
            paused = {
                s.mapping_id: s.paused_reason
                for s in state_repo.list_streams(session, tenant_id=self.tenant_id)
                if s.paused
            }
            connection = connections_repo.get_connection(session, self.tenant_id)
            usage = (
                (connection.api_usage_used, connection.api_usage_limit, connection.api_usage_at)
                if connection is not None
                else (None, None, None)
            )
        if not gate.may_sync:
            if connection is not None and connection.status == "needs_reauthorization":
                raise ReauthorizationRequired(gate.reason)
            if connection is not None and connection.status == "connected":
                raise SyncPaused(gate.reason or "The tenant's sync is paused.")
            raise NotConnected(gate.reason)
        if self.request.kind is RunKind.SCHEDULED and not gate.may_sync_automatically:
            raise NotConnected("Auto-sync is off for this tenant.")
        urgent = self.request.urgency.value == "urgent"
        if held_until is not None and held_until > now and not urgent:
            raise BudgetPause(held_reason or "Sync is paused.", held_until)
        all_runs = build_mapping_runs(active, sync_settings, now=now)
        selected = select_mappings(all_runs, self.request.objects)
        problems = [f"{r.label} is paused: {paused[r.id]}" for r in selected if r.id in paused]
        selected = [r for r in selected if r.id not in paused]
        self._record_versions(selected)
        with open_salesforce_client(
            self.factory, self.settings, self.tenant_id, retry=self.options.client_retry
        ) as client:
            rs = RunState(
                tenant_id=self.tenant_id,
                run_id=self.run_id,
                session_factory=self.factory,
                settings=sync_settings,
                options=self.options,
                client=client,
                tracker=self.tracker,
                mapping_runs=all_runs,
                selected=selected,
                urgency=self.request.urgency,
                started_at=now,
            )
            rs.remember_usage(*usage)
            try:
                self._inbound(rs)
                self._check_cancel()
                self._outbound(rs)
            finally:
                self.tracker.api_calls = client.usage.calls
            problems.extend(rs.problems)
        # Record-level failures are on the failure list; the mappings themselves finished.
        self._mark_streams_done([r for r in selected if r.id not in rs.unfinished])
        if self.request.kind in (RunKind.NOW, RunKind.SCHEDULED, RunKind.FULL):
            self._lift_hold()
        return problems

    def _inbound(self, rs: RunState) -> None:
        if self.request.direction is Direction.TO_SALESFORCE:
            return
        kind = self.request.kind
        for mr in rs.selected:
            if not mr.inbound:
                continue
            self._check_cancel()
            try:
                if kind is RunKind.SPECIFIC:
                    ids = _ids_for(mr, self.request.salesforce_ids)
                    if ids:
                        apply_specific(rs, mr, ids, source=_specific_source(self.request.trigger))
                    continue
                poll_mapping(rs, mr, self._inbound_request())
            except ConfigurationError as exc:
                self._pause(rs, mr, exc)
            except (RateLimitError, ReauthorizationRequired, BudgetPause, RunCancelled):
                raise
            except CrmError as exc:
                rs.problems.append(f"{mr.label} inbound: {exc}")
                rs.unfinished.add(mr.id)

    def _inbound_request(self) -> InboundRequest:
        kind = self.request.kind
        if kind is RunKind.FULL:
            return InboundRequest(mode=InboundMode.FULL)
        if kind is RunKind.RANGE:
            return InboundRequest(
                mode=InboundMode.RANGE, start=self.request.start, end=self.request.end
            )
        if kind is RunKind.TEST_RUN:
            return InboundRequest(mode=InboundMode.FULL, limit=TEST_RUN_LIMIT)
        return InboundRequest()

    def _outbound(self, rs: RunState) -> None:
        if self.request.direction is Direction.FROM_SALESFORCE:
            return
        kind = self.request.kind
        every_mapping = len(rs.selected) == len(rs.mapping_runs)
        if kind is RunKind.SPECIFIC:
            if not self.request.platform_ids:
                return
            request = OutboundRequest(
                mode=OutboundMode.SPECIFIC, platform_ids=self.request.platform_ids
            )
        elif kind is RunKind.FULL:
            request = OutboundRequest(mode=OutboundMode.FULL)
        elif kind is RunKind.RANGE:
            request = OutboundRequest(
                mode=OutboundMode.RANGE, start=self.request.start, end=self.request.end
            )
        elif kind is RunKind.TEST_RUN:
            request = OutboundRequest(mode=OutboundMode.LATEST, limit=TEST_RUN_LIMIT)
        else:
            request = OutboundRequest(mode=OutboundMode.CHANGES, move_cursor=every_mapping)
        try:
            push_outbound(rs, request)
        except ConfigurationError as exc:
            rs.problems.append(f"outbound: {exc}")
            rs.unfinished.update(r.id for r in rs.selected)

    # --- bookkeeping ---------------------------------------------------------------------

    def _pause(self, rs: RunState, mr: MappingRun, exc: ConfigurationError) -> None:
        with self.factory.begin() as session:
            pause_mapping(session, tenant_id=self.tenant_id, mapping_run=mr, reason=str(exc))
        rs.problems.append(f"{mr.label} paused: {exc} {exc.advice}")
        rs.unfinished.add(mr.id)

    def _check_cancel(self) -> None:
        if self.tracker.cancel_requested():
            raise RunCancelled()

    def _record_versions(self, selected: list[MappingRun]) -> None:
        with self.factory.begin() as session:
            run = runs_repo.get_run(session, tenant_id=self.tenant_id, run_id=self.run_id)
            if run is not None:
                run.mapping_versions = {r.id: r.active.version for r in selected}

    def _mark_streams_done(self, selected: list[MappingRun]) -> None:
        now = self.options.clock()
        with self.factory.begin() as session:
            for mr in selected:
                stream = state_repo.stream_for_update(
                    session,
                    tenant_id=self.tenant_id,
                    mapping_id=mr.id,
                    salesforce_object=mr.sobject,
                )
                stream.last_success_at = now
                stream.last_error = ""

    def _hold(self, resume_at: datetime | None, reason: str) -> None:
        with self.factory.begin() as session:
            state_repo.set_resume(
                session, tenant_id=self.tenant_id, resume_at=resume_at, reason=reason
            )

    def _lift_hold(self) -> None:
        with self.factory.begin() as session:
            row = state_repo.tenant_state(session, tenant_id=self.tenant_id)
            if row.resume_at is not None:
                state_repo.set_resume(session, tenant_id=self.tenant_id, resume_at=None)

    def _finish(self, status: str, error: str, resume_at: datetime | None) -> RunSummary:
        now = self.options.clock()
        self.tracker.report(force=True)
        with self.factory.begin() as session:
            run = runs_repo.get_run(session, tenant_id=self.tenant_id, run_id=self.run_id)
            assert run is not None
            run.status = status
            run.error = error
            run.resume_at = resume_at
            run.finished_at = max(now, utcnow()) if run.started_at is None else now
            run.progress = self.tracker.progress_json(now)
            run.api_calls = self.tracker.api_calls
            summary = summary_of(run)
        log.info(
            "sync.run_finished",
            tenant_id=self.tenant_id,
            run_id=self.run_id,
            status=status,
            api_calls=summary.api_calls,
        )
        return summary


def _ids_for(mr: MappingRun, salesforce_ids: tuple[str, ...]) -> list[str]:
    """The ids that can belong to the mapping's object (by the standard key prefix)."""
    from crmbridge.domain.mapping.transforms.related import STANDARD_KEY_PREFIXES

    prefix = STANDARD_KEY_PREFIXES.get(mr.sobject)
    if prefix is None:
        return list(salesforce_ids)
    return [i for i in salesforce_ids if i.startswith(prefix)]


def _specific_source(trigger: str) -> str:
    """How the sync log labels records fetched by id: pushed ones show as push."""
    return "push" if trigger == "push" else "specific"
