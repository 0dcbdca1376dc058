"""Auto-match (seed 002): counts and suggestions on a fixed describe."""

from __future__ import annotations

from mapping_describes import contact, lead

from crmbridge.domain.mapping.automatch import MatchQuality, auto_match
from crmbridge.domain.mapping.defaults import DEFAULT_PLATFORM_FIELDS
from crmbridge.domain.mapping.model import Direction, FieldKind, ObjectMapping, direct
from crmbridge.domain.mapping.platform import PlatformType, platform_field
from crmbridge.domain.mapping.transforms import DateFormat, ValueMap
from crmbridge.domain.mapping.validation import IssueKind, validate_object_mapping


def test_member_fields_against_contact_give_the_seed_002_summary() -> None:
    result = auto_match(DEFAULT_PLATFORM_FIELDS["member"], contact())
    assert result.summary() == (
        "Found 8 matching fields, 6 partially matching fields and 5 unmatched fields"
    )
    matched = {s.platform_field: s.salesforce_field for s in result.matching}
    assert matched["first_name"] == "FirstName"
    assert matched["mobile_phone"] == "MobilePhone"
    assert matched["membership_status"] == "Membership_Status__c"
    partial = {s.platform_field: s.salesforce_field for s in result.partial}
    assert partial["zip_code"] == "MailingPostalCode"
    assert set(result.unmatched) == {
        "email_opt_in",
        "phone_opt_in",
        "company",
        "member_since",
        "external_id",
    }


def test_lead_fields_match_the_lead_object_name_for_name_and_label_for_label() -> None:
    result = auto_match(DEFAULT_PLATFORM_FIELDS["lead"], lead())
    counts = (len(result.matching), len(result.partial), len(result.unmatched))
    assert counts == (13, 3, 0)
    by_field = {s.platform_field: s for s in (*result.matching, *result.partial)}
    assert by_field["zip_code"].salesforce_field == "PostalCode"  # synonym zip ~ postal
    assert by_field["zip_code"].quality is MatchQuality.MATCHING
    assert by_field["score"].salesforce_field == "Lead_Score__c"
    assert by_field["score"].quality is MatchQuality.PARTIAL


def test_picklists_spelled_differently_get_a_value_map() -> None:
    result = auto_match(DEFAULT_PLATFORM_FIELDS["lead"], lead())
    status = next(s for s in result.matching if s.platform_field == "status")
    (step,) = status.field_mapping.steps
    assert isinstance(step, ValueMap)
    assert ("PROPOSAL_SENT", "Proposal Sent") in step.pairs
    assert status.field_mapping.kind is FieldKind.TRANSFORM


def test_type_mismatches_that_a_step_can_bridge_are_suggested_with_the_step() -> None:
    result = auto_match(DEFAULT_PLATFORM_FIELDS["lead"], lead())
    converted = next(s for s in result.partial if s.platform_field == "converted_at")
    (step,) = converted.field_mapping.steps
    assert isinstance(step, DateFormat)
    # ConvertedDate is read-only: the suggestion only reads it.
    assert converted.field_mapping.direction is Direction.FROM_SALESFORCE


def test_same_name_with_types_no_step_reconciles_is_not_matched() -> None:
    fields = [platform_field("birthdate", PlatformType.BOOLEAN)]
    result = auto_match(fields, contact())
    assert result.unmatched == ("birthdate",)


def test_already_mapped_fields_and_the_external_id_are_left_out() -> None:
    fields = [*DEFAULT_PLATFORM_FIELDS["member"], platform_field("platform_id")]
    result = auto_match(fields, contact(), existing=[direct("first_name", "FirstName")])
    suggested = {s.platform_field for s in (*result.matching, *result.partial)}
    assert "first_name" not in suggested
    assert "FirstName" not in {s.salesforce_field for s in result.matching}
    assert "Platform_Id__c" not in {s.salesforce_field for s in result.partial}
    assert "first_name" not in result.unmatched


def test_accepted_suggestions_form_a_valid_mapping() -> None:
    result = auto_match(DEFAULT_PLATFORM_FIELDS["member"], contact())
    mapping = ObjectMapping(
        platform_entity="member", salesforce_object="Contact", fields=result.accepted()
    )
    issues = validate_object_mapping(mapping, contact(), DEFAULT_PLATFORM_FIELDS["member"])
    assert [i for i in issues if i.kind is not IssueKind.ONE_WAY_TRANSFORM] == []
    with_partial = result.accepted(include_partial=True)
    assert len(with_partial) == len(result.matching) + len(result.partial)


def test_the_result_serializes_for_the_api() -> None:
    data = auto_match(DEFAULT_PLATFORM_FIELDS["lead"], lead()).to_dict()
    assert data["counts"] == {"matching": 13, "partial": 3, "unmatched": 0}
    assert data["matching"][0]["field_mapping"]["salesforce_fields"] == ["FirstName"]
    assert data["summary"].startswith("Found 13 matching fields")
