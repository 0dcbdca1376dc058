"""Outbound merges without a Salesforce read, and the pending state of unconfirmed writes."""

from __future__ import annotations

import pytest
from sync_support import at, platform, salesforce, state

from crmbridge.domain.sync import (
    ConflictPolicy,
    DeletePolicy,
    FieldChange,
    MergeRules,
    Side,
    WriteAction,
    field_rules,
    merge_record,
)
from crmbridge.domain.sync.outbound import RecordWrite, WriteOperation
from crmbridge.domain.sync.record_sync import (
    assumed_salesforce_version,
    plan_outbound_record,
    salesforce_record_writes,
)

RULES = MergeRules(fields=field_rules(["FirstName", "LastName", "Phone"]))
BASE = {"FirstName": "Ada", "LastName": "Lovelace", "Phone": "111"}


def test_an_outbound_merge_sends_only_the_changed_fields() -> None:
    plan = plan_outbound_record(
        rules=RULES, base=state(BASE), platform=platform({**BASE, "Phone": "222"})
    )
    assert plan.salesforce.changes == (FieldChange(field="Phone", old="111", new="222"),)
    writes = salesforce_record_writes(
        plan, object="Contact", platform_id="m-1", salesforce_id="003X", change_seqs=(4, 5)
    )
    assert writes == (
        RecordWrite(
            object="Contact",
            operation=WriteOperation.UPSERT,
            platform_id="m-1",
            salesforce_id="003X",
            fields={"Phone": "222"},
            change_seqs=(4, 5),
        ),
    )


def test_an_outbound_merge_of_a_new_record_creates_it() -> None:
    plan = plan_outbound_record(rules=RULES, base=None, platform=platform(BASE))
    assert plan.salesforce.action is WriteAction.CREATE
    (write,) = salesforce_record_writes(
        plan, object="Contact", platform_id="m-1", salesforce_id=None
    )
    assert write.operation is WriteOperation.UPSERT
    assert write.fields == BASE


def test_an_outbound_merge_of_a_deleted_record_follows_the_delete_policy() -> None:
    rules = MergeRules(fields=RULES.fields, delete_policy=DeletePolicy.PROPAGATE)
    plan = plan_outbound_record(
        rules=rules, base=state(BASE), platform=platform(BASE, deleted=True)
    )
    (write,) = salesforce_record_writes(
        plan, object="Contact", platform_id="m-1", salesforce_id="003X"
    )
    assert (write.operation, write.salesforce_id, write.fields) == (
        WriteOperation.DELETE,
        "003X",
        {},
    )


def test_a_field_without_a_base_is_left_to_the_inbound_merge() -> None:
    plan = plan_outbound_record(
        rules=RULES,
        base=state({"FirstName": "Ada", "LastName": "Lovelace"}),
        platform=platform({**BASE, "LastName": "King"}),
    )
    assert plan.salesforce.values == {"LastName": "King"}
    assert plan.state is not None
    assert "Phone" not in plan.state.values


def test_nothing_to_send_gives_no_write() -> None:
    plan = plan_outbound_record(rules=RULES, base=state(BASE), platform=platform(BASE))
    assert (
        salesforce_record_writes(plan, object="Contact", platform_id="m-1", salesforce_id="003X")
        == ()
    )


def test_the_assumed_salesforce_version_is_the_base() -> None:
    version = assumed_salesforce_version(state(BASE, salesforce_modstamp=at(3)))
    assert (version.id, dict(version.values), version.modstamp) == (
        "003000000000001AAA",
        BASE,
        at(3),
    )


# --- the pending state -----------------------------------------------------------------


def test_the_pending_state_keeps_salesforces_value_until_the_write_is_confirmed() -> None:
    plan = merge_record(
        rules=MergeRules(fields=RULES.fields, conflict_policy=ConflictPolicy.PLATFORM_WINS),
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce({**BASE, "Phone": "S", "LastName": "King"}),
    )
    assert plan.salesforce.values == {"Phone": "P"}
    assert plan.state is not None
    assert plan.pending_state is not None
    assert plan.state.values["Phone"] == "P"
    assert plan.pending_state.values["Phone"] == "S"  # what Salesforce still holds
    assert plan.pending_state.values["LastName"] == "King"  # the platform write commits now


