"""Describe-driven validation: will this mapping work against this org? (R-M5, R-M6)

:func:`validate_object_mapping` compares an object mapping with the org's describe of
the Salesforce object and the platform entity's fields, and returns one
:class:`MappingIssue` per problem, each naming the field and the fix. Nothing here
calls Salesforce: the describe comes in as its documented JSON. Errors block saving
(the API answers 422 with them); warnings are shown in the mapping editor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmbridge.domain.mapping.definitions import read_object_mapping
from crmbridge.domain.mapping.describe import ObjectDescribe, SalesforceField
from crmbridge.domain.mapping.issues import (
    IssueKind,
    MappingIssue,
    Severity,
    unknown_platform_field,
    unknown_salesforce_field,
)
from crmbridge.domain.mapping.model import CreationRule, FieldKind, FieldMapping, ObjectMapping
from crmbridge.domain.mapping.platform import PlatformField
from crmbridge.domain.mapping.reading import DefinitionReader
from crmbridge.domain.mapping.validation_fields import check_field_mapping_against_org


def validate_object_mapping(
    mapping: ObjectMapping,
    describe: Mapping[str, Any] | ObjectDescribe,
    platform_fields: Sequence[PlatformField],
) -> list[MappingIssue]:
    """Every problem of ``mapping`` against the org's describe and the platform fields.

    Args:
        mapping: the object mapping to check.
        describe: the JSON of ``/sobjects/{Object}/describe`` (or its parsed form).
        platform_fields: the platform entity's fields (core and custom).

    Returns:
        The issues found, errors and warnings, in mapping order; empty when all is well.
    """
    obj = (
        describe if isinstance(describe, ObjectDescribe) else ObjectDescribe.from_describe(describe)
    )
    if obj.name.casefold() != mapping.salesforce_object.casefold():
        return [
            MappingIssue(
                kind=IssueKind.WRONG_OBJECT,
                field=mapping.salesforce_object,
                message=f"the describe is of {obj.name}, not {mapping.salesforce_object}",
                fix=f"validate against the describe of {mapping.salesforce_object}",
            )
        ]
    issues = _definition_issues(mapping)
    issues += _object_issues(mapping, obj)
    issues += _key_and_filter_issues(mapping, obj, platform_fields)
    platform = {f.name: f for f in platform_fields}
    for field in mapping.fields:
        direction = mapping.field_direction(field)
        if direction is None:
            continue
        creates = mapping.creation_in_salesforce is CreationRule.CREATE_MISSING
        issues += check_field_mapping_against_org(
            field, direction, obj, platform, platform_fields, creates=creates
        )
    issues += _duplicate_targets(mapping, obj)
    issues += _required_fields(mapping, obj)
    return issues


def _definition_issues(mapping: ObjectMapping) -> list[MappingIssue]:
    reader = DefinitionReader(mapping.to_dict())
    read_object_mapping(reader)
    return [
        MappingIssue(
            kind=IssueKind.INVALID_DEFINITION,
            field=problem.split(":", 1)[0],
            message=problem,
            fix="correct the mapping definition",
        )
        for problem in reader.problems
    ]


def _object_issues(mapping: ObjectMapping, obj: ObjectDescribe) -> list[MappingIssue]:
    missing: list[str] = []
    if mapping.direction.outbound:
        if mapping.creation_in_salesforce is CreationRule.CREATE_MISSING and not obj.createable:
            missing.append("create")
        if not obj.updateable:
            missing.append("update")
    if mapping.direction.inbound and not obj.queryable:
        missing.append("query")
    if not missing:
        return []
    return [
        MappingIssue(
            kind=IssueKind.OBJECT_NOT_ACCESSIBLE,
            field=obj.name,
            message=f"the integration user may not {' or '.join(missing)} {obj.name} records",
            fix=f"grant the integration user {', '.join(missing)} access to {obj.name} in "
            f"Salesforce, or change the mapping's direction or creation rule",
        )
    ]


def _key_and_filter_issues(
    mapping: ObjectMapping, obj: ObjectDescribe, platform_fields: Sequence[PlatformField]
) -> list[MappingIssue]:
    issues: list[MappingIssue] = []
    ext = mapping.external_id_field
    if ext:
        sf = obj.field(ext)
        problem = None
        if sf is None:
            problem = f"{obj.name} has no field {ext}"
        elif not (sf.external_id and sf.unique):
            problem = f"{obj.name}.{ext} is not marked External ID and Unique"
        if problem:
            issues.append(
                MappingIssue(
                    kind=IssueKind.MISSING_EXTERNAL_ID,
                    field=ext,
                    message=f"{problem}; records are matched and upserted on it",
                    fix=f"create a text field {ext} on {obj.name} marked External ID and "
                    f"Unique (case-sensitive), and give the integration user edit access",
                )
            )
    platform_names = {f.name for f in platform_fields} | {"id"}
    for key in mapping.match_keys:
        issues += unknown_salesforce_field(key.salesforce_field, obj, "match key")
        if key.platform_field not in platform_names:
            issues.append(unknown_platform_field(key.platform_field, platform_fields, "match key"))
    if mapping.salesforce_filter is not None:
        for name in sorted(mapping.salesforce_filter.fields()):
            issues += unknown_salesforce_field(name, obj, "filter")
    if mapping.platform_filter is not None:
        for name in sorted(mapping.platform_filter.fields()):
            if name.split(".")[0] not in platform_names:
                issues.append(unknown_platform_field(name, platform_fields, "filter"))
    return issues


def _writes(field: FieldMapping) -> tuple[str, ...]:
    return tuple(name for name in field.salesforce_fields if "." not in name)


def _duplicate_targets(mapping: ObjectMapping, obj: ObjectDescribe) -> list[MappingIssue]:
    issues: list[MappingIssue] = []
    writers: dict[str, list[FieldMapping]] = {}
    for field in mapping.outbound_fields():
        for name in _writes(field):
            writers.setdefault(name.casefold(), []).append(field)
    for group in writers.values():
        if len(group) < 2:
            continue
        name = _writes(group[0])[0] if len(_writes(group[0])) == 1 else group[0].salesforce_field
        sf: SalesforceField | None = obj.field(name)
        polymorphic = sf is not None and len(sf.reference_to) > 1
        if polymorphic and all(f.kind is FieldKind.TRANSFORM for f in group):
            continue  # WhoId from a member or from a lead: the first non-empty one wins
        issues.append(
            MappingIssue(
                kind=IssueKind.DUPLICATE_TARGET,
                field=name,
                message=f"{name} is written by {len(group)} field mappings: "
                + "; ".join(f.label for f in group),
                fix="keep one mapping per Salesforce field (combine values with a "
                "concatenate step or a formula)",
            )
        )
    platform_writers: dict[str, list[FieldMapping]] = {}
    for field in mapping.inbound_fields():
        for name in field.platform_fields:
            platform_writers.setdefault(name, []).append(field)
    for name, group in platform_writers.items():
        if len(group) > 1:
            issues.append(
                MappingIssue(
                    kind=IssueKind.DUPLICATE_TARGET,
                    field=name,
                    message=f"platform field {name} is written by {len(group)} field mappings",
                    fix="set all but one of them to direction to_salesforce",
                    severity=Severity.WARNING,
                )
            )
    return issues


def _required_fields(mapping: ObjectMapping, obj: ObjectDescribe) -> list[MappingIssue]:
    if not mapping.direction.outbound or not mapping.enabled:
        return []
    if mapping.creation_in_salesforce is not CreationRule.CREATE_MISSING:
        return []
    written = {name.casefold() for f in mapping.outbound_fields() for name in f.salesforce_fields}
    if mapping.external_id_field:
        written.add(mapping.external_id_field.casefold())
    return [
        MappingIssue(
            kind=IssueKind.REQUIRED_FIELD_UNMAPPED,
            field=sf.name,
            message=f"{obj.name}.{sf.name} ({sf.label}) is required to create records and "
            f"nothing is mapped to it",
            fix=f"map a platform field to {sf.name}, give a mapping a default value, or "
            f"set record creation to update_matched_only",
        )
        for sf in obj.fields
        if sf.required_on_create and not sf.is_system and sf.name.casefold() not in written
    ]


__all__ = ["IssueKind", "MappingIssue", "Severity", "validate_object_mapping"]
