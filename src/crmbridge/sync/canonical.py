"""One mapping as the merge sees it: the canonical representation of both sides.

The pure core compares both sides in one representation, keyed by Salesforce API
field names with JSON wire values (docs/sync-engine.md, "The canonical
representation"). :class:`MappingCodec` builds it from a mapping:

- a **plain** field (direct, transforms, formulas) is the value the mapping sends to
  Salesforce, and Salesforce's value as the REST API returns it;
- a **reference** to a synced object (``Account.ParentId``, a ``reference`` step) is the
  *parent's platform id*: the platform record's link field, and on the Salesforce side
  the parent's external id the query brings along (``Parent.Platform_Id__c``) or the
  engine's known links. Outbound it travels as an external-id reference;
- a **lookup** by value (``company`` → the Account named so, a ``lookup`` step) is the
  *matched value* (the name): the platform value before the lookup, and on the
  Salesforce side the parent's field (``Account.Name``). The writer resolves it to an
  Id (finding or creating the record) only when it is sent.

So comparing never calls Salesforce, and a reference is the same value whether or not
the parent already has a Salesforce id. Which kind a field is follows the first
mapping that sends it to Salesforce (else the first that reads it).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any

from crmbridge.domain.entities import ENTITY_TYPES, FieldType
from crmbridge.domain.mapping import Direction as MappingDirection
from crmbridge.domain.mapping import FieldMapping, MappingContext, ObjectMapping
from crmbridge.domain.mapping.apply import SKIPPED, field_value
from crmbridge.domain.mapping.compiled import InboundMapper, KeyFolder
from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.errors import TransformError
from crmbridge.domain.mapping.transforms import (
    ExternalIdReference,
    Lookup,
    Reference,
    StepContext,
    relationship_name,
)
from crmbridge.domain.mapping.values import is_blank, to_wire_value
from crmbridge.domain.sync import (
    SYSTEM_FIELDS,
    Direction,
    FieldRule,
    FieldValue,
    RecordVersion,
    ReferenceField,
    Side,
)


class CanonicalKind(enum.StrEnum):
    """How a canonical field's value is represented."""

    PLAIN = "plain"
    REFERENCE = "reference"
    LOOKUP = "lookup"


@dataclass(frozen=True, kw_only=True)
class CanonicalField:
    """One Salesforce field as the merge compares it."""

    #: The Salesforce API field name (the canonical key).
    name: str
    #: How its value is represented.
    kind: CanonicalKind
    #: Which way it flows (the union of its field mappings, bounded by the object).
    direction: Direction
    #: The reference step, for ``REFERENCE`` fields.
    reference: Reference | None = None
    #: The lookup step, for ``LOOKUP`` fields.
    lookup: Lookup | None = None
    #: Index of that step in the governing field mapping's pipeline.
    step_index: int = 0

    @property
    def relationship(self) -> str:
        """The relationship name of a lookup field (``Account`` for ``AccountId``)."""
        return relationship_name(self.name)


