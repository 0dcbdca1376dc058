"""Inbound sync (R-S1): poll Salesforce by ``SystemModstamp`` watermark and apply.

Per mapping whose direction reads from Salesforce: the pure core plans the query
(:func:`plan_inbound_query`: ``SystemModstamp >= bookmark - look-back``, ordered by
``SystemModstamp, Id``, through ``queryAll`` so deletions arrive); it is rendered with
the mapping's Salesforce filter through :mod:`crmbridge.salesforce.soql`; each page is
applied and the watermark advanced in ONE transaction, so a crash re-reads the page
and the per-pair ``salesforce_modstamp`` makes the re-read a no-op.

Records that stop passing the filter (``Movement_Exclude__c`` set to true) are read by a
second query (``NOT filter``) over the same window, before the main one, and treated
as deleted in Salesforce: the mapping's delete policy decides (R-F6).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crmbridge.connections.lifecycle import record_inbound_entry
from crmbridge.domain.sync import (
    FlowDirection,
    InboundQueryPlan,
    RecordKey,
    Watermark,
    advance_watermark,
    compute_signpost,
    is_formula_refresh_due,
    plan_inbound_query,
)
from crmbridge.salesforce import soql
from crmbridge.salesforce.client import COMPOSITE_QUERIES
from crmbridge.salesforce.filters import salesforce_condition
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_failures as failures_repo
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_reviews as reviews_repo
from crmbridge.store.repositories import sync_state as state_repo
from crmbridge.sync.canonical import parse_time
from crmbridge.sync.context import MappingRun, mapping_context
from crmbridge.sync.failures import ParentNotLinked
from crmbridge.sync.inbound_apply import InboundResult, InboundScope, apply_salesforce_records
from crmbridge.sync.run_state import RunState

#: Ids per ``Id IN (...)`` query.
ID_CHUNK = 200
#: Ids read again per composite call: five queries of ``ID_CHUNK`` ids (one API call).
FETCH_CHUNK = ID_CHUNK * COMPOSITE_QUERIES


class InboundMode(enum.StrEnum):
    """Which Salesforce changes a run reads."""

    #: Changes since the watermark (with the look-back).
    INCREMENTAL = "incremental"
    #: Everything, from the beginning (the watermark only moves forward).
    FULL = "full"
    #: Changes in a date range; the watermark is left alone (R-O2).
    RANGE = "range"


@dataclass(frozen=True, kw_only=True)
class InboundRequest:
    """What one mapping's inbound step reads."""

    mode: InboundMode = InboundMode.INCREMENTAL
    #: Range start (inclusive) and end (exclusive), for ``RANGE``.
    start: datetime | None = None
    end: datetime | None = None
    #: At most this many records, newest first, without moving the watermark (R-O3).
    limit: int | None = None


def inbound_select(
    mr: MappingRun,
    plan: InboundQueryPlan,
    *,
    negate_filter: bool = False,
    descending: bool = False,
) -> soql.Select:
    """The SOQL statement of an inbound query plan, with the mapping's filter."""
    conditions: list[soql.Condition] = []
    flt = mr.active.mapping.salesforce_filter
    if flt is not None:
        rendered = salesforce_condition(flt)
        conditions.append(soql.Negation(condition=rendered) if negate_filter else rendered)
    if plan.modstamp_from is not None:
        conditions.append(
            soql.Comparison(field="SystemModstamp", operator=">=", value=plan.modstamp_from)
        )
    if plan.after is not None:
        conditions.append(_after(plan.after))
    if plan.modstamp_before is not None:
        conditions.append(
            soql.Comparison(field="SystemModstamp", operator="<", value=plan.modstamp_before)
        )
    where: soql.Condition | None = None
    if len(conditions) == 1:
        where = conditions[0]
    elif conditions:
        where = soql.AllOf(conditions=tuple(conditions))
    return soql.Select(
        sobject=plan.sobject,
        fields=plan.fields,
        where=where,
        order_by=tuple(
            soql.OrderBy(field=name, ascending=not descending) for name in plan.order_by
        ),
        limit=plan.limit,
    )