def test_a_pending_create_is_not_mistaken_for_a_delete() -> None:
    plan = merge_record(
        rules=MergeRules(fields=RULES.fields, conflict_policy=ConflictPolicy.SALESFORCE_WINS),
        base=None,
        platform=platform(BASE),
        salesforce=None,
    )
    assert plan.pending_state is not None
    assert plan.pending_state.salesforce_id is None
    # The process dies before Salesforce answered; the next merge sees no record there.
    again = merge_record(
        rules=MergeRules(fields=RULES.fields, conflict_policy=ConflictPolicy.SALESFORCE_WINS),
        base=plan.pending_state,
        platform=platform(BASE),
        salesforce=None,
    )
    assert again.platform.action is WriteAction.NONE  # never delete the platform record
    assert again.salesforce.action is WriteAction.CREATE
    assert again.salesforce.values == BASE


def test_a_pending_delete_keeps_the_pair_until_salesforce_confirms() -> None:
    base = state(BASE)
    plan = merge_record(
        rules=RULES, base=base, platform=platform(BASE, deleted=True), salesforce=salesforce(BASE)
    )
    assert plan.salesforce.action is WriteAction.DELETE
    assert plan.state is None
    assert plan.pending_state == base


def test_the_pending_state_equals_the_state_when_salesforce_is_not_written() -> None:
    plan = merge_record(
        rules=RULES,
        base=state(BASE),
        platform=platform(BASE),
        salesforce=salesforce({**BASE, "Phone": "S"}),
    )
    assert plan.pending_state == plan.state


def test_an_unstamped_pair_gets_a_link_before_its_upsert() -> None:
    plan = plan_outbound_record(
        rules=RULES, base=state(BASE, linked=False), platform=platform({**BASE, "Phone": "9"})
    )
    link, upsert = salesforce_record_writes(
        plan, object="Contact", platform_id="m-1", salesforce_id="003X"
    )
    assert (link.operation, link.salesforce_id, link.fields) == (WriteOperation.LINK, "003X", {})
    assert (upsert.operation, upsert.fields) == (WriteOperation.UPSERT, {"Phone": "9"})


def test_a_link_or_delete_without_a_salesforce_id_is_refused() -> None:
    plan = plan_outbound_record(
        rules=RULES, base=state(BASE, linked=False), platform=platform(BASE)
    )
    with pytest.raises(ValueError, match="Salesforce id"):
        salesforce_record_writes(plan, object="Contact", platform_id="m-1", salesforce_id=None)


# --- what is held for review stays held when outbound merges without reading Salesforce


REVIEW = MergeRules(fields=RULES.fields, conflict_policy=ConflictPolicy.MANUAL_REVIEW)


def test_an_outbound_merge_does_not_overwrite_a_field_held_for_review() -> None:
    inbound = merge_record(
        rules=REVIEW,
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce({**BASE, "Phone": "S"}),
    )
    assert inbound.state is not None
    assert inbound.state.held == {"Phone": "S"}
    # The platform edit that caused the conflict is still in the change log.
    outbound = plan_outbound_record(
        rules=REVIEW,
        base=inbound.state,
        platform=platform({**BASE, "Phone": "P", "FirstName": "Augusta"}),
    )
    assert outbound.salesforce.values == {"FirstName": "Augusta"}  # the rest still syncs
    assert [c.field for c in outbound.held_conflicts] == ["Phone"]


def test_an_outbound_merge_does_not_resurrect_a_record_whose_delete_is_held() -> None:
    inbound = merge_record(
        rules=REVIEW,
        base=state(BASE),
        platform=platform({**BASE, "Phone": "P"}),
        salesforce=salesforce(BASE, deleted=True),
    )
    assert inbound.state is not None
    assert inbound.state.held_delete is Side.SALESFORCE
    outbound = plan_outbound_record(
        rules=REVIEW, base=inbound.state, platform=platform({**BASE, "Phone": "P"})
    )
    assert outbound.writes_nothing
    assert outbound.needs_review


def test_an_outbound_merge_does_not_delete_what_salesforce_edited_while_review_is_held() -> None:
    inbound = merge_record(
        rules=REVIEW,
        base=state(BASE),
        platform=platform(BASE, deleted=True),
        salesforce=salesforce({**BASE, "Phone": "S"}),
    )
    assert inbound.state is not None
    assert inbound.state.held == {"Phone": "S"}
    outbound = plan_outbound_record(
        rules=REVIEW, base=inbound.state, platform=platform(BASE, deleted=True)
    )
    assert outbound.writes_nothing
    assert outbound.needs_review
