"""Per-field merge of a pair whose two records exist, and helpers the merge shares.

Parts of :func:`crmbridge.domain.sync.merge.merge_record`; call that, not these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from crmbridge.domain.sync.plan import (
    FieldConflict,
    SideWrite,
    SyncPlan,
    WriteAction,
)
from crmbridge.domain.sync.rules import ConflictPolicy, MergeRules
from crmbridge.domain.sync.values import (
    FieldChange,
    FieldValue,
    RecordVersion,
    Side,
    SyncState,
    same_value,
)

SIDES = (Side.PLATFORM, Side.SALESFORCE)


class Unknown:
    """The base value of a field the pair has never agreed on."""


UNKNOWN = Unknown()


class Decisions:
    """An administrator's review picks, if any."""

    def __init__(self, *, fields: Mapping[str, Side], delete: Side | None) -> None:
        self.fields = fields
        self.delete = delete


def is_alive(version: RecordVersion | None) -> bool:
    """Whether the record exists and is not deleted."""
    return version is not None and not version.deleted


def field_value(version: RecordVersion | None, name: str) -> FieldValue:
    """A field's value in a version (``None`` when absent)."""
    return None if version is None else version.values.get(name)


def same_as_base(value: FieldValue, base: FieldValue | Unknown) -> bool:
    """Whether a value is unchanged since the base (never, when the base is unknown)."""
    return not isinstance(base, Unknown) and same_value(value, base)


def conflict_winner(
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
    times = {side: getattr(versions[side], "modified_at", None) for side in SIDES}
    platform_time, salesforce_time = times[Side.PLATFORM], times[Side.SALESFORCE]
    if platform_time == salesforce_time:
        return rules.tie_winner
    # A side that cannot say when it changed is taken as the older one.
    if salesforce_time is None:
        return Side.PLATFORM
    if platform_time is None:
        return Side.SALESFORCE
    return Side.PLATFORM if platform_time > salesforce_time else Side.SALESFORCE


def merge_live(
    rules: MergeRules,
    base: SyncState | None,
    versions: Mapping[Side, RecordVersion | None],
    decisions: Decisions,
) -> SyncPlan:
    """Both records exist: merge field by field."""
    base_values: Mapping[str, FieldValue] = base.values if base is not None else {}
    changes: dict[Side, list[FieldChange]] = {side: [] for side in SIDES}
    new_values: dict[str, FieldValue] = {}
    conflicts: list[FieldConflict] = []
    for rule in rules.fields:
        name = rule.field
        base_value: FieldValue | Unknown = base_values.get(name, UNKNOWN)
        current = {side: field_value(versions[side], name) for side in SIDES}
        changed = [
            side
            for side in SIDES
            if rules.field_flows_from(rule, side) and not same_as_base(current[side], base_value)
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
            source = conflict_winner(rules, versions, decisions.fields.get(name))
            conflicts.append(
                FieldConflict(
                    field=name,
                    base=None if isinstance(base_value, Unknown) else base_value,
                    base_known=not isinstance(base_value, Unknown),
                    platform=current[Side.PLATFORM],
                    salesforce=current[Side.SALESFORCE],
                    winner=source,
                )
            )
        if source is None:
            if not isinstance(base_value, Unknown):
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
        for side in SIDES
    }
    return SyncPlan(
        platform=writes[Side.PLATFORM],
        salesforce=writes[Side.SALESFORCE],
        conflicts=tuple(conflicts),
        state=next_state(rules, base, versions, new_values),
    )


def next_state(
    rules: MergeRules,
    base: SyncState | None,
    versions: Mapping[Side, RecordVersion | None],
    values: Mapping[str, FieldValue],
) -> SyncState:
    """The pair's state after a merge: new base values (mapped fields only), newest stamp."""
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
