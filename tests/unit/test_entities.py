"""The entity registry and record-input validation (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmbridge.domain.entities import (
    ENTITY_TYPES,
    RECORD_META_FIELDS,
    FieldType,
    RecordValidationError,
    build_custom_field,
    entity_type_by_plural,
    get_entity_type,
    record_fields,
    validate_record_input,
)
from crmbridge.domain.entities.changes import apply_changes

EXPECTED_TYPES = {
    "member",
    "organization",
    "lead",
    "referral",
    "program",
    "opportunity",
    "activity",
    "campaign",
    "goal",
    "event_registration",
    "course_enrollment",
    "support_ticket",
    "platform_user",
    "team",
}


def _messages(exc: pytest.ExceptionInfo[RecordValidationError]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def test_registry_has_every_entity_type_of_r_d1() -> None:
    assert set(ENTITY_TYPES) == EXPECTED_TYPES


def test_plural_paths_are_unique_and_resolve_back() -> None:
    plurals = [e.plural for e in ENTITY_TYPES.values()]
    assert len(set(plurals)) == len(plurals)
    for entity in ENTITY_TYPES.values():
        assert entity_type_by_plural(entity.plural) is entity


def test_no_core_field_uses_a_meta_name_and_references_point_to_known_types() -> None:
    for entity in ENTITY_TYPES.values():
        assert not entity.field_names & RECORD_META_FIELDS
        for spec in entity.references:
            assert spec.references in ENTITY_TYPES


def test_lead_has_the_seed_004_fields_and_statuses() -> None:
    lead = get_entity_type("lead")
    for name in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile_phone",
        "street",
        "city",
        "state",
        "zip_code",
        "country",
        "score",
        "status",
        "source",
        "insurance_type",
    ]:
        assert lead.field(name) is not None, name
    status = lead.field("status")
    assert status is not None
    assert status.values == (
        "NEW",
        "CONTACTED",
        "QUALIFIED",
        "PROPOSAL_SENT",
        "NEGOTIATION",
        "CONVERTED",
        "LOST",
    )


def test_create_fills_defaults_and_normalises_values() -> None:
    values = validate_record_input(
        get_entity_type("member"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "member_since": "2024-02-29",
            "tags": ["event_attended", "membership_active", "event_attended"],
        },
        partial=False,
    )
    assert values["membership_status"] == "ACTIVE"
    assert values["email_opt_in"] is False
    # Catalog order, repeats dropped: equal sets compare equal.
    assert values["tags"] == ["membership_active", "event_attended"]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(RecordValidationError) as exc:
        validate_record_input(
            get_entity_type("lead"),
            {
                "email": "not-an-email",
                "score": "high",
                "status": "WON",
                "colour": "red",
                "id": "x",
                "first_name": "x" * 41,
            },
            partial=False,
        )
    messages = _messages(exc)
    assert set(messages) == {"email", "score", "status", "colour", "id", "first_name", "last_name"}
    assert "must be one of NEW" in messages["status"]
    assert messages["id"] == "is read-only"
    assert messages["colour"] == "is not a field of this record"
    assert "at most 40" in messages["first_name"]


def test_update_is_partial_and_may_clear_optional_fields_only() -> None:
    lead = get_entity_type("lead")
    assert validate_record_input(lead, {"phone": None, "version": 3}, partial=True) == {
        "phone": None
    }
    with pytest.raises(RecordValidationError) as exc:
        validate_record_input(lead, {"last_name": None}, partial=True)
    assert "required" in _messages(exc)["last_name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("score", True),
        ("score", 1.5),
        ("score", 2**60),
        ("converted_at", "2025-01-01T10:00:00"),
        ("converted_at", "yesterday"),
        ("phone", "call me"),
        ("email", 42),
    ],
)
def test_wrong_types_are_rejected(field: str, value: object) -> None:
    with pytest.raises(RecordValidationError) as exc:
        validate_record_input(get_entity_type("lead"), {field: value}, partial=True)
    assert field in _messages(exc)


def test_datetimes_are_stored_in_utc() -> None:
    values = validate_record_input(
        get_entity_type("lead"), {"converted_at": "2025-03-01T10:00:00+02:00"}, partial=True
    )
    assert values == {"converted_at": "2025-03-01T08:00:00Z"}


def test_dates_must_be_calendar_dates() -> None:
    with pytest.raises(RecordValidationError):
        validate_record_input(
            get_entity_type("member"), {"member_since": "2023-02-29"}, partial=True
        )
    with pytest.raises(RecordValidationError):
        validate_record_input(get_entity_type("member"), {"member_since": "20230228"}, partial=True)


def test_custom_fields_validate_like_core_fields() -> None:
    member = get_entity_type("member")
    shirt = build_custom_field(member, name="shirt_size", type="picklist", values=["S", "M"])
    votes = build_custom_field(member, name="votes", type=FieldType.INTEGER, required=True)
    values = validate_record_input(
        member,
        {"first_name": "A", "last_name": "B", "shirt_size": "M", "votes": 3},
        custom_fields=[shirt, votes],
        partial=False,
    )
    assert values["shirt_size"] == "M"
    with pytest.raises(RecordValidationError) as exc:
        validate_record_input(
            member,
            {"first_name": "A", "last_name": "B", "shirt_size": "XL"},
            custom_fields=[shirt, votes],
            partial=False,
        )
    assert set(_messages(exc)) == {"shirt_size", "votes"}
    # The same checks from the merged fields a caller holds already (a sync page).
    merged = record_fields(member, [shirt, votes])
    with pytest.raises(RecordValidationError) as again:
        validate_record_input(
            member,
            {"first_name": "A", "last_name": "B", "shirt_size": "XL"},
            fields=merged,
            partial=False,
        )
    assert set(_messages(again)) == {"shirt_size", "votes"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "First Name", "type": "string"}, "name"),
        ({"name": "email", "type": "string"}, "name"),
        ({"name": "version", "type": "string"}, "name"),
        ({"name": "x", "type": "reference"}, "type"),
        ({"name": "x", "type": "picklist"}, "values"),
        ({"name": "x", "type": "string", "values": ["a"]}, "values"),
        ({"name": "x", "type": "string", "max_length": 1000}, "max_length"),
        ({"name": "x", "type": "boolean", "max_length": 10}, "max_length"),
        ({"name": "x", "type": "multi_picklist", "values": ["a;b"]}, "values"),
    ],
)
def test_bad_custom_field_definitions_are_rejected(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(RecordValidationError) as exc:
        build_custom_field(get_entity_type("member"), **kwargs)  # type: ignore[arg-type]
    assert field in _messages(exc)


def test_custom_field_names_are_unique_per_entity() -> None:
    with pytest.raises(RecordValidationError):
        build_custom_field(
            get_entity_type("member"), name="votes", type="integer", taken_names=["votes"]
        )


def test_apply_changes_reports_only_real_changes() -> None:
    data, changes = apply_changes({"a": 1, "b": "x"}, {"a": 1, "b": None, "c": True})
    assert data == {"a": 1, "c": True}
    assert [(c.field, c.old, c.new) for c in changes] == [("b", "x", None), ("c", None, True)]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)


@given(
    current=st.dictionaries(st.sampled_from("abcde"), _json.filter(lambda v: v is not None)),
    updates=st.dictionaries(st.sampled_from("abcde"), _json),
)
def test_apply_changes_then_replaying_the_changes_rebuilds_the_result(
    current: dict[str, object], updates: dict[str, object]
) -> None:
    data, changes = apply_changes(current, updates)
    rebuilt, _ = apply_changes(current, {c.field: c.new for c in changes})
    assert rebuilt == data
    # Applying the same updates again changes nothing.
    assert apply_changes(data, updates)[1] == ()
