"""Write platform records to Salesforce: merge, store the pending state, send, confirm.

For a set of platform records (from the change log, unconfirmed pairs, due retries):

1. One transaction: map each record to canonical values, merge it against its pair's
   base without reading Salesforce (:func:`plan_outbound_record`), and store the
   ``pending_state`` of every pair that gets a Salesforce write (a new pair for a record
   never synced), so a crash from here on re-plans the same writes.
2. Order and batch every write of the set (:func:`plan_outbound_writes`: links first,
   parents before children, collections of 200, Bulk API 2.0 above the threshold) and
   send batch after batch; a record whose earlier write failed sends nothing more (an
   upsert after a failed link stamp would duplicate the record), and a child whose
   parent failed in this set waits for it.
3. One transaction per batch: a record whose writes all succeeded gets its confirmed
   state (with the Salesforce id of a create), a settled failure and audit rows; a
   failed one gets a retry time or a dead letter with Salesforce's message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from crmbridge.domain.errors import CrmError, RetryableError
from crmbridge.domain.sync import (
    FlowDirection,
    RecordWrite,
    RetryAction,
    SyncPlan,
    SyncState,
    WriteAction,
    WriteBatch,
    WriteOperation,
    plan_outbound_record,
    plan_outbound_writes,
    salesforce_record_writes,
)
from crmbridge.store.models import Record
from crmbridge.store.repositories import records as records_repo
from crmbridge.store.repositories import sync_failures as failures_repo
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_platform
from crmbridge.store.repositories import sync_records as audit_repo
from crmbridge.store.repositories.sync_records import AuditRow
from crmbridge.store.sync_models import SyncFailure, SyncPair
from crmbridge.sync.audit import audit_row
from crmbridge.sync.context import MappingRun
from crmbridge.sync.failures import MappingDataError, register_failure, settle
from crmbridge.sync.reviews import hold_for_review
from crmbridge.sync.run_state import RunState
from crmbridge.sync.state import pair_state, state_to_json, store_state
from crmbridge.sync.writer import BatchWriter, WriteResult


class ParentNotSynced(RetryableError):
    """The record's parent failed to sync in the same run; the record waits for it."""

    advice = "Nothing to do once the parent syncs; fix the parent record if it keeps failing."


@dataclass(frozen=True, kw_only=True)
class OutboundItem:
    """One platform record to bring to Salesforce under one mapping."""

    mapping_run: MappingRun
    platform_id: str
    #: Change-log entries it settles.
    seqs: tuple[int, ...] = ()
    #: ``outbound``, ``retry``, ``specific`` … (the audit rows' source).
    source: str = "outbound"


@dataclass
class _Planned:
    item: OutboundItem
    plan: SyncPlan
    pending: SyncState
    writes: tuple[RecordWrite, ...]
    done: int = 0
    salesforce_id: str | None = None
    created: bool = False
    error: CrmError | None = None
    results: list[WriteResult] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.error is not None or self.done == len(self.writes)


def write_items(rs: RunState, items: Sequence[OutboundItem]) -> None:
    """Bring a set of platform records to Salesforce (see the module docstring)."""
    if not items:
        return
    planned = _plan(rs, items)
    if not planned:
        return
    by_key = {(p.item.mapping_run.sobject, p.item.platform_id): p for p in planned}
    references = [r for mr in rs.mapping_runs for r in mr.codec.reference_fields()]
    plan = plan_outbound_writes(
        [w for p in planned for w in p.writes],
        references=references,
        settings=rs.settings.outbound_settings(now=rs.now()),
    )
    writer = BatchWriter(
        rs.client,
        codecs={mr.sobject: mr.codec for mr in rs.mapping_runs},
        find_links=lambda target, ids: _links(rs, target, ids),
    )
    for batch in plan.batches:
        rs.check_budget(6 if batch.api.value == "bulk" else 1)
        sendable, waiting = _split(rs, batch, by_key)
        results = writer.write(sendable) if sendable.writes else []
        with rs.session_factory.begin() as session:
            audit: list[AuditRow] = []
            touched = [by_key[(w.object, w.platform_id)] for w, _ in waiting] + [
                by_key[(r.write.object, r.write.platform_id)] for r in results
            ]
            answered = {r.salesforce_id for r in results if r.salesforce_id}
            loaded = _Loaded(session, rs, touched, answered)
            for write, error in waiting:
                entry = by_key[(write.object, write.platform_id)]
                _fail(session, rs, loaded, entry, error, audit)
            for result in results:
                entry = by_key[(result.write.object, result.write.platform_id)]
                _take(session, rs, loaded, entry, result, audit)
            records_repo.set_sync_states(session, loaded.marks)
            audit_repo.add_records(session, audit)
        rs.tracker.doing(f"{batch.object}: sent {len(batch.writes)} records to Salesforce")


