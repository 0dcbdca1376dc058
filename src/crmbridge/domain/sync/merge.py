"""The per-field three-way merge and conflict resolution (R-S4, R-S5).

For every mapped field the merge compares each side's current value with the base
(the last value both sides agreed on, :class:`SyncState.values`):

* unchanged on both sides: nothing to do;
* changed on one side only: that value goes to the other side;
* changed on both sides to the same value: nothing to write;
* changed on both sides differently: a conflict, settled by the conflict policy.

A change on a side the field's direction does not carry is ignored (never written
back, never reverted). Because every decision is per field, edits to different fields
of one record on the two sides both survive. The code is written side-neutrally, so the
result is symmetric: swapping the sides and mirroring the rules mirrors the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from crmbridge.domain.sync.merge_fields import (
    SIDES,
    Decisions,
    is_alive,
    merge_live,
)
from crmbridge.domain.sync.merge_lifecycle import merge_delete, plan_create
from crmbridge.domain.sync.plan import (
    SyncPlan,
    WriteAction,
)
from crmbridge.domain.sync.rules import MergeRules
from crmbridge.domain.sync.values import (
    RecordVersion,
    Side,
    SyncState,
    evolve,
    same_value,
)


def merge_record(
    *,
    rules: MergeRules,
    base: SyncState | None,
    platform: RecordVersion | None,
    salesforce: RecordVersion | None,
    field_decisions: Mapping[str, Side] | None = None,
    delete_decision: Side | None = None,
) -> SyncPlan:
    """Decide what to write on each side for one record pair.

    Args:
        rules: the mapping's fields, directions and policies.
        base: the stored state of the pair, or ``None`` when it was never synced.
        platform: the platform record now (canonical values), or ``None`` if absent.
        salesforce: the Salesforce record now (canonical values), or ``None`` if absent.
        field_decisions: an administrator's picks for conflicts held for manual review,
            by field; used only while that field is still in conflict.
        delete_decision: an administrator's pick for a held delete-versus-edit conflict.

    Returns:
        The plan. Applying its writes and merging again yields a plan that writes
        nothing, holds the same conflicts and keeps the same state.

    Raises:
        ValueError: when a version is passed for the wrong side, or the platform record
            is linked to another Salesforce record than the one passed.
    """
    versions = {Side.PLATFORM: platform, Side.SALESFORCE: salesforce}
    for side, version in versions.items():
        if version is not None and version.side is not side:
            raise ValueError(f"the {side} argument holds a {version.side} record")
    if (
        platform is not None
        and salesforce is not None
        and platform.counterpart_id is not None
        and platform.counterpart_id != salesforce.id
    ):
        # A stale Salesforce record (say, one deleted and since recreated) still naming
        # this platform record in its external id is not its counterpart.
        raise ValueError(
            f"platform record {platform.id} is linked to {platform.counterpart_id}, "
            f"not to {salesforce.id}"
        )
    decisions = Decisions(fields=field_decisions or {}, delete=delete_decision)
    base = _confirm_pending(base, salesforce)
    plan = _remember_held(_decide(rules, base, versions, decisions), salesforce)
    plan = _link(plan, base, salesforce)
    pending = _pending_state(plan, base)
    if plan.link_salesforce and pending is not None:
        pending = evolve(pending, linked=False)
    return evolve(plan, pending_state=pending)


def _confirm_pending(base: SyncState | None, salesforce: RecordVersion | None) -> SyncState | None:
    """Settle a Salesforce write that was sent but never confirmed (a crash in between).

    A field whose Salesforce value now equals what we sent was written: its base becomes
    that value. Any other field keeps the value from before the write, so the merge
    plans the write again (or, if Salesforce changed it since, merges that change).
    """
    if base is None or not base.pending:
        return base
    values = dict(base.values)
    if salesforce is not None:
        for name, sent in base.pending.items():
            if same_value(salesforce.values.get(name), sent):
                values[name] = sent
    return replace(base, values=values, pending={})


def _decide(
    rules: MergeRules,
    base: SyncState | None,
    versions: Mapping[Side, RecordVersion | None],
    decisions: Decisions,
) -> SyncPlan:
    if base is not None and base.detached:
        return SyncPlan(state=base)
    alive = [side for side in SIDES if is_alive(versions[side])]
    if not alive:
        return SyncPlan(state=None)
    if len(alive) == 2:
        return merge_live(rules, base, versions, decisions)
    (live_side,) = alive
    if base is None:
        return plan_create(rules, None, versions, source=live_side)
    if versions[live_side.other] is None and _id_on(base, live_side.other) is None:
        # The pair never got a record on that side (its create is still pending): the
        # absence is not a delete, and the create decided earlier goes ahead.
        return plan_create(rules, base, versions, source=live_side, decided=True)
    return merge_delete(rules, base, versions, decisions, deleted_side=live_side.other)


def _id_on(state: SyncState, side: Side) -> str | None:
    return state.platform_id if side is Side.PLATFORM else state.salesforce_id


def _remember_held(plan: SyncPlan, salesforce: RecordVersion | None) -> SyncPlan:
    """Keep what is held for review in the state, for merges that do not read Salesforce."""
    if plan.state is None:
        return plan
    held = {c.field: c.salesforce for c in plan.held_conflicts}
    held_delete: Side | None = None
    conflict = plan.delete_conflict
    if conflict is not None and conflict.winner is None:
        held_delete = conflict.deleted_side
        if conflict.deleted_side is Side.PLATFORM and salesforce is not None:
            held = {name: salesforce.values.get(name) for name in conflict.edited_fields}
    if held == plan.state.held and held_delete is plan.state.held_delete:
        return plan  # nothing held, as before (most records): no copies
    return evolve(plan, state=evolve(plan.state, held=held, held_delete=held_delete))


def _link(plan: SyncPlan, base: SyncState | None, salesforce: RecordVersion | None) -> SyncPlan:
    """Track whether Salesforce's record carries our external id, and stamp it if not.

    Upserts find records by the external id, so a record created in Salesforce must get
    the platform id stamped first, or the next upsert would create a duplicate.
    """
    state = plan.state
    if state is None or state.detached:
        return plan
    action = plan.salesforce.action
    if action is WriteAction.CREATE:
        # Created by an upsert on the external id: it carries it from the start.
        return evolve(plan, state=evolve(state, linked=True))
    if action is WriteAction.DELETE or salesforce is None or salesforce.deleted:
        return plan
    stamped = state.platform_id is not None and salesforce.counterpart_id == state.platform_id
    # A stamp seen to hold another value (someone edited it in Salesforce) is redone.
    trusted = base is not None and base.linked and salesforce.counterpart_id is None
    if stamped or trusted:
        return evolve(plan, state=evolve(state, linked=True))
    return evolve(plan, state=evolve(state, linked=True), link_salesforce=True)


def _pending_state(plan: SyncPlan, base: SyncState | None) -> SyncState | None:
    """The state that stays true until the Salesforce write is confirmed.

    Platform writes commit with the state; the Salesforce write happens later, in
    another system. Until it is confirmed the base must still say what Salesforce
    holds, so that a crash in between makes the next merge plan the same write again
    (instead of mistaking Salesforce's unchanged value for a change of its own).
    """
    write = plan.salesforce
    if write.action is WriteAction.NONE:
        return plan.state
    if write.action is WriteAction.DELETE or plan.state is None:
        return base
    values = {**plan.state.values, **{change.field: change.old for change in write.changes}}
    return evolve(plan.state, values=values, pending=write.values)
