"""The emulated org's metadata: objects, fields, relationships and data rules.

Everything here is frozen data that describe, the store, the SOQL engine and the
validators read. Attribute names follow the REST ``describe`` result
(REST API Developer Guide, "sObject Describe"), in snake_case.

The default schema (standard objects plus the custom fields the seed guides name) is
built by :mod:`crmbridge.emulator.schema_default`; extra custom fields, custom objects,
validation rules and duplicate rules come from a YAML/JSON file read by
:mod:`crmbridge.emulator.schema_file`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Describe types whose values are text (stored as TEXT COLLATE NOCASE).
TEXT_TYPES = frozenset(
    {
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
#: Describe types whose values are numbers with a fractional part (stored as REAL).
DECIMAL_TYPES = frozenset({"double", "currency", "percent"})
#: Every describe type the emulator knows.
FIELD_TYPES = (
    TEXT_TYPES
    | DECIMAL_TYPES
    | {
        "id",
        "boolean",
        "int",
        "date",
        "datetime",
        "time",
        "reference",
        "address",
    }
)

#: Fields every object has, in the order describe lists them.
SYSTEM_FIELD_NAMES = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True, kw_only=True)
class FieldDef:
    """One field of an sObject, with the attributes describe reports."""

    #: API name, e.g. ``LastName`` or ``Lead_Score__c``.
    name: str
    #: Label shown in describe and used in error messages ("Last Name: data value too large").
    label: str
    #: Describe type (``string``, ``picklist``, ``reference``, ``datetime`` …).
    type: str
    #: Maximum length of text values (0 for non-text types).
    length: int = 0
    #: Total digits of numbers (double, currency, percent).
    precision: int = 0
    #: Digits after the decimal point.
    scale: int = 0
    #: Digits of ``int`` fields.
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    filterable: bool = True
    sortable: bool = True
    groupable: bool = True
    #: Salesforce fills the field when a create leaves it out (so it is not required).
    defaulted_on_create: bool = False
    unique: bool = False
    case_sensitive: bool = False
    external_id: bool = False
    #: Value used when a create leaves the field out.
    default_value: Any = None
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    #: The picklist value a create gets when it leaves the field out.
    default_picklist_value: str | None = None
    #: Objects a reference may point to (several for polymorphic fields like Task.WhoId).
    reference_to: tuple[str, ...] = ()
    #: Parent relationship name used in SOQL paths (``Account`` for ``AccountId``).
    relationship_name: str | None = None
    #: Child relationship name this lookup creates on each parent (``Contacts``).
    child_relationship_name: str | None = None
    #: Deleting the parent deletes this record too (master-detail-like standard lookups).
    cascade_delete: bool = False
    #: A formula field: computed when read, never stored, never bumps SystemModstamp.
    calculated: bool = False
    #: For formula fields, a field path relative to the object, e.g. ``Account.Name``.
    formula: str | None = None
    #: For address components, the compound field they belong to (``BillingAddress``).
    compound_field_name: str | None = None
    #: The object's name field (``Name``), which describe marks ``nameField``.
    name_field: bool = False
    #: Classic encrypted text or a Shield-encrypted field (flagged by mapping validation).
    encrypted: bool = False
    custom: bool = False
    #: Optional help text shown in describe as ``inlineHelpText``.
    help_text: str | None = None

    @property
    def stored(self) -> bool:
        """True when the field is a column of the object's table."""
        return not self.calculated and self.type != "address"

    @property
    def required_on_create(self) -> bool:
        """True when a create without a value fails with REQUIRED_FIELD_MISSING."""
        return (
            self.createable
            and not self.nillable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )

    @property
    def is_text(self) -> bool:
        """True for text-like types (compared case-insensitively in SOQL)."""
        return self.type in TEXT_TYPES

    @property
    def polymorphic(self) -> bool:
        """True for references that may point to several object types."""
        return len(self.reference_to) > 1


@dataclass(frozen=True, kw_only=True)
class ChildRelationship:
    """A child relationship of a parent object (``Account.Contacts``)."""

    #: Name used in SOQL subqueries, e.g. ``Contacts``.
    relationship_name: str
    #: The child object, e.g. ``Contact``.
    child_sobject: str
    #: The child's lookup field, e.g. ``AccountId``.
    field: str
    cascade_delete: bool = False