def _split(
    rs: RunState, batch: WriteBatch, by_key: Mapping[tuple[str, str], _Planned]
) -> tuple[WriteBatch, list[tuple[RecordWrite, CrmError]]]:
    """The writes to send now, and those held back (their record or parent failed).

    A parent is there when it is written in this set (earlier step) or already has a
    Salesforce id; otherwise the child would fail on "Foreign key external ID … not
    found", so it waits for its parent with a retry instead.
    """
    failed = {key for key, p in by_key.items() if p.error is not None}
    planned = {
        key
        for key, p in by_key.items()
        if p.error is None and any(w.operation is WriteOperation.UPSERT for w in p.writes)
    }
    outside: dict[str, set[str]] = {}
    for write in batch.writes:
        for ref in write.references:
            if (ref.target_object, ref.external_id) not in planned:
                outside.setdefault(ref.target_object, set()).add(ref.external_id)
    known = {
        (target, platform_id)
        for target, ids in outside.items()
        for platform_id in _links(rs, target, sorted(ids))
    }
    sendable: list[RecordWrite] = []
    waiting: list[tuple[RecordWrite, CrmError]] = []
    for write in batch.writes:
        entry = by_key[(write.object, write.platform_id)]
        if entry.error is not None:
            continue  # already failed: nothing more of this record is sent
        parent = next(
            (
                r
                for r in write.references
                if (r.target_object, r.external_id) in failed
                or (
                    (r.target_object, r.external_id) not in planned
                    and (r.target_object, r.external_id) not in known
                )
            ),
            None,
        )
        if parent is not None:
            waiting.append(
                (
                    write,
                    ParentNotSynced(
                        f"the parent {parent.target_object} {parent.external_id} "
                        "is not in Salesforce yet (it failed to sync); this record is "
                        "retried after it"
                    ),
                )
            )
        else:
            sendable.append(write)
    return replace(batch, writes=tuple(sendable)), waiting


def _links(rs: RunState, target: str, platform_ids: Sequence[str]) -> Mapping[str, str]:
    mapping_ids = rs.mapping_ids_by_object().get(target, [])
    with rs.session_factory() as session:
        return pairs_repo.linked_salesforce_ids(
            session, tenant_id=rs.tenant_id, mapping_ids=mapping_ids, platform_ids=platform_ids
        )


# --- step 1: merge and store pending states ---------------------------------------------------


def _plan(rs: RunState, items: Sequence[OutboundItem]) -> list[_Planned]:
    planned: list[_Planned] = []
    groups: dict[str, list[OutboundItem]] = {}
    for item in items:
        groups.setdefault(item.mapping_run.id, []).append(item)
    with rs.session_factory.begin() as session:
        for group in groups.values():
            planned.extend(_plan_group(session, rs, group))
    return planned


def _plan_group(session: Session, rs: RunState, items: list[OutboundItem]) -> list[_Planned]:
    mr = items[0].mapping_run
    ids = {i.platform_id for i in items}
    pairs = pairs_repo.pairs_by_platform_id(
        session, tenant_id=rs.tenant_id, mapping_id=mr.id, platform_ids=ids
    )
    records = sync_platform.records_by_ids(
        session, tenant_id=rs.tenant_id, entity_type=mr.entity_name, record_ids=ids
    )
    planned: list[_Planned] = []
    audit: list[AuditRow] = []
    seen: set[str] = set()
    for item in items:
        if item.platform_id in seen:
            continue
        seen.add(item.platform_id)
        entry = _plan_one(
            session, rs, item, pairs.get(item.platform_id), records.get(item.platform_id), audit
        )
        if entry is not None:
            planned.append(entry)
    audit_repo.add_records(session, audit)
    return planned


