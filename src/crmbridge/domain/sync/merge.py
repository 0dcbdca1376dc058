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

from crmbridge.domain.sync.plan import (
    DeleteConflict,
    FieldConflict,
    SideWrite,
    SyncPlan,
    WriteAction,
)
from crmbridge.domain.sync.rules import ConflictPolicy, DeletePolicy, MergeRules
from crmbridge.domain.sync.values import (
    FieldChange,
    FieldValue,
    RecordVersion,
    Side,
    SyncState,
    same_value,
)

_SIDES = (Side.PLATFORM, Side.SALESFORCE)


class _Unknown:
    """The base value of a field the pair has never agreed on."""


_UNKNOWN = _Unknown()


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
    decisions = _Decisions(fields=field_decisions or {}, delete=delete_decision)
    base = _confirm_pending(base, salesforce)
    plan = _link(_decide(rules, base, versions, decisions), base, versions[Side.SALESFORCE])
    pending = _pending_state(plan, base)
    if plan.link_salesforce and pending is not None:
        pending = replace(pending, linked=False)
    return replace(plan, pending_state=pending)


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
    decisions: _Decisions,
) -> SyncPlan:
    if base is not None and base.detached:
        return SyncPlan(state=base)
    alive = [side for side in _SIDES if _is_alive(versions[side])]
    if not alive:
        return SyncPlan(state=None)
    if len(alive) == 2:
        return _merge_live(rules, base, versions, decisions)
    (live_side,) = alive
    if base is None:
        return _plan_create(rules, None, versions, source=live_side)
    if versions[live_side.other] is None and _id_on(base, live_side.other) is None:
        # The pair never got a record on that side (its create is still pending): the
        # absence is not a delete, and the create decided earlier goes ahead.
        return _plan_create(rules, base, versions, source=live_side, decided=True)
    return _merge_delete(rules, base, versions, decisions, deleted_side=live_side.other)


def _id_on(state: SyncState, side: Side) -> str | None:
    return state.platform_id if side is Side.PLATFORM else state.salesforce_id


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
        return replace(plan, state=replace(state, linked=True))
    if action is WriteAction.DELETE or salesforce is None or salesforce.deleted:
        return plan
    stamped = state.platform_id is not None and salesforce.counterpart_id == state.platform_id
    if stamped or (base is not None and base.linked):
        return replace(plan, state=replace(state, linked=True))
    return replace(plan, state=replace(state, linked=True), link_salesforce=True)


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
    return replace(plan.state, values=values, pending=write.values)


class _Decisions:
    """An administrator's review picks, if any."""

    def __init__(self, *, fields: Mapping[str, Side], delete: Side | None) -> None:
        self.fields = fields
        self.delete = delete


def _is_alive(version: RecordVersion | None) -> bool:
    return version is not None and not version.deleted


def _value(version: RecordVersion | None, name: str) -> FieldValue:
    return None if version is None else version.values.get(name)


def _same_as_base(value: FieldValue, base: FieldValue | _Unknown) -> bool:
    return not isinstance(base, _Unknown) and same_value(value, base)


def _winner(
    rules: MergeRules,
    versions: Mapping[Side, RecordVersion | None],
    decision: Side | None,
) -> Side | None:
    """The side whose value (or existence) wins a conflict; ``None`` to hold it."""
    policy = rules.conflict_policy
    if policy is ConflictPolicy.PLATFORM_WINS:
        return Side.PLATFORM
    if policy is ConflictPolicy.SALESFORCE_WINS:
        return Side.SALESFORCE
    if policy is ConflictPolicy.MANUAL_REVIEW:
        return decision
    times = {side: getattr(versions[side], "modified_at", None) for side in _SIDES}
    platform_time, salesforce_time = times[Side.PLATFORM], times[Side.SALESFORCE]
    if platform_time == salesforce_time:
        return rules.tie_winner
    # A side that cannot say when it changed is taken as the older one.
    if salesforce_time is None:
        return Side.PLATFORM
    if platform_time is None:
        return Side.SALESFORCE
    return Side.PLATFORM if platform_time > salesforce_time else Side.SALESFORCE


