"""A typed view of a Salesforce object describe, read from its documented JSON shape.

The REST resource ``/sobjects/{Object}/describe`` (REST API Developer Guide, "sObject
Describe") returns the object's flags and ``fields[]``; each field carries ``name``,
``label``, ``type``, ``length``, ``createable``, ``updateable``, ``nillable``,
``defaultedOnCreate``, ``picklistValues[{value, active}]``, ``restrictedPicklist``,
``calculated``, ``autoNumber``, ``encrypted``, ``referenceTo``, ``relationshipName``,
``externalId``, ``unique`` (Object Reference, "API Field Properties"). Absent keys
take the safe default (a field not said to be createable is not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Salesforce field types holding text.
TEXT_FIELD_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "combobox", "encryptedstring"}
)
#: Salesforce field types holding numbers.
NUMBER_FIELD_TYPES = frozenset({"int", "double", "currency", "percent", "long"})
#: System fields Salesforce maintains itself; never mapped for writing or auto-matched.
SYSTEM_FIELDS = frozenset(
    {
        "id",
        "isdeleted",
        "createddate",
        "createdbyid",
        "lastmodifieddate",
        "lastmodifiedbyid",
        "systemmodstamp",
        "lastactivitydate",
        "lastvieweddate",
        "lastreferenceddate",
    }
)


@dataclass(frozen=True, kw_only=True)
class SalesforceField:
    """One field of a describe."""

    #: API name.
    name: str
    #: Label shown in Salesforce.
    label: str
    #: Describe type (``string``, ``picklist``, ``reference``, ``date`` …).
    type: str
    #: Maximum length in characters for text fields (0 when not applicable).
    length: int = 0
    #: May be set on create.
    createable: bool = False
    #: May be set on update.
    updateable: bool = False
    #: May be empty.
    nillable: bool = True
    #: Salesforce fills it on create when no value is given.
    defaulted_on_create: bool = False
    #: Active picklist values.
    picklist_values: tuple[str, ...] = ()
    #: Only the listed picklist values are accepted through the API.
    restricted_picklist: bool = False
    #: A formula (or roll-up) field, computed by Salesforce.
    calculated: bool = False
    #: An auto-number field.
    auto_number: bool = False
    #: Shield Platform Encryption is on for the field.
    encrypted: bool = False
    #: Objects a reference field points at (several for polymorphic fields).
    reference_to: tuple[str, ...] = ()
    #: The relationship name of a reference field (``Account`` for ``AccountId``).
    relationship_name: str | None = None
    #: Marked as an external id.
    external_id: bool = False
    #: Values must be unique.
    unique: bool = False

    @property
    def is_text(self) -> bool:
        """Whether the field holds text."""
        return self.type in TEXT_FIELD_TYPES

    @property
    def is_system(self) -> bool:
        """Whether Salesforce maintains the field itself (Id, audit fields)."""
        return self.name.lower() in SYSTEM_FIELDS

    @property
    def required_on_create(self) -> bool:
        """Whether a create must give a value (not nillable, no default, createable)."""
        return (
            self.createable
            and not self.nillable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )

    @classmethod
    def from_describe(cls, data: Mapping[str, Any]) -> SalesforceField:
        """Read one entry of a describe's ``fields[]``."""
        picklist = tuple(
            str(entry.get("value"))
            for entry in data.get("picklistValues") or ()
            if isinstance(entry, Mapping) and entry.get("active", True)
        )
        return cls(
            name=str(data.get("name", "")),
            label=str(data.get("label") or data.get("name") or ""),
            type=str(data.get("type", "string")),
            length=int(data.get("length") or 0),
            createable=bool(data.get("createable", False)),
            updateable=bool(data.get("updateable", False)),
            nillable=bool(data.get("nillable", True)),
            defaulted_on_create=bool(data.get("defaultedOnCreate", False)),
            picklist_values=picklist,
            restricted_picklist=bool(data.get("restrictedPicklist", False)),
            calculated=bool(data.get("calculated", False)),
            auto_number=bool(data.get("autoNumber", False)),
            encrypted=bool(data.get("encrypted", False)),
            reference_to=tuple(str(o) for o in data.get("referenceTo") or ()),
            relationship_name=data.get("relationshipName") or None,
            external_id=bool(data.get("externalId", False)),
            unique=bool(data.get("unique", False)),
        )


@dataclass(frozen=True, kw_only=True)
class ObjectDescribe:
    """An object's describe: its flags and fields."""

    #: API name.
    name: str
    #: Label.
    label: str
    #: The integration user may create records.
    createable: bool = True
    #: The integration user may update records.
    updateable: bool = True
    #: The integration user may query records.
    queryable: bool = True
    #: The fields, in describe order.
    fields: tuple[SalesforceField, ...] = ()

    def field(self, name: str) -> SalesforceField | None:
        """The field called ``name`` (API names ignore case)."""
        folded = name.casefold()
        return next((f for f in self.fields if f.name.casefold() == folded), None)

    def relationship(self, name: str) -> SalesforceField | None:
        """The reference field whose relationship is called ``name``."""
        folded = name.casefold()
        return next(
            (f for f in self.fields if (f.relationship_name or "").casefold() == folded), None
        )

    @classmethod
    def from_describe(cls, data: Mapping[str, Any]) -> ObjectDescribe:
        """Read the JSON of ``/sobjects/{Object}/describe``."""
        return cls(
            name=str(data.get("name", "")),
            label=str(data.get("label") or data.get("name") or ""),
            createable=bool(data.get("createable", True)),
            updateable=bool(data.get("updateable", True)),
            queryable=bool(data.get("queryable", True)),
            fields=tuple(
                SalesforceField.from_describe(f)
                for f in data.get("fields") or ()
                if isinstance(f, Mapping)
            ),
        )


def as_object_describe(describe: Mapping[str, Any] | ObjectDescribe) -> ObjectDescribe:
    """The parsed describe, reading the JSON form when given one."""
    if isinstance(describe, ObjectDescribe):
        return describe
    return ObjectDescribe.from_describe(describe)
