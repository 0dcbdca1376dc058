"""The default mappings (R-M4): every seed pair, the seed tables, and the registry."""

from __future__ import annotations

from mapping_describes import DESCRIBES

from crmbridge.domain.entities.registry import ENTITY_TYPES
from crmbridge.domain.mapping import (
    DEFAULT_PLATFORM_FIELDS,
    MappingContext,
    default_object_mapping,
    default_object_mappings,
    map_to_platform,
    map_to_salesforce,
    platform_fields_from_dicts,
    validate_object_mapping,
)
from crmbridge.domain.mapping.transforms import ValueMap


def test_every_object_pair_the_seeds_name_has_a_default_mapping() -> None:
    pairs = {(m.platform_entity, m.salesforce_object) for m in default_object_mappings()}
    assert pairs == {
        ("member", "Contact"),  # seed 000 field table, seed 002 Contact properties
        ("organization", "Account"),  # seed 001 organisations, seed 002 Account properties
        ("lead", "Lead"),  # seed 004 lead mapping
        ("referral", "Lead"),  # seed 003 referral add
        ("opportunity", "Opportunity"),  # seed 002 Opportunity properties
        ("campaign", "Campaign"),  # seed 001 efforts
        ("goal", "CampaignMember"),  # seed 001 goals and sub-goals
        ("activity", "Task"),  # seed 004 notes, seed 000 activities
        ("activity", "EmailMessage"),  # seed 004 emails
        ("support_ticket", "Task"),  # seed 000 support ticket notes
    }


def test_the_lead_status_mapping_is_the_seed_004_table() -> None:
    lead = default_object_mapping("lead", "Lead")
    assert lead is not None
    status = next(f for f in lead.fields if f.salesforce_fields == ("Status",))
    (step,) = status.steps
    assert isinstance(step, ValueMap)
    assert step.pairs[:7] == (
        ("NEW", "New"),
        ("CONTACTED", "Contacted"),
        ("QUALIFIED", "Qualified"),
        ("PROPOSAL_SENT", "Proposal Sent"),
        ("NEGOTIATION", "Negotiating"),
        ("CONVERTED", "Closed Won"),
        ("LOST", "Closed Lost"),
    )


def test_the_seed_000_field_table_is_in_the_member_mapping() -> None:
    member = default_object_mapping("member", "Contact")
    assert member is not None
    pairs = {(f.platform_field, f.salesforce_field) for f in member.fields}
    assert {
        ("first_name", "FirstName"),
        ("last_name", "LastName"),
        ("phone", "Phone"),
        ("company", "AccountId"),  # Company → Account.Name through a lookup
        ("membership_status", "Membership_Status__c"),
    } <= pairs


def test_default_platform_fields_follow_the_entity_registry() -> None:
    for entity, fields in DEFAULT_PLATFORM_FIELDS.items():
        registry = ENTITY_TYPES[entity]
        for field in fields:
            spec = registry.field(field.name)
            assert spec is not None, (entity, field.name)
            assert spec.type.value == field.type.value, (entity, field.name)
            assert tuple(spec.values) == field.values, (entity, field.name)
            assert spec.references == field.references, (entity, field.name)


def test_the_defaults_validate_clean_against_the_registrys_own_fields() -> None:
    # The registry's lengths follow the Salesforce fields the defaults map to (e-mail
    # 80, URLs 255, source note 1,000), so no field_too_short gap remains.
    for mapping in default_object_mappings():
        registry = ENTITY_TYPES[mapping.platform_entity]
        fields = platform_fields_from_dicts(spec.describe() for spec in registry.fields)
        describe = DESCRIBES[mapping.salesforce_object]()
        issues = validate_object_mapping(mapping, describe, fields)
        assert issues == [], (mapping.platform_entity, mapping.salesforce_object, issues)


def test_default_platform_field_lengths_are_the_registrys() -> None:
    for entity, fields in DEFAULT_PLATFORM_FIELDS.items():
        registry = ENTITY_TYPES[entity]
        for field in fields:
            spec = registry.field(field.name)
            assert spec is not None
            if field.max_length is not None:
                assert spec.effective_max_length == field.max_length, (entity, field.name)


def test_a_member_round_trips_through_its_contact() -> None:
    member = default_object_mapping("member", "Contact")
    assert member is not None
    context = MappingContext(time_zone="Europe/Berlin")
    record = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "phone": "+44 20 7946 0000",
        "membership_status": "EXPIRING",
        "email_opt_in": True,
        "birthdate": "1815-12-10",
        "tags": ["membership_expiring", "course_completed"],
        "zip_code": "W1",
    }
    outbound = map_to_salesforce(record, member, context=context)
    assert outbound.ok, outbound.errors
    inbound = map_to_platform(
        {**outbound.values, "Movement_Exclude__c": False}, member, context=context
    )
    assert inbound.ok, inbound.errors
    assert {k: inbound.values[k] for k in record} == record