def _plan_one(
    session: Session,
    rs: RunState,
    item: OutboundItem,
    pair: SyncPair | None,
    record: Record | None,
    audit: list[AuditRow],
) -> _Planned | None:
    mr = item.mapping_run
    if record is None and pair is None:
        return None
    live = record is not None and record.deleted_at is None
    if live and not mr.active.mapping.accepts_platform_record(record.data):  # type: ignore[union-attr]
        _settle_pair(session, pair)
        rs.tracker.count(mr.sobject, FlowDirection.OUTBOUND, "skipped")
        return None
    state = pair_state(pair) if pair is not None else None
    version = None
    if record is not None:
        deleted = record.deleted_at is not None
        version, errors = mr.codec.platform_version(
            record_id=record.id,
            data=record.data,
            counterpart_id=state.salesforce_id if state is not None else None,
            modified_at=record.deleted_at if deleted else record.updated_at,
            deleted=deleted,
        )
        if errors:
            message = "; ".join(f"{label}: {text}" for label, text in errors.items())
            _register(session, rs, item, state, MappingDataError(message), {}, "update", audit)
            return None
    plan = plan_outbound_record(rules=mr.rules, base=state, platform=version)
    writes = salesforce_record_writes(
        plan,
        object=mr.sobject,
        platform_id=item.platform_id,
        salesforce_id=state.salesforce_id if state is not None else None,
        change_seqs=item.seqs,
    )
    if not writes:
        stored = pair
        if pair is not None and (
            plan.state is None
            or pair.needs_outbound
            or pair.in_review != plan.needs_review
            or state_to_json(plan.state) != pair.state
        ):
            stored = store_state(
                session,
                pair=pair,
                state=plan.state,
                tenant_id=rs.tenant_id,
                mapping_id=mr.id,
                platform_entity=mr.entity_name,
                needs_outbound=False,
                in_review=plan.needs_review,
                inbound=False,
            )
        if stored is not None and plan.needs_review:
            hold_for_review(
                session,
                tenant_id=rs.tenant_id,
                mapping_run=mr,
                pair=stored,
                plan=plan,
                now=rs.now(),
            )
        outcome = "held" if plan.needs_review else "unchanged"
        rs.tracker.count(mr.sobject, FlowDirection.OUTBOUND, outcome)
        return None
    pending = plan.pending_state or state
    assert pending is not None
    store_state(
        session,
        pair=pair,
        state=pending,
        tenant_id=rs.tenant_id,
        mapping_id=mr.id,
        platform_entity=mr.entity_name,
        needs_outbound=True,
        in_review=plan.needs_review,
        inbound=False,
    )
    return _Planned(item=item, plan=plan, pending=pending, writes=writes)


def _settle_pair(session: Session, pair: SyncPair | None) -> None:
    if pair is not None and pair.needs_outbound:
        pair.needs_outbound = False
        session.flush()


# --- step 3: take the results ----------------------------------------------------------------


class _Loaded:
    """The rows one batch's results touch, read in a few queries instead of per record."""

    def __init__(
        self,
        session: Session,
        rs: RunState,
        entries: Sequence[_Planned],
        salesforce_ids: Collection[str] = (),
    ) -> None:
        self.pairs: dict[str, dict[str, SyncPair]] = {}
        self.failures: dict[str, dict[str, SyncFailure]] = {}
        self.records: dict[str, dict[str, Record]] = {}
        #: Salesforce ids records show already, per entity type (of ``salesforce_ids``).
        self.shown: dict[str, set[str]] = {}
        #: Sync states to show on records, written together at the end of the batch.
        self.marks: list[records_repo.SyncMark] = []
        by_mapping: dict[str, set[str]] = {}
        by_entity: dict[str, set[str]] = {}
        for entry in entries:
            mr = entry.item.mapping_run
            by_mapping.setdefault(mr.id, set()).add(entry.item.platform_id)
            by_entity.setdefault(mr.entity_name, set()).add(entry.item.platform_id)
        for mapping_id, ids in by_mapping.items():
            self.pairs[mapping_id] = pairs_repo.pairs_by_platform_id(
                session, tenant_id=rs.tenant_id, mapping_id=mapping_id, platform_ids=ids
            )
            self.failures[mapping_id] = failures_repo.failures_for_keys(
                session,
                tenant_id=rs.tenant_id,
                mapping_id=mapping_id,
                direction="outbound",
                record_keys=ids,
            )
        for entity, ids in by_entity.items():
            self.records[entity] = sync_platform.records_by_ids(
                session, tenant_id=rs.tenant_id, entity_type=entity, record_ids=ids, with_data=False
            )
            self.shown[entity] = sync_platform.shown_salesforce_ids(
                session, tenant_id=rs.tenant_id, entity_type=entity, salesforce_ids=salesforce_ids
            )

    def pair(self, item: OutboundItem) -> SyncPair | None:
        return self.pairs.get(item.mapping_run.id, {}).get(item.platform_id)

    def record(self, item: OutboundItem) -> Record | None:
        return self.records.get(item.mapping_run.entity_name, {}).get(item.platform_id)

    def failure(self, item: OutboundItem) -> SyncFailure | None:
        return self.failures.get(item.mapping_run.id, {}).get(item.platform_id)