def _merge_live(
    rules: MergeRules,
    base: SyncState | None,
    versions: Mapping[Side, RecordVersion | None],
    decisions: _Decisions,
) -> SyncPlan:
    """Both records exist: merge field by field."""
    base_values: Mapping[str, FieldValue] = base.values if base is not None else {}
    changes: dict[Side, list[FieldChange]] = {side: [] for side in _SIDES}
    new_values: dict[str, FieldValue] = {}
    conflicts: list[FieldConflict] = []
    for rule in rules.fields:
        name = rule.field
        base_value: FieldValue | _Unknown = base_values.get(name, _UNKNOWN)
        current = {side: _value(versions[side], name) for side in _SIDES}
        changed = [
            side
            for side in _SIDES
            if rules.field_flows_from(rule, side) and not _same_as_base(current[side], base_value)
        ]
        source: Side | None
        if not changed:
            source = None
        elif len(changed) == 1:
            (source,) = changed
        elif same_value(current[Side.PLATFORM], current[Side.SALESFORCE]):
            new_values[name] = current[Side.PLATFORM]
            continue
        else:
            source = _winner(rules, versions, decisions.fields.get(name))
            conflicts.append(
                FieldConflict(
                    field=name,
                    base=None if isinstance(base_value, _Unknown) else base_value,
                    base_known=not isinstance(base_value, _Unknown),
                    platform=current[Side.PLATFORM],
                    salesforce=current[Side.SALESFORCE],
                    winner=source,
                )
            )
        if source is None:
            if not isinstance(base_value, _Unknown):
                new_values[name] = base_value
            continue
        value, target = current[source], source.other
        if not same_value(current[target], value):
            changes[target].append(FieldChange(field=name, old=current[target], new=value))
        new_values[name] = value
    writes = {
        side: SideWrite(
            side=side,
            action=WriteAction.UPDATE if changes[side] else WriteAction.NONE,
            changes=tuple(changes[side]),
        )
        for side in _SIDES
    }
    return SyncPlan(
        platform=writes[Side.PLATFORM],
        salesforce=writes[Side.SALESFORCE],
        conflicts=tuple(conflicts),
        state=_next_state(rules, base, versions, new_values),
    )


def _plan_create(
    rules: MergeRules,
    base: SyncState | None,
    versions: Mapping[Side, RecordVersion | None],
    *,
    source: Side,
    delete_conflict: DeleteConflict | None = None,
    decided: bool = False,
) -> SyncPlan:
    """Only ``source`` has the record: create it on the other side, if the rules allow.

    The creation rules govern records new to the pair; a record recreated because an
    edit beat a delete, or a create already decided (``decided``), is not subject to them.
    """
    target = source.other
    record = versions[source]
    forced = decided or delete_conflict is not None
    if record is None or not (forced or rules.creates_on(target)):
        return SyncPlan(state=base, delete_conflict=delete_conflict)
    # A field the source owns is sent. A field the target owns starts on the new record
    # empty (a new Salesforce record) or as it was (a restored platform record), and the
    # source's copy follows it, as it follows any change the owner makes. A default
    # Salesforce fills in arrives later as an ordinary change.
    prior = versions[target] if target is Side.PLATFORM else None
    values: dict[str, FieldValue] = {}
    sent: list[FieldChange] = []
    follow: list[FieldChange] = []
    for rule in rules.fields:
        name, value = rule.field, record.values.get(rule.field)
        if rules.field_flows_from(rule, source):
            values[name] = value
            # Against a restored record's old data, an empty value must be sent too.
            before = _value(prior, name)
            if not same_value(before, value):
                sent.append(FieldChange(field=name, old=before, new=value))
            continue
        owned = _value(prior, name)
        values[name] = owned
        if rules.field_flows_from(rule, target) and not same_value(value, owned):
            follow.append(FieldChange(field=name, old=value, new=owned))
    writes = {
        target: SideWrite(side=target, action=WriteAction.CREATE, changes=tuple(sent)),
        source: SideWrite(
            side=source,
            action=WriteAction.UPDATE if follow else WriteAction.NONE,
            changes=tuple(follow),
        ),
    }
    if base is None:
        state = SyncState(
            object=record.object,
            platform_id=record.id if source is Side.PLATFORM else record.counterpart_id,
            salesforce_id=record.id if source is Side.SALESFORCE else None,
            values=values,
            salesforce_modstamp=record.modstamp if source is Side.SALESFORCE else None,
        )
    elif target is Side.SALESFORCE:
        # Salesforce gives a recreated record a new id (the old one stays in the
        # recycle bin), so what we knew about the old one no longer applies.
        state = replace(base, values=values, salesforce_id=None, salesforce_modstamp=None)
    else:
        # The platform restores the same id, keeping the external id in Salesforce valid.
        state = _next_state(rules, base, versions, values)
    return SyncPlan(
        platform=writes[Side.PLATFORM],
        salesforce=writes[Side.SALESFORCE],
        delete_conflict=delete_conflict,
        state=state,
    )