class MappingCodec:
    """Converts records of one mapping to and from the canonical representation.

    Args:
        mapping: the object mapping.
        direction: the object's direction after the tenant's own bound.
        context: time zone and today for the mapping's transforms.
        mapped_objects: Salesforce objects that have an enabled mapping (links to other
            objects, e.g. owners to unpaired users, are not compared).
    """

    def __init__(
        self,
        mapping: ObjectMapping,
        *,
        direction: Direction,
        context: MappingContext,
        mapped_objects: frozenset[str],
    ) -> None:
        self.mapping = mapping
        self.direction = direction
        self.context = context
        self.fields: dict[str, CanonicalField] = {}
        self._sources: dict[str, FieldMapping] = {}
        self._unordered = _multi_select_fields(mapping)
        self._key_folder = KeyFolder()
        self._inbound_mappings: dict[frozenset[str] | None, ObjectMapping | None] = {}
        self._inbound_mappers: dict[frozenset[str] | None, InboundMapper | None] = {}
        narrowed = MappingDirection(direction.value)
        for field in mapping.fields:
            field_direction = mapping.field_direction(field)
            if field_direction is None or field_direction.narrowed_by(narrowed) is None:
                continue
            self._add(field, Direction(field_direction.narrowed_by(narrowed).value), mapped_objects)  # type: ignore[union-attr]

    def _add(self, field: FieldMapping, direction: Direction, mapped: frozenset[str]) -> None:
        for name in field.salesforce_fields:
            kind, reference, lookup, index = _kind_of(field)
            if len(field.salesforce_fields) > 1:
                kind, reference, lookup = CanonicalKind.PLAIN, None, None
            if (
                reference is not None
                and reference.external_id_field is None
                and reference.object_name not in mapped
            ):
                continue  # e.g. OwnerId before users are paired: nothing to compare with
            existing = self.fields.get(name)
            if existing is None:
                self.fields[name] = CanonicalField(
                    name=name,
                    kind=kind,
                    direction=direction,
                    reference=reference,
                    lookup=lookup,
                    step_index=index,
                )
                self._sources[name] = field
                continue
            merged = _union(existing.direction, direction)
            governs = direction.flows_from(Side.PLATFORM) and not existing.direction.flows_from(
                Side.PLATFORM
            )
            if governs:
                self.fields[name] = CanonicalField(
                    name=name,
                    kind=kind,
                    direction=merged,
                    reference=reference,
                    lookup=lookup,
                    step_index=index,
                )
                self._sources[name] = field
            else:
                self.fields[name] = CanonicalField(
                    name=name,
                    kind=existing.kind,
                    direction=merged,
                    reference=existing.reference,
                    lookup=existing.lookup,
                    step_index=existing.step_index,
                )

    # --- what the core needs --------------------------------------------------------------

    def field_rules(self) -> tuple[FieldRule, ...]:
        """One rule per canonical field."""
        return tuple(FieldRule(field=f.name, direction=f.direction) for f in self.fields.values())

    def reference_fields(self) -> list[ReferenceField]:
        """Lookups to synced objects that travel as external-id references outbound."""
        return [
            ReferenceField(
                object=self.mapping.salesforce_object,
                field=f.name,
                relationship_name=relationship_name(f.name),
                target_object=f.reference.object_name,
            )
            for f in self.fields.values()
            if f.kind is CanonicalKind.REFERENCE
            and f.reference is not None
            and f.reference.external_id_field
            and f.direction.flows_from(Side.PLATFORM)
        ]

    def query_fields(self) -> tuple[str, ...]:
        """Every field the inbound query selects: system fields, mapped fields, parents."""
        names: list[str] = [*SYSTEM_FIELDS, "LastModifiedDate"]
        names.extend(self.mapping.salesforce_read_fields())
        for f in self.fields.values():
            names.append(f.name)
            if f.kind is CanonicalKind.LOOKUP and f.lookup is not None:
                names.append(f"{f.relationship}.{f.lookup.match_field}")
            if f.kind is CanonicalKind.REFERENCE and f.reference and f.reference.external_id_field:
                names.append(f"{f.relationship}.{f.reference.external_id_field}")
        seen: dict[str, str] = {}
        for name in names:
            seen.setdefault(name.lower(), name)
        return tuple(seen.values())

    # --- platform → canonical -------------------------------------------------------------

    def platform_values(
        self, record: Mapping[str, Any]
    ) -> tuple[dict[str, FieldValue], dict[str, str]]:
        """The canonical values of a platform record, and field errors by label."""
        values: dict[str, FieldValue] = {}
        errors: dict[str, str] = {}
        for field, stop in self._platform_plan:
            output, error = field_value(
                record, field, self.context, outbound=True, stop_before=stop
            )
            if output is SKIPPED:
                continue
            if error is not None:
                errors[field.label] = error
                continue
            outputs = [output] if len(field.salesforce_fields) == 1 else list(output)
            for name, output in zip(field.salesforce_fields, outputs, strict=True):
                if name not in self.fields:
                    continue
                value = _canonical_value(output)
                if name in self._unordered:
                    value = _as_set(value)
                if name in values and not is_blank(values[name]):
                    continue  # several mappings fill one field: the first non-empty wins
                values[name] = value
        return values, errors

    @cached_property
    def _platform_plan(self) -> tuple[tuple[FieldMapping, int | None], ...]:
        """The field mappings that fill canonical fields from the platform, each with
        the step to stop before (a reference or lookup is compared before it resolves)."""
        plan: list[tuple[FieldMapping, int | None]] = []
        for field in self.mapping.fields:
            direction = self.mapping.field_direction(field)
            if direction is None or not direction.outbound:
                continue
            targets = [n for n in field.salesforce_fields if n in self.fields]
            if not targets:
                continue
            canonical = self.fields[targets[0]]
            stop = (
                canonical.step_index
                if canonical.kind is not CanonicalKind.PLAIN and self._sources[targets[0]] is field
                else None
            )
            plan.append((field, stop))
        return tuple(plan)

    def platform_version(
        self,
        *,
        record_id: str,
        data: Mapping[str, Any],
        counterpart_id: str | None,
        modified_at: datetime | None,
        deleted: bool,
    ) -> tuple[RecordVersion, dict[str, str]]:
        """A platform record as a canonical version (with its mapping errors)."""
        values, errors = self.platform_values({**data, "id": record_id})
        version = RecordVersion(
            side=Side.PLATFORM,
            object=self.mapping.salesforce_object,
            id=record_id,
            counterpart_id=counterpart_id,
            values=values,
            modified_at=modified_at,
            deleted=deleted,
        )
        return version, errors

    # --- Salesforce → canonical -----------------------------------------------------------

    def salesforce_version(
        self, record: Mapping[str, Any], *, context: MappingContext
    ) -> tuple[RecordVersion, dict[str, str]]:
        """A Salesforce record (REST JSON) as a canonical version (with its errors)."""
        values: dict[str, FieldValue] = {}
        errors: dict[str, str] = {}
        keys: dict[str, str] | None = None  # folded key → key, made when first needed
        for name, field in self.fields.items():
            if name in record:
                raw = record[name]
            else:
                # Salesforce field names are case-insensitive.
                if keys is None:
                    keys = self._key_folder(record)
                key = keys.get(name.casefold())
                if key is None:
                    continue  # not read (a pushed record with fewer fields): unchanged
                raw = record[key]
            if field.kind is CanonicalKind.PLAIN:
                value = _canonical_value(raw)
                values[name] = _as_set(value) if name in self._unordered else value
                continue
            step = field.reference if field.kind is CanonicalKind.REFERENCE else field.lookup
            assert step is not None
            if keys is None:
                keys = self._key_folder(record)
            ctx = StepContext(
                context=context,
                record=record,
                platform_fields=self._sources[name].platform_fields,
                salesforce_fields=(name,),
                folded_keys=keys,
            )
            try:
                values[name] = _canonical_value(step.to_platform(raw, ctx))
            except TransformError as exc:
                errors[name] = exc.message
        external = self.mapping.external_id_field
        counterpart = read_path(record, external, case_sensitive=False) if external else None
        version = RecordVersion(
            side=Side.SALESFORCE,
            object=self.mapping.salesforce_object,
            id=str(record["Id"]),
            counterpart_id=str(counterpart) if not is_blank(counterpart) else None,
            values=values,
            modified_at=parse_time(record.get("LastModifiedDate")),
            modstamp=parse_time(record.get("SystemModstamp")),
            deleted=bool(record.get("IsDeleted", False)),
        )
        return version, errors

    # --- canonical → platform -------------------------------------------------------------

    def inbound_mapping(self, changed: set[str] | None) -> ObjectMapping | None:
        """The mapping narrowed to :meth:`inbound_sources` (``None``: nothing to apply),
        without the Salesforce filter; made once per set of changed fields."""
        key = None if changed is None else frozenset(changed)
        if key in self._inbound_mappings:
            return self._inbound_mappings[key]
        sources = self.inbound_sources(changed)
        narrowed = (
            replace(self.mapping, fields=tuple(sources), salesforce_filter=None)
            if sources
            else None
        )
        if len(self._inbound_mappings) < _NARROWED_CACHE:
            self._inbound_mappings[key] = narrowed
        return narrowed

    def inbound_mapper(self, changed: set[str] | None) -> InboundMapper | None:
        """:meth:`inbound_mapping` prepared for mapping many records (``None``: nothing
        to apply); made once per set of changed fields."""
        key = None if changed is None else frozenset(changed)
        if key in self._inbound_mappers:
            return self._inbound_mappers[key]
        mapping = self.inbound_mapping(changed)
        mapper = InboundMapper(mapping) if mapping is not None else None
        if len(self._inbound_mappers) < _NARROWED_CACHE:
            self._inbound_mappers[key] = mapper
        return mapper

    def inbound_sources(self, changed: set[str] | None) -> list[FieldMapping]:
        """The inbound field mappings to apply for changed canonical fields (all: ``None``)."""
        chosen = []
        for field in self.mapping.inbound_fields():
            if (
                changed is None
                or not field.salesforce_fields
                or any(name in changed for name in field.salesforce_fields)
            ):
                chosen.append(field)
        return chosen