def _take(
    session: Session,
    rs: RunState,
    loaded: _Loaded,
    entry: _Planned,
    result: WriteResult,
    audit: list[AuditRow],
) -> None:
    if not result.success:
        assert result.error is not None
        entry.results.append(result)
        _fail(session, rs, loaded, entry, result.error, audit, body=result.body)
        return
    entry.done += 1
    entry.results.append(result)
    if result.write.operation is WriteOperation.UPSERT and result.salesforce_id:
        entry.salesforce_id = result.salesforce_id
        entry.created = entry.created or bool(result.created)
    if entry.finished:
        _confirm(session, rs, loaded, entry, audit)


def _confirm(
    session: Session, rs: RunState, loaded: _Loaded, entry: _Planned, audit: list[AuditRow]
) -> None:
    item, mr = entry.item, entry.item.mapping_run
    final = entry.plan.state
    pair = loaded.pair(item)
    if final is not None and entry.salesforce_id and final.salesforce_id is None:
        final = replace(final, salesforce_id=entry.salesforce_id)
    store_state(
        session,
        pair=pair,
        state=final,
        tenant_id=rs.tenant_id,
        mapping_id=mr.id,
        platform_entity=mr.entity_name,
        needs_outbound=False,
        in_review=entry.plan.needs_review,
        inbound=False,
    )
    salesforce_id = (final.salesforce_id if final else None) or entry.pending.salesforce_id
    _mark(session, rs, loaded.record(item), "synced", salesforce_id, loaded=loaded)
    settle(loaded.failure(item), now=rs.now())
    outcome = "updated"
    for result in entry.results:
        operation = _operation(entry, result.write)
        changes = entry.plan.salesforce.changes if operation in ("create", "update") else ()
        audit.append(_audit(rs, item, salesforce_id, operation, "succeeded", changes=changes))
        outcome = {"create": "created", "delete": "deleted", "link": "linked"}.get(
            operation, "updated"
        )
    rs.tracker.count(mr.sobject, FlowDirection.OUTBOUND, outcome)


def _fail(
    session: Session,
    rs: RunState,
    loaded: _Loaded,
    entry: _Planned,
    error: CrmError,
    audit: list[AuditRow],
    *,
    body: Mapping[str, object] | None = None,
) -> None:
    if entry.error is not None:
        return
    entry.error = error
    state = entry.pending
    if entry.salesforce_id and state.salesforce_id is None:
        # The create succeeded before a later write failed: keep the new id.
        state = replace(state, salesforce_id=entry.salesforce_id)
    operation = _operation(entry, entry.writes[min(entry.done, len(entry.writes) - 1)])
    _register(session, rs, entry.item, state, error, body or {}, operation, audit, loaded=loaded)


