"""Rules for tenant-defined custom fields (pure): what a definition may say."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from crmbridge.domain.entities.errors import FieldError, RecordValidationError
from crmbridge.domain.entities.fields import (
    CUSTOM_FIELD_TYPES,
    DEFAULT_MAX_LENGTH,
    FIELD_NAME_PATTERN,
    RECORD_META_FIELDS,
    FieldSpec,
    FieldType,
)
from crmbridge.domain.entities.registry import EntityType

MAX_PICKLIST_VALUES = 500
_TEXT_TYPES = frozenset(DEFAULT_MAX_LENGTH) - {FieldType.PICKLIST}


def build_custom_field(
    entity: EntityType,
    *,
    name: str,
    type: FieldType | str,
    label: str = "",
    required: bool = False,
    max_length: int | None = None,
    values: Sequence[str] = (),
    description: str = "",
    taken_names: Iterable[str] = (),
) -> FieldSpec:
    """Check a custom field definition and return it as a :class:`FieldSpec`.

    Args:
        entity: the entity type the field is added to.
        name: API name (snake_case, not a core or record meta field name).
        type: one of :data:`CUSTOM_FIELD_TYPES`.
        label: display label.
        required: whether creates must give a value (existing records are not checked).
        max_length: for text-like types, at most the type's own limit.
        values: picklist values (required for picklist types, forbidden otherwise).
        description: free text.
        taken_names: names of the tenant's other custom fields of this entity type.

    Raises:
        RecordValidationError: listing every problem of the definition.
    """
    errors: list[FieldError] = []
    if not FIELD_NAME_PATTERN.match(name):
        errors.append(
            FieldError(
                field="name",
                message="must be snake_case: a lower-case letter, then letters, digits or _"
                " (at most 63 characters)",
            )
        )
    elif name in RECORD_META_FIELDS or name in entity.field_names:
        errors.append(FieldError(field="name", message=f"{name!r} is a built-in field name"))
    elif name in set(taken_names):
        errors.append(FieldError(field="name", message=f"{name!r} is already defined"))
    try:
        field_type = FieldType(type)
    except ValueError:
        field_type = None
    if field_type is None or field_type not in CUSTOM_FIELD_TYPES:
        allowed = ", ".join(sorted(t.value for t in CUSTOM_FIELD_TYPES))
        errors.append(FieldError(field="type", message=f"must be one of {allowed}"))
    errors.extend(_check_max_length(field_type, max_length))
    errors.extend(_check_values(field_type, values))
    if len(label) > 255:
        errors.append(FieldError(field="label", message="must be at most 255 characters"))
    if errors or field_type is None:
        raise RecordValidationError(errors)
    return FieldSpec(
        name=name,
        type=field_type,
        label=label,
        required=required,
        max_length=max_length,
        values=tuple(values),
        description=description,
        custom=True,
    )


def _check_max_length(field_type: FieldType | None, max_length: int | None) -> list[FieldError]:
    if max_length is None or field_type is None:
        return []
    if field_type not in _TEXT_TYPES:
        return [FieldError(field="max_length", message="applies to text-like types only")]
    ceiling = DEFAULT_MAX_LENGTH[field_type]
    if not 1 <= max_length <= ceiling:
        return [FieldError(field="max_length", message=f"must be between 1 and {ceiling}")]
    return []


def _check_values(field_type: FieldType | None, values: Sequence[str]) -> list[FieldError]:
    is_picklist = field_type in (FieldType.PICKLIST, FieldType.MULTI_PICKLIST)
    if not is_picklist:
        if values:
            return [FieldError(field="values", message="applies to picklist types only")]
        return []
    if not values:
        return [FieldError(field="values", message="a picklist needs at least one value")]
    if len(values) > MAX_PICKLIST_VALUES:
        return [FieldError(field="values", message=f"at most {MAX_PICKLIST_VALUES} values")]
    if len(set(values)) != len(values):
        return [FieldError(field="values", message="values must be unique")]
    bad = [v for v in values if not v.strip() or len(v) > 255 or ";" in v]
    if bad:
        # ";" separates multi-select picklist values in Salesforce (SOAP API Developer Guide,
        # multipicklist field type), so a value containing it could not round-trip.
        return [FieldError(field="values", message="each value: 1-255 characters, no ';'")]
    return []
