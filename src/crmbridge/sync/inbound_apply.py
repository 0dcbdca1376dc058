"""Apply Salesforce records to the platform: the one path polled and pushed records take.

For a batch of Salesforce records (REST JSON), in the caller's transaction: map to
canonical versions, find each record's pair (by Salesforce id first, by
``Platform_Id__c`` only when that platform record has no other counterpart), skip
versions already applied and echoes of our own writes, merge, write the platform side
through the records service (source ``sync``), store the pair's state (``pending_state``
while a Salesforce write or link stamp is still to come: outbound picks those pairs
up), hold conflicts for review, settle earlier failures, and write the audit rows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.errors import CrmError
from crmbridge.domain.mapping import MappingContext
from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.sync import (
    FlowDirection,
    RecordVersion,
    RetryStrategy,
    Side,
    SyncPlan,
    SyncState,
    WriteAction,
    acknowledge_echo,
    evolve,
    is_salesforce_echo,
    merge_record,
    select_versions_to_apply,
)
from crmbridge.services import records as records_service
from crmbridge.store.deferred import write_deferred
from crmbridge.store.models import Record
from crmbridge.store.repositories import records as records_repo
from crmbridge.store.repositories import sync_failures as failures_repo
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_platform
from crmbridge.store.repositories import sync_records as audit_repo
from crmbridge.store.repositories import sync_reviews as reviews_repo
from crmbridge.store.repositories.sync_records import AuditRow
from crmbridge.store.sync_models import SyncFailure, SyncPair, SyncReview
from crmbridge.sync.audit import audit_row
from crmbridge.sync.canonical import CanonicalKind
from crmbridge.sync.context import MappingRun
from crmbridge.sync.failures import MappingDataError, ParentNotLinked, register_failure, settle
from crmbridge.sync.inbound_values import reference_links, with_links
from crmbridge.sync.platform_side import apply_platform_side
from crmbridge.sync.reviews import applied_decisions, close_review, decisions_of, hold_for_review
from crmbridge.sync.state import pair_state, store_state
from crmbridge.sync.tracker import RunTracker


@dataclass(frozen=True, kw_only=True)
class InboundScope:
    """Everything applying a batch needs besides the records."""

    tenant_id: str
    run_id: str
    mapping_run: MappingRun
    #: Enabled mapping ids per Salesforce object (links to parents).
    mapping_ids_by_object: Mapping[str, Sequence[str]]
    context: MappingContext
    strategy: RetryStrategy
    now: datetime
    rng: random.Random
    #: ``poll``, ``push``, ``retry``, ``review``, ``specific``.
    source: str = "poll"
    #: Apply even versions whose SystemModstamp was applied already (retries, picks).
    force: bool = False
    tracker: RunTracker | None = None


@dataclass
class InboundResult:
    """What applying a batch did, record by record."""

    #: Outcome → number of records (``created``, ``updated``, ``deleted``, ``unchanged``,
    #: ``held``, ``failed``, ``skipped``).
    counts: dict[str, int] = field(default_factory=dict)
    #: Pairs left waiting for a Salesforce write (outbound picks them up).
    pending_salesforce: int = 0
    #: Pushed records that must be read from Salesforce first (no ``SystemModstamp``).
    needs_fetch: list[str] = field(default_factory=list)

    def add(self, outcome: str, n: int = 1) -> None:
        """Count ``n`` records with ``outcome``."""
        self.counts[outcome] = self.counts.get(outcome, 0) + n


def apply_salesforce_records(
    session: Session,
    scope: InboundScope,
    records: Sequence[Mapping[str, Any]],
    *,
    leaving_filter: bool = False,
) -> InboundResult:
    """Merge a batch of Salesforce records into the platform, in ``session``'s transaction.

    Args:
        session: the caller's transaction (commit it with the watermark, if any).
        scope: tenant, run, mapping and policies.
        records: Salesforce records as the REST API returns them.
        leaving_filter: the records no longer pass the mapping's Salesforce filter:
            for paired ones this counts as a delete in Salesforce (the mapping's delete
            policy applies); unpaired ones are ignored.

    Returns:
        Counts per outcome.
    """
    mr = scope.mapping_run
    result = InboundResult()
    if not records:
        return result
    flt = mr.active.mapping.salesforce_filter
    if flt is not None and not leaving_filter:
        # A pushed record that does not carry the filter's fields cannot be judged:
        # it is read from Salesforce first (fetch_and_apply).
        heads = {name.split(".")[0] for name in flt.fields()}
        needed = {head.casefold() for head in heads}
        unjudged = [
            r
            for r in records
            if not all(head in r for head in heads) and not needed <= {k.casefold() for k in r}
        ]
        if unjudged:
            result.needs_fetch.extend(str(r.get("Id")) for r in unjudged if r.get("Id"))
            records = [r for r in records if r not in unjudged]
            if not records:
                return result
    context = _with_links(session, scope, scope.context, records)
    by_id: dict[str, Mapping[str, Any]] = {}
    versions: list[RecordVersion] = []
    errors: dict[str, dict[str, str]] = {}
    for record in records:
        version, problems = _version(scope, record, context, leaving_filter)
        by_id[version.id] = record
        versions.append(version)
        if problems:
            errors[version.id] = problems
    ids = list(by_id)
    pairs = pairs_repo.pairs_by_salesforce_id(
        session, tenant_id=scope.tenant_id, mapping_id=mr.id, salesforce_ids=ids
    )
    applied = {sf_id: pair_state(p).salesforce_modstamp for sf_id, p in pairs.items()}
    fresh = versions if scope.force else select_versions_to_apply(versions, applied=applied)
    result.add("unchanged", len(versions) - len(fresh))
    counterparts = {v.counterpart_id for v in fresh if v.id not in pairs and v.counterpart_id}
    by_platform = pairs_repo.pairs_by_platform_id(
        session, tenant_id=scope.tenant_id, mapping_id=mr.id, platform_ids=counterparts
    )
    matched = _match_by_keys(session, scope, fresh, pairs, by_id)
    platform_ids = (
        {p.platform_id for p in pairs.values() if p.platform_id}
        | counterparts
        | set(matched.values())
    )
    platform_records = sync_platform.records_by_ids(
        session, tenant_id=scope.tenant_id, entity_type=mr.entity_name, record_ids=platform_ids
    )
    failures = failures_repo.failures_for_keys(
        session,
        tenant_id=scope.tenant_id,
        mapping_id=mr.id,
        direction="inbound",
        record_keys=[v.id for v in fresh],
    )
    reviews = {
        r.pair_id: r
        for r in reviews_repo.pending_decisions(
            session, tenant_id=scope.tenant_id, mapping_id=mr.id
        )
    }
    shown = sync_platform.shown_salesforce_ids(
        session, tenant_id=scope.tenant_id, entity_type=mr.entity_name, salesforce_ids=ids
    )
    _prime_parents(session, scope, context)
    audit: list[AuditRow] = []
    pending = fresh
    while pending:
        # A record whose parent arrives in the same batch (an Account hierarchy) waits
        # until the parent is paired, then its references are read again.
        waiting = [v for v in pending if v.id in errors]
        ready = [v for v in pending if v.id not in errors]
        last_round = not ready
        for version in pending if last_round else ready:
            outcome = _apply_one(
                session,
                scope,
                version,
                record=by_id[version.id],
                pair=pairs.get(version.id),
                by_platform=by_platform,
                platform_records=platform_records,
                reviews=reviews,
                matched=matched.get(version.id),
                failure=failures.get(version.id),
                errors=errors.get(version.id),
                context=context,
                shown=shown,
                audit=audit,
                leaving=leaving_filter,
            )
            result.add(outcome)
            if outcome == "pending":
                result.pending_salesforce += 1
        if last_round or not waiting:
            break
        context = _with_links(session, scope, context, [by_id[v.id] for v in waiting])
        _prime_parents(session, scope, context)
        pending = []
        for version in waiting:
            again, problems = _version(scope, by_id[version.id], context, leaving_filter)
            errors.pop(version.id, None)
            if problems:
                errors[version.id] = problems
            pending.append(again)
    audit_repo.add_records(session, audit)
    write_deferred(session)
    if scope.tracker is not None:
        for outcome, n in result.counts.items():
            if outcome == "waiting":
                continue  # counted once its parent has synced, or as failed if it never does
            name = "updated" if outcome == "pending" else outcome
            scope.tracker.count(mr.sobject, FlowDirection.INBOUND, name, n)
    return result


def _apply_one(
    session: Session,
    scope: InboundScope,
    version: RecordVersion,
    *,
    record: Mapping[str, Any],
    pair: SyncPair | None,
    by_platform: Mapping[str, SyncPair],
    platform_records: Mapping[str, Record],
    reviews: Mapping[int, SyncReview],
    matched: str | None,
    failure: SyncFailure | None,
    errors: Mapping[str, str] | None,
    context: MappingContext,
    shown: set[str],
    audit: list[AuditRow],
    leaving: bool,
) -> str:
    mr = scope.mapping_run
    platform_id: str | None = None
    if pair is None and version.counterpart_id:
        claimed = by_platform.get(version.counterpart_id)
        if claimed is not None and claimed.salesforce_id not in (None, version.id):
            # A deleted-and-recreated Salesforce record still naming this platform
            # record; the platform record has its own counterpart.
            return "skipped"
        if claimed is not None:
            pair = claimed  # our create whose answer was lost: adopt the record
        elif version.counterpart_id in platform_records:
            platform_id = version.counterpart_id
    if pair is None and platform_id is None and matched is not None:
        platform_id = matched  # the same person by a match key (e-mail): link, no base
    if pair is None and version.deleted:
        return "skipped"  # never synced, and gone (or filtered out) in Salesforce
    state: SyncState | None = pair_state(pair) if pair is not None else None
    if state is not None and state.salesforce_id is None:
        state = replace(state, salesforce_id=version.id)
    if errors:
        return _fail(session, scope, version, pair, errors, audit)
    if state is not None:
        version = _fill_uncarried(version, state, mr)
    review = reviews.get(pair.id) if pair is not None else None
    if (
        state is not None
        and review is None
        and not scope.force
        and not state.pending
        and not state.held
        and state.held_delete is None
        and is_salesforce_echo(incoming=version, state=state, rules=mr.rules)
    ):
        store_state(
            session,
            pair=pair,
            state=acknowledge_echo(state, version),
            tenant_id=scope.tenant_id,
            mapping_id=mr.id,
            platform_entity=mr.entity_name,
            needs_outbound=bool(pair is not None and pair.needs_outbound),
            in_review=False,
            inbound=True,
        )
        return "unchanged"
    if state is not None:
        platform_id = state.platform_id
    existing = platform_records.get(platform_id) if platform_id else None
    platform_version = _platform_version(mr, existing, counterpart=pair)
    if platform_version is not None and platform_version[1]:
        return _fail(session, scope, version, pair, platform_version[1], audit)
    field_decisions, delete_decision = decisions_of(review) if review else ({}, None)
    plan = merge_record(
        rules=mr.rules,
        base=state,
        platform=platform_version[0] if platform_version else None,
        salesforce=version,
        field_decisions=field_decisions,
        delete_decision=delete_decision,
    )
    needs_salesforce = plan.salesforce.action is not WriteAction.NONE or plan.link_salesforce
    written = apply_platform_side(
        session,
        tenant_id=scope.tenant_id,
        run_id=scope.run_id,
        mapping_run=mr,
        plan=plan,
        sf_record=record,
        existing=existing,
        context=context,
        salesforce_pending=needs_salesforce,
        shown_salesforce_ids=shown,
    )
    if written.error is not None:
        return _fail(session, scope, version, pair, {"platform": written.error}, audit)
    was_in_review = pair is not None and pair.in_review
    to_store = plan.pending_state if needs_salesforce else plan.state
    if to_store is not None and to_store.platform_id is None and written.platform_id:
        to_store = evolve(to_store, platform_id=written.platform_id)
    stored = store_state(
        session,
        pair=pair,
        state=to_store,
        tenant_id=scope.tenant_id,
        mapping_id=mr.id,
        platform_entity=mr.entity_name,
        needs_outbound=needs_salesforce,
        in_review=plan.needs_review,
        inbound=True,
        defer=True,
    )
    if review is not None:
        applied_decisions(session, review, now=scope.now)
    if stored is not None and plan.needs_review:
        hold_for_review(
            session,
            tenant_id=scope.tenant_id,
            mapping_run=mr,
            pair=stored,
            plan=plan,
            now=scope.now,
        )
    elif stored is not None and was_in_review:
        close_review(session, tenant_id=scope.tenant_id, pair_id=stored.id, now=scope.now)
    if existing is not None:  # a record created just now shows its link already
        _mark_record(session, existing, scope, version, needs_salesforce, shown)
    settle(failure, now=scope.now)
    return _audit_plan(scope, version, plan, written.operation, written.platform_id, audit, leaving)


def _match_by_keys(
    session: Session,
    scope: InboundScope,
    versions: Sequence[RecordVersion],
    pairs: Mapping[str, SyncPair],
    by_id: Mapping[str, Mapping[str, Any]],
) -> dict[str, str]:
    """Unpaired Salesforce records matched to unpaired platform records by match keys.

    Tried in the mapping's order (e.g. e-mail); a value held by more than one record on
    either side matches nothing, so a match is never a guess.
    """
    mr = scope.mapping_run
    keys = mr.active.mapping.match_keys
    loose = [v for v in versions if v.id not in pairs and not v.counterpart_id and not v.deleted]
    matched: dict[str, str] = {}
    taken: set[str] = set()
    for key in keys:
        values: dict[str, list[str]] = {}
        for version in loose:
            if version.id in matched:
                continue
            raw = read_path(by_id[version.id], key.salesforce_field, case_sensitive=False)
            if isinstance(raw, str) and raw.strip():
                values.setdefault(raw.strip().lower(), []).append(version.id)
        if not values:
            continue
        found = sync_platform.live_records_by_field(
            session,
            tenant_id=scope.tenant_id,
            entity_type=mr.entity_name,
            field=key.platform_field,
            values=values,
        )
        candidates = {ids[0] for ids in found.values() if len(ids) == 1}
        paired = pairs_repo.pairs_by_platform_id(
            session, tenant_id=scope.tenant_id, mapping_id=mr.id, platform_ids=candidates
        )
        for value, sf_ids in values.items():
            ids = found.get(value, [])
            if len(sf_ids) == 1 and len(ids) == 1 and ids[0] not in paired and ids[0] not in taken:
                matched[sf_ids[0]] = ids[0]
                taken.add(ids[0])
    return matched


def _prime_parents(session: Session, scope: InboundScope, context: MappingContext) -> None:
    """Read at once which linked parents are live: the records' references are checked
    against them one by one (the records service), without a query each."""
    parents = {platform_id for _object, platform_id in context.links}
    for spec in scope.mapping_run.entity.references:
        if spec.references is not None:
            records_service.prime_live_ids(
                session, tenant_id=scope.tenant_id, entity_type=spec.references, ids=parents
            )


def _with_links(
    session: Session,
    scope: InboundScope,
    context: MappingContext,
    records: Sequence[Mapping[str, Any]],
) -> MappingContext:
    links = reference_links(
        session,
        tenant_id=scope.tenant_id,
        mapping_run=scope.mapping_run,
        records=records,
        mapping_ids_by_object=scope.mapping_ids_by_object,
    )
    return with_links(context, links)


def _version(
    scope: InboundScope,
    record: Mapping[str, Any],
    context: MappingContext,
    leaving_filter: bool,
) -> tuple[RecordVersion, dict[str, str]]:
    mr = scope.mapping_run
    version, problems = mr.codec.salesforce_version(record, context=context)
    if leaving_filter or not mr.active.mapping.accepts_salesforce_record(record):
        version = replace(version, deleted=True)
    return version, problems


def _fill_uncarried(version: RecordVersion, state: SyncState, mr: MappingRun) -> RecordVersion:
    """A pushed record may carry only some fields: the others are unchanged since the base."""
    missing = {
        name: state.values[name]
        for name in mr.codec.fields
        if name not in version.values and name in state.values
    }
    if not missing:
        return version
    return replace(version, values={**version.values, **missing})


def _platform_version(
    mr: MappingRun, record: Record | None, *, counterpart: SyncPair | None
) -> tuple[RecordVersion, dict[str, str]] | None:
    if record is None:
        return None
    deleted = record.deleted_at is not None
    return mr.codec.platform_version(
        record_id=record.id,
        data=record.data,
        counterpart_id=counterpart.salesforce_id if counterpart is not None else None,
        modified_at=record.deleted_at if deleted else record.updated_at,
        deleted=deleted,
    )


def _mark_record(
    session: Session,
    record: Record,
    scope: InboundScope,
    version: RecordVersion,
    pending: bool,
    shown: set[str],
) -> None:
    """Show the link and the sync status on the platform record (API, R-D2).

    ``shown``: the Salesforce ids records of this entity type show already
    (``records.salesforce_id`` is unique per entity type).
    """
    if record.deleted_at is not None or version.deleted:
        return
    status = "pending" if pending else "synced"
    salesforce_id = None
    if _relinks(record.salesforce_id, version.id) and version.id not in shown:
        salesforce_id = version.id
        shown.add(version.id)
    if record.sync_status != status or salesforce_id is not None:
        records_repo.set_sync_state(
            session, record, sync_status=status, salesforce_id=salesforce_id
        )


def _fail(
    session: Session,
    scope: InboundScope,
    version: RecordVersion,
    pair: SyncPair | None,
    problems: Mapping[str, str],
    audit: list[AuditRow],
) -> str:
    mr = scope.mapping_run
    message = "; ".join(f"{label}: {text}" for label, text in problems.items())
    # Only links to parents not synced yet (a parent read on a later page): retryable,
    # and retried in this run once the pages are done (inbound.link_waiting_records).
    waiting = all(
        (f := mr.codec.fields.get(label)) is not None and f.kind is CanonicalKind.REFERENCE
        for label in problems
    )
    error: CrmError = ParentNotLinked(message) if waiting else MappingDataError(message)
    register_failure(
        session,
        tenant_id=scope.tenant_id,
        mapping_run=mr,
        direction="inbound",
        platform_id=pair.platform_id if pair is not None else None,
        salesforce_id=version.id,
        operation="update" if pair is not None else "create",
        payload=dict(version.values),
        error=error,
        run_id=scope.run_id,
        strategy=scope.strategy,
        now=scope.now,
        rng=scope.rng,
    )
    audit.append(
        audit_row(
            tenant_id=scope.tenant_id,
            run_id=scope.run_id,
            direction="inbound",
            mapping_id=mr.id,
            salesforce_object=mr.sobject,
            platform_entity=mr.entity_name,
            platform_id=pair.platform_id if pair is not None else None,
            salesforce_id=version.id,
            operation="update" if pair is not None else "create",
            outcome="retrying" if waiting else "failed",
            source=scope.source,
            error=error,
            at=scope.now,
        )
    )
    return "waiting" if waiting else "failed"


def _audit_plan(
    scope: InboundScope,
    version: RecordVersion,
    plan: SyncPlan,
    operation: str,
    platform_id: str | None,
    audit: list[AuditRow],
    leaving: bool,
) -> str:
    mr = scope.mapping_run

    def row(op: str, outcome: str, changes: Sequence[Any] = (), message: str = "") -> None:
        audit.append(
            audit_row(
                tenant_id=scope.tenant_id,
                run_id=scope.run_id,
                direction="inbound",
                mapping_id=mr.id,
                salesforce_object=mr.sobject,
                platform_entity=mr.entity_name,
                platform_id=platform_id,
                salesforce_id=version.id,
                operation=op,
                outcome=outcome,
                source=scope.source,
                changes=changes,
                message=message,
                at=scope.now,
            )
        )

    if plan.needs_review:
        held = ", ".join(c.field for c in plan.held_conflicts) or "delete"
        row("review", "held", message=f"held for review: {held}")
    if operation != "none":
        note = "left the Salesforce filter" if leaving else ""
        row(operation, "succeeded", plan.platform.changes, note)
    elif plan.state is not None and plan.state.detached and version.deleted:
        row("detach", "succeeded", message="deleted in Salesforce; the link is cut")
    if plan.needs_review:
        return "held"
    needs_salesforce = plan.salesforce.action is not WriteAction.NONE or plan.link_salesforce
    if operation in ("create", "restore"):
        return "created"
    if operation in ("delete", "archive"):
        return "deleted"
    if operation == "update":
        return "updated"
    if needs_salesforce:
        return "pending"
    conflicts_settled = any(c.winner is Side.SALESFORCE for c in plan.conflicts)
    return "updated" if conflicts_settled else "unchanged"


def _relinks(shown: str | None, salesforce_id: str) -> bool:
    """Whether a platform record should show ``salesforce_id`` as its counterpart.

    Yes when it shows none, or another record of the same object (a counterpart
    recreated after a delete-versus-edit conflict); the key prefix names the object,
    so a record synced to two objects keeps the first link it showed.
    """
    return shown is None or (shown != salesforce_id and shown[:3] == salesforce_id[:3])
