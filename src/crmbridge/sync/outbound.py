"""Outbound sync (R-S3, R-S6): the change log drives writes to Salesforce.

The tenant's cursor (``sync_tenant_state.outbound_seq``) says which change-log entries
are handled. A run reads the entries after it in chunks, folds them per record
(:func:`collapse_change_log`, which skips the engine's own writes: echo suppression),
and writes the records (:func:`crmbridge.sync.outbound_apply.write_items`); the cursor
moves only after the chunk's results are committed, so a crash re-reads the entries and
the merge against the pair's base makes a repeated write a no-op (or, before
Salesforce confirmed it, the same idempotent upsert).

Besides the change log, every run re-plans pairs whose Salesforce write was never
confirmed (``needs_outbound``: a crash, a link stamp planned by inbound) and failed
records whose retry time has come. A mapping's first run walks all its platform
records, so records made before the mapping existed are synced too.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crmbridge.domain.sync import (
    ChangeLogEntry,
    ChangeOperation,
    FlowDirection,
    collapse_change_log,
)
from crmbridge.store.models import ChangeLogEntry as ChangeLogRow
from crmbridge.store.repositories import change_log as change_log_repo
from crmbridge.store.repositories import sync_failures as failures_repo
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_platform
from crmbridge.store.repositories import sync_state as state_repo
from crmbridge.sync.context import MappingRun
from crmbridge.sync.outbound_apply import OutboundItem, write_items
from crmbridge.sync.run_state import RunState


class OutboundMode(enum.StrEnum):
    """Which platform records a run brings to Salesforce."""

    #: What changed since the cursor (plus unconfirmed pairs and due retries).
    CHANGES = "changes"
    #: Every platform record of the selected mappings.
    FULL = "full"
    #: Records changed in a date range.
    RANGE = "range"
    #: Named platform records.
    SPECIFIC = "specific"
    #: The most recently changed records, at most ``limit`` per mapping (test runs).
    LATEST = "latest"


@dataclass(frozen=True, kw_only=True)
class OutboundRequest:
    """What one run's outbound step writes."""

    mode: OutboundMode = OutboundMode.CHANGES
    start: datetime | None = None
    end: datetime | None = None
    platform_ids: tuple[str, ...] = ()
    limit: int | None = None
    #: Whether the change-log cursor may move (only when every mapping is selected).
    move_cursor: bool = True


def push_outbound(rs: RunState, request: OutboundRequest) -> None:
    """Bring the selected mappings' platform changes to Salesforce.

    Args:
        rs: the run.
        request: which records.
    """
    chunk = rs.options.outbound_chunk
    _write_pending(rs)
    outbound = [mr for mr in rs.selected if mr.outbound]
    if request.mode is OutboundMode.CHANGES:
        walked = _first_passes(rs, outbound, chunk)
        _follow_change_log(rs, outbound, move_cursor=request.move_cursor, walked=walked)
    elif request.mode is OutboundMode.SPECIFIC:
        _write_chunked(rs, _specific_items(rs, outbound, request.platform_ids))
    elif request.mode is OutboundMode.LATEST:
        for mr in outbound:
            with rs.session_factory() as session:
                ids = sync_platform.latest_record_ids(
                    session,
                    tenant_id=rs.tenant_id,
                    entity_type=mr.entity_name,
                    limit=request.limit or 25,
                )
            _write_chunked(rs, [OutboundItem(mapping_run=mr, platform_id=i) for i in ids])
    else:
        for mr in outbound:
            _walk_records(rs, mr, chunk, start=request.start, end=request.end)
    _retry_in_run(rs)


def _write_chunked(rs: RunState, items: Sequence[OutboundItem]) -> None:
    chunk = rs.options.outbound_chunk
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        for mr in {i.mapping_run.id: i.mapping_run for i in part}.values():
            n = sum(1 for i in part if i.mapping_run.id == mr.id)
            rs.tracker.add_total(mr.sobject, FlowDirection.OUTBOUND, n)
        write_items(rs, part)