def _register(
    session: Session,
    rs: RunState,
    item: OutboundItem,
    state: SyncState | None,
    error: CrmError,
    body: Mapping[str, object],
    operation: str,
    audit: list[AuditRow],
    *,
    loaded: _Loaded | None = None,
) -> None:
    mr = item.mapping_run
    decision = register_failure(
        session,
        tenant_id=rs.tenant_id,
        mapping_run=mr,
        direction="outbound",
        platform_id=item.platform_id,
        salesforce_id=state.salesforce_id if state is not None else None,
        operation=operation,
        payload=body,
        error=error,
        run_id=rs.run_id,
        strategy=rs.settings.retry_strategy(),
        now=rs.now(),
        rng=rs.options.rng,
    )
    pair = loaded.pair(item) if loaded is not None else _pair(session, rs, item)
    if state is not None and pair is not None:
        store_state(
            session,
            pair=pair,
            state=state,
            tenant_id=rs.tenant_id,
            mapping_id=mr.id,
            platform_entity=mr.entity_name,
            needs_outbound=decision.action is RetryAction.RETRY,
            in_review=pair.in_review,
            inbound=False,
        )
    record = loaded.record(item) if loaded is not None else _live_record(session, rs, item)
    _mark(session, rs, record, "failed", None, loaded=loaded)
    outcome = "retrying" if decision.action is RetryAction.RETRY else "failed"
    salesforce_id = state.salesforce_id if state is not None else None
    audit.append(_audit(rs, item, salesforce_id, operation, outcome, error=error))
    rs.tracker.count(mr.sobject, FlowDirection.OUTBOUND, "failed")
    if decision.action is RetryAction.PAUSE:
        rs.problems.append(f"{mr.label} paused: {error}")
        rs.unfinished.add(mr.id)


def _pair(session: Session, rs: RunState, item: OutboundItem) -> SyncPair | None:
    return pairs_repo.pairs_by_platform_id(
        session,
        tenant_id=rs.tenant_id,
        mapping_id=item.mapping_run.id,
        platform_ids=[item.platform_id],
    ).get(item.platform_id)


def _live_record(session: Session, rs: RunState, item: OutboundItem) -> Record | None:
    return records_repo.get_record(
        session,
        tenant_id=rs.tenant_id,
        entity_type=item.mapping_run.entity_name,
        record_id=item.platform_id,
    )


def _mark(
    session: Session,
    rs: RunState,
    record: Record | None,
    status: str,
    salesforce_id: str | None,
    *,
    loaded: _Loaded | None = None,
) -> None:
    """Show the sync status (and a new Salesforce id) on the platform record.

    With ``loaded`` (a batch of results), it is written with the batch's other marks.
    """
    if record is None or record.deleted_at is not None:
        return
    new_id = None
    if salesforce_id and _relinks(record.salesforce_id, salesforce_id):
        shown = loaded.shown.get(record.entity_type) if loaded is not None else None
        if shown is not None and salesforce_id in shown:
            taken = True
        elif shown is not None:
            taken = False
            shown.add(salesforce_id)
        else:
            taken = (
                records_repo.get_record_by_salesforce_id(
                    session,
                    tenant_id=rs.tenant_id,
                    entity_type=record.entity_type,
                    salesforce_id=salesforce_id,
                )
                is not None
            )
        new_id = None if taken else salesforce_id
    if record.sync_status != status or new_id is not None:
        mark = records_repo.SyncMark(record=record, sync_status=status, salesforce_id=new_id)
        if loaded is not None:
            loaded.marks.append(mark)
        else:
            records_repo.set_sync_states(session, [mark])


def _operation(entry: _Planned, write: RecordWrite) -> str:
    if write.operation is WriteOperation.LINK:
        return "link"
    if write.operation is WriteOperation.DELETE:
        return "delete"
    creating = entry.plan.salesforce.action is WriteAction.CREATE or entry.created
    return "create" if creating else "update"


def _audit(
    rs: RunState,
    item: OutboundItem,
    salesforce_id: str | None,
    operation: str,
    outcome: str,
    *,
    changes: Sequence[object] = (),
    error: CrmError | None = None,
) -> AuditRow:
    mr = item.mapping_run
    return audit_row(
        tenant_id=rs.tenant_id,
        run_id=rs.run_id,
        direction="outbound",
        mapping_id=mr.id,
        salesforce_object=mr.sobject,
        platform_entity=mr.entity_name,
        platform_id=item.platform_id,
        salesforce_id=salesforce_id,
        operation=operation,
        outcome=outcome,
        source=item.source,
        changes=changes,  # type: ignore[arg-type]
        error=error,
        at=rs.now(),
    )


def _relinks(shown: str | None, salesforce_id: str) -> bool:
    """Whether a platform record should show ``salesforce_id`` as its counterpart.

    Yes when it shows none, or another record of the same object (a counterpart
    recreated after a delete-versus-edit conflict); the key prefix names the object,
    so a record synced to two objects keeps the first link it showed.
    """
    return shown is None or (shown != salesforce_id and shown[:3] == salesforce_id[:3])