def _after(key: RecordKey) -> soql.Condition:
    return soql.AnyOf(
        conditions=(
            soql.Comparison(field="SystemModstamp", operator=">", value=key.modstamp),
            soql.AllOf(
                conditions=(
                    soql.Comparison(field="SystemModstamp", operator="=", value=key.modstamp),
                    soql.Comparison(field="Id", operator=">", value=key.id),
                )
            ),
        )
    )


def scope_for(
    rs: RunState, mr: MappingRun, *, source: str, force: bool = False, counted: bool = True
) -> InboundScope:
    """The scope of applying a batch of this mapping in this run (``counted``: the
    batch counts itself in the run's progress)."""
    now = rs.now()
    return InboundScope(
        tenant_id=rs.tenant_id,
        run_id=rs.run_id,
        mapping_run=mr,
        mapping_ids_by_object=rs.mapping_ids_by_object(),
        context=mapping_context(rs.settings, now),
        strategy=rs.settings.retry_strategy(),
        now=now,
        rng=rs.options.rng,
        source=source,
        force=force,
        tracker=rs.tracker if counted else None,
    )


def poll_mapping(rs: RunState, mr: MappingRun, request: InboundRequest) -> None:
    """Read one mapping's Salesforce changes and apply them, page by page.

    Args:
        rs: the run.
        mr: the mapping (its direction reads from Salesforce).
        request: incremental, full, a date range, or a newest-first sample.
    """
    with rs.session_factory() as session:
        stream = state_repo.get_stream(session, tenant_id=rs.tenant_id, mapping_id=mr.id)
        watermark = (
            Watermark(modstamp=stream.watermark_modstamp, last_id=stream.watermark_last_id)
            if stream is not None and stream.watermark_modstamp is not None
            else None
        )
        refreshed_at = stream.formula_refreshed_at if stream is not None else None
    _retry_due_failures(rs, mr)
    _apply_review_picks(rs, mr)
    settings = rs.settings.watermark_settings()
    fields = mr.codec.query_fields()
    formula_due = is_formula_refresh_due(
        last_refreshed_at=refreshed_at,
        interval=rs.settings.formula_refresh_interval(),
        now=rs.now(),
    )
    full = request.mode is InboundMode.FULL or watermark is None or formula_due
    plan = plan_inbound_query(
        sobject=mr.sobject,
        fields=fields,
        watermark=None if full else watermark,
        settings=settings,
        limit=request.limit,
    )
    moves_watermark = request.mode is not InboundMode.RANGE and request.limit is None
    if request.mode is InboundMode.RANGE:
        plan = replace(plan, modstamp_from=request.start, modstamp_before=request.end)
    if (
        request.limit is None
        and plan.modstamp_from is not None
        and mr.active.mapping.salesforce_filter
    ):
        _apply_leavers(rs, mr, plan)
    assert rs.started_at is not None
    signpost = compute_signpost(run_started_at=rs.started_at, settings=settings)
    select = inbound_select(mr, plan, descending=request.limit is not None)
    rs.tracker.doing(f"{mr.sobject}: reading changes from Salesforce")
    current = watermark
    for pages, page in enumerate(_pages(rs, select), start=1):
        records: list[dict[str, Any]] = page.get("records", [])
        if pages == 1:
            rs.tracker.set_total(mr.sobject, FlowDirection.INBOUND, int(page.get("totalSize", 0)))
        advanced = (
            advance_watermark(
                current=current, page=_keys(records, descending=False), signpost=signpost
            )
            if moves_watermark
            else current
        )

        def apply_page(
            session: Session,
            records: list[dict[str, Any]] = records,
            advanced: Watermark | None = advanced,
        ) -> InboundResult:
            result = apply_salesforce_records(
                session, scope_for(rs, mr, source="poll", counted=False), records
            )
            if moves_watermark:
                _save_watermark(session, rs, mr, advanced)
            if records:
                record_inbound_entry(session, tenant_id=rs.tenant_id, at=utcnow())
            return result

        applied = in_transaction(rs, apply_page)
        _count(rs, mr, applied)
        # Records read again unchanged (the look-back) write nothing to analyse.
        rs.statistics.wrote(
            sum(n for outcome, n in applied.counts.items() if outcome not in _NO_ROWS)
        )
        current = advanced
        rs.tracker.doing(f"{mr.sobject}: applied page {pages} from Salesforce")
    link_waiting_records(rs, mr)
    with rs.session_factory.begin() as session:
        stream_row = state_repo.stream_for_update(
            session, tenant_id=rs.tenant_id, mapping_id=mr.id, salesforce_object=mr.sobject
        )
        stream_row.last_run_at = rs.now()
        if full and moves_watermark:
            stream_row.formula_refreshed_at = rs.now()
        stream_row.updated_at = utcnow()