@dataclass(frozen=True, kw_only=True)
class ValidationRule:
    """A declarative validation rule; a matching write fails with FIELD_CUSTOM_VALIDATION_EXCEPTION.

    Two kinds exist: ``required`` (``field`` must have a value when every ``when``
    condition holds) and ``regex`` (a non-empty ``field`` must match ``pattern``).
    """

    name: str
    kind: str
    field: str
    error_message: str
    #: Field the error is shown on (``fields`` of the error); None for the page top.
    error_field: str | None = None
    pattern: str | None = None
    #: Conditions ``(field, value)`` that must all hold for the rule to apply.
    when: tuple[tuple[str, Any], ...] = ()
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class DuplicateRule:
    """A blocking duplicate rule: a record whose ``match_fields`` all equal another's fails.

    Matching is case-insensitive and ignores records where any match field is empty,
    like Salesforce's exact-match matching rules.
    """

    name: str
    match_fields: tuple[str, ...]
    error_message: str = (
        "You're creating a duplicate record. We recommend you use an existing record instead."
    )
    #: Also applies to updates (Salesforce's "Action On Edit: Block").
    on_edit: bool = True
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class RecordTypeDef:
    """A record type of an object, as describe's ``recordTypeInfos`` lists it."""

    developer_name: str
    name: str
    default: bool = False
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class SObjectDef:
    """One object of the org, with the attributes describe and describeGlobal report."""

    name: str
    label: str
    label_plural: str
    #: Three-character id prefix (``001`` for Account).
    key_prefix: str
    custom: bool = False
    queryable: bool = True
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    #: Supports ``sobjects/{Type}/updated`` and ``/deleted`` (replicateable in describe).
    replicateable: bool = True
    fields: tuple[FieldDef, ...] = ()
    child_relationships: tuple[ChildRelationship, ...] = ()
    validation_rules: tuple[ValidationRule, ...] = ()
    duplicate_rules: tuple[DuplicateRule, ...] = ()
    record_types: tuple[RecordTypeDef, ...] = ()
    #: Fields joined with spaces to fill the read-only ``Name`` (Contact, Lead, User).
    full_name_parts: tuple[str, ...] = ()
    _by_name: dict[str, FieldDef] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _by_relationship: dict[str, FieldDef] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _children: dict[str, ChildRelationship] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _stored: list[FieldDef] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name.lower(): f for f in self.fields}
        if len(by_name) != len(self.fields):
            raise ValueError(f"{self.name}: two fields share a name")
        self._by_name.update(by_name)
        self._by_relationship.update(
            {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}
        )
        self._children.update({c.relationship_name.lower(): c for c in self.child_relationships})
        self._stored.extend(f for f in self.fields if f.stored)

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose parent relationship is ``name`` (``Account``), or None."""
        return self._by_relationship.get(name.lower())

    def child_relationship(self, name: str) -> ChildRelationship | None:
        """The child relationship called ``name`` (``Contacts``), or None."""
        return self._children.get(name.lower())

    @property
    def stored_fields(self) -> tuple[FieldDef, ...]:
        """Fields that are columns of the object's table, in describe order."""
        return tuple(self._stored)

    @property
    def has_owner(self) -> bool:
        """True when the object has an ``OwnerId``."""
        return self.field("OwnerId") is not None

    @property
    def name_field(self) -> FieldDef | None:
        """The field describe marks ``nameField`` (usually ``Name``)."""
        return next((f for f in self.fields if f.name_field), None)

    @property
    def external_id_fields(self) -> tuple[FieldDef, ...]:
        """Fields usable for upsert (``externalId`` in describe)."""
        return tuple(f for f in self.fields if f.external_id)

    def compound_components(self, compound_name: str) -> tuple[FieldDef, ...]:
        """The component fields of a compound address field (``BillingAddress``)."""
        lowered = compound_name.lower()
        return tuple(
            f
            for f in self.fields
            if f.compound_field_name and f.compound_field_name.lower() == lowered
        )


class Schema:
    """All objects of the org, looked up case-insensitively by API name or key prefix."""

    def __init__(self, objects: Iterable[SObjectDef]) -> None:
        linked = _link_child_relationships(list(objects))
        self._objects: dict[str, SObjectDef] = {o.name.lower(): o for o in linked}
        self._by_prefix: dict[str, SObjectDef] = {}
        for obj in linked:
            if obj.key_prefix in self._by_prefix:
                other = self._by_prefix[obj.key_prefix].name
                raise ValueError(f"{obj.name} and {other} share key prefix {obj.key_prefix}")
            self._by_prefix[obj.key_prefix] = obj
        _check_references(self)

    def get(self, name: str) -> SObjectDef | None:
        """The object called ``name`` (case-insensitive), or None."""
        return self._objects.get(name.lower())

    def by_key_prefix(self, prefix: str) -> SObjectDef | None:
        """The object whose ids start with ``prefix``, or None."""
        return self._by_prefix.get(prefix)

    def object_for_id(self, record_id: str) -> SObjectDef | None:
        """The object a record id belongs to, by its key prefix."""
        return self._by_prefix.get(record_id[:3])

    @property
    def objects(self) -> tuple[SObjectDef, ...]:
        """Every object, in the order they were declared."""
        return tuple(self._objects.values())

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._objects.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._objects

    def extended(
        self,
        *,
        new_objects: Iterable[SObjectDef] = (),
        extra_fields: Mapping[str, Iterable[FieldDef]] | None = None,
        validation_rules: Mapping[str, Iterable[ValidationRule]] | None = None,
        duplicate_rules: Mapping[str, Iterable[DuplicateRule]] | None = None,
    ) -> Schema:
        """A new schema with extra objects, fields and rules added (the schema file's job)."""
        objects = {o.name.lower(): _unlinked(o) for o in self._objects.values()}
        for obj in new_objects:
            if obj.name.lower() in objects:
                raise ValueError(f"object {obj.name} already exists")
            objects[obj.name.lower()] = obj
        for name, fields in (extra_fields or {}).items():
            obj = _require(objects, name)
            added = tuple(fields)
            for new_field in added:
                if obj.field(new_field.name):
                    raise ValueError(f"{obj.name}.{new_field.name} already exists")
            objects[obj.name.lower()] = dataclasses.replace(obj, fields=obj.fields + added)
        for name, rules in (validation_rules or {}).items():
            obj = _require(objects, name)
            objects[obj.name.lower()] = dataclasses.replace(
                obj, validation_rules=obj.validation_rules + tuple(rules)
            )
        for name, dupes in (duplicate_rules or {}).items():
            obj = _require(objects, name)
            objects[obj.name.lower()] = dataclasses.replace(
                obj, duplicate_rules=obj.duplicate_rules + tuple(dupes)
            )
        return Schema(objects.values())


