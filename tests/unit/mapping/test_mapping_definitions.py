"""Mappings as JSON-able dicts: round trips, and one error listing every problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crmbridge.domain.mapping.conditions import (
    ConditionGroup,
    FieldCondition,
    Negation,
    all_of,
    any_of,
    where,
)
from crmbridge.domain.mapping.defaults import default_object_mappings
from crmbridge.domain.mapping.errors import MappingDefinitionError
from crmbridge.domain.mapping.model import (
    ConflictPolicy,
    Direction,
    FieldKind,
    FieldMapping,
    ObjectMapping,
    direct,
)
from crmbridge.domain.mapping.transforms import STEP_TYPES, Lookup, MissingRecordRule


def test_every_default_mapping_survives_a_trip_through_json() -> None:
    for mapping in default_object_mappings():
        text = json.dumps(mapping.to_dict())
        assert ObjectMapping.from_dict(json.loads(text)) == mapping


def test_a_minimal_definition_takes_the_documented_defaults() -> None:
    mapping = ObjectMapping.from_dict(
        {
            "platform_entity": "member",
            "salesforce_object": "Contact",
            "fields": [{"platform_field": "first_name", "salesforce_field": "FirstName"}],
        }
    )
    assert mapping.direction is Direction.BOTH
    assert mapping.external_id_field == "Platform_Id__c"
    assert mapping.conflict_policy is None
    assert mapping.fields == (direct("first_name", "FirstName"),)


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data: dict[str, Any] = {
        "platform_entity": "",
        "salesforce_object": "Contact",
        "direction": "sideways",
        "conflict_policy": "coin_toss",
        "colour": "blue",
        "salesforce_filter": {"field": "Movement_Exclude__c", "op": "is", "value": False},
        "fields": [
            {"platform_field": "first_name"},
            {
                "platform_field": "status",
                "salesforce_field": "Status",
                "kind": "transform",
                "steps": [
                    {"kind": "value_map", "params": {"pairs": [["NEW"]]}},
                    {"kind": "teleport"},
                ],
            },
            {
                "salesforce_field": "Description",
                "kind": "formula",
                "direction": "to_salesforce",
                "formula": "first_name &",
            },
        ],
    }
    with pytest.raises(MappingDefinitionError) as caught:
        ObjectMapping.from_dict(data)
    problems = caught.value.problems
    expected_prefixes = [
        "colour: unknown key",
        "direction: must be one of 'both', 'to_salesforce', 'from_salesforce'",
        "fields[0].salesforce_fields: is required",
        "fields[1].steps[0].params.pairs[0]: must be a [platform value, Salesforce value] pair",
        "fields[1].steps[1].kind: must be one of",
        "fields[2].formula: the formula ends too early",
        "platform_entity: must be a non-empty string",
        "salesforce_filter.op: must be one of",
        "conflict_policy: must be one of",
    ]
    for prefix in expected_prefixes:
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    assert str(caught.value).startswith("The mapping definition is invalid: ")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            {"platform_field": "a", "salesforce_field": "A", "steps": [{"kind": "split"}]},
            "a direct mapping has no steps",
        ),
        (
            {"platform_fields": ["a", "b"], "salesforce_field": "A"},
            "a direct mapping joins one field to one field",
        ),
        (
            {
                "platform_fields": ["a", "b"],
                "salesforce_field": "A",
                "kind": "transform",
                "steps": [{"kind": "text_case", "params": {"case": "upper"}}],
            },
            "several platform fields need a concatenate step first",
        ),
        (
            {
                "platform_field": "a",
                "salesforce_fields": ["A", "B"],
                "kind": "transform",
                "steps": [{"kind": "concatenate"}],
            },
            "several Salesforce fields need a split step last",
        ),
        (
            {"salesforce_field": "A", "kind": "formula", "formula": "1"},
            "a formula computes one way",
        ),
        (
            {
                "platform_field": "a",
                "kind": "formula",
                "direction": "from_salesforce",
                "formula": "a & 1",
            },
            "an inbound formula reads Salesforce fields only",
        ),
        (
            {"platform_field": "a", "salesforce_field": "A", "kind": "transform"},
            "a transform mapping needs at least one step",
        ),
        (
            {"platform_field": "a", "salesforce_field": "A", "default_value": {"x": 1}},
            "must be a string, number or boolean",
        ),
    ],
)
def test_structurally_unusable_field_mappings_are_refused(
    field: dict[str, Any], message: str
) -> None:
    with pytest.raises(MappingDefinitionError) as caught:
        FieldMapping.from_dict(field)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_a_field_flowing_against_the_object_direction_is_refused() -> None:
    with pytest.raises(MappingDefinitionError, match="would never sync"):
        ObjectMapping.from_dict(
            {
                "platform_entity": "campaign",
                "salesforce_object": "Campaign",
                "direction": "from_salesforce",
                "fields": [
                    {
                        "platform_field": "name",
                        "salesforce_field": "Name",
                        "direction": "to_salesforce",
                    }
                ],
            }
        )


def test_outbound_mappings_need_an_external_id() -> None:
    with pytest.raises(MappingDefinitionError, match="external_id_field: is required"):
        ObjectMapping.from_dict(
            {"platform_entity": "x", "salesforce_object": "X__c", "external_id_field": None}
        )


def test_every_step_kind_round_trips_through_its_params() -> None:
    from crmbridge.domain.mapping.defaults import default_object_mappings as defaults

    seen = {step.kind for m in defaults() for f in m.fields for step in f.steps}
    assert {"value_map", "concatenate", "date_format", "lookup", "reference"} <= seen
    for kind, step_type in STEP_TYPES.items():
        assert step_type.kind == kind
    step = Lookup(object_name="Account", match_field="Name", if_missing=MissingRecordRule.ERROR)
    field = FieldMapping(
        platform_fields=("company",),
        salesforce_fields=("AccountId",),
        kind=FieldKind.TRANSFORM,
        steps=(step,),
    )
    assert FieldMapping.from_dict(field.to_dict()) == field


def test_conflict_policy_override_round_trips() -> None:
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        conflict_policy=ConflictPolicy.MANUAL_REVIEW,
        platform_filter=all_of(
            where("status", "ne", "LOST"), Negation(condition=where("email", "eq", None))
        ),
        salesforce_filter=any_of(
            where("Status", "in", ["New", "Contacted"]), where("Email", "like", "%@x.org")
        ),
    )
    assert ObjectMapping.from_dict(mapping.to_dict()) == mapping


# --- conditions --------------------------------------------------------------------


def test_salesforce_filters_compare_text_ignoring_case_like_soql() -> None:
    mapping = ObjectMapping(
        platform_entity="campaign",
        salesforce_object="Campaign",
        salesforce_filter=where("Status", "eq", "planned"),
    )
    assert mapping.accepts_salesforce_record({"Status": "Planned"})
    assert not mapping.accepts_salesforce_record({"Status": "Completed"})


def test_platform_filters_compare_exactly() -> None:
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        platform_filter=where("status", "ne", "LOST"),
    )
    assert mapping.accepts_platform_record({"status": "NEW"})
    assert not mapping.accepts_platform_record({"status": "LOST"})
    assert mapping.accepts_platform_record({"status": "lost"})


@pytest.mark.parametrize(
    ("condition", "record", "expected"),
    [
        (where("Movement_Exclude__c", "eq", False), {"Movement_Exclude__c": False}, True),
        (where("Movement_Exclude__c", "eq", False), {"Movement_Exclude__c": 0}, False),
        (where("Email", "eq", None), {"Email": None}, True),
        (where("Email", "eq", None), {}, True),
        (where("Amount", "gt", 100), {"Amount": None}, False),
        (where("Amount", "ge", 100), {"Amount": 100}, True),
        (where("Amount", "lt", 100), {"Amount": "abc"}, False),
        (where("Status", "in", ["New", "Open"]), {"Status": "new"}, True),
        (where("Status", "not_in", ["New"]), {"Status": "Closed"}, True),
        (where("Email", "like", "%@EXAMPLE.org"), {"Email": "ada@example.org"}, True),
        (where("Name", "like", "A_a"), {"Name": "Ada"}, True),
        (
            where("Campaign.Movement_Include__c", "eq", True),
            {"Campaign": {"Movement_Include__c": True}},
            True,
        ),
        (
            where("campaign.movement_include__c", "eq", True),
            {"Campaign": {"Movement_Include__c": True}},
            True,
        ),
        (Negation(condition=where("A", "eq", 1)), {"A": 2}, True),
        (all_of(where("A", "eq", 1), where("B", "eq", 2)), {"A": 1, "B": 3}, False),
        (any_of(where("A", "eq", 1), where("B", "eq", 2)), {"A": 1, "B": 3}, True),
    ],
)
def test_conditions_evaluate_on_records(
    condition: FieldCondition | ConditionGroup | Negation, record: dict[str, Any], expected: bool
) -> None:
    assert condition.matches(record, case_sensitive=False) is expected


def test_conditions_expose_their_structure_for_the_soql_renderer() -> None:
    condition = all_of(where("Movement_Exclude__c", "eq", False), where("Email", "ne", None))
    assert condition.to_dict() == {
        "and": [
            {"field": "Movement_Exclude__c", "op": "eq", "value": False},
            {"field": "Email", "op": "ne", "value": None},
        ]
    }
    assert condition.fields() == {"Movement_Exclude__c", "Email"}
