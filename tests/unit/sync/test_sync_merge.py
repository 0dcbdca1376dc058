"""The per-field three-way merge, conflict policies, creates and deletes (R-S4, R-S5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sync_support import apply_plan, at, platform, salesforce, state

from crmbridge.domain.sync import (
    ConflictPolicy,
    DeleteConflict,
    DeletePolicy,
    Direction,
    FieldChange,
    FieldRule,
    MergeRules,
    Side,
    WriteAction,
    field_rules,
    merge_record,
    same_value,
)

NAMES = ("FirstName", "LastName", "Phone")


def rules(**overrides: object) -> MergeRules:
    settings: dict[str, object] = {"fields": field_rules(NAMES)}
    settings.update(overrides)
    return MergeRules(**settings)


BASE = {"FirstName": "Ada", "LastName": "Lovelace", "Phone": "111"}


# --- one side changed ------------------------------------------------------------------


def test_nothing_changed_writes_nothing_and_keeps_the_base() -> None:
    plan = merge_record(
        rules=rules(), base=state(BASE), platform=platform(BASE), salesforce=salesforce(BASE)
    )
    assert plan.writes_nothing
    assert plan.conflicts == ()
    assert plan.state is not None
    assert dict(plan.state.values) == BASE


def test_a_platform_edit_goes_to_salesforce() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "222"}),
        salesforce=salesforce(BASE),
    )
    assert plan.salesforce.action is WriteAction.UPDATE
    assert plan.salesforce.changes == (FieldChange(field="Phone", old="111", new="222"),)
    assert plan.platform.action is WriteAction.NONE
    assert plan.state is not None
    assert plan.state.values["Phone"] == "222"


def test_a_salesforce_edit_goes_to_the_platform() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform(BASE),
        salesforce=salesforce({**BASE, "LastName": "King"}),
    )
    assert plan.platform.changes == (FieldChange(field="LastName", old="Lovelace", new="King"),)
    assert plan.salesforce.action is WriteAction.NONE


def test_edits_to_different_fields_on_both_sides_both_survive() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "222"}, modified=5),
        salesforce=salesforce({**BASE, "LastName": "King"}, modified=1),
    )
    assert plan.salesforce.values == {"Phone": "222"}
    assert plan.platform.values == {"LastName": "King"}
    assert plan.conflicts == ()
    assert plan.state is not None
    assert dict(plan.state.values) == {"FirstName": "Ada", "LastName": "King", "Phone": "222"}


def test_the_same_edit_on_both_sides_writes_nothing_but_moves_the_base() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "999"}),
        salesforce=salesforce({**BASE, "Phone": "999"}),
    )
    assert plan.writes_nothing
    assert plan.conflicts == ()
    assert plan.state is not None
    assert plan.state.values["Phone"] == "999"


# --- conflicts -------------------------------------------------------------------------


def _conflict_plan(policy: ConflictPolicy, *, p_time: float | None, s_time: float | None):  # type: ignore[no-untyped-def]
    return merge_record(
        rules=rules(conflict_policy=policy),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P", "FirstName": "Augusta"}, modified=p_time),
        salesforce=salesforce({**BASE, "Phone": "S"}, modified=s_time),
    )


def test_platform_wins_takes_the_platform_value_to_salesforce() -> None:
    plan = _conflict_plan(ConflictPolicy.PLATFORM_WINS, p_time=1, s_time=9)
    assert plan.salesforce.values == {"Phone": "P", "FirstName": "Augusta"}
    assert plan.platform.action is WriteAction.NONE
    assert [(c.field, c.winner) for c in plan.conflicts] == [("Phone", Side.PLATFORM)]


def test_salesforce_wins_takes_the_salesforce_value_to_the_platform() -> None:
    plan = _conflict_plan(ConflictPolicy.SALESFORCE_WINS, p_time=9, s_time=1)
    assert plan.platform.values == {"Phone": "S"}
    assert plan.salesforce.values == {"FirstName": "Augusta"}
    assert plan.state is not None
    assert plan.state.values["Phone"] == "S"


@pytest.mark.parametrize(
    ("p_time", "s_time", "winner"),
    [
        (9, 1, Side.PLATFORM),
        (1, 9, Side.SALESFORCE),
        (5, 5, Side.SALESFORCE),  # a tie goes to the configured tie winner
        (None, None, Side.SALESFORCE),
        (None, 1, Side.SALESFORCE),  # an unknown time counts as older
        (1, None, Side.PLATFORM),
    ],
)
def test_most_recent_takes_the_newer_side(
    p_time: float | None, s_time: float | None, winner: Side
) -> None:
    plan = _conflict_plan(ConflictPolicy.MOST_RECENT, p_time=p_time, s_time=s_time)
    (conflict,) = plan.conflicts
    assert conflict.winner is winner
    assert plan.state is not None
    assert plan.state.values["Phone"] == ("P" if winner is Side.PLATFORM else "S")


def test_most_recent_tie_winner_is_configurable() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.MOST_RECENT, tie_winner=Side.PLATFORM),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}, modified=5),
        salesforce=salesforce({**BASE, "Phone": "S"}, modified=5),
    )
    assert plan.salesforce.values == {"Phone": "P"}


def test_manual_review_holds_the_conflict_and_still_syncs_the_other_fields() -> None:
    plan = _conflict_plan(ConflictPolicy.MANUAL_REVIEW, p_time=1, s_time=2)
    (held,) = plan.held_conflicts
    assert (held.field, held.base, held.platform, held.salesforce) == ("Phone", "111", "P", "S")
    assert plan.needs_review
    assert plan.salesforce.values == {"FirstName": "Augusta"}  # the non-conflicting field
    assert plan.platform.action is WriteAction.NONE
    assert plan.state is not None
    assert plan.state.values["Phone"] == "111"


def test_an_admin_decision_settles_a_held_conflict() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.MANUAL_REVIEW),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce({**BASE, "Phone": "S"}),
        field_decisions={"Phone": Side.SALESFORCE},
    )
    assert plan.platform.values == {"Phone": "S"}
    assert not plan.needs_review


def test_a_held_conflict_stays_held_after_the_other_fields_are_applied() -> None:
    r = rules(conflict_policy=ConflictPolicy.MANUAL_REVIEW)
    p = platform({**BASE, "Phone": "P", "FirstName": "Augusta"})
    s = salesforce({**BASE, "Phone": "S"})
    first = merge_record(rules=r, base=state(BASE), platform=p, salesforce=s)
    p2, s2 = apply_plan(first, p, s)
    second = merge_record(rules=r, base=first.state, platform=p2, salesforce=s2)
    assert second.writes_nothing
    assert second.held_conflicts == first.held_conflicts


# --- directions ------------------------------------------------------------------------


def test_a_field_flowing_only_to_salesforce_never_takes_salesforce_values() -> None:
    r = rules(
        fields=(
            FieldRule(field="Phone", direction=Direction.TO_SALESFORCE),
            FieldRule(field="LastName"),
        )
    )
    plan = merge_record(
        rules=r,
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce({**BASE, "Phone": "S"}),
    )
    assert plan.conflicts == ()
    assert plan.salesforce.values == {"Phone": "P"}
    assert plan.platform.action is WriteAction.NONE


def test_a_salesforce_edit_of_a_platform_owned_field_is_left_alone() -> None:
    r = rules(fields=(FieldRule(field="Phone", direction=Direction.TO_SALESFORCE),))
    plan = merge_record(
        rules=r,
        base=state(BASE),
        platform=platform(BASE),
        salesforce=salesforce({**BASE, "Phone": "S"}),
    )
    assert plan.writes_nothing
    assert plan.state is not None
    assert plan.state.values == {"Phone": "111"}


def test_the_object_direction_bounds_every_field() -> None:
    plan = merge_record(
        rules=rules(direction=Direction.FROM_SALESFORCE),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce({**BASE, "LastName": "King"}),
    )
    assert plan.salesforce.action is WriteAction.NONE
    assert plan.platform.values == {"LastName": "King"}


# --- new records -----------------------------------------------------------------------


def test_a_new_platform_record_is_created_in_salesforce_with_its_values() -> None:
    plan = merge_record(
        rules=rules(),
        base=None,
        platform=platform({"FirstName": "Ada", "LastName": "Lovelace", "Phone": None}),
        salesforce=None,
    )
    assert plan.salesforce.action is WriteAction.CREATE
    assert plan.salesforce.values == {"FirstName": "Ada", "LastName": "Lovelace"}
    assert plan.state is not None
    assert (plan.state.platform_id, plan.state.salesforce_id) == ("m-1", None)
    assert plan.state.values["Phone"] is None


def test_a_new_salesforce_record_is_created_on_the_platform() -> None:
    plan = merge_record(
        rules=rules(), base=None, platform=None, salesforce=salesforce(BASE, counterpart=None)
    )
    assert plan.platform.action is WriteAction.CREATE
    assert plan.platform.values == BASE
    assert plan.state is not None
    assert (plan.state.platform_id, plan.state.salesforce_id) == (None, "003000000000001AAA")
    assert plan.state.salesforce_modstamp == at(0)


def test_creation_can_be_switched_off_per_side() -> None:
    plan = merge_record(
        rules=rules(create_in_salesforce=False), base=None, platform=platform(BASE), salesforce=None
    )
    assert plan.writes_nothing
    assert plan.state is None


def test_a_one_way_mapping_never_creates_against_its_direction() -> None:
    plan = merge_record(
        rules=rules(direction=Direction.TO_SALESFORCE),
        base=None,
        platform=None,
        salesforce=salesforce(BASE),
    )
    assert plan.writes_nothing
    assert plan.state is None


def test_a_pair_linked_by_a_match_key_merges_with_an_unknown_base() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.SALESFORCE_WINS),
        base=None,
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce(BASE),
    )
    assert plan.platform.values == {"Phone": "111"}
    (conflict,) = plan.conflicts
    assert not conflict.base_known
    assert plan.state is not None
    assert dict(plan.state.values) == BASE


def test_a_field_new_to_the_mapping_has_no_base_until_both_sides_agree() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.MANUAL_REVIEW),
        base=state({"FirstName": "Ada", "LastName": "Lovelace"}),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce({**BASE, "Phone": "S"}),
    )
    (held,) = plan.held_conflicts
    assert held.field == "Phone"
    assert not held.base_known
    assert plan.state is not None
    assert "Phone" not in plan.state.values


# --- deletes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "action", "detached"),
    [
        (DeletePolicy.PROPAGATE, WriteAction.DELETE, None),
        (DeletePolicy.ARCHIVE, WriteAction.ARCHIVE, True),
        (DeletePolicy.IGNORE, WriteAction.NONE, True),
    ],
)
def test_a_salesforce_delete_follows_the_delete_policy(
    policy: DeletePolicy, action: WriteAction, detached: bool | None
) -> None:
    plan = merge_record(
        rules=rules(delete_policy=policy),
        base=state(BASE),
        platform=platform(BASE),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert plan.platform.action is action
    assert plan.salesforce.action is WriteAction.NONE
    assert (plan.state.detached if plan.state else None) is detached


@pytest.mark.parametrize(
    ("policy", "action"),
    [
        (DeletePolicy.PROPAGATE, WriteAction.DELETE),
        (DeletePolicy.ARCHIVE, WriteAction.NONE),  # Salesforce has no archive state
        (DeletePolicy.IGNORE, WriteAction.NONE),
    ],
)
def test_a_platform_delete_follows_the_delete_policy(
    policy: DeletePolicy, action: WriteAction
) -> None:
    plan = merge_record(
        rules=rules(delete_policy=policy),
        base=state(BASE),
        platform=platform(BASE, deleted=True),
        salesforce=salesforce(BASE),
    )
    assert plan.salesforce.action is action


def test_a_record_purged_from_salesforce_counts_as_deleted() -> None:
    plan = merge_record(rules=rules(), base=state(BASE), platform=platform(BASE), salesforce=None)
    assert plan.platform.action is WriteAction.DELETE
    assert plan.state is None


def test_edit_beats_delete_under_platform_wins_and_recreates_the_salesforce_record() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.PLATFORM_WINS),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "222"}),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert plan.delete_conflict == DeleteConflict(
        deleted_side=Side.SALESFORCE, edited_fields=("Phone",), winner=Side.PLATFORM
    )
    assert plan.salesforce.action is WriteAction.CREATE
    assert plan.salesforce.values == {**BASE, "Phone": "222"}
    assert plan.state is not None
    assert plan.state.salesforce_id is None


def test_delete_beats_edit_under_salesforce_wins() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.SALESFORCE_WINS),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "222"}),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert plan.platform.action is WriteAction.DELETE
    assert plan.delete_conflict is not None
    assert plan.delete_conflict.winner is Side.SALESFORCE


def test_delete_versus_edit_under_most_recent_compares_the_delete_time() -> None:
    newer_delete = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform(BASE, deleted=True, modified=10),
        salesforce=salesforce({**BASE, "Phone": "S"}, modified=3),
    )
    assert newer_delete.salesforce.action is WriteAction.DELETE
    newer_edit = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform(BASE, deleted=True, modified=1),
        salesforce=salesforce({**BASE, "Phone": "S"}, modified=3),
    )
    assert newer_edit.platform.action is WriteAction.CREATE  # restore the platform record
    assert newer_edit.state is not None
    assert newer_edit.state.platform_id == "m-1"


def test_delete_versus_edit_under_manual_review_is_held_without_writes() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.MANUAL_REVIEW),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "222"}),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert plan.writes_nothing
    assert plan.needs_review
    assert plan.state == state(BASE, salesforce_modstamp=at(0), held_delete=Side.SALESFORCE)


def test_a_delete_on_a_side_the_mapping_does_not_read_detaches_the_pair() -> None:
    plan = merge_record(
        rules=rules(direction=Direction.TO_SALESFORCE),
        base=state(BASE),
        platform=platform(BASE),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert plan.writes_nothing
    assert plan.state is not None
    assert plan.state.detached


def test_a_detached_pair_is_left_alone() -> None:
    detached = state(BASE, detached=True)
    plan = merge_record(
        rules=rules(),
        base=detached,
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce(BASE),
    )
    assert plan.writes_nothing
    assert plan.state == detached


def test_deleted_on_both_sides_forgets_the_pair() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE),
        platform=platform(BASE, deleted=True),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert plan.writes_nothing
    assert plan.state is None


# --- bookkeeping -----------------------------------------------------------------------


def test_the_state_remembers_the_newest_salesforce_modstamp() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE, salesforce_modstamp=at(30)),
        platform=platform(BASE),
        salesforce=salesforce(BASE, modstamp=20),
    )
    assert plan.state is not None
    assert plan.state.salesforce_modstamp == at(30)


def test_a_version_passed_for_the_wrong_side_is_refused() -> None:
    with pytest.raises(ValueError, match="salesforce record"):
        merge_record(rules=rules(), base=None, platform=salesforce(BASE), salesforce=None)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        (True, 1, False),
        (False, 0, False),
        (1, 1.0, True),
        (Decimal("1.10"), 1.1, True),
        (None, "", False),
        ("a", "a", True),
        ("1", 1, False),
    ],
)
def test_values_compare_by_canonical_meaning(left: object, right: object, same: bool) -> None:
    assert same_value(left, right) is same


# --- external-id stamping --------------------------------------------------------------


def test_a_record_created_in_salesforce_gets_the_platform_id_stamped() -> None:
    plan = merge_record(
        rules=rules(), base=None, platform=None, salesforce=salesforce(BASE, counterpart=None)
    )
    assert plan.link_salesforce
    assert plan.state is not None
    assert plan.state.linked
    assert plan.pending_state is not None
    assert not plan.pending_state.linked  # until Salesforce confirms the stamp


def test_a_record_carrying_our_platform_id_needs_no_stamp() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE, linked=False),
        platform=platform(BASE),
        salesforce=salesforce(BASE, counterpart="m-1"),
    )
    assert not plan.link_salesforce
    assert plan.state is not None
    assert plan.state.linked


def test_an_unstamped_pair_is_stamped_even_without_field_changes() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE, linked=False),
        platform=platform(BASE),
        salesforce=salesforce(BASE, counterpart=None),
    )
    assert plan.link_salesforce
    assert not plan.writes_nothing


def test_a_stale_salesforce_record_is_not_merged_with_a_platform_record_linked_elsewhere() -> None:
    with pytest.raises(ValueError, match="linked to"):
        merge_record(
            rules=rules(),
            base=None,
            platform=platform(BASE, counterpart="003000000000002AAA"),
            salesforce=salesforce(BASE, deleted=True),
        )


def test_a_new_record_starts_with_the_owners_empty_values_and_the_source_follows() -> None:
    r = rules(
        fields=(
            FieldRule(field="LastName"),
            FieldRule(field="Membership__c", direction=Direction.FROM_SALESFORCE),
        )
    )
    plan = merge_record(
        rules=r,
        base=None,
        platform=platform({"LastName": "Lovelace", "Membership__c": "stale"}),
        salesforce=None,
    )
    assert plan.salesforce.values == {"LastName": "Lovelace"}  # Membership__c is not sent
    assert plan.platform.changes == (
        FieldChange(field="Membership__c", old="stale", new=None),  # the owner has none yet
    )
    assert plan.state is not None
    assert plan.state.values == {"LastName": "Lovelace", "Membership__c": None}


def test_a_restored_platform_record_gets_empty_values_sent_explicitly() -> None:
    plan = merge_record(
        rules=rules(conflict_policy=ConflictPolicy.SALESFORCE_WINS),
        base=state(BASE),
        platform=platform(BASE, deleted=True, modified=1),
        salesforce=salesforce({**BASE, "Phone": None}, modified=2),
    )
    assert plan.platform.action is WriteAction.CREATE
    assert plan.platform.changes == (FieldChange(field="Phone", old="111", new=None),)


def test_a_pending_write_seen_in_salesforce_confirms_itself() -> None:
    pending = state({**BASE, "Phone": "111"}, pending={"Phone": "222"})
    plan = merge_record(
        rules=rules(),
        base=pending,
        platform=platform({**BASE, "Phone": "222"}),
        salesforce=salesforce({**BASE, "Phone": "222"}),
    )
    assert plan.writes_nothing
    assert plan.state is not None
    assert plan.state.values["Phone"] == "222"
    assert plan.state.pending == {}


def test_a_stamp_changed_in_salesforce_is_stamped_again() -> None:
    plan = merge_record(
        rules=rules(),
        base=state(BASE),  # linked
        platform=platform(BASE),
        salesforce=salesforce(BASE, counterpart="someone-else"),
    )
    assert plan.link_salesforce
