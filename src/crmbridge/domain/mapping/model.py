"""What corresponds to what: object mappings and their field mappings (R-M1, R-M2).

The sync engine reads these values and nothing else to decide what to move. They are
frozen, keyword-only dataclasses that serialize to plain JSON-able dicts
(:meth:`ObjectMapping.to_dict` / :meth:`ObjectMapping.from_dict`) for storage and the
API; reading a dict checks everything and reports every problem at once.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from crmbridge.domain.mapping.conditions import Condition
from crmbridge.domain.mapping.transforms import Lookup, Reference, TransformStep, relationship_name

#: A default value: a JSON scalar.
Scalar = str | int | float | bool


class Direction(enum.StrEnum):
    """Which way data flows."""

    BOTH = "both"
    TO_SALESFORCE = "to_salesforce"
    FROM_SALESFORCE = "from_salesforce"

    @property
    def outbound(self) -> bool:
        """Whether platform changes go to Salesforce."""
        return self is not Direction.FROM_SALESFORCE

    @property
    def inbound(self) -> bool:
        """Whether Salesforce changes come to the platform."""
        return self is not Direction.TO_SALESFORCE

    def narrowed_by(self, other: Direction) -> Direction | None:
        """The direction both allow, ``None`` when they allow nothing in common."""
        if self is Direction.BOTH:
            return other
        if other is Direction.BOTH or other is self:
            return self
        return None


class CreationRule(enum.StrEnum):
    """What happens to a record with no counterpart on the other side."""

    #: Create the counterpart.
    CREATE_MISSING = "create_missing"
    #: Only update records that already match; leave the others alone.
    UPDATE_MATCHED_ONLY = "update_matched_only"


class DeletePolicy(enum.StrEnum):
    """What a deletion on one side does to the counterpart."""

    #: Delete the counterpart too.
    PROPAGATE = "propagate"
    #: Keep the counterpart but mark it archived (platform) / unlink it.
    ARCHIVE = "archive"
    #: Do nothing.
    IGNORE = "ignore"


class ConflictPolicy(enum.StrEnum):
    """How a field changed on both sides is settled (same values as the sync engine's)."""

    PLATFORM_WINS = "platform_wins"
    SALESFORCE_WINS = "salesforce_wins"
    MOST_RECENT = "most_recent"
    MANUAL_REVIEW = "manual_review"


class FieldKind(enum.StrEnum):
    """How a field mapping computes its value (seed 004 "Creating Custom Mappings")."""

    DIRECT = "direct"
    TRANSFORM = "transform"
    FORMULA = "formula"


@dataclass(frozen=True, kw_only=True)
class MatchKey:
    """A pair of fields that identify the same record on both sides (e.g. e-mail)."""

    #: The platform field.
    platform_field: str
    #: The Salesforce field's API name.
    salesforce_field: str

    def to_dict(self) -> dict[str, Any]:
        """``{"platform_field": ..., "salesforce_field": ...}``."""
        return {"platform_field": self.platform_field, "salesforce_field": self.salesforce_field}


@dataclass(frozen=True, kw_only=True)
class FieldMapping:
    """Platform field(s) ↔ Salesforce API field(s), and how values get across.

    Most mappings join one field to one field. A concatenation reads several platform
    fields and a split writes several Salesforce fields. A formula mapping computes its
    target from the fields its formula names: an outbound formula
    (``to_salesforce``) lists only its Salesforce target, an inbound one
    (``from_salesforce``) only its platform target.
    """

    #: Platform field names (several for a concatenation; none for outbound formulas).
    platform_fields: tuple[str, ...]
    #: Salesforce API field names, not labels (several for a split).
    salesforce_fields: tuple[str, ...]
    #: Direct, Transform or Formula.
    kind: FieldKind = FieldKind.DIRECT
    #: Which way this field flows (narrowed by the object mapping's direction).
    direction: Direction = Direction.BOTH
    #: Transform steps, in the order applied on the way to Salesforce.
    steps: tuple[TransformStep, ...] = ()
    #: The expression of a Formula mapping.
    formula: str | None = None
    #: Written to Salesforce when the mapped value is empty.
    default_value: Scalar | None = None

    @property
    def platform_field(self) -> str:
        """The (first) platform field, ``""`` for an outbound formula."""
        return self.platform_fields[0] if self.platform_fields else ""

    @property
    def salesforce_field(self) -> str:
        """The (first) Salesforce field, ``""`` for an inbound formula."""
        return self.salesforce_fields[0] if self.salesforce_fields else ""

    @cached_property
    def label(self) -> str:
        """``first_name → FirstName``, used in traces, issues and logs."""
        left = " + ".join(self.platform_fields) or f"={self.formula}"
        right = " + ".join(self.salesforce_fields) or f"={self.formula}"
        return f"{left} → {right}"

    def related_read_paths(self) -> tuple[str, ...]:
        """Parent-field paths to query with the record, e.g. ``Account.Name``.

        Lookups and references read the related record's match field or external id
        on the way back, so the inbound query asks for it alongside the reference.
        """
        paths: list[str] = []
        if not self.salesforce_fields:
            return ()
        relationship = relationship_name(self.salesforce_fields[0])
        for step in self.steps:
            if isinstance(step, Lookup):
                paths.append(f"{relationship}.{step.match_field}")
            elif isinstance(step, Reference) and step.external_id_field:
                paths.append(f"{relationship}.{step.external_id_field}")
        return tuple(paths)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form; :func:`field_mapping_from_dict` reads it back."""
        data: dict[str, Any] = {
            "platform_fields": list(self.platform_fields),
            "salesforce_fields": list(self.salesforce_fields),
            "kind": self.kind.value,
            "direction": self.direction.value,
        }
        if self.steps:
            data["steps"] = [step.to_dict() for step in self.steps]
        if self.formula is not None:
            data["formula"] = self.formula
        if self.default_value is not None:
            data["default_value"] = self.default_value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldMapping:
        """Read a field mapping written by :meth:`to_dict` (or sent to the API).

        ``platform_field`` / ``salesforce_field`` (one name) are accepted for the lists.

        Raises:
            MappingDefinitionError: listing every problem, each with its path.
        """
        from crmbridge.domain.mapping.definitions import field_mapping_from_dict

        return field_mapping_from_dict(data)


@dataclass(frozen=True, kw_only=True)
class ObjectMapping:
    """A platform entity ↔ a Salesforce object, and everything about syncing them."""

    #: The platform entity (``member``, ``lead``, ``organization`` …).
    platform_entity: str
    #: The Salesforce object's API name (``Contact``, ``Lead``, ``Custom__c`` …).
    salesforce_object: str
    #: Whether this mapping syncs at all.
    enabled: bool = True
    #: Which way records flow.
    direction: Direction = Direction.BOTH
    #: A platform record with no Salesforce counterpart: create one, or leave it.
    creation_in_salesforce: CreationRule = CreationRule.CREATE_MISSING
    #: A Salesforce record with no platform counterpart: create one, or leave it.
    creation_on_platform: CreationRule = CreationRule.CREATE_MISSING
    #: The Salesforce external-id field holding the platform id; matched first.
    external_id_field: str | None = "Platform_Id__c"
    #: Further keys tried in order when the external id does not match (e.g. e-mail).
    match_keys: tuple[MatchKey, ...] = ()
    #: Only Salesforce records satisfying this sync (e.g. ``Movement_Exclude__c = false``).
    salesforce_filter: Condition | None = None
    #: Only platform records satisfying this sync (e.g. ``status != 'LOST'``).
    platform_filter: Condition | None = None
    #: What a deletion on one side does on the other.
    delete_policy: DeletePolicy = DeletePolicy.ARCHIVE
    #: Overrides the tenant's conflict policy for this object (``None``: the tenant's).
    conflict_policy: ConflictPolicy | None = None
    #: The field mappings.
    fields: tuple[FieldMapping, ...] = ()

    def field_direction(self, field: FieldMapping) -> Direction | None:
        """The direction a field actually flows: its own, narrowed by the object's."""
        return self.direction.narrowed_by(field.direction)

    def outbound_fields(self) -> tuple[FieldMapping, ...]:
        """The field mappings that write to Salesforce."""
        return self._outbound_fields

    def inbound_fields(self) -> tuple[FieldMapping, ...]:
        """The field mappings that write to the platform."""
        return self._inbound_fields

    @cached_property
    def _outbound_fields(self) -> tuple[FieldMapping, ...]:
        if not self.enabled:
            return ()
        return tuple(f for f in self.fields if (d := self.field_direction(f)) and d.outbound)

    @cached_property
    def _inbound_fields(self) -> tuple[FieldMapping, ...]:
        if not self.enabled:
            return ()
        return tuple(f for f in self.fields if (d := self.field_direction(f)) and d.inbound)

    def salesforce_read_fields(self) -> tuple[str, ...]:
        """Every Salesforce field (and parent path) an inbound query should select.

        ``Id``, the external id, the fields of inbound mappings (with the parent paths
        lookups and references read), the filter's fields and the match keys.
        """
        names: list[str] = ["Id"]
        if self.external_id_field:
            names.append(self.external_id_field)
        for field in self.inbound_fields():
            names.extend(field.salesforce_fields)
            names.extend(field.related_read_paths())
            if field.kind is FieldKind.FORMULA and field.formula:
                names.extend(_formula_salesforce_fields(field.formula))
        if self.salesforce_filter is not None:
            names.extend(sorted(self.salesforce_filter.fields()))
        names.extend(key.salesforce_field for key in self.match_keys)
        seen: dict[str, str] = {}
        for name in names:
            seen.setdefault(name.lower(), name)
        return tuple(seen.values())

    def accepts_salesforce_record(self, record: Mapping[str, Any]) -> bool:
        """Whether a Salesforce record passes the Salesforce-side filter.

        Text comparisons ignore case, as SOQL's do.
        """
        flt = self.salesforce_filter
        return flt is None or flt.matches(record, case_sensitive=False)

    def accepts_platform_record(self, record: Mapping[str, Any]) -> bool:
        """Whether a platform record passes the platform-side filter."""
        return self.platform_filter is None or self.platform_filter.matches(record)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form; :meth:`from_dict` reads it back."""
        return {
            "platform_entity": self.platform_entity,
            "salesforce_object": self.salesforce_object,
            "enabled": self.enabled,
            "direction": self.direction.value,
            "creation_in_salesforce": self.creation_in_salesforce.value,
            "creation_on_platform": self.creation_on_platform.value,
            "external_id_field": self.external_id_field,
            "match_keys": [key.to_dict() for key in self.match_keys],
            "salesforce_filter": self.salesforce_filter.to_dict()
            if self.salesforce_filter
            else None,
            "platform_filter": self.platform_filter.to_dict() if self.platform_filter else None,
            "delete_policy": self.delete_policy.value,
            "conflict_policy": self.conflict_policy.value if self.conflict_policy else None,
            "fields": [field.to_dict() for field in self.fields],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectMapping:
        """Read a mapping written by :meth:`to_dict` (or sent to the API).

        Raises:
            MappingDefinitionError: listing every problem, each with its path.
        """
        from crmbridge.domain.mapping.definitions import object_mapping_from_dict

        return object_mapping_from_dict(data)


def _formula_salesforce_fields(text: str) -> list[str]:
    from crmbridge.domain.mapping.errors import FormulaError
    from crmbridge.domain.mapping.formula import parse_cached

    try:
        return sorted(parse_cached(text).salesforce_fields())
    except FormulaError:
        return []


def direct(
    platform_field: str,
    salesforce_field: str,
    *,
    direction: Direction = Direction.BOTH,
    default_value: Scalar | None = None,
) -> FieldMapping:
    """A Direct field mapping: ``direct("first_name", "FirstName")``."""
    return FieldMapping(
        platform_fields=(platform_field,),
        salesforce_fields=(salesforce_field,),
        direction=direction,
        default_value=default_value,
    )


def transformed(
    platform_fields: str | tuple[str, ...],
    salesforce_fields: str | tuple[str, ...],
    *steps: TransformStep,
    direction: Direction = Direction.BOTH,
    default_value: Scalar | None = None,
) -> FieldMapping:
    """A Transform field mapping: ``transformed("status", "Status", value_map(...))``."""
    return FieldMapping(
        platform_fields=(platform_fields,) if isinstance(platform_fields, str) else platform_fields,
        salesforce_fields=(salesforce_fields,)
        if isinstance(salesforce_fields, str)
        else salesforce_fields,
        kind=FieldKind.TRANSFORM,
        direction=direction,
        steps=steps,
        default_value=default_value,
    )


def computed(
    target: str,
    formula: str,
    *steps: TransformStep,
    direction: Direction = Direction.TO_SALESFORCE,
    default_value: Scalar | None = None,
) -> FieldMapping:
    """A Formula field mapping filling ``target`` (a Salesforce field when outbound)."""
    outbound = direction is Direction.TO_SALESFORCE
    return FieldMapping(
        platform_fields=() if outbound else (target,),
        salesforce_fields=(target,) if outbound else (),
        kind=FieldKind.FORMULA,
        direction=direction,
        steps=steps,
        formula=formula,
        default_value=default_value,
    )