def _write_pending(rs: RunState) -> None:
    """Write unconfirmed pairs and failed records due for a retry, mapping by mapping
    (parents first).

    Unconfirmed pairs are read a page of ids at a time after the last pair of the page
    before, so one run finishes them all (every link stamp of a 1,000,000-record initial
    sync) with memory for one page; a pair that fails again is not revisited in the run.
    """
    chunk = rs.options.outbound_chunk
    for mr in rs.selected:
        due, skip = _due_and_waiting(rs, mr)
        after: int | None = None
        while True:
            with rs.session_factory() as session:
                page = pairs_repo.platform_ids_needing_outbound(
                    session, tenant_id=rs.tenant_id, mapping_id=mr.id, limit=chunk, after=after
                )
            if not page:
                break
            after = page[-1][0]
            _write_chunked(
                rs,
                [
                    OutboundItem(mapping_run=mr, platform_id=platform_id)
                    for _, platform_id in page
                    if platform_id not in skip
                ],
            )
        _write_chunked(rs, _retry_items(mr, due))


def _retry_items(mr: MappingRun, due: set[str]) -> list[OutboundItem]:
    return [OutboundItem(mapping_run=mr, platform_id=pid, source="retry") for pid in sorted(due)]


def _due_and_waiting(rs: RunState, mr: MappingRun) -> tuple[set[str], set[str]]:
    """Failed records due for a retry now, and those plus the ones waiting for a later
    retry (backoff): neither is re-planned as an unconfirmed pair."""
    with rs.session_factory() as session:
        failures = failures_repo.due_failures(
            session,
            tenant_id=rs.tenant_id,
            mapping_id=mr.id,
            direction="outbound",
            now=rs.now(),
            limit=10_000,
        )
        due = {f.platform_id for f in failures if f.platform_id}
        waiting = failures_repo.scheduled_later(
            session, tenant_id=rs.tenant_id, mapping_id=mr.id, direction="outbound", now=rs.now()
        )
    return due, waiting | due


def _first_passes(rs: RunState, outbound: Sequence[MappingRun], chunk: int) -> dict[str, int]:
    """A mapping that never completed a run writes all its records once.

    Returns:
        For each mapping walked, the last change-log ``seq`` the walk covers (its
        entries need no second look in this run).
    """
    walked: dict[str, int] = {}
    for mr in outbound:
        with rs.session_factory() as session:
            stream = state_repo.get_stream(session, tenant_id=rs.tenant_id, mapping_id=mr.id)
            done = stream is not None and stream.last_success_at is not None
            latest = change_log_repo.latest_seq(session, rs.tenant_id)
        if not done:
            _walk_records(rs, mr, chunk)
            walked[mr.id] = latest
    return walked


