"""Properties of the conflict resolver, proven with hypothesis (R-S4, issue 6 "Proof")."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_support import apply_plan, at, with_assigned_ids

from crmbridge.domain.sync import (
    ConflictPolicy,
    DeleteConflict,
    DeletePolicy,
    Direction,
    FieldConflict,
    FieldRule,
    FieldValue,
    MergeRules,
    RecordVersion,
    Side,
    SideWrite,
    SyncPlan,
    SyncState,
    WriteAction,
    evolve,
    merge_record,
    same_value,
)

FIELDS = ("A", "B", "C", "D")
# A small value pool, so that sides often agree by chance and conflicts are common.
values_pool: st.SearchStrategy[FieldValue] = st.sampled_from([None, "x", "y", "z", 1, 1.0, True])


@st.composite
def merge_rules(
    draw: st.DrawFn, *, delete_policies: tuple[DeletePolicy, ...] = tuple(DeletePolicy)
) -> MergeRules:
    names = draw(st.lists(st.sampled_from(FIELDS), min_size=1, unique=True))
    return MergeRules(
        fields=tuple(
            FieldRule(field=name, direction=draw(st.sampled_from(Direction))) for name in names
        ),
        direction=draw(st.sampled_from(Direction)),
        conflict_policy=draw(st.sampled_from(ConflictPolicy)),
        tie_winner=draw(st.sampled_from(Side)),
        delete_policy=draw(st.sampled_from(delete_policies)),
        create_in_salesforce=draw(st.booleans()),
        create_on_platform=draw(st.booleans()),
    )


def value_maps() -> st.SearchStrategy[dict[str, FieldValue]]:
    return st.dictionaries(st.sampled_from(FIELDS), values_pool)


@st.composite
def versions(draw: st.DrawFn, side: Side, *, alive: bool | None = None) -> RecordVersion | None:
    if alive is None and draw(st.integers(0, 5)) == 0:
        return None
    return RecordVersion(
        side=side,
        object="Contact",
        id="m-1" if side is Side.PLATFORM else "003000000000001AAA",
        counterpart_id="003000000000001AAA" if side is Side.PLATFORM else "m-1",
        values=draw(value_maps()),
        modified_at=draw(st.none() | st.integers(0, 3).map(at)),
        modstamp=draw(st.none() | st.integers(0, 3).map(at)) if side is Side.SALESFORCE else None,
        deleted=not alive if alive is not None else draw(st.integers(0, 4)) == 0,
    )


@st.composite
def bases(draw: st.DrawFn) -> SyncState | None:
    if draw(st.integers(0, 4)) == 0:
        return None
    return SyncState(
        object="Contact",
        platform_id="m-1",
        salesforce_id="003000000000001AAA",
        values=draw(value_maps()),
        salesforce_modstamp=draw(st.none() | st.integers(0, 3).map(at)),
        detached=draw(st.integers(0, 9)) == 0,
    )


def merge_inputs(**rule_options: object) -> st.SearchStrategy[tuple]:  # type: ignore[type-arg]
    return st.tuples(
        merge_rules(**rule_options),  # type: ignore[arg-type]
        bases(),
        versions(Side.PLATFORM),
        versions(Side.SALESFORCE),
    )


@given(merge_inputs())
def test_the_merge_is_deterministic(inputs: tuple) -> None:  # type: ignore[type-arg]
    rules, base, p, s = inputs
    first = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    again = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    assert first == again


@given(merge_inputs())
def test_applying_the_plan_and_merging_again_changes_nothing(inputs: tuple) -> None:  # type: ignore[type-arg]
    rules, base, p, s = inputs
    plan = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    p2, s2 = apply_plan(plan, p, s)
    stored = with_assigned_ids(plan.state, p2, s2)
    again = merge_record(rules=rules, base=stored, platform=p2, salesforce=s2)
    assert again.writes_nothing
    assert again.conflicts == plan.held_conflicts
    held_delete = plan.delete_conflict if plan.needs_review else None
    assert again.delete_conflict == held_delete
    assert again.state == stored


@given(
    merge_rules(),
    bases().filter(lambda b: b is not None and not b.detached),
    versions(Side.PLATFORM, alive=True),
    versions(Side.SALESFORCE, alive=True),
)
def test_a_change_that_does_not_conflict_is_never_dropped(
    rules: MergeRules, base: SyncState, p: RecordVersion, s: RecordVersion
) -> None:
    plan = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    assert plan.state is not None
    for rule in rules.fields:
        name = rule.field
        changed = [
            side
            for side, version in ((Side.PLATFORM, p), (Side.SALESFORCE, s))
            if rules.field_flows_from(rule, side)
            and (
                name not in base.values
                or not same_value(version.values.get(name), base.values[name])
            )
        ]
        if len(changed) != 1:
            continue
        (source,) = changed
        value = (p if source is Side.PLATFORM else s).values.get(name)
        other = (s if source is Side.PLATFORM else p).values.get(name)
        assert same_value(plan.state.values[name], value)
        written = plan.write_on(source.other).values
        assert same_value(other, value) or same_value(written[name], value)


@given(
    st.dictionaries(st.sampled_from(FIELDS), values_pool, min_size=len(FIELDS)),
    st.sets(st.sampled_from(FIELDS)),
    st.sampled_from(ConflictPolicy),
    st.data(),
)
def test_edits_to_different_fields_on_both_sides_both_survive(
    base_values: dict[str, FieldValue],
    platform_fields: set[str],
    policy: ConflictPolicy,
    data: st.DataObject,
) -> None:
    salesforce_fields = set(FIELDS) - platform_fields
    platform_edits = {f: f"p-{f}" for f in platform_fields}
    salesforce_edits = {f: f"s-{f}" for f in salesforce_fields}
    rules = MergeRules(fields=tuple(FieldRule(field=f) for f in FIELDS), conflict_policy=policy)
    p = RecordVersion(
        side=Side.PLATFORM,
        object="Contact",
        id="m-1",
        values={**base_values, **platform_edits},
        modified_at=at(data.draw(st.integers(0, 3))),
    )
    s = RecordVersion(
        side=Side.SALESFORCE,
        object="Contact",
        id="003000000000001AAA",
        values={**base_values, **salesforce_edits},
        modified_at=at(data.draw(st.integers(0, 3))),
    )
    base = SyncState(object="Contact", platform_id="m-1", values=base_values)
    plan = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    p2, s2 = apply_plan(plan, p, s)
    assert p2 is not None
    assert s2 is not None
    expected = {**base_values, **platform_edits, **salesforce_edits}
    assert dict(p2.values) == expected == dict(s2.values)
    assert plan.conflicts == ()


def _mirror_version(version: RecordVersion | None) -> RecordVersion | None:
    if version is None:
        return None
    return replace(version, side=version.side.other, modstamp=None)


def _mirror_write(write: SideWrite) -> SideWrite:
    return replace(write, side=write.side.other)


def _mirror_conflict(conflict: FieldConflict) -> FieldConflict:
    winner = conflict.winner.other if conflict.winner is not None else None
    return replace(
        conflict, platform=conflict.salesforce, salesforce=conflict.platform, winner=winner
    )


def _mirror_delete(conflict: DeleteConflict | None) -> DeleteConflict | None:
    if conflict is None:
        return None
    winner = conflict.winner.other if conflict.winner is not None else None
    return replace(conflict, deleted_side=conflict.deleted_side.other, winner=winner)


def _outcome(plan: SyncPlan) -> tuple:  # type: ignore[type-arg]
    """What must mirror: writes, conflicts and the synced values (ids are side-specific)."""
    state = None if plan.state is None else (dict(plan.state.values), plan.state.detached)
    return (plan.platform, plan.salesforce, plan.conflicts, plan.delete_conflict, state)


def _without_deleted_data(version: RecordVersion | None) -> RecordVersion | None:
    if version is None or not version.deleted:
        return version
    return replace(version, values={})


# Two asymmetries are on purpose and left out: archive (the platform archives,
# Salesforce cannot), and restoring a deleted record with its data (the platform
# restores, Salesforce recreates an empty record) — deleted records carry no data here.
@given(merge_inputs(delete_policies=(DeletePolicy.PROPAGATE, DeletePolicy.IGNORE)))
def test_the_merge_is_symmetric_under_swapping_sides_with_the_mirrored_policy(
    inputs: tuple,  # type: ignore[type-arg]
) -> None:
    rules, base, p, s = inputs
    p, s = _without_deleted_data(p), _without_deleted_data(s)
    plan = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    mirrored = merge_record(
        rules=rules.mirrored(),
        base=base,
        platform=_mirror_version(s),
        salesforce=_mirror_version(p),
    )
    p_write, s_write, conflicts, delete_conflict, state = _outcome(mirrored)
    assert _outcome(plan) == (
        _mirror_write(s_write),
        _mirror_write(p_write),
        tuple(_mirror_conflict(c) for c in conflicts),
        _mirror_delete(delete_conflict),
        state,
    )


@given(merge_inputs())
def test_a_crash_before_the_salesforce_write_is_confirmed_loses_nothing(
    inputs: tuple,  # type: ignore[type-arg]
) -> None:
    rules, base, p, s = inputs
    plan = merge_record(rules=rules, base=base, platform=p, salesforce=s)
    # The platform writes and the pending state commit together; then the process dies
    # before Salesforce confirms its write.
    unconfirmed = replace(plan, salesforce=SideWrite(side=Side.SALESFORCE), link_salesforce=False)
    p2, _ = apply_plan(unconfirmed, p, s)
    # The adapter reads Salesforce by the pair's id: a record it never created is absent.
    s_now = None if plan.salesforce.action is WriteAction.CREATE else s
    pending = with_assigned_ids(plan.pending_state, p2, s_now)
    again = merge_record(rules=rules, base=pending, platform=p2, salesforce=s_now)
    assert again.platform.action is WriteAction.NONE
    assert again.salesforce.values == plan.salesforce.values
    assert again.link_salesforce == plan.link_salesforce
    same_kind = {WriteAction.CREATE, WriteAction.UPDATE}
    if plan.salesforce.action in same_kind:
        assert again.salesforce.action in same_kind
    else:
        assert again.salesforce.action is plan.salesforce.action


@given(merge_inputs(), st.data())
def test_evolve_makes_what_dataclasses_replace_makes(
    inputs: tuple,  # type: ignore[type-arg]
    data: st.DataObject,
) -> None:
    """The merge's fast copy-with-changes gives the same objects as ``replace``."""
    rules, base, platform, salesforce = inputs
    plan = merge_record(rules=rules, base=base, platform=platform, salesforce=salesforce)
    state = plan.state or SyncState(object="Contact")
    state_changes = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "linked": st.booleans(),
                "platform_id": st.none() | st.text(max_size=5),
                "values": value_maps(),
                "pending": value_maps(),
            },
        )
    )
    assert evolve(state, **state_changes) == replace(state, **state_changes)
    plan_changes = {
        "state": evolve(state, **state_changes),
        "link_salesforce": data.draw(st.booleans()),
    }
    assert evolve(plan, **plan_changes) == replace(plan, **plan_changes)
    assert evolve(plan) == plan
    with pytest.raises(TypeError):
        evolve(state, no_such_field=1)
