"""Draining a tenant's inbox through the sync engine (R-S2, seed 003 "Sales Receiver").

Entries are taken in arrival order. Those of objects no enabled mapping reads from
Salesforce are ``skipped`` with the reason. Then, through the engine's own inbound
path (the same merge, state and audit as a polled record, so push and poll can never
disagree):

- **webhook records with ``Id`` and ``SystemModstamp``** (signed by the tenant's
  secret, typed JSON as Apex and Flow serialize records) are applied as they came,
  with :func:`crmbridge.sync.push.apply_inbound_records`, in ONE transaction with the
  entries' new status; fields a record does not carry count as unchanged;
- **everything else** (every Outbound Message, ids-only webhooks, records without
  ``SystemModstamp``) becomes ONE sync run: ``specific`` Salesforce ids, inbound
  only, trigger ``push``; the engine reads each record again by id (deleted ones
  too, through ``queryAll``) with every field its mappings need.

Why Outbound Messages are re-read rather than applied as sent: a notification carries
only the fields its rule names, of the object itself (no ``Account.Name`` behind a
Contact's lookup, often no ``SystemModstamp``), its values are untyped text, and it
is authenticated by the URL alone; re-reading with crmbridge's own session applies
Salesforce's current data and nothing else. It costs one query per 200 records of
an object.

Idempotence: the engine applies a Salesforce version once (the pair keeps the newest
``SystemModstamp`` applied, and merging a version already merged changes nothing), so
a notification delivered twice, two rules announcing one change, or an entry
processed again after a crash apply once.

Outcomes per entry: ``processed`` (with the run id), ``failed`` (held with the
engine's reason until an admin retries it), or still ``pending`` with a later
``next_attempt_at`` when the run could not work now (connection paused, rate limit,
another run in progress); after :data:`MAX_ATTEMPTS` such tries it is ``failed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections import sync_gate
from crmbridge.domain.sync import Direction, Side
from crmbridge.mappings.service import ActiveMapping, load_enabled_mappings
from crmbridge.store.db import utcnow
from crmbridge.store.push_models import InboxEntry
from crmbridge.store.repositories import inbox as repo
from crmbridge.store.repositories import sync_records as records_repo
from crmbridge.store.sync_models import SyncRecord
from crmbridge.sync.push import apply_inbound_records
from crmbridge.sync.runs import RunKind, RunRequest, RunSummary, run_sync
from crmbridge.sync.settings import load_sync_settings

log = structlog.get_logger(__name__)

#: Entries one drain takes at most (the rest wait for the next pass).
DRAIN_BATCH = 1000
#: Tries of an entry whose run could not work before it is held as failed.
MAX_ATTEMPTS = 10
#: Wait before retrying an entry whose run could not work: doubling from here...
RETRY_BASE = timedelta(seconds=30)
#: ...up to this.
RETRY_MAX = timedelta(minutes=30)

#: Runs one ``specific`` sync (``run_sync`` bound to the session factory and settings).
StartRun = Callable[[str, RunRequest], RunSummary]


@dataclass
class DrainReport:
    """What one drain did with the entries it took."""

    processed: int = 0
    failed: int = 0
    skipped: int = 0
    #: Left pending for a later try.
    deferred: int = 0
    run_id: str | None = None

    @property
    def settled(self) -> int:
        """Entries that left the pending state."""
        return self.processed + self.failed + self.skipped


def drain_inbox(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    batch: int = DRAIN_BATCH,
    start_run: StartRun | None = None,
) -> DrainReport:
    """Apply a tenant's due inbox entries, oldest first (see the module's docstring).

    Args:
        session_factory: opens short transactions (the run opens its own).
        settings: the process settings (for the Salesforce client).
        tenant_id: the tenant.
        clock: the time source.
        batch: entries taken at most.
        start_run: runs the sync (default: :func:`crmbridge.sync.runs.run_sync`).

    Returns:
        Counts of what happened to the entries taken. Nothing is taken while the
        tenant may not sync (not connected, paused): the entries wait.
    """
    run = start_run or _default_start_run(session_factory, settings)
    now = clock()
    with session_factory() as session:
        entries = repo.due_entries(session, tenant_id=tenant_id, now=now, limit=batch)
        if not entries:
            return DrainReport()
        if not sync_gate(session, tenant_id).may_sync:
            return DrainReport(deferred=len(entries))
        readable = _mappings_reading(session, tenant_id)
    report = DrainReport()
    take = [e for e in entries if e.sobject.lower() in readable]
    skip = [e for e in entries if e.sobject.lower() not in readable]
    if skip:
        _settle(
            session_factory,
            skip,
            status="skipped",
            now=now,
            category="configuration",
            message="No enabled mapping reads this object from Salesforce (or the tenant's "
            "sync direction is platform → Salesforce only); nothing to apply.",
        )
        report.skipped = len(skip)
    direct = [e for e in take if _complete_webhook_record(e, readable[e.sobject.lower()])]
    if direct:
        try:
            processed, failed, to_fetch = _apply_as_sent(
                session_factory, tenant_id, direct, readable, now=now
            )
        except Exception as exc:
            # Nothing was applied (one transaction); the entries are tried again later
            # and held once their tries are used up, so one bad record cannot block.
            log.exception("push.apply_failed", tenant_id=tenant_id)
            deferred, failed = _defer(session_factory, direct, now=now, reason=str(exc))
            report.deferred += deferred
            processed, to_fetch = 0, set()
        report.processed += processed
        report.failed += failed
        take = [e for e in take if e not in direct or e.id in to_fetch]
    if not take:
        return report
    ids = list(dict.fromkeys(e.salesforce_id for e in take))
    objects = tuple(
        sorted({m.mapping.salesforce_object for e in take for m in readable[e.sobject.lower()]})
    )
    request = RunRequest(
        kind=RunKind.SPECIFIC,
        objects=objects,
        salesforce_ids=tuple(ids),
        direction=Direction.FROM_SALESFORCE,
        trigger="push",
        requested_by="push",
    )
    try:
        summary = run(tenant_id, request)
    except Exception as exc:
        log.exception("push.drain_run_failed", tenant_id=tenant_id)
        deferred, failed = _defer(session_factory, take, now=now, reason=str(exc))
        report.deferred += deferred
        report.failed += failed
        return report
    report.run_id = summary.run_id
    if summary.status == "paused" or summary.status == "failed":
        reason = summary.error or f"The sync run ended {summary.status}."
        deferred, failed = _defer(
            session_factory, take, now=now, reason=reason, resume_at=summary.resume_at
        )
        report.deferred += deferred
        report.failed += failed
    else:
        processed, failed = _record_outcomes(session_factory, tenant_id, take, summary, now=now)
        report.processed += processed
        report.failed += failed
    log.info(
        "push.drained",
        tenant_id=tenant_id,
        run_id=summary.run_id,
        status=summary.status,
        processed=report.processed,
        failed=report.failed,
        skipped=report.skipped,
        deferred=report.deferred,
    )
    return report


def _default_start_run(session_factory: sessionmaker[Session], settings: Settings) -> StartRun:
    def start(tenant_id: str, request: RunRequest) -> RunSummary:
        return run_sync(session_factory, settings, tenant_id, request=request)

    return start


def _mappings_reading(session: Session, tenant_id: str) -> dict[str, list[ActiveMapping]]:
    """Lower-cased object name → the enabled mappings that read it from Salesforce."""
    if not load_sync_settings(session, tenant_id=tenant_id).direction.flows_from(Side.SALESFORCE):
        return {}
    found: dict[str, list[ActiveMapping]] = {}
    for active in load_enabled_mappings(session, tenant_id=tenant_id):
        if active.mapping.direction.inbound:
            found.setdefault(active.mapping.salesforce_object.lower(), []).append(active)
    return found


def _complete_webhook_record(entry: InboxEntry, mappings: Sequence[ActiveMapping]) -> bool:
    """A signed webhook record the engine can apply without reading Salesforce.

    It needs ``Id`` and ``SystemModstamp``, every field that decides whether the
    record belongs to a mapping at all (the Salesforce filter, the external id), and
    every parent field a mapping reads (``Account.Name`` behind ``AccountId``): judged
    without them, a record could look like it left the filter (and be archived as if
    deleted), or its lookups could not be resolved. Other missing fields count as
    unchanged.
    """
    fields = entry.fields or {}
    if entry.source != "webhook" or not fields.get("Id") or not fields.get("SystemModstamp"):
        return False
    for active in mappings:
        mapping = active.mapping
        needed = {name for name in mapping.salesforce_read_fields() if "." in name}
        if mapping.salesforce_filter is not None:
            needed |= set(mapping.salesforce_filter.fields())
        if mapping.external_id_field:
            needed.add(mapping.external_id_field)
        if not all(_carries(fields, path) for path in needed):
            return False
    return True


def _carries(record: Mapping[str, Any], path: str) -> bool:
    """Whether ``record`` holds ``path`` (``Account.Owner.Name``), names ignoring case;
    a null parent counts as carried (there is nothing behind it)."""
    node: Any = record
    for part in path.split("."):
        if node is None:
            return True
        if not isinstance(node, Mapping):
            return False
        match = next((key for key in node if key.lower() == part.lower()), None)
        if match is None:
            return False
        node = node[match]
    return True


def _apply_as_sent(
    session_factory: sessionmaker[Session],
    tenant_id: str,
    entries: Sequence[InboxEntry],
    readable: dict[str, list[ActiveMapping]],
    *,
    now: datetime,
) -> tuple[int, int, set[int]]:
    """Apply complete webhook records and settle their entries in ONE transaction.

    Returns:
        (processed, failed, ids of entries the engine wants read from Salesforce).
    """
    run_id = str(uuid.uuid4())
    to_fetch: set[int] = set()
    processed = failed = 0
    with session_factory.begin() as session:
        by_object: dict[str, list[InboxEntry]] = {}
        for entry in entries:
            by_object.setdefault(entry.sobject.lower(), []).append(entry)
        for sobject, group in by_object.items():
            records = [dict(entry.fields) for entry in group]
            for active in readable[sobject]:
                result = apply_inbound_records(
                    session,
                    tenant_id=tenant_id,
                    mapping=active,
                    records=records,
                    run_id=run_id,
                    source_label="webhook",
                    now=now,
                )
                missing = set(result.needs_fetch)
                to_fetch |= {e.id for e in group if e.salesforce_id in missing}
        failures = _failed_records(session, tenant_id, run_id)
        for entry in entries:
            row = session.get(InboxEntry, entry.id)
            if row is None or row.status != "pending" or entry.id in to_fetch:
                continue
            failure = failures.get(entry.salesforce_id)
            row.status = "failed" if failure else "processed"
            row.attempts += 1
            row.processed_at = now
            row.next_attempt_at = None
            row.run_id = run_id
            row.error_category = failure.error_category[:30] if failure else ""
            row.error_message = failure.error_message if failure else ""
            failed += 1 if failure else 0
            processed += 0 if failure else 1
    return processed, failed, to_fetch


def _failed_records(session: Session, tenant_id: str, run_id: str) -> dict[str, SyncRecord]:
    """Salesforce id → the audit row of a record that failed in the run."""
    return {
        record.salesforce_id: record
        for record in records_repo.list_records(
            session,
            tenant_id=tenant_id,
            run_id=run_id,
            direction="inbound",
            outcome="failed",
            limit=10_000,
        )
        if record.salesforce_id
    }


def _settle(
    session_factory: sessionmaker[Session],
    entries: Sequence[InboxEntry],
    *,
    status: str,
    now: datetime,
    run_id: str | None = None,
    category: str = "",
    message: str = "",
) -> None:
    with session_factory.begin() as session:
        for entry in entries:
            row = session.get(InboxEntry, entry.id)
            if row is None or row.status != "pending":
                continue  # an admin or another drain settled it meanwhile
            row.status = status
            row.attempts += 1
            row.processed_at = now
            row.next_attempt_at = None
            row.run_id = run_id
            row.error_category = category[:30]
            row.error_message = message


def _defer(
    session_factory: sessionmaker[Session],
    entries: Sequence[InboxEntry],
    *,
    now: datetime,
    reason: str,
    resume_at: datetime | None = None,
) -> tuple[int, int]:
    """Leave entries pending for a later try, or hold them once tries are used up."""
    deferred = failed = 0
    with session_factory.begin() as session:
        for entry in entries:
            row = session.get(InboxEntry, entry.id)
            if row is None or row.status != "pending":
                continue
            row.attempts += 1
            row.error_message = reason
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                row.error_category = "retries_exhausted"
                row.processed_at = now
                row.next_attempt_at = None
                failed += 1
                continue
            wait = min(RETRY_MAX, RETRY_BASE * 2 ** (row.attempts - 1))
            row.next_attempt_at = max(resume_at or now, now + wait)
            deferred += 1
    return deferred, failed


def _record_outcomes(
    session_factory: sessionmaker[Session],
    tenant_id: str,
    entries: Sequence[InboxEntry],
    summary: RunSummary,
    *,
    now: datetime,
) -> tuple[int, int]:
    """Entries whose record failed in the run are held with its reason; the rest processed."""
    with session_factory() as session:
        failures = _failed_records(session, tenant_id, summary.run_id)
    held = [e for e in entries if e.salesforce_id in failures]
    done = [e for e in entries if e.salesforce_id not in failures]
    # A run that partly failed without naming records (a mapping paused by a
    # configuration error) holds every entry it took, with the run's reason.
    if summary.status == "partially_failed" and not failures and summary.error:
        held, done = list(entries), []
    for entry in held:
        failure = failures.get(entry.salesforce_id)
        _settle(
            session_factory,
            [entry],
            status="failed",
            now=now,
            run_id=summary.run_id,
            category=failure.error_category if failure else "configuration",
            message=(failure.error_message if failure else summary.error) or "failed",
        )
    _settle(session_factory, done, status="processed", now=now, run_id=summary.run_id)
    return len(done), len(held)
