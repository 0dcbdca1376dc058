"""Describe-driven checks against the emulated org's real describes, one per issue kind.

The org is the emulator's default schema plus ``Membership_Card__c`` (a short text
field, a create-only and an update-only field, a restricted picklist, an encrypted and
a formula field); platform fields come from the store, custom fields included.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from mapping_world import OrgWorld

from crmbridge.domain.mapping import (
    FieldKind,
    FieldMapping,
    IssueKind,
    ObjectMapping,
    default_object_mappings,
    validate_object_mapping,
)
from crmbridge.domain.mapping.transforms import ChangeCase, TextCase
from crmbridge.mappings.checks import CheckedMapping, check_mapping
from crmbridge.services import custom_fields
from crmbridge.services.access import CLI_PRINCIPAL

#: A mapping of members to membership cards that checks clean; each case breaks one thing.
CARD: dict[str, Any] = {
    "platform_entity": "member",
    "salesforce_object": "Membership_Card__c",
    "fields": [
        {"platform_field": "last_name", "salesforce_field": "Name"},
        # Set once on create in Salesforce: read back, never written.
        {
            "platform_field": "member_since",
            "salesforce_field": "Issued_On__c",
            "direction": "from_salesforce",
        },
    ],
}


def _card(*fields: dict[str, Any], **changes: Any) -> ObjectMapping:
    return ObjectMapping.from_dict({**CARD, "fields": [*CARD["fields"], *fields], **changes})


def _check(world: OrgWorld, mapping: ObjectMapping) -> CheckedMapping:
    with world.session_factory() as session:
        return check_mapping(session, world.org, tenant_id=world.tenant_id, mapping=mapping)


def _kinds(checked: CheckedMapping) -> list[tuple[str, str, str]]:
    return [(p.code, p.severity, p.field) for p in checked.problems]


def test_the_base_card_mapping_checks_clean(org_world: OrgWorld) -> None:
    checked = _check(org_world, _card())
    assert checked.problems == ()
    assert checked.mapping.salesforce_object == "Membership_Card__c"


def test_every_default_mapping_checks_clean_against_the_emulated_org(org_world: OrgWorld) -> None:
    for mapping in default_object_mappings():
        assert _check(org_world, mapping).problems == (), mapping.salesforce_object


def test_object_names_take_the_orgs_spelling(org_world: OrgWorld) -> None:
    checked = _check(org_world, _card(salesforce_object="membership_card__C"))
    assert checked.problems == ()
    assert checked.mapping.salesforce_object == "Membership_Card__c"


CASES: list[tuple[str, ObjectMapping, tuple[str, str, str]]] = [
    (
        "unknown_field",
        _card({"platform_field": "first_name", "salesforce_field": "Card_Cod__c"}),
        ("unknown_field", "error", "Card_Cod__c"),
    ),
    (
        "unknown_platform_field",
        _card({"platform_field": "frist_name", "salesforce_field": "Card_Code__c"}),
        ("unknown_platform_field", "error", "frist_name"),
    ),
    (
        "incompatible_type",
        _card({"platform_field": "email_opt_in", "salesforce_field": "Last_Scan__c"}),
        ("incompatible_type", "error", "Last_Scan__c"),
    ),
    (
        "not_createable",
        _card(
            {
                "platform_field": "birthdate",
                "salesforce_field": "Last_Scan__c",
                "steps": [
                    {
                        "kind": "date_format",
                        "params": {"platform_kind": "date", "salesforce_type": "datetime"},
                    }
                ],
                "kind": "transform",
            }
        ),
        ("not_createable", "error", "Last_Scan__c"),
    ),
    (
        "not_updateable",
        _card({"platform_field": "birthdate", "salesforce_field": "Issued_On__c"}),
        ("not_updateable", "error", "Issued_On__c"),
    ),
    (
        "restricted_picklist_value",
        _card(
            {
                "platform_field": "membership_status",
                "salesforce_field": "Tier__c",
                "kind": "transform",
                "steps": [
                    {
                        "kind": "value_map",
                        "params": {
                            "pairs": [["ACTIVE", "Gold"], ["EXPIRED", "Platinum"]],
                            "salesforce_default": "Bronze",
                            "platform_default": "PENDING",
                        },
                    }
                ],
            }
        ),
        ("restricted_picklist_value", "error", "Tier__c"),
    ),
    (
        "unmapped_picklist_value",
        _card(
            {
                "platform_field": "membership_status",
                "salesforce_field": "Tier__c",
                "kind": "transform",
                "steps": [
                    {
                        "kind": "value_map",
                        "params": {"pairs": [["ACTIVE", "Gold"]], "salesforce_default": "Silver"},
                    }
                ],
            }
        ),
        ("unmapped_picklist_value", "warning", "Tier__c"),
    ),
    (
        "field_too_short",
        _card({"platform_field": "first_name", "salesforce_field": "Card_Code__c"}),
        ("field_too_short", "error", "Card_Code__c"),
    ),
    (
        "encrypted_field",
        _card({"platform_field": "external_id", "salesforce_field": "Pin__c"}),
        ("encrypted_field", "error", "Pin__c"),
    ),
    (
        "relational_field",
        _card({"platform_field": "last_name", "salesforce_field": "Contact__r.LastName"}),
        ("relational_field", "error", "Contact__r.LastName"),
    ),
    (
        "calculated_field",
        _card({"platform_field": "last_name", "salesforce_field": "Holder_Name__c"}),
        ("calculated_field", "error", "Holder_Name__c"),
    ),
    (
        "missing_external_id",
        _card(external_id_field="Card_Code__c"),
        ("missing_external_id", "error", "Card_Code__c"),
    ),
    (
        "required_field_unmapped",
        ObjectMapping.from_dict({**CARD, "fields": CARD["fields"][1:]}),
        ("required_field_unmapped", "error", "Name"),
    ),
    (
        "invalid_formula",
        _card(
            {
                "platform_field": "title",
                "kind": "formula",
                "direction": "from_salesforce",
                "formula": "UPPER(sf.Card_Cod__c)",
            }
        ),
        ("invalid_formula", "error", "title"),
    ),
    (
        "duplicate_target",
        _card({"platform_field": "first_name", "salesforce_field": "Name"}),
        ("duplicate_target", "error", "Name"),
    ),
    (
        "duplicate_target_on_the_platform",
        _card(
            {
                "platform_field": "last_name",
                "salesforce_field": "Holder_Name__c",
                "direction": "from_salesforce",
            }
        ),
        ("duplicate_target", "warning", "last_name"),
    ),
    (
        "one_way_transform",
        _card(
            {
                "platform_field": "state",
                "salesforce_field": "Card_Code__c",
                "kind": "transform",
                "steps": [{"kind": "text_case", "params": {"case": "upper"}}],
            }
        ),
        ("one_way_transform", "warning", "state"),
    ),
]


@pytest.mark.parametrize(("kind", "mapping", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_issue_kind_is_found_against_the_org(
    org_world: OrgWorld, kind: str, mapping: ObjectMapping, expected: tuple[str, str, str]
) -> None:
    checked = _check(org_world, mapping)
    assert expected in _kinds(checked), _kinds(checked)
    problem = next(p for p in checked.problems if (p.code, p.severity, p.field) == expected)
    assert problem.message
    assert problem.fix


def test_a_definition_broken_in_code_is_an_invalid_definition(org_world: OrgWorld) -> None:
    mapping = _card()
    broken = FieldMapping(
        platform_fields=("first_name",),
        salesforce_fields=("Name",),
        kind=FieldKind.DIRECT,
        steps=(ChangeCase(case=TextCase.UPPER),),  # a direct mapping has no steps
    )
    checked = _check(org_world, replace(mapping, fields=(broken,)))
    assert "invalid_definition" in {p.code for p in checked.problems}


def test_an_object_the_org_does_not_have_is_unknown_object(org_world: OrgWorld) -> None:
    checked = _check(org_world, _card(salesforce_object="Membership_Cards__c"))
    assert _kinds(checked) == [("unknown_object", "error", "salesforce_object")]


def test_an_object_the_user_may_not_write_is_not_accessible(org_world: OrgWorld) -> None:
    mapping = ObjectMapping.from_dict(
        {
            "platform_entity": "organization",
            "salesforce_object": "Organization",
            "fields": [{"platform_field": "name", "salesforce_field": "Name"}],
        }
    )
    assert ("object_not_accessible", "error", "Organization") in _kinds(_check(org_world, mapping))


def test_a_describe_of_another_object_is_the_wrong_object(org_world: OrgWorld) -> None:
    contact = org_world.org.describe("Contact").describe
    issues = validate_object_mapping(_card(), contact, ())
    assert [(i.kind, i.field) for i in issues] == [(IssueKind.WRONG_OBJECT, "Membership_Card__c")]


def test_standard_shield_formula_and_picklist_fields_of_contact_and_lead(
    org_world: OrgWorld,
) -> None:
    member = ObjectMapping.from_dict(
        {
            "platform_entity": "member",
            "salesforce_object": "Contact",
            "fields": [
                {"platform_field": "last_name", "salesforce_field": "LastName"},
                {"platform_field": "external_id", "salesforce_field": "Member_SSN__c"},
                {"platform_field": "company", "salesforce_field": "Account_Name__c"},
            ],
        }
    )
    assert {("encrypted_field", "Member_SSN__c"), ("calculated_field", "Account_Name__c")} <= {
        (code, field) for code, _severity, field in _kinds(_check(org_world, member))
    }
    lead = ObjectMapping.from_dict(
        {
            "platform_entity": "lead",
            "salesforce_object": "Lead",
            "fields": [
                {"platform_field": "last_name", "salesforce_field": "LastName"},
                {"platform_field": "company", "salesforce_field": "Company"},
                {"platform_field": "status", "salesforce_field": "Status"},  # free text
            ],
        }
    )
    assert ("restricted_picklist_value", "error", "Status") in _kinds(_check(org_world, lead))


def test_platform_fields_include_the_tenants_custom_fields(org_world: OrgWorld) -> None:
    with org_world.session_factory.begin() as session:
        custom_fields.create_definition(
            session,
            CLI_PRINCIPAL,
            tenant_id=org_world.tenant_id,
            attributes={
                "entity_type": "member",
                "name": "card_code",
                "type": "string",
                "max_length": 30,
            },
        )
    checked = _check(
        org_world, _card({"platform_field": "card_code", "salesforce_field": "Card_Code__c"})
    )
    (problem,) = checked.problems
    assert (problem.code, problem.field) == ("field_too_short", "Card_Code__c")
    assert "30" in problem.message
    assert "10" in problem.message
