"""What a field mapping carries across, and whether the Salesforce field can hold it.

Used by describe-driven validation and by auto-match: the *value kind* a pipeline hands
to Salesforce (text, number, date …), whether a Salesforce field type accepts it, the
values it can produce (for restricted picklists) and the longest text it can produce.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmbridge.domain.mapping.describe import NUMBER_FIELD_TYPES, TEXT_FIELD_TYPES
from crmbridge.domain.mapping.model import FieldKind, FieldMapping
from crmbridge.domain.mapping.platform import PlatformField, PlatformType
from crmbridge.domain.mapping.transforms import (
    ChangeCase,
    Concatenate,
    DateFormat,
    UseDefault,
    ValueMap,
)

#: The value kind of each platform type when no step changes it.
_KIND_OF_PLATFORM_TYPE: dict[PlatformType, str] = {
    PlatformType.STRING: "text",
    PlatformType.TEXT: "text",
    PlatformType.EMAIL: "text",
    PlatformType.PHONE: "text",
    PlatformType.URL: "text",
    PlatformType.PICKLIST: "text",
    PlatformType.ID: "text",
    PlatformType.INTEGER: "integer",
    PlatformType.DECIMAL: "number",
    PlatformType.BOOLEAN: "boolean",
    PlatformType.DATE: "date",
    PlatformType.DATETIME: "datetime",
    PlatformType.MULTI_PICKLIST: "list",
    PlatformType.REFERENCE: "platform_reference",
    PlatformType.FLAGS: "flags",
}

#: Salesforce field types that accept each value kind as it is.
ACCEPTS: dict[str, frozenset[str]] = {
    "text": TEXT_FIELD_TYPES | {"multipicklist"},
    "integer": NUMBER_FIELD_TYPES,
    "number": NUMBER_FIELD_TYPES - {"int", "long"},
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "list": frozenset({"multipicklist"}),
    "reference": frozenset({"reference"}),
    "platform_reference": TEXT_FIELD_TYPES - {"picklist"},
}

#: What to do when a value kind meets a Salesforce type that does not accept it.
_FIXES: dict[str, str] = {
    "text": "add a coerce step (or a date_format step for dates) to convert the text",
    "integer": "add a coerce step to 'text'",
    "number": "add a coerce step to 'integer' (fractions are rounded away otherwise)",
    "boolean": "add a value_map step from true/false to the Salesforce values",
    "date": "add a date_format step with salesforce_type 'datetime'",
    "datetime": "add a date_format step with salesforce_type 'date' (it picks the day "
    "in the tenant's time zone)",
    "list": "add a concatenate step to join the values",
    "platform_reference": "add a reference step naming the referenced object",
    "flags": "map one flag at a time, e.g. sub_goals.voted",
}


def platform_value_kind(field: PlatformField, path: str) -> str:
    """The value kind of a platform field (a ``flags.name`` path is a boolean)."""
    if "." in path and field.type is PlatformType.FLAGS:
        return "boolean"
    return _KIND_OF_PLATFORM_TYPE.get(field.type, "text")


def _scalar_kind(values: tuple[object, ...]) -> str | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "integer"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "number"
    if all(isinstance(v, str) for v in present):
        return "text"
    return None


def salesforce_side_kind(field: FieldMapping, platform: Mapping[str, PlatformField]) -> str | None:
    """The kind of value the mapping hands to (or takes from) Salesforce.

    ``None`` when it cannot be known without data (formulas, mixed value maps).
    """
    if field.kind is FieldKind.FORMULA and not field.steps:
        return None
    kind: str | None = None
    if field.kind is not FieldKind.FORMULA and len(field.platform_fields) == 1:
        name = field.platform_field
        spec = platform.get(name.split(".")[0])
        kind = platform_value_kind(spec, name) if spec else None
    for step in field.steps:
        if isinstance(step, ValueMap):
            kind = _scalar_kind(step.salesforce_values())
        elif isinstance(step, UseDefault):
            continue
        else:
            kind = step.salesforce_value_type() or kind
    return kind


def type_problem(kind: str | None, salesforce_type: str) -> str | None:
    """Why a Salesforce field of ``salesforce_type`` cannot take ``kind``, with the fix."""
    if kind is None or salesforce_type in ACCEPTS.get(kind, frozenset()):
        return None
    if kind == "reference":
        return "a lookup or reference step produces an Id, but the field is not a reference"
    return f"{kind} value into a {salesforce_type} field: {_FIXES.get(kind, 'convert it')}"


def possible_salesforce_values(
    field: FieldMapping, platform: Mapping[str, PlatformField]
) -> tuple[object, ...] | None:
    """Every value the mapping can send, when that is a known, finite set.

    ``None`` when the values are free (free text, formulas).
    """
    values: tuple[object, ...] | None = None
    if field.kind is not FieldKind.FORMULA and len(field.platform_fields) == 1:
        spec = platform.get(field.platform_field)
        if spec and spec.type in (PlatformType.PICKLIST, PlatformType.MULTI_PICKLIST):
            values = spec.values
    for step in field.steps:
        if isinstance(step, ValueMap):
            values = step.salesforce_values()
        elif isinstance(step, UseDefault):
            values = None if values is None else (*values, step.value)
        elif isinstance(step, ChangeCase) or not isinstance(step, DateFormat):
            values = None
    if values is not None and field.default_value is not None:
        values = (*values, field.default_value)
    return values


def longest_text(field: FieldMapping, platform: Mapping[str, PlatformField]) -> int | None:
    """The longest text the mapping can send, when the platform side limits it."""
    length: int | None = None
    if field.kind is FieldKind.FORMULA:
        return None
    specs = [platform.get(name) for name in field.platform_fields]
    if len(specs) == 1 and specs[0] is not None:
        spec = specs[0]
        if spec.type in (PlatformType.PICKLIST,) and spec.values:
            length = max(len(v) for v in spec.values)
        elif spec.type in (PlatformType.DATE,):
            length = 10
        else:
            length = spec.max_length
    for step in field.steps:
        if isinstance(step, ValueMap):
            texts = [v for v in step.salesforce_values() if isinstance(v, str)]
            length = max((len(t) for t in texts), default=None)
        elif isinstance(step, Concatenate):
            parts = [s.max_length if s else None for s in specs]
            if any(p is None for p in parts):
                return None
            known = [p for p in parts if p is not None]
            length = sum(known) + len(step.separator) * (len(known) - 1)
        elif not isinstance(step, ChangeCase | UseDefault):
            return None
    return length
