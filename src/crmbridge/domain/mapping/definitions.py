"""Reading mappings from JSON-able dicts, checking their structure as a whole.

Besides types and allowed values, :func:`object_mapping_from_dict` checks what makes a
mapping unusable whatever the org looks like: a Direct mapping with steps, a
concatenation without a concatenate step, a formula that does not parse, a field
direction that contradicts the object's. Problems that depend on the org (unknown
fields, types, permissions) are found by
:func:`~crmbridge.domain.mapping.validation.validate_object_mapping`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmbridge.domain.mapping.conditions import Condition, condition_from_dict
from crmbridge.domain.mapping.errors import FormulaError
from crmbridge.domain.mapping.formula import compile_formula
from crmbridge.domain.mapping.model import (
    ConflictPolicy,
    CreationRule,
    DeletePolicy,
    Direction,
    FieldKind,
    FieldMapping,
    MatchKey,
    ObjectMapping,
)
from crmbridge.domain.mapping.reading import DefinitionReader, is_json_scalar
from crmbridge.domain.mapping.transforms import Concatenate, Split, TransformStep, step_from_dict

_OBJECT_KEYS = {
    "platform_entity",
    "salesforce_object",
    "enabled",
    "direction",
    "creation_in_salesforce",
    "creation_on_platform",
    "external_id_field",
    "match_keys",
    "salesforce_filter",
    "platform_filter",
    "delete_policy",
    "conflict_policy",
    "fields",
}
_FIELD_KEYS = {
    "platform_fields",
    "salesforce_fields",
    "platform_field",
    "salesforce_field",
    "kind",
    "direction",
    "steps",
    "formula",
    "default_value",
}


def object_mapping_from_dict(data: Mapping[str, Any]) -> ObjectMapping:
    """Read an object mapping, raising one error that lists every problem.

    Raises:
        MappingDefinitionError: when anything is missing, mistyped or inconsistent.
    """
    reader = DefinitionReader(data)
    mapping = read_object_mapping(reader)
    reader.raise_if_problems()
    return mapping


def field_mapping_from_dict(data: Mapping[str, Any]) -> FieldMapping:
    """Read one field mapping (e.g. an auto-match suggestion the admin edited).

    Raises:
        MappingDefinitionError: listing every problem.
    """
    reader = DefinitionReader(data)
    field = read_field_mapping(reader)
    check_field_mapping(reader, field)
    reader.raise_if_problems()
    return field


def read_object_mapping(reader: DefinitionReader) -> ObjectMapping:
    """Read an object mapping through ``reader`` (problems are recorded, not raised)."""
    reader.reject_unknown(_OBJECT_KEYS)
    direction = reader.choice("direction", Direction, Direction.BOTH)
    fields: list[FieldMapping] = []
    for field_reader in reader.children("fields"):
        field = read_field_mapping(field_reader)
        check_field_mapping(field_reader, field)
        if direction.narrowed_by(field.direction) is None:
            field_reader.problem(
                f"flows {field.direction.value} but the object mapping flows "
                f"{direction.value}, so it would never sync",
                "direction",
            )
        fields.append(field)
    match_keys = []
    for key_reader in reader.children("match_keys"):
        key_reader.reject_unknown({"platform_field", "salesforce_field"})
        match_keys.append(
            MatchKey(
                platform_field=key_reader.string("platform_field"),
                salesforce_field=key_reader.string("salesforce_field"),
            )
        )
    conflict = reader.raw("conflict_policy")
    external_id = (
        reader.optional_string("external_id_field")
        if reader.has("external_id_field")
        else "Platform_Id__c"
    )
    if direction.outbound and not external_id:
        reader.problem(
            "is required when records go to Salesforce (upserts match on it)",
            "external_id_field",
        )
    return ObjectMapping(
        platform_entity=reader.string("platform_entity"),
        salesforce_object=reader.string("salesforce_object"),
        enabled=reader.boolean("enabled", True),
        direction=direction,
        creation_in_salesforce=reader.choice(
            "creation_in_salesforce", CreationRule, CreationRule.CREATE_MISSING
        ),
        creation_on_platform=reader.choice(
            "creation_on_platform", CreationRule, CreationRule.CREATE_MISSING
        ),
        external_id_field=external_id,
        match_keys=tuple(match_keys),
        salesforce_filter=_optional_condition(reader, "salesforce_filter"),
        platform_filter=_optional_condition(reader, "platform_filter"),
        delete_policy=reader.choice("delete_policy", DeletePolicy, DeletePolicy.ARCHIVE),
        conflict_policy=reader.choice("conflict_policy", ConflictPolicy) if conflict else None,
        fields=tuple(fields),
    )


def _optional_condition(reader: DefinitionReader, key: str) -> Condition | None:
    if reader.raw(key) is None:
        return None
    return condition_from_dict(reader.child(key))


def read_field_mapping(reader: DefinitionReader) -> FieldMapping:
    """Read a field mapping through ``reader`` (problems are recorded, not raised)."""
    reader.reject_unknown(_FIELD_KEYS)
    platform_key = "platform_field" if reader.has("platform_field") else "platform_fields"
    salesforce_key = "salesforce_field" if reader.has("salesforce_field") else "salesforce_fields"
    steps: list[TransformStep] = []
    for step_reader in reader.children("steps"):
        step = step_from_dict(step_reader)
        if step is not None:
            steps.append(step)
    default = reader.raw("default_value")
    if not is_json_scalar(default):
        reader.problem("must be a string, number or boolean", "default_value")
        default = None
    return FieldMapping(
        platform_fields=reader.strings(platform_key),
        salesforce_fields=reader.strings(salesforce_key),
        kind=reader.choice("kind", FieldKind, FieldKind.DIRECT),
        direction=reader.choice("direction", Direction, Direction.BOTH),
        steps=tuple(steps),
        formula=reader.optional_string("formula"),
        default_value=default,
    )


def check_field_mapping(reader: DefinitionReader, field: FieldMapping) -> None:
    """Record the structural problems of one field mapping on ``reader``."""
    if field.kind is FieldKind.FORMULA:
        _check_formula_mapping(reader, field)
        return
    if field.formula is not None:
        reader.problem("is only used by formula mappings (kind 'formula')", "formula")
    if not field.platform_fields:
        reader.problem("is required", "platform_fields")
    if not field.salesforce_fields:
        reader.problem("is required", "salesforce_fields")
    if field.kind is FieldKind.DIRECT:
        if field.steps:
            reader.problem("a direct mapping has no steps; use kind 'transform'", "steps")
        if len(field.platform_fields) > 1 or len(field.salesforce_fields) > 1:
            reader.problem(
                "a direct mapping joins one field to one field; use a concatenate or "
                "split step (kind 'transform') for several",
                "kind",
            )
        return
    if not field.steps:
        reader.problem("a transform mapping needs at least one step", "steps")
        return
    if len(field.platform_fields) > 1 and not isinstance(field.steps[0], Concatenate):
        reader.problem(
            "several platform fields need a concatenate step first to become one value",
            "steps",
        )
    if len(field.salesforce_fields) > 1 and not isinstance(field.steps[-1], Split):
        reader.problem(
            "several Salesforce fields need a split step last to receive one value each",
            "steps",
        )


def _check_formula_mapping(reader: DefinitionReader, field: FieldMapping) -> None:
    if field.direction is Direction.BOTH:
        reader.problem(
            "a formula computes one way: use to_salesforce or from_salesforce", "direction"
        )
        return
    outbound = field.direction is Direction.TO_SALESFORCE
    targets, target_key = (
        (field.salesforce_fields, "salesforce_fields")
        if outbound
        else (field.platform_fields, "platform_fields")
    )
    sources_key = "platform_fields" if outbound else "salesforce_fields"
    if len(targets) != 1 and not (field.steps and isinstance(field.steps[-1], Split)):
        reader.problem("a formula fills exactly one field", target_key)
    if field.platform_fields if outbound else field.salesforce_fields:
        reader.problem("must be empty: a formula reads the fields it names itself", sources_key)
    if not field.formula:
        reader.problem("is required for a formula mapping", "formula")
        return
    try:
        # Field names are checked against the platform entity and the org's describe
        # by validate_object_mapping; here only syntax, functions and argument counts.
        formula = compile_formula(field.formula)
    except FormulaError as exc:
        reader.problem(exc.message, "formula")
        return
    if outbound and formula.salesforce_fields():
        reader.problem(
            "an outbound formula reads platform fields only (no sf. references)", "formula"
        )
    if not outbound and formula.platform_fields():
        reader.problem("an inbound formula reads Salesforce fields only (sf.Name)", "formula")