def _walk_records(
    rs: RunState,
    mr: MappingRun,
    chunk: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> None:
    after: str | None = None
    while True:
        with rs.session_factory() as session:
            ids = sync_platform.record_ids_page(
                session,
                tenant_id=rs.tenant_id,
                entity_type=mr.entity_name,
                after_id=after,
                limit=chunk,
                updated_from=start,
                updated_before=end,
            )
        if not ids:
            return
        after = ids[-1]
        rs.tracker.doing(f"{mr.sobject}: checking {len(ids)} platform records")
        _write_chunked(rs, [OutboundItem(mapping_run=mr, platform_id=i) for i in ids])


def _follow_change_log(
    rs: RunState,
    outbound: Sequence[MappingRun],
    *,
    move_cursor: bool,
    walked: dict[str, int],
) -> None:
    by_entity: dict[str, list[MappingRun]] = {}
    for mr in outbound:
        by_entity.setdefault(mr.entity_name, []).append(mr)
    with rs.session_factory() as session:
        cursor = state_repo.tenant_state(session, tenant_id=rs.tenant_id).outbound_seq
    while True:
        with rs.session_factory() as session:
            rows = change_log_repo.read_changes(
                session, tenant_id=rs.tenant_id, after_seq=cursor, limit=rs.options.outbound_chunk
            )
            entries = [_entry(row) for row in rows]
            synced = _already_synced(session, rs, entries, by_entity)
        if not entries:
            return
        rs.tracker.doing(f"reading {len(entries)} platform changes")
        collapsed = collapse_change_log(entries, already_synced=synced, own_origins=(rs.run_id,))
        items = [
            OutboundItem(mapping_run=mr, platform_id=change.record_id, seqs=change.seqs)
            for change in collapsed.pending
            for mr in by_entity.get(change.entity_type, ())
            if change.seqs[-1] > walked.get(mr.id, 0)
        ]
        _write_chunked(rs, items)
        assert collapsed.last_seq is not None
        cursor = collapsed.last_seq
        if move_cursor:
            with rs.session_factory.begin() as session:
                state_repo.set_outbound_seq(session, tenant_id=rs.tenant_id, seq=cursor)


def _already_synced(
    session: object,
    rs: RunState,
    entries: Iterable[ChangeLogEntry],
    by_entity: dict[str, list[MappingRun]],
) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    ids: dict[str, set[str]] = {}
    for entry in entries:
        ids.setdefault(entry.entity_type, set()).add(entry.record_id)
    for entity, record_ids in ids.items():
        for mr in by_entity.get(entity, ()):
            paired = pairs_repo.paired_platform_ids(
                session,  # type: ignore[arg-type]
                tenant_id=rs.tenant_id,
                mapping_id=mr.id,
                platform_ids=record_ids,
            )
            found.update((entity, pid) for pid in paired)
    return found


def _entry(row: ChangeLogRow) -> ChangeLogEntry:
    return ChangeLogEntry(
        seq=row.seq,
        entity_type=row.entity_type,
        record_id=row.record_id,
        operation=ChangeOperation(row.operation),
        changed_fields=tuple(row.changed_fields),
        old_values=dict(row.old_values),
        new_values=dict(row.new_values),
        source=row.source,
        origin=row.origin,
        created_at=row.created_at,
    )


def _specific_items(
    rs: RunState, outbound: Sequence[MappingRun], platform_ids: Sequence[str]
) -> list[OutboundItem]:
    items: list[OutboundItem] = []
    with rs.session_factory() as session:
        for mr in outbound:
            found = sync_platform.records_by_ids(
                session, tenant_id=rs.tenant_id, entity_type=mr.entity_name, record_ids=platform_ids
            )
            items.extend(
                OutboundItem(mapping_run=mr, platform_id=pid, source="specific") for pid in found
            )
    return items


def _retry_in_run(rs: RunState) -> None:
    """Failed records due within a short window are retried before the run ends."""
    window = rs.options.in_run_retry_window
    for _ in range(rs.options.in_run_retry_rounds):
        soonest = _soonest_retry(rs)
        if soonest is None or soonest - rs.now() > window:
            return
        wait = (soonest - rs.now()).total_seconds()
        if wait > 0:
            rs.options.sleep(wait)
        items = [
            item for mr in rs.selected for item in _retry_items(mr, _due_and_waiting(rs, mr)[0])
        ]
        if not items:
            return
        _write_chunked(rs, items)


def _soonest_retry(rs: RunState) -> datetime | None:
    horizon = rs.now() + rs.options.in_run_retry_window + timedelta(seconds=1)
    soonest: datetime | None = None
    with rs.session_factory() as session:
        for mr in rs.selected:
            for failure in failures_repo.due_failures(
                session,
                tenant_id=rs.tenant_id,
                mapping_id=mr.id,
                direction="outbound",
                now=horizon,
                limit=1,
            ):
                if failure.next_retry_at and (soonest is None or failure.next_retry_at < soonest):
                    soonest = failure.next_retry_at
    return soonest