def in_transaction(
    rs: RunState, work: Callable[[Session], InboundResult], *, attempts: int = 3
) -> InboundResult:
    """Run ``work`` in one transaction, again from scratch when a platform record was
    changed meanwhile (the records' version check) or the database was busy."""
    for attempt in range(1, attempts + 1):
        try:
            with rs.session_factory.begin() as session:
                return work(session)
        except (StaleDataError, OperationalError):
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _count(rs: RunState, mr: MappingRun, result: InboundResult) -> None:
    """Count a committed batch (never one that was rolled back and done again).

    Records waiting for a parent are counted when :func:`link_waiting_records` is done
    with them.
    """
    for outcome, n in result.counts.items():
        if outcome != "waiting":
            rs.tracker.count(mr.sobject, FlowDirection.INBOUND, _OUTCOME.get(outcome, outcome), n)


#: Rounds of :func:`link_waiting_records`: one per hierarchy level read out of order.
LINK_ROUNDS = 10


def link_waiting_records(rs: RunState, mr: MappingRun) -> None:
    """Apply again, now, this run's records that waited for a parent read after them.

    A child read on an earlier page than its parent (``ParentId`` of an Account
    hierarchy; SOQL orders by ``SystemModstamp``, not by depth) fails with
    :class:`~crmbridge.sync.failures.ParentNotLinked`, a retryable failure committed
    with its page. Once every page is applied the parents are linked, so the children
    are read again and applied, round after round while some succeed; what still waits
    is counted failed and retried by later runs (backoff, then dead letter).
    """
    before = 0
    for round_ in range(LINK_ROUNDS + 1):
        with rs.session_factory() as session:
            left = failures_repo.run_failure_keys_with_code(
                session,
                tenant_id=rs.tenant_id,
                mapping_id=mr.id,
                direction="inbound",
                run_id=rs.run_id,
                error_code=ParentNotLinked.CODE,
            )
        if not left or len(left) == before or round_ == LINK_ROUNDS:
            break  # all linked, or the last round linked none
        before = len(left)
        rs.tracker.doing(f"{mr.sobject}: linking {len(left)} records to parents read after them")
        apply_specific(rs, mr, left, source="poll")
    if left:
        rs.tracker.count(mr.sobject, FlowDirection.INBOUND, "failed", len(left))


_OUTCOME = {"pending": "updated"}
#: Outcomes that write no row.
_NO_ROWS = frozenset({"unchanged", "skipped"})


def _pages(rs: RunState, select: soql.Select) -> Iterator[dict[str, Any]]:
    rs.check_budget(1)
    pages = rs.client.query_pages(
        select.to_soql(), include_deleted=True, batch_size=rs.options.page_size
    )
    for page in pages:
        yield page
        if not page.get("done", True):
            rs.check_budget(1)


def _keys(records: Sequence[Mapping[str, Any]], *, descending: bool) -> list[RecordKey]:
    keys = []
    for record in records:
        stamp = parse_time(record.get("SystemModstamp"))
        if stamp is not None:
            keys.append(RecordKey(modstamp=stamp, id=str(record["Id"])))
    return list(reversed(keys)) if descending else keys


def _save_watermark(session: Any, rs: RunState, mr: MappingRun, mark: Watermark | None) -> None:
    if mark is None:
        return
    row = state_repo.stream_for_update(
        session, tenant_id=rs.tenant_id, mapping_id=mr.id, salesforce_object=mr.sobject
    )
    row.watermark_modstamp = mark.modstamp
    row.watermark_last_id = mark.last_id
    row.updated_at = utcnow()


