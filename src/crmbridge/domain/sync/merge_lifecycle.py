"""Creates and deletes: a record only one side has, and a delete on one side (R-S5).

Parts of :func:`crmbridge.domain.sync.merge.merge_record`; call that, not these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from crmbridge.domain.sync.merge_fields import (
    UNKNOWN,
    Decisions,
    conflict_winner,
    field_value,
    next_state,
    same_as_base,
)
from crmbridge.domain.sync.plan import (
    DeleteConflict,
    SideWrite,
    SyncPlan,
    WriteAction,
)
from crmbridge.domain.sync.rules import DeletePolicy, MergeRules
from crmbridge.domain.sync.values import (
    FieldChange,
    FieldValue,
    RecordVersion,
    Side,
    SyncState,
    same_value,
)


def plan_create(
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
    current = record.values
    for name, from_source, from_target in rules.field_flows(source):
        value = current.get(name)
        if from_source:
            values[name] = value
            # Against a restored record's old data, an empty value must be sent too.
            before = field_value(prior, name)
            if not same_value(before, value):
                sent.append(FieldChange(field=name, old=before, new=value))
            continue
        owned = field_value(prior, name)
        values[name] = owned
        if from_target and not same_value(value, owned):
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
        state = next_state(rules, base, versions, values)
    return SyncPlan(
        platform=writes[Side.PLATFORM],
        salesforce=writes[Side.SALESFORCE],
        delete_conflict=delete_conflict,
        state=state,
    )


def merge_delete(
    rules: MergeRules,
    base: SyncState,
    versions: Mapping[Side, RecordVersion | None],
    decisions: Decisions,
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
        and not same_as_base(field_value(live, rule.field), base.values.get(rule.field, UNKNOWN))
    )
    conflict: DeleteConflict | None = None
    if edited:
        winner = conflict_winner(rules, versions, decisions.delete)
        conflict = DeleteConflict(deleted_side=deleted_side, edited_fields=edited, winner=winner)
        if winner is None:
            return SyncPlan(
                delete_conflict=conflict, state=next_state(rules, base, versions, base.values)
            )
        if winner is live_side:
            return plan_create(rules, base, versions, source=live_side, delete_conflict=conflict)
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