#: Narrowed inbound mappings kept per codec (one per set of changed fields seen).
_NARROWED_CACHE = 256


def _kind_of(
    field: FieldMapping,
) -> tuple[CanonicalKind, Reference | None, Lookup | None, int]:
    for index, step in enumerate(field.steps):
        if isinstance(step, Reference):
            return CanonicalKind.REFERENCE, step, None, index
        if isinstance(step, Lookup):
            return CanonicalKind.LOOKUP, None, step, index
    return CanonicalKind.PLAIN, None, None, 0


def _union(left: Direction, right: Direction) -> Direction:
    if left is right:
        return left
    return Direction.BOTH


def _multi_select_fields(mapping: ObjectMapping) -> frozenset[str]:
    """Salesforce fields filled from a platform multi-select picklist (a set of values).

    Salesforce returns a multi-select picklist's values in the picklist's defined
    order, not the order saved (Salesforce Help, knowledge article 000231088), so two
    sides holding the same values may list them differently: they compare as sets.
    """
    entity = ENTITY_TYPES.get(mapping.platform_entity)
    if entity is None:
        return frozenset()
    lists = {f.name for f in entity.fields if f.type is FieldType.MULTI_PICKLIST}
    return frozenset(
        name
        for field in mapping.fields
        if len(field.salesforce_fields) == 1 and lists.intersection(field.platform_fields)
        for name in field.salesforce_fields
    )


def _as_set(value: FieldValue) -> FieldValue:
    """A multi-select value (``a;b``) in one order: sorted, without repeats."""
    if not isinstance(value, str):
        return value
    return ";".join(sorted({part.strip() for part in value.split(";") if part.strip()})) or None


#: Exact types that are canonical as they are (subclasses take the long way).
_JSON_SCALARS = frozenset({str, int, float, bool})


def _canonical_value(value: Any) -> FieldValue:
    """A mapped value as a canonical one: wire format, references by platform id."""
    if value is None or type(value) in _JSON_SCALARS:
        return value  # what Salesforce's JSON holds already is canonical
    if isinstance(value, ExternalIdReference):
        return value.value
    if isinstance(value, list | tuple):
        joined = ";".join(str(to_wire_value(v)) for v in value if v is not None)
        return joined or None
    if isinstance(value, datetime | date):
        wire = to_wire_value(value)
        return str(wire)
    wire = to_wire_value(value)
    if wire is None or isinstance(wire, str | int | float | bool):
        return wire
    return str(wire)


def parse_time(value: Any) -> datetime | None:
    """A Salesforce ``dateTime`` (``2024-05-15T09:00:00.000+0000``) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text)
