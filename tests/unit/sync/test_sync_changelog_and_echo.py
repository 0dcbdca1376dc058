"""Collapsing change-log entries (R-S3) and echo suppression on both sides."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sync_support import at, salesforce, state

from crmbridge.domain.sync import FieldRule, MergeRules, field_rules
from crmbridge.domain.sync.changelog import (
    ChangeLogEntry,
    ChangeOperation,
    collapse_change_log,
)
from crmbridge.domain.sync.echo import (
    acknowledge_echo,
    is_platform_echo,
    is_salesforce_echo,
)
from crmbridge.domain.sync.rules import Direction

CREATE, UPDATE, DELETE = ChangeOperation.CREATE, ChangeOperation.UPDATE, ChangeOperation.DELETE


def entry(
    seq: int,
    operation: ChangeOperation = UPDATE,
    *,
    record: str = "m-1",
    changes: dict[str, tuple[object, object]] | None = None,
    source: str = "api",
    origin: str = "",
) -> ChangeLogEntry:
    changes = changes or {}
    return ChangeLogEntry(
        seq=seq,
        entity_type="member",
        record_id=record,
        operation=operation,
        changed_fields=tuple(changes),
        old_values={k: old for k, (old, _) in changes.items()},
        new_values={k: new for k, (_, new) in changes.items()},
        source=source,
        origin=origin,
        created_at=at(seq),
    )


def test_several_updates_collapse_into_one_write_with_the_union_and_latest_values() -> None:
    result = collapse_change_log(
        [
            entry(1, changes={"phone": ("1", "2")}),
            entry(2, changes={"email": ("a@x", "b@x"), "phone": ("2", "3")}),
        ],
        already_synced={("member", "m-1")},
    )
    (change,) = result.pending
    assert change.operation is UPDATE
    assert change.changed_fields == ("phone", "email")
    assert change.old_values == {"phone": "1", "email": "a@x"}
    assert change.new_values == {"phone": "3", "email": "b@x"}
    assert change.seqs == (1, 2)
    assert change.last_changed_at == at(2)
    assert result.last_seq == 2


def test_a_create_followed_by_a_delete_cancels_out() -> None:
    result = collapse_change_log(
        [entry(1, CREATE, changes={"phone": (None, "1")}), entry(2, DELETE)], already_synced=()
    )
    assert result.pending == ()
    assert result.skipped_seqs == (1, 2)


def test_a_create_followed_by_a_delete_still_deletes_when_already_synced() -> None:
    result = collapse_change_log(
        [entry(1, CREATE), entry(2, DELETE)], already_synced={("member", "m-1")}
    )
    (change,) = result.pending
    assert change.operation is DELETE


def test_a_new_record_with_later_updates_is_one_create() -> None:
    result = collapse_change_log(
        [
            entry(3, UPDATE, changes={"phone": ("1", "2")}),
            entry(1, CREATE, changes={"phone": (None, "1")}),
        ],
        already_synced=(),
    )
    (change,) = result.pending
    assert change.operation is CREATE
    assert change.new_values == {"phone": "2"}


def test_a_field_changed_and_changed_back_is_still_merged_against_the_base() -> None:
    # The first change may have reached Salesforce before a crash; only the merge
    # against the base can tell, so the record stays pending.
    result = collapse_change_log(
        [entry(1, changes={"phone": ("1", "2")}), entry(2, changes={"phone": ("2", "1")})],
        already_synced={("member", "m-1")},
    )
    (change,) = result.pending
    assert change.new_values == {"phone": "1"}
    assert change.seqs == (1, 2)


def test_a_value_turning_from_one_to_true_is_a_change() -> None:
    result = collapse_change_log(
        [entry(1, changes={"opt_in": (1, True)})], already_synced={("member", "m-1")}
    )
    assert result.pending[0].new_values == {"opt_in": True}


def test_entries_written_by_the_sync_engine_are_not_sent_back() -> None:
    result = collapse_change_log(
        [
            entry(1, source="sync", changes={"phone": ("1", "2")}),
            entry(2, record="m-2", origin="run-7", changes={"phone": ("1", "2")}),
        ],
        already_synced={("member", "m-1"), ("member", "m-2")},
        own_origins={"run-7"},
    )
    assert result.pending == ()
    assert result.skipped_seqs == (1, 2)


def test_a_record_created_by_the_sync_counts_as_synced_for_a_later_delete() -> None:
    result = collapse_change_log(
        [entry(1, CREATE, source="sync"), entry(2, DELETE)], already_synced=()
    )
    (change,) = result.pending
    assert change.operation is DELETE
    assert change.seqs == (2,)
    assert result.skipped_seqs == (1,)


def test_pending_changes_come_oldest_first() -> None:
    result = collapse_change_log(
        [
            entry(5, record="b"),
            entry(2, record="a", changes={"x": (1, 2)}),
            entry(1, record="b", changes={"x": (1, 2)}),
        ],
        already_synced={("member", "a"), ("member", "b")},
    )
    assert [c.record_id for c in result.pending] == ["b", "a"]


def test_no_entries_collapse_to_nothing() -> None:
    result = collapse_change_log([], already_synced=())
    assert (result.pending, result.skipped_seqs, result.last_seq) == ((), (), None)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(ChangeOperation),
            st.sampled_from(["api", "ui", "sync"]),
        ),
        max_size=25,
    ),
    st.sets(st.sampled_from(["a", "b", "c"])),
)
def test_every_entry_is_either_folded_or_skipped_exactly_once(
    raw: list[tuple[str, ChangeOperation, str]], synced: set[str]
) -> None:
    entries = [
        entry(seq, op, record=rec, source=src, changes={"f": (seq, seq + 1)})
        for seq, (rec, op, src) in enumerate(raw, start=1)
    ]
    result = collapse_change_log(entries, already_synced={("member", r) for r in synced})
    folded = [s for c in result.pending for s in c.seqs]
    assert sorted(folded + list(result.skipped_seqs)) == list(range(1, len(raw) + 1))
    assert len({c.record_id for c in result.pending}) == len(result.pending)
    assert all(c.seqs == tuple(sorted(c.seqs)) for c in result.pending)


# --- echo suppression ------------------------------------------------------------------


def test_a_change_log_entry_from_the_sync_is_an_echo() -> None:
    assert is_platform_echo(entry(1, source="sync"))
    assert is_platform_echo(entry(1, origin="run-1"), own_origins={"run-1"})
    assert not is_platform_echo(entry(1, source="api", origin="req-9"), own_origins={"run-1"})


RULES = MergeRules(fields=field_rules(["FirstName", "Phone"]))


def test_a_salesforce_version_equal_to_what_we_last_wrote_is_our_echo() -> None:
    base = state({"FirstName": "Ada", "Phone": "222"})
    incoming = salesforce({"FirstName": "Ada", "Phone": "222", "Unmapped__c": "x"}, modstamp=9)
    assert is_salesforce_echo(incoming=incoming, state=base, rules=RULES)
    assert acknowledge_echo(base, incoming).salesforce_modstamp == at(9)


def test_a_salesforce_version_with_a_new_value_is_not_an_echo() -> None:
    base = state({"FirstName": "Ada", "Phone": "222"})
    incoming = salesforce({"FirstName": "Ada", "Phone": "333"})
    assert not is_salesforce_echo(incoming=incoming, state=base, rules=RULES)


def test_only_fields_that_flow_from_salesforce_decide_an_echo() -> None:
    rules = MergeRules(
        fields=(
            FieldRule(field="FirstName"),
            FieldRule(field="Phone", direction=Direction.TO_SALESFORCE),
        )
    )
    base = state({"FirstName": "Ada", "Phone": "222"})
    incoming = salesforce({"FirstName": "Ada", "Phone": "edited in Salesforce"})
    assert is_salesforce_echo(incoming=incoming, state=base, rules=rules)


def test_deletes_unlinked_and_detached_pairs_are_never_echoes() -> None:
    base = state({"FirstName": "Ada", "Phone": "222"})
    same = {"FirstName": "Ada", "Phone": "222"}
    assert not is_salesforce_echo(incoming=salesforce(same, deleted=True), state=base, rules=RULES)
    assert not is_salesforce_echo(incoming=salesforce(same), state=None, rules=RULES)
    detached = state(same, detached=True)
    assert not is_salesforce_echo(incoming=salesforce(same), state=detached, rules=RULES)
    partial = state({"FirstName": "Ada"})
    assert not is_salesforce_echo(incoming=salesforce(same), state=partial, rules=RULES)