def _merge_delete(
    rules: MergeRules,
    base: SyncState,
    versions: Mapping[Side, RecordVersion | None],
    decisions: _Decisions,
    *,
    deleted_side: Side,
) -> SyncPlan:
    """A synced pair lost its record on ``deleted_side``."""
    live_side = deleted_side.other
    live = versions[live_side]
    if not rules.direction.flows_from(deleted_side):
        # The deleting side is not a source for this mapping: the delete is not carried
        # over, and the pair stops syncing rather than resurrecting the record.
        return SyncPlan(state=replace(base, detached=True))
    edited = tuple(
        rule.field
        for rule in rules.fields
        if rules.field_flows_from(rule, live_side)
        and not _same_as_base(_value(live, rule.field), base.values.get(rule.field, _UNKNOWN))
    )
    conflict: DeleteConflict | None = None
    if edited:
        winner = _winner(rules, versions, decisions.delete)
        conflict = DeleteConflict(deleted_side=deleted_side, edited_fields=edited, winner=winner)
        if winner is None:
            return SyncPlan(
                delete_conflict=conflict, state=_next_state(rules, base, versions, base.values)
            )
        if winner is live_side:
            return _plan_create(rules, base, versions, source=live_side, delete_conflict=conflict)
    return _apply_delete_policy(rules, base, live_side=live_side, delete_conflict=conflict)


def _apply_delete_policy(
    rules: MergeRules,
    base: SyncState,
    *,
    live_side: Side,
    delete_conflict: DeleteConflict | None,
) -> SyncPlan:
    policy = rules.delete_policy
    if policy is DeletePolicy.PROPAGATE:
        write = SideWrite(side=live_side, action=WriteAction.DELETE)
        state = None
    elif policy is DeletePolicy.ARCHIVE and live_side is Side.PLATFORM:
        write = SideWrite(side=live_side, action=WriteAction.ARCHIVE)
        state = replace(base, detached=True)
    else:
        write = SideWrite(side=live_side)
        state = replace(base, detached=True)
    other = SideWrite(side=live_side.other)
    return SyncPlan(
        platform=write if live_side is Side.PLATFORM else other,
        salesforce=write if live_side is Side.SALESFORCE else other,
        delete_conflict=delete_conflict,
        state=state,
    )


def _next_state(
    rules: MergeRules,
    base: SyncState | None,
    versions: Mapping[Side, RecordVersion | None],
    values: Mapping[str, FieldValue],
) -> SyncState:
    platform, salesforce = versions[Side.PLATFORM], versions[Side.SALESFORCE]
    object_name = next(
        (v.object for v in (platform, salesforce) if v is not None),
        base.object if base is not None else "",
    )
    if base is None:
        base = SyncState(
            object=object_name,
            platform_id=_own_or_counterpart_id(platform, salesforce),
            salesforce_id=_own_or_counterpart_id(salesforce, platform),
        )
    stamps = [s for s in (base.salesforce_modstamp, getattr(salesforce, "modstamp", None)) if s]
    mapped = {rule.field for rule in rules.fields}
    return replace(
        base,
        values={name: value for name, value in values.items() if name in mapped},
        salesforce_modstamp=max(stamps) if stamps else None,
    )


def _own_or_counterpart_id(own: RecordVersion | None, other: RecordVersion | None) -> str | None:
    if own is not None:
        return own.id
    return other.counterpart_id if other is not None else None
