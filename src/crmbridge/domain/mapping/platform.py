"""How the platform side describes its fields to the mapping domain.

The entity registry (``crmbridge.domain.entities``) owns the real field lists; the
mapping functions take them as plain :class:`PlatformField` values so the two can
evolve separately and tests can describe any entity.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class PlatformType(enum.StrEnum):
    """The value types a platform field can have."""

    STRING = "string"
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    #: A list of strings (tags, multi-select values).
    LIST = "list"
    #: The platform id of another platform record (e.g. ``organization_id``).
    REFERENCE = "reference"
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
        PlatformType.ENUM,
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
    #: Allowed values of an ``enum`` (or ``list``) field.
    enum_values: tuple[str, ...] = ()
    #: For ``reference`` fields: the platform entity referred to (e.g. ``organization``).
    reference_to: str | None = None

    @property
    def display_label(self) -> str:
        """The label, or the name made readable when there is no label."""
        return self.label or self.name.replace("_", " ").title()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description of the field."""
        data: dict[str, Any] = {"name": self.name, "type": self.type.value}
        if self.label:
            data["label"] = self.label
        if self.max_length is not None:
            data["max_length"] = self.max_length
        if self.enum_values:
            data["enum_values"] = list(self.enum_values)
        if self.reference_to:
            data["reference_to"] = self.reference_to
        return data


def platform_field(
    name: str,
    type_: PlatformType = PlatformType.STRING,
    *,
    label: str = "",
    max_length: int | None = None,
    enum_values: tuple[str, ...] = (),
    reference_to: str | None = None,
) -> PlatformField:
    """Shorthand constructor used by the default field lists and tests."""
    return PlatformField(
        name=name,
        type=type_,
        label=label,
        max_length=max_length,
        enum_values=enum_values,
        reference_to=reference_to,
    )
