"""Field descriptions shared by core fields of the registry and tenant custom fields."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any


class FieldType(enum.StrEnum):
    """The value types a platform record field can hold (values are JSON-able)."""

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
    MULTI_PICKLIST = "multi_picklist"
    #: The id of another record of the same tenant (``FieldSpec.references`` names its type).
    REFERENCE = "reference"
    #: An object of named booleans (e.g. a goal's sub-goals ``{"voted": true}``).
    FLAGS = "flags"


#: Types a tenant may give a custom field; references and flags stay core-only.
CUSTOM_FIELD_TYPES: frozenset[FieldType] = frozenset(
    {
        FieldType.STRING,
        FieldType.TEXT,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
        FieldType.INTEGER,
        FieldType.DECIMAL,
        FieldType.BOOLEAN,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.PICKLIST,
        FieldType.MULTI_PICKLIST,
    }
)

#: Longest value each text-like type accepts when the field names no ``max_length``.
DEFAULT_MAX_LENGTH: dict[FieldType, int] = {
    FieldType.STRING: 255,
    FieldType.TEXT: 32_000,
    FieldType.EMAIL: 254,
    FieldType.PHONE: 40,
    FieldType.URL: 2_048,
    FieldType.PICKLIST: 255,
}

#: Names every record carries outside its data; no field may use them.
RECORD_META_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "entity_type",
        "version",
        "salesforce_id",
        "sync_status",
        "created_at",
        "updated_at",
        "deleted_at",
    }
)

FIELD_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One field of a platform entity type, core or custom."""

    #: API name, snake_case; the key of the value in the record's JSON.
    name: str
    #: What kind of value the field holds.
    type: FieldType
    #: Human label shown in the admin UI and mapping editor.
    label: str = ""
    #: A create must give a value; an update may not set it to null.
    required: bool = False
    #: Longest accepted string (text-like types); ``None`` means the type's default.
    max_length: int | None = None
    #: Allowed values of a picklist or multi-picklist, in display order.
    values: tuple[str, ...] = ()
    #: For ``REFERENCE`` fields: the entity type whose id the value is.
    references: str | None = None
    #: Value stored on create when the field is absent.
    default: Any = None
    #: One line for the API reference.
    description: str = ""
    #: ``True`` for fields a tenant defined (returned like core fields).
    custom: bool = False

    @property
    def effective_max_length(self) -> int | None:
        """The longest string accepted, or ``None`` for non-text types."""
        if self.max_length is not None:
            return self.max_length
        return DEFAULT_MAX_LENGTH.get(self.type)

    @property
    def display_label(self) -> str:
        """The label, or one derived from the name."""
        return self.label or self.name.replace("_", " ").capitalize()

    def describe(self) -> dict[str, Any]:
        """A plain, JSON-able description (used by the API and the mapping editor)."""
        return {
            "name": self.name,
            "type": self.type.value,
            "label": self.display_label,
            "required": self.required,
            "max_length": self.effective_max_length,
            "values": list(self.values),
            "references": self.references,
            "default": self.default,
            "description": self.description,
            "custom": self.custom,
        }