def _require(objects: Mapping[str, SObjectDef], name: str) -> SObjectDef:
    obj = objects.get(name.lower())
    if obj is None:
        raise ValueError(f"no object called {name}")
    return obj


def _unlinked(obj: SObjectDef) -> SObjectDef:
    """The object without computed child relationships (they are recomputed)."""
    return dataclasses.replace(obj, child_relationships=())


def _link_child_relationships(objects: list[SObjectDef]) -> list[SObjectDef]:
    """Each object with the child relationships its children's lookups declare."""
    children: dict[str, list[ChildRelationship]] = {o.name.lower(): [] for o in objects}
    for child in objects:
        for ref in child.fields:
            if ref.type != "reference" or not ref.child_relationship_name:
                continue
            for parent in ref.reference_to:
                children.setdefault(parent.lower(), []).append(
                    ChildRelationship(
                        relationship_name=ref.child_relationship_name,
                        child_sobject=child.name,
                        field=ref.name,
                        cascade_delete=ref.cascade_delete,
                    )
                )
    linked = []
    for obj in objects:
        declared = {c.relationship_name.lower() for c in obj.child_relationships}
        extra = tuple(
            c for c in children[obj.name.lower()] if c.relationship_name.lower() not in declared
        )
        linked.append(dataclasses.replace(obj, child_relationships=obj.child_relationships + extra))
    return linked


def _check_references(schema: Schema) -> None:
    for obj in schema:
        for ref in obj.fields:
            for target in ref.reference_to:
                if schema.get(target) is None:
                    raise ValueError(f"{obj.name}.{ref.name} refers to unknown object {target}")
            if ref.formula and ref.calculated:
                _resolve_formula_path(schema, obj, ref)
        for rule in obj.validation_rules:
            named = [rule.field, *(name for name, _ in rule.when)]
            named += [rule.error_field] if rule.error_field else []
            for name in named:
                if obj.field(name) is None:
                    raise ValueError(f"{obj.name} rule {rule.name}: no field {name}")
        for dupe in obj.duplicate_rules:
            for name in dupe.match_fields:
                if obj.field(name) is None:
                    raise ValueError(f"{obj.name} duplicate rule {dupe.name}: no field {name}")


def _resolve_formula_path(schema: Schema, obj: SObjectDef, formula_field: FieldDef) -> None:
    """Check that a formula path such as ``Account.Name`` leads to a field."""
    assert formula_field.formula is not None
    parts = formula_field.formula.split(".")
    current: SObjectDef | None = obj
    for part in parts[:-1]:
        assert current is not None
        ref = current.relationship(part)
        if ref is None or len(ref.reference_to) != 1:
            raise ValueError(f"{obj.name}.{formula_field.name}: bad formula path {part}")
        current = schema.get(ref.reference_to[0])
    if current is None or current.field(parts[-1]) is None:
        raise ValueError(f"{obj.name}.{formula_field.name}: bad formula path")


_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def label_from_api_name(name: str) -> str:
    """A readable label: ``Lead_Score__c`` → ``Lead Score``, ``FirstName`` → ``First Name``."""
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2 and not base.endswith("__Id"):
        base = base[:-2] + " ID"
    if "_" in base:
        return base.replace("_", " ")
    return _WORD_BREAK.sub(" ", base)


def default_schema() -> Schema:
    """The org's schema when no schema file is given."""
    from crmbridge.emulator.schema_default import build_default_schema

    return build_default_schema()


def load_schema(path: Path | None) -> Schema:
    """The default schema, extended with the custom fields, objects and rules in ``path``."""
    schema = default_schema()
    if path is None:
        return schema
    from crmbridge.emulator.schema_file import extend_schema_from_file

    return extend_schema_from_file(schema, path)