def _apply_leavers(rs: RunState, mr: MappingRun, plan: InboundQueryPlan) -> None:
    """Records of the window that no longer pass the filter: deleted, for their pairs."""
    select = inbound_select(mr, replace(plan, limit=None), negate_filter=True)
    for page in _pages(rs, select):
        records = page.get("records", [])
        ids = [str(r["Id"]) for r in records]

        def apply_leavers(
            session: Session,
            records: list[dict[str, Any]] = records,
            ids: list[str] = ids,
        ) -> InboundResult:
            paired = pairs_repo.pairs_by_salesforce_id(
                session, tenant_id=rs.tenant_id, mapping_id=mr.id, salesforce_ids=ids
            )
            leaving = [r for r in records if str(r["Id"]) in paired]
            return apply_salesforce_records(
                session,
                scope_for(rs, mr, source="poll", counted=False),
                leaving,
                leaving_filter=True,
            )

        _count(rs, mr, in_transaction(rs, apply_leavers))


def fetch_records(
    rs: RunState, mr: MappingRun, salesforce_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Read records by id (deleted ones too), with every field the merge needs."""
    fields = mr.codec.query_fields()
    unique = sorted(set(salesforce_ids))
    queries = [
        soql.Select(
            sobject=mr.sobject,
            fields=fields,
            where=soql.Comparison(
                field="Id", operator="IN", value=tuple(unique[start : start + ID_CHUNK])
            ),
        ).to_soql()
        for start in range(0, len(unique), ID_CHUNK)
    ]
    rs.check_budget(math.ceil(len(queries) / COMPOSITE_QUERIES))
    return [
        record
        for records in rs.client.query_each(queries, include_deleted=True)
        for record in records
    ]


def apply_specific(
    rs: RunState, mr: MappingRun, salesforce_ids: Sequence[str], *, source: str
) -> InboundResult:
    """Fetch records by id and apply them whatever their SystemModstamp (R-O2).

    One query's worth of ids at a time, so memory stays flat however many records
    wait (an initial sync of 1,000,000 contacts re-reads tens of thousands of Accounts
    that were read before their parents).
    """
    total = InboundResult()
    unique = sorted(set(salesforce_ids))
    for first in range(0, len(unique), FETCH_CHUNK):
        records = fetch_records(rs, mr, unique[first : first + FETCH_CHUNK])
        for start in range(0, len(records), 500):

            def apply_part(
                session: Session, chunk: list[dict[str, Any]] = records[start : start + 500]
            ) -> InboundResult:
                scope = scope_for(rs, mr, source=source, force=True, counted=False)
                return apply_salesforce_records(session, scope, chunk)

            part = in_transaction(rs, apply_part)
            _count(rs, mr, part)
            for outcome, n in part.counts.items():
                total.add(outcome, n)
            total.pending_salesforce += part.pending_salesforce
    return total


def _retry_due_failures(rs: RunState, mr: MappingRun) -> None:
    """Inbound records that failed earlier and are due: read again and apply."""
    with rs.session_factory() as session:
        due = failures_repo.due_failures(
            session,
            tenant_id=rs.tenant_id,
            mapping_id=mr.id,
            direction="inbound",
            now=rs.now(),
            limit=1000,
        )
        overrides = {f.record_key: dict(f.overrides) for f in due if f.overrides}
        ids = [f.record_key for f in due if f.record_key]
    if not ids:
        return
    for salesforce_id, values in overrides.items():
        # An admin's edit of a dead letter: written to Salesforce, then read back.
        rs.check_budget(1)
        rs.client.update(mr.sobject, salesforce_id, values)
    apply_specific(rs, mr, ids, source="retry")


def _apply_review_picks(rs: RunState, mr: MappingRun) -> None:
    """Reviews an admin resolved: read the records again and merge with the picks."""
    with rs.session_factory() as session:
        reviews = reviews_repo.pending_decisions(session, tenant_id=rs.tenant_id, mapping_id=mr.id)
        ids = [r.salesforce_id for r in reviews if r.salesforce_id]
    if ids:
        apply_specific(rs, mr, ids, source="review")
