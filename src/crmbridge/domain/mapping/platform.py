"""How the platform side describes its fields to the mapping domain.

The entity registry (``crmbridge.domain.entities``) owns the real field lists; the
mapping functions take them as plain :class:`PlatformField` values so the two can
evolve separately and tests can describe any entity. Type names and the JSON shape
match the registry's ``FieldSpec.describe()``, so
``platform_fields_from_dicts(spec.describe() for spec in entity.fields)`` converts.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class PlatformType(enum.StrEnum):
    """The value types a platform field can have (the entity registry's type names)."""

    STRING = "string"
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    #: A list of strings from ``values`` (tags).
    MULTI_PICKLIST = "multi_picklist"
    #: The platform id of another platform record (e.g. ``organization_id``).
    REFERENCE = "reference"
    #: An object of named booleans (a goal's sub-goals); map one as ``sub_goals.voted``.
    FLAGS = "flags"
    #: The record's own platform id.
    ID = "id"


#: Types whose values are text.
TEXT_TYPES = frozenset(
    {
        PlatformType.STRING,
        PlatformType.TEXT,
        PlatformType.EMAIL,
        PlatformType.PHONE,
        PlatformType.URL,
        PlatformType.PICKLIST,
    }
)


@dataclass(frozen=True, kw_only=True)
class PlatformField:
    """One field of a platform entity, as the mapping domain needs to know it."""

    #: The field's name in platform records (snake_case, e.g. ``first_name``).
    name: str
    #: The value type.
    type: PlatformType = PlatformType.STRING
    #: Human label shown in the admin UI and used by auto-match.
    label: str = ""
    #: Longest text the platform allows, when it limits it.
    max_length: int | None = None
    #: Allowed values of a picklist or multi-picklist.
    values: tuple[str, ...] = ()
    #: For ``reference`` fields: the platform entity referred to (e.g. ``organization``).
    references: str | None = None
    #: Whether a platform record must have a value.
    required: bool = False

    @property
    def display_label(self) -> str:
        """The label, or the name made readable when there is no label."""
        return self.label or self.name.replace("_", " ").capitalize()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description, in the entity registry's ``describe()`` shape."""
        return {
            "name": self.name,
            "type": self.type.value,
            "label": self.display_label,
            "max_length": self.max_length,
            "values": list(self.values),
            "references": self.references,
            "required": self.required,
        }


def platform_fields_from_dicts(items: Iterable[Mapping[str, Any]]) -> tuple[PlatformField, ...]:
    """Platform fields from JSON descriptions such as the entity registry's ``describe()``.

    Unknown types are read as ``string`` so a newer registry never breaks mapping
    validation; extra keys are ignored.
    """
    fields: list[PlatformField] = []
    for item in items:
        raw_type = item.get("type", "string")
        try:
            type_ = PlatformType(raw_type)
        except ValueError:
            type_ = PlatformType.STRING
        max_length = item.get("max_length")
        fields.append(
            PlatformField(
                name=str(item["name"]),
                type=type_,
                label=str(item.get("label") or ""),
                max_length=max_length if isinstance(max_length, int) else None,
                values=tuple(str(v) for v in item.get("values") or ()),
                references=item.get("references"),
                required=bool(item.get("required", False)),
            )
        )
    return tuple(fields)


def platform_field(
    name: str,
    type_: PlatformType = PlatformType.STRING,
    *,
    label: str = "",
    max_length: int | None = None,
    values: tuple[str, ...] = (),
    references: str | None = None,
    required: bool = False,
) -> PlatformField:
    """Shorthand constructor used by the default field lists and tests."""
    return PlatformField(
        name=name,
        type=type_,
        label=label,
        max_length=max_length,
        values=values,
        references=references,
        required=required,
    )
