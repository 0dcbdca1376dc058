"""Validation of one field mapping against the org's describe and the platform fields."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from crmbridge.domain.mapping.compatibility import (
    longest_text,
    possible_salesforce_values,
    salesforce_side_kind,
    type_problem,
)
from crmbridge.domain.mapping.describe import ObjectDescribe, SalesforceField
from crmbridge.domain.mapping.errors import FormulaError
from crmbridge.domain.mapping.formula import parse_cached
from crmbridge.domain.mapping.issues import (
    IssueKind,
    MappingIssue,
    Severity,
    unknown_platform_field,
    unknown_salesforce_field,
)
from crmbridge.domain.mapping.model import Direction, FieldKind, FieldMapping
from crmbridge.domain.mapping.platform import PlatformField, PlatformType
from crmbridge.domain.mapping.transforms import Lookup, Reference, UseDefault, ValueMap


def check_field_mapping_against_org(
    field: FieldMapping,
    direction: Direction,
    obj: ObjectDescribe,
    platform: Mapping[str, PlatformField],
    platform_fields: Sequence[PlatformField],
    *,
    creates: bool,
) -> list[MappingIssue]:
    """Every org-dependent problem of one field mapping flowing ``direction``.

    Args:
        field: the field mapping.
        direction: the direction it actually flows (object's narrowed by the field's).
        obj: the Salesforce object's describe.
        platform: the platform fields by name.
        platform_fields: the same fields as a sequence (for suggestions).
        creates: whether the object mapping creates records in Salesforce.
    """
    issues: list[MappingIssue] = []
    label = field.label

    def issue(kind: IssueKind, name: str, message: str, fix: str, **extra: object) -> None:
        issues.append(
            MappingIssue(kind=kind, field=name, message=message, fix=fix, mapping=label, **extra)  # type: ignore[arg-type]
        )

    issues += _platform_name_issues(field, direction, platform, platform_fields, label)
    issues += _formula_issues(field, direction, obj, platform, label)
    for name in field.salesforce_fields:
        if "." in name:
            if direction.outbound:
                issue(
                    IssueKind.RELATIONAL_FIELD,
                    name,
                    f"{name} is a field of a related record and cannot be written through "
                    f"{obj.name}",
                    f"map to the reference field ({_reference_field_hint(name, obj)}) with a "
                    f"lookup step, e.g. company → AccountId looked up by Account.Name",
                )
            else:
                issues += unknown_salesforce_field(name, obj, "mapping")
            continue
        sf = obj.field(name)
        if sf is None:
            found = unknown_salesforce_field(name, obj, "mapping")
            issues += [
                MappingIssue(
                    kind=i.kind,
                    field=i.field,
                    message=i.message,
                    fix=i.fix,
                    mapping=label,
                    suggestions=i.suggestions,
                )
                for i in found
            ]
            continue
        if sf.encrypted:
            issue(
                IssueKind.ENCRYPTED_FIELD,
                sf.name,
                f"{obj.name}.{sf.name} is encrypted with Shield Platform Encryption; the "
                f"integration cannot filter, match or reliably sync it",
                "map a field that is not encrypted, or turn off encryption for this field",
            )
        if direction.outbound:
            issues += _write_issues(field, sf, obj, platform, label, creates=creates)
        if direction.inbound:
            issues += _inbound_picklist_issues(field, sf, platform, label)
        kind = salesforce_side_kind(field, platform)
        problem = type_problem(kind, sf.type)
        # Lookup and reference steps get a more specific check below.
        if problem and kind != "reference" and len(field.salesforce_fields) == 1:
            issue(
                IssueKind.INCOMPATIBLE_TYPE,
                sf.name,
                f"{obj.name}.{sf.name} is a {sf.type} field: {problem.split(':')[0]}",
                problem.split(": ", 1)[-1],
            )
        issues += _reference_step_issues(field, sf, obj, label)
    if direction.inbound and any(
        not s.invertible and not isinstance(s, UseDefault) for s in field.steps
    ):
        issue(
            IssueKind.ONE_WAY_TRANSFORM,
            field.platform_field,
            "a step of this mapping cannot be undone; values from Salesforce arrive unchanged",
            "set the mapping's direction to to_salesforce if that is not wanted",
            severity=Severity.WARNING,
        )
    return issues


def _reference_field_hint(path: str, obj: ObjectDescribe) -> str:
    ref = obj.relationship(path.split(".")[0])
    return ref.name if ref else f"{path.split('.')[0]}Id"


def _platform_name_issues(
    field: FieldMapping,
    direction: Direction,
    platform: Mapping[str, PlatformField],
    platform_fields: Sequence[PlatformField],
    label: str,
) -> list[MappingIssue]:
    names = list(field.platform_fields)
    if field.kind is FieldKind.FORMULA and direction.outbound and field.formula:
        with contextlib.suppress(FormulaError):
            names += sorted(parse_cached(field.formula).platform_fields())
    issues = []
    for name in dict.fromkeys(names):
        head, _, rest = name.partition(".")
        spec = platform.get(head)
        if spec is None and head != "id":
            found = unknown_platform_field(name, platform_fields, "mapping")
            issues.append(
                MappingIssue(
                    kind=found.kind,
                    field=found.field,
                    message=found.message,
                    fix=found.fix,
                    mapping=label,
                    suggestions=found.suggestions,
                )
            )
        elif spec is not None and rest and spec.type is not PlatformType.FLAGS:
            issues.append(
                MappingIssue(
                    kind=IssueKind.UNKNOWN_PLATFORM_FIELD,
                    field=name,
                    message=f"{head} is a {spec.type.value} field, so {name} does not exist",
                    fix="only flags fields have named parts (sub_goals.voted)",
                    mapping=label,
                )
            )
    return issues


def _formula_issues(
    field: FieldMapping,
    direction: Direction,
    obj: ObjectDescribe,
    platform: Mapping[str, PlatformField],
    label: str,
) -> list[MappingIssue]:
    if field.kind is not FieldKind.FORMULA or not field.formula:
        return []
    try:
        formula = parse_cached(field.formula)
    except FormulaError as exc:
        problems = [exc.message]
    else:
        sf_names = [f.name for f in obj.fields] + [
            f.relationship_name for f in obj.fields if f.relationship_name
        ]
        problems = formula.check(
            platform_fields=[*list(platform), "id"] if direction.outbound else None,
            salesforce_fields=sf_names if not direction.outbound else None,
        )
        # Functions and argument counts are reported as invalid_definition, unknown
        # platform names as unknown_platform_field; what is left is about fields.
        problems = [
            p
            for p in problems
            if p.startswith(("unknown Salesforce field", "Salesforce field", "platform field"))
        ]
    target = field.salesforce_field if direction.outbound else field.platform_field
    return [
        MappingIssue(
            kind=IssueKind.INVALID_FORMULA,
            field=target,
            message=f"the formula cannot run: {problem}",
            fix="correct the formula (functions and fields are listed in docs/mapping.md)",
            mapping=label,
        )
        for problem in problems
    ]


def _write_issues(
    field: FieldMapping,
    sf: SalesforceField,
    obj: ObjectDescribe,
    platform: Mapping[str, PlatformField],
    label: str,
    *,
    creates: bool,
) -> list[MappingIssue]:
    issues: list[MappingIssue] = []
    where = f"{obj.name}.{sf.name}"
    if sf.calculated or sf.auto_number:
        what = "an auto-number" if sf.auto_number else "a formula (calculated)"
        return [
            MappingIssue(
                kind=IssueKind.CALCULATED_FIELD,
                field=sf.name,
                message=f"{where} is {what} field that Salesforce computes; it cannot be written",
                fix="set this mapping's direction to from_salesforce",
                mapping=label,
            )
        ]
    if creates and not sf.createable:
        issues.append(
            MappingIssue(
                kind=IssueKind.NOT_CREATEABLE,
                field=sf.name,
                message=f"{where} cannot be set when a record is created",
                fix="set the direction to from_salesforce, or give the integration user "
                "edit access to the field (field-level security)",
                mapping=label,
            )
        )
    if not sf.updateable:
        issues.append(
            MappingIssue(
                kind=IssueKind.NOT_UPDATEABLE,
                field=sf.name,
                message=f"{where} cannot be changed on existing records",
                fix="set the direction to from_salesforce, or give the integration user "
                "edit access to the field (field-level security)",
                mapping=label,
            )
        )
    if sf.type in ("picklist", "multipicklist") and sf.restricted_picklist:
        issues += _restricted_picklist_issues(field, sf, where, platform, label)
    longest = longest_text(field, platform)
    if sf.is_text and sf.length and longest is not None and longest > sf.length:
        issues.append(
            MappingIssue(
                kind=IssueKind.FIELD_TOO_SHORT,
                field=sf.name,
                message=f"the platform side allows {longest} characters but {where} holds "
                f"{sf.length}; longer values are rejected (STRING_TOO_LONG)",
                fix=f"raise {where}'s length to {longest} in Salesforce, or limit the "
                f"platform field to {sf.length} characters",
                mapping=label,
            )
        )
    return issues


def _restricted_picklist_issues(
    field: FieldMapping,
    sf: SalesforceField,
    where: str,
    platform: Mapping[str, PlatformField],
    label: str,
) -> list[MappingIssue]:
    if field.kind is FieldKind.FORMULA:
        return []
    values = possible_salesforce_values(field, platform)
    if values is None:
        return [
            MappingIssue(
                kind=IssueKind.RESTRICTED_PICKLIST_VALUE,
                field=sf.name,
                message=f"{where} is a restricted picklist but any text can be sent to it",
                fix=f"add a value_map step to {sf.name}'s values: {', '.join(sf.picklist_values)}",
                mapping=label,
            )
        ]
    # Restricted picklists accept only the exact API values.
    allowed = set(sf.picklist_values)
    issues = []
    for value in values:
        for part in str(value).split(";") if sf.type == "multipicklist" else [str(value)]:
            if value is not None and part not in allowed:
                issues.append(
                    MappingIssue(
                        kind=IssueKind.RESTRICTED_PICKLIST_VALUE,
                        field=sf.name,
                        message=f"{part!r} is not a value of the restricted picklist {where}",
                        fix=f"map {part!r} to one of {', '.join(sf.picklist_values)} in a "
                        f"value_map step, or add it to the picklist in Salesforce",
                        mapping=label,
                    )
                )
    return issues


def _inbound_picklist_issues(
    field: FieldMapping, sf: SalesforceField, platform: Mapping[str, PlatformField], label: str
) -> list[MappingIssue]:
    if sf.type not in ("picklist", "multipicklist") or not sf.picklist_values:
        return []
    value_maps = [s for s in field.steps if isinstance(s, ValueMap)]
    spec = platform.get(field.platform_field)
    if value_maps:
        unmapped = [v for v in sf.picklist_values if not value_maps[-1].maps_salesforce_value(v)]
        fix = "add them to the value map or give it a platform default"
    elif spec is not None and spec.type is PlatformType.PICKLIST and spec.values:
        unmapped = [v for v in sf.picklist_values if v not in spec.values]
        fix = "add a value_map step translating them to the platform's values"
    else:
        return []
    if not unmapped:
        return []
    return [
        MappingIssue(
            kind=IssueKind.UNMAPPED_PICKLIST_VALUE,
            field=sf.name,
            message=f"records with {sf.name} = {', '.join(map(repr, unmapped))} cannot come "
            f"to the platform",
            fix=fix,
            severity=Severity.WARNING,
            mapping=label,
        )
    ]


def _reference_step_issues(
    field: FieldMapping, sf: SalesforceField, obj: ObjectDescribe, label: str
) -> list[MappingIssue]:
    issues = []
    for step in field.steps:
        if not isinstance(step, Lookup | Reference):
            continue
        targets = {t.casefold() for t in sf.reference_to}
        if isinstance(step, Reference) and step.external_id_field and len(targets) > 1:
            issues.append(
                MappingIssue(
                    kind=IssueKind.INCOMPATIBLE_TYPE,
                    field=sf.name,
                    message=f"{obj.name}.{sf.name} is polymorphic; {step.external_id_field} "
                    f"cannot be read or sent through its relationship",
                    fix="set the reference step's external_id_field to null (links only)",
                    mapping=label,
                )
            )
        if sf.type != "reference" or step.object_name.casefold() not in targets:
            points = (
                f"points at {', '.join(sf.reference_to)}" if sf.reference_to else "is no reference"
            )
            issues.append(
                MappingIssue(
                    kind=IssueKind.INCOMPATIBLE_TYPE,
                    field=sf.name,
                    message=f"the {step.kind} step gives a {step.object_name} Id but "
                    f"{obj.name}.{sf.name} {points}",
                    fix="choose the reference field for that object, or change the step's object",
                    mapping=label,
                )
            )
    return issues
