"""Describe-driven validation: one test per issue kind, each naming the field and fix."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mapping_describes import contact, describe, lead, opportunity, sf_field, task

from crmbridge.domain.mapping.conditions import where
from crmbridge.domain.mapping.defaults import (
    DEFAULT_PLATFORM_FIELDS,
    default_object_mapping,
    default_object_mappings,
)
from crmbridge.domain.mapping.model import (
    CreationRule,
    Direction,
    FieldMapping,
    MatchKey,
    ObjectMapping,
    computed,
    direct,
    transformed,
)
from crmbridge.domain.mapping.platform import PlatformType, platform_field
from crmbridge.domain.mapping.transforms import (
    ChangeCase,
    Lookup,
    TextCase,
    value_map,
)
from crmbridge.domain.mapping.validation import (
    IssueKind,
    MappingIssue,
    Severity,
    validate_object_mapping,
)

MEMBER_FIELDS = DEFAULT_PLATFORM_FIELDS["member"]
LEAD_FIELDS = DEFAULT_PLATFORM_FIELDS["lead"]


def contact_mapping(*fields: FieldMapping, **kwargs: Any) -> ObjectMapping:
    """A member ↔ Contact mapping that is valid apart from the fields under test."""
    base = (direct("last_name", "LastName"),)
    return ObjectMapping(
        platform_entity="member", salesforce_object="Contact", fields=base + fields, **kwargs
    )


def issues_of(
    mapping: ObjectMapping, describe_json: dict[str, Any] | None = None, fields: Any = None
) -> list[MappingIssue]:
    return validate_object_mapping(
        mapping, describe_json or contact(), MEMBER_FIELDS if fields is None else fields
    )


def only(issues: list[MappingIssue], kind: IssueKind) -> MappingIssue:
    found = [i for i in issues if i.kind is kind]
    assert len(found) == 1, issues
    return found[0]


def test_every_default_mapping_is_valid_against_a_standard_org() -> None:
    from mapping_describes import DESCRIBES

    for mapping in default_object_mappings():
        issues = validate_object_mapping(
            mapping,
            DESCRIBES[mapping.salesforce_object](),
            DEFAULT_PLATFORM_FIELDS[mapping.platform_entity],
        )
        assert issues == [], (mapping.platform_entity, mapping.salesforce_object, issues)


def test_an_unknown_field_suggests_api_names_by_name_and_by_label() -> None:
    by_name = only(issues_of(contact_mapping(direct("email", "Emial"))), IssueKind.UNKNOWN_FIELD)
    assert by_name.field == "Emial"
    assert by_name.suggestions[0] == "Email"
    assert "did you mean Email" in by_name.message
    assert "API name" in by_name.fix
    by_label = only(
        issues_of(contact_mapping(direct("phone", "Business_Phone"))), IssueKind.UNKNOWN_FIELD
    )
    assert by_label.suggestions == ("Phone",)


def test_an_unknown_platform_field_is_reported_with_suggestions() -> None:
    issue = only(
        issues_of(contact_mapping(direct("frist_name", "FirstName"))),
        IssueKind.UNKNOWN_PLATFORM_FIELD,
    )
    assert issue.field == "frist_name"
    assert issue.suggestions == ("first_name",)


def test_incompatible_types_are_reported_with_the_step_that_fixes_them() -> None:
    issues = issues_of(
        contact_mapping(direct("member_since", "HasOptedOutOfEmail"), direct("title", "Birthdate"))
    )
    kinds = [i for i in issues if i.kind is IssueKind.INCOMPATIBLE_TYPE]
    assert {i.field for i in kinds} == {"HasOptedOutOfEmail", "Birthdate"}
    birthdate = next(i for i in kinds if i.field == "Birthdate")
    assert "text value into a date field" in birthdate.message
    assert "coerce step" in birthdate.fix


def test_a_datetime_into_a_date_field_needs_a_date_format_step() -> None:
    fields = (*LEAD_FIELDS,)
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Opportunity",
        fields=(direct("converted_at", "CloseDate"), direct("last_name", "Name")),
        direction=Direction.FROM_SALESFORCE,
    )
    issue = only(issues_of(mapping, opportunity(), fields), IssueKind.INCOMPATIBLE_TYPE)
    assert "date_format step" in issue.fix
    assert "tenant's time zone" in issue.fix


def test_fields_the_integration_user_cannot_create_or_update_are_reported() -> None:
    describe_json = contact()
    for field in describe_json["fields"]:
        if field["name"] == "Title":
            field["createable"] = False
            field["updateable"] = False
    issues = issues_of(contact_mapping(direct("title", "Title")), describe_json)
    assert only(issues, IssueKind.NOT_CREATEABLE).field == "Title"
    not_updateable = only(issues, IssueKind.NOT_UPDATEABLE)
    assert "field-level security" in not_updateable.fix


def test_update_only_mappings_do_not_need_createable_fields() -> None:
    describe_json = contact()
    for field in describe_json["fields"]:
        if field["name"] == "Title":
            field["createable"] = False
    mapping = contact_mapping(
        direct("title", "Title"), creation_in_salesforce=CreationRule.UPDATE_MATCHED_ONLY
    )
    assert [i.kind for i in issues_of(mapping, describe_json)] == []


def test_inbound_only_fields_may_be_read_only() -> None:
    mapping = contact_mapping(
        direct("company", "Account_Name__c", direction=Direction.FROM_SALESFORCE)
    )
    assert issues_of(mapping) == []


def test_restricted_picklist_values_without_a_value_mapping_are_named() -> None:
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        fields=(
            direct("last_name", "LastName"),
            direct("company", "Company"),
            direct("status", "Status"),
        ),
    )
    issues = issues_of(mapping, lead(), LEAD_FIELDS)
    restricted = [i for i in issues if i.kind is IssueKind.RESTRICTED_PICKLIST_VALUE]
    assert {i.message.split("'")[1] for i in restricted} == {
        "NEW",
        "CONTACTED",
        "QUALIFIED",
        "PROPOSAL_SENT",
        "NEGOTIATION",
        "CONVERTED",
        "LOST",
    }
    assert all("value_map step" in i.fix for i in restricted)


def test_a_value_map_target_missing_from_a_restricted_picklist_is_named() -> None:
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        fields=(
            direct("last_name", "LastName"),
            direct("company", "Company"),
            transformed("status", "Status", value_map({"NEW": "New", "LOST": "Lost Forever"})),
        ),
    )
    issue = only(issues_of(mapping, lead(), LEAD_FIELDS), IssueKind.RESTRICTED_PICKLIST_VALUE)
    assert "'Lost Forever' is not a value of the restricted picklist Lead.Status" in issue.message


def test_free_text_into_a_restricted_picklist_is_reported() -> None:
    mapping = ObjectMapping(
        platform_entity="opportunity",
        salesforce_object="Opportunity",
        fields=(
            direct("name", "Name"),
            direct("stage", "StageName"),
            direct("close_date", "CloseDate"),
        ),
    )
    issue = only(
        validate_object_mapping(mapping, opportunity(), DEFAULT_PLATFORM_FIELDS["opportunity"]),
        IssueKind.RESTRICTED_PICKLIST_VALUE,
    )
    assert "any text can be sent" in issue.message
    assert "Prospecting" in issue.fix


def test_picklist_values_that_cannot_come_back_are_a_warning() -> None:
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        fields=(
            direct("last_name", "LastName"),
            direct("company", "Company"),
            transformed(
                "status",
                "Status",
                value_map({"NEW": "New", "LOST": "Closed Lost"}, salesforce_default="New"),
            ),
        ),
    )
    issue = only(issues_of(mapping, lead(), LEAD_FIELDS), IssueKind.UNMAPPED_PICKLIST_VALUE)
    assert issue.severity is Severity.WARNING
    assert "'Qualified'" in issue.message


def test_a_salesforce_field_shorter_than_the_platform_allows_is_reported() -> None:
    fields = [*MEMBER_FIELDS, platform_field("nickname", max_length=200)]
    issue = only(
        issues_of(contact_mapping(direct("nickname", "Title")), fields=fields),
        IssueKind.FIELD_TOO_SHORT,
    )
    assert "allows 200 characters but Contact.Title holds 128" in issue.message
    assert "raise Contact.Title's length to 200" in issue.fix


def test_concatenated_lengths_add_up() -> None:
    from crmbridge.domain.mapping.transforms import Concatenate

    mapping = contact_mapping(
        transformed(
            ("first_name", "last_name"),
            "MailingCity",
            Concatenate(separator=" "),
            direction=Direction.TO_SALESFORCE,
        )
    )
    issue = only(issues_of(mapping), IssueKind.FIELD_TOO_SHORT)
    assert "allows 121 characters but Contact.MailingCity holds 40" in issue.message


def test_encrypted_fields_are_flagged_in_the_editor() -> None:
    fields = [*MEMBER_FIELDS, platform_field("ssn", max_length=11)]
    issue = only(
        issues_of(contact_mapping(direct("ssn", "Member_SSN__c")), fields=fields),
        IssueKind.ENCRYPTED_FIELD,
    )
    assert "Shield Platform Encryption" in issue.message


def test_a_cross_object_path_cannot_be_written() -> None:
    issue = only(
        issues_of(contact_mapping(direct("company", "Account.Name"))), IssueKind.RELATIONAL_FIELD
    )
    assert issue.field == "Account.Name"
    assert "AccountId" in issue.fix
    assert "lookup step" in issue.fix


def test_a_cross_object_path_may_be_read() -> None:
    mapping = contact_mapping(
        direct("company", "Account.Name", direction=Direction.FROM_SALESFORCE)
    )
    assert issues_of(mapping) == []
    unknown = contact_mapping(direct("company", "Acount.Name", direction=Direction.FROM_SALESFORCE))
    assert only(issues_of(unknown), IssueKind.UNKNOWN_FIELD).field == "Acount.Name"


def test_formula_fields_cannot_be_written() -> None:
    issue = only(
        issues_of(contact_mapping(direct("company", "Account_Name__c"))),
        IssueKind.CALCULATED_FIELD,
    )
    assert "from_salesforce" in issue.fix


def test_the_external_id_field_must_exist_and_be_unique() -> None:
    describe_json = contact()
    describe_json["fields"] = [f for f in describe_json["fields"] if f["name"] != "Platform_Id__c"]
    missing = only(issues_of(contact_mapping(), describe_json), IssueKind.MISSING_EXTERNAL_ID)
    assert "Contact has no field Platform_Id__c" in missing.message
    assert "External ID and Unique" in missing.fix
    describe_json["fields"].append(sf_field("Platform_Id__c", externalId=True, unique=False))
    not_unique = only(issues_of(contact_mapping(), describe_json), IssueKind.MISSING_EXTERNAL_ID)
    assert "not marked External ID and Unique" in not_unique.message


def test_required_salesforce_fields_must_be_mapped_when_records_are_created() -> None:
    mapping = ObjectMapping(
        platform_entity="lead",
        salesforce_object="Lead",
        fields=(direct("last_name", "LastName"),),
    )
    issue = only(issues_of(mapping, lead(), LEAD_FIELDS), IssueKind.REQUIRED_FIELD_UNMAPPED)
    assert issue.field == "Company"
    update_only = replace(mapping, creation_in_salesforce=CreationRule.UPDATE_MATCHED_ONLY)
    assert issues_of(update_only, lead(), LEAD_FIELDS) == []


def test_formula_problems_are_found_at_validation_time() -> None:
    mapping = contact_mapping(computed("Description", "UPPER(first_name) & sf.Email & NOPE(1)"))
    issues = issues_of(mapping)
    definition = only(issues, IssueKind.INVALID_DEFINITION)
    assert "unknown function NOPE" in definition.message
    formula = only(issues, IssueKind.INVALID_FORMULA)
    assert "sf.Email cannot be used here" in formula.message
    assert formula.field == "Description"


def test_inbound_formulas_may_read_salesforce_fields() -> None:
    ok = contact_mapping(
        computed(
            "title", 'sf.Title & " at " & sf.Account.Name', direction=Direction.FROM_SALESFORCE
        )
    )
    assert issues_of(ok) == []
    bad = contact_mapping(computed("title", "sf.Titel", direction=Direction.FROM_SALESFORCE))
    issue = only(issues_of(bad), IssueKind.INVALID_FORMULA)
    assert "unknown Salesforce field sf.Titel (did you mean Title?)" in issue.message


def test_two_mappings_writing_one_field_are_reported() -> None:
    issue = only(
        issues_of(contact_mapping(direct("phone", "Phone"), direct("mobile_phone", "Phone"))),
        IssueKind.DUPLICATE_TARGET,
    )
    assert issue.field == "Phone"


def test_references_to_a_polymorphic_field_may_share_it() -> None:
    mapping = default_object_mapping("activity", "Task")
    assert mapping is not None
    assert validate_object_mapping(mapping, task(), DEFAULT_PLATFORM_FIELDS["activity"]) == []


def test_a_lookup_must_target_a_reference_to_its_object() -> None:
    issue = only(
        issues_of(contact_mapping(transformed("company", "Title", Lookup(object_name="Account")))),
        IssueKind.INCOMPATIBLE_TYPE,
    )
    assert "gives a Account Id but Contact.Title is no reference" in issue.message


def test_one_way_steps_on_two_way_fields_are_a_warning() -> None:
    issue = only(
        issues_of(contact_mapping(transformed("title", "Title", ChangeCase(case=TextCase.UPPER)))),
        IssueKind.ONE_WAY_TRANSFORM,
    )
    assert issue.severity is Severity.WARNING


def test_unknown_filter_and_match_key_fields_are_reported() -> None:
    mapping = contact_mapping(
        salesforce_filter=where("Movement_Exclud__c", "eq", False),
        platform_filter=where("stauts", "ne", "LOST"),
        match_keys=(MatchKey(platform_field="email", salesforce_field="EMail_Address"),),
    )
    issues = issues_of(mapping)
    assert {(i.kind, i.field) for i in issues} == {
        (IssueKind.UNKNOWN_FIELD, "Movement_Exclud__c"),
        (IssueKind.UNKNOWN_FIELD, "EMail_Address"),
        (IssueKind.UNKNOWN_PLATFORM_FIELD, "stauts"),
    }


def test_an_object_the_user_cannot_write_is_reported() -> None:
    describe_json = contact()
    describe_json["createable"] = False
    issue = only(issues_of(contact_mapping(), describe_json), IssueKind.OBJECT_NOT_ACCESSIBLE)
    assert "may not create Contact records" in issue.message


def test_validating_against_the_wrong_describe_says_so() -> None:
    issues = issues_of(contact_mapping(), describe("Account", []))
    assert [i.kind for i in issues] == [IssueKind.WRONG_OBJECT]


def test_structural_problems_are_reported_as_invalid_definition() -> None:
    mapping = contact_mapping(
        FieldMapping(
            platform_fields=("title",),
            salesforce_fields=("Title",),
            steps=(ChangeCase(case=TextCase.UPPER),),
        )
    )
    issue = only(issues_of(mapping), IssueKind.INVALID_DEFINITION)
    assert "a direct mapping has no steps" in issue.message


def test_flags_are_mapped_one_flag_at_a_time() -> None:
    goal = default_object_mapping("goal", "CampaignMember")
    assert goal is not None
    wrong = replace(goal, fields=(*goal.fields, direct("status.voted", "Voted__c")))
    from mapping_describes import campaign_member

    issue = only(
        validate_object_mapping(wrong, campaign_member(), DEFAULT_PLATFORM_FIELDS["goal"]),
        IssueKind.UNKNOWN_PLATFORM_FIELD,
    )
    assert "status is a string field" in issue.message


def test_issues_serialize_for_the_api() -> None:
    issue = only(issues_of(contact_mapping(direct("email", "Emial"))), IssueKind.UNKNOWN_FIELD)
    data = issue.to_dict()
    assert data["kind"] == "unknown_field"
    assert data["severity"] == "error"
    assert data["mapping"] == "email → Emial"
    assert data["suggestions"] == ["Email"]
    assert PlatformType.STRING.value == "string"


def test_polymorphic_references_cannot_travel_by_external_id() -> None:
    from crmbridge.domain.mapping.transforms import Reference

    mapping = ObjectMapping(
        platform_entity="activity",
        salesforce_object="Task",
        fields=(
            direct("subject", "Subject"),
            transformed("member_id", "WhoId", Reference(object_name="Contact", entity="member")),
        ),
    )
    issue = only(
        validate_object_mapping(mapping, task(), DEFAULT_PLATFORM_FIELDS["activity"]),
        IssueKind.INCOMPATIBLE_TYPE,
    )
    assert "Task.WhoId is polymorphic" in issue.message
    assert "external_id_field to null" in issue.fix
