"""Applying a mapping to a record, field by field, with a trace of every step.

:func:`map_to_salesforce` and :func:`map_to_platform` are what the sync engine and the
preview endpoint call. A field that fails (an unmapped status, a bad date) is reported
on that field; the other fields still map, and the caller decides what a record with
errors means (the engine holds it back with the message; the preview shows it).

A source field that is absent from the record (not merely ``null``) is skipped, so a
partial record never blanks fields it does not carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.context import (
    LookupKey,
    LookupRequest,
    MappingContext,
    RelatedRecordResolver,
    RelatedValueKey,
)
from crmbridge.domain.mapping.errors import FormulaError, TransformError
from crmbridge.domain.mapping.formula import Formula
from crmbridge.domain.mapping.formula.syntax import parse_formula
from crmbridge.domain.mapping.model import FieldKind, FieldMapping, ObjectMapping
from crmbridge.domain.mapping.transforms import (
    ExternalIdReference,
    Lookup,
    MissingRecordRule,
    StepContext,
    relationship_name,
)
from crmbridge.domain.mapping.values import decimal_to_json, is_blank, to_wire_value


@dataclass(frozen=True, kw_only=True)
class StepTrace:
    """One step's effect on a value."""

    #: The step's kind (``value_map``), or ``formula`` / ``default_value``.
    kind: str
    #: What the step does, in words.
    description: str
    #: The value before the step.
    input: Any
    #: The value after the step.
    output: Any
    #: Remarks, e.g. "would be created" in a preview.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FieldResult:
    """How one field mapping fared on one record."""

    #: ``first_name → FirstName``.
    label: str
    #: Fields read (platform fields outbound, Salesforce fields inbound).
    source_fields: tuple[str, ...]
    #: Fields written.
    target_fields: tuple[str, ...]
    #: The value read from the record.
    input: Any = None
    #: Each step's input and output, in the order applied.
    steps: tuple[StepTrace, ...] = ()
    #: The value written (a list for several target fields).
    output: Any = None
    #: Why the field could not be mapped, if it could not.
    error: str | None = None
    #: Why the field was left out, if it was (e.g. the record does not carry it).
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for the preview endpoint."""
        return {
            "label": self.label,
            "source_fields": list(self.source_fields),
            "target_fields": list(self.target_fields),
            "input": _jsonable(self.input),
            "steps": [
                {
                    "kind": s.kind,
                    "description": s.description,
                    "input": _jsonable(s.input),
                    "output": _jsonable(s.output),
                    "notes": list(s.notes),
                }
                for s in self.steps
            ],
            "output": _jsonable(self.output),
            "error": self.error,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, kw_only=True)
class MappedRecord:
    """A record mapped to the other side: values, per-field traces and errors."""

    #: Target field → value, for fields that mapped without error.
    values: Mapping[str, Any]
    #: One result per field mapping applied, in mapping order.
    fields: tuple[FieldResult, ...]
    #: Whether the source record fails the mapping's filter on its side.
    excluded_by_filter: bool = False

    @property
    def errors(self) -> dict[str, str]:
        """Field mapping label → error, for the fields that failed."""
        return {f.label: f.error for f in self.fields if f.error is not None}

    @property
    def ok(self) -> bool:
        """Whether every field mapped."""
        return not any(f.error for f in self.fields)

    def salesforce_body(self) -> dict[str, Any]:
        """The values as a Salesforce request body.

        A reference by external id travels under its relationship name
        (``"Account": {"Platform_Id__c": "…"}``) instead of the Id field.
        """
        body: dict[str, Any] = {}
        for name, value in self.values.items():
            if isinstance(value, ExternalIdReference):
                body[value.relationship_name] = value.to_json()
            else:
                body[name] = value
        return body

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for the preview endpoint."""
        return {
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "fields": [f.to_dict() for f in self.fields],
            "errors": self.errors,
            "excluded_by_filter": self.excluded_by_filter,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, ExternalIdReference):
        return {value.relationship_name: value.to_json()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return to_wire_value(value)


def _to_platform_value(value: Any) -> Any:
    """A value as platform records hold it: JSON scalars, ISO dates, lists."""
    if isinstance(value, Decimal):
        return decimal_to_json(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_to_platform_value(v) for v in value]
    return value


def _to_salesforce_value(value: Any) -> Any:
    if isinstance(value, ExternalIdReference):
        return value
    if isinstance(value, list | tuple):
        # Multi-select picklist values travel joined with semicolons (SOAP API
        # Developer Guide, "Field Types": multipicklist).
        return ";".join(str(to_wire_value(v)) for v in value if v is not None) or None
    return to_wire_value(value)


def _formula(field: FieldMapping) -> Formula:
    text = field.formula or ""
    return Formula(text=text, root=parse_formula(text))


def _has(record: Mapping[str, Any], name: str, *, case_sensitive: bool) -> bool:
    """Whether the record carries the field (a dotted path: its first part)."""
    head = name.split(".")[0]
    if head in record:
        return True
    return not case_sensitive and any(k.casefold() == head.casefold() for k in record)


def _read(record: Mapping[str, Any], names: tuple[str, ...], *, outbound: bool) -> Any:
    # Platform paths are exact (``sub_goals.voted``); Salesforce names ignore case.
    values = [read_path(record, name, case_sensitive=outbound) for name in names]
    return values[0] if len(values) == 1 else values


def _map_field(
    record: Mapping[str, Any],
    field: FieldMapping,
    context: MappingContext,
    *,
    outbound: bool,
    stop_before: int | None = None,
) -> FieldResult:
    sources = field.platform_fields if outbound else field.salesforce_fields
    targets = field.salesforce_fields if outbound else field.platform_fields
    traces: list[StepTrace] = []
    ctx = StepContext(
        context=context,
        record=record,
        platform_fields=field.platform_fields,
        salesforce_fields=field.salesforce_fields,
    )
    value: Any = None
    initial: Any = None
    try:
        if field.kind is FieldKind.FORMULA:
            formula = _formula(field)
            sources = tuple(
                sorted(formula.platform_fields() if outbound else formula.salesforce_fields())
            )
            value = formula.evaluate(
                platform=record if outbound else None,
                salesforce=None if outbound else record,
                today=context.today,
            )
            initial = {name: read_path(record, name, case_sensitive=outbound) for name in sources}
            traces.append(
                StepTrace(
                    kind="formula", description=field.formula or "", input=initial, output=value
                )
            )
        else:
            present = [n for n in sources if _has(record, n, case_sensitive=outbound)]
            if not present:
                return FieldResult(
                    label=field.label,
                    source_fields=sources,
                    target_fields=targets,
                    skipped="the record does not carry " + ", ".join(sources),
                )
            value = initial = _read(record, sources, outbound=outbound)
        steps = field.steps if outbound else tuple(reversed(field.steps))
        if stop_before is not None:
            steps = steps[:stop_before]
        for step in steps:
            before = value
            ctx.notes = []
            value = step.to_salesforce(value, ctx) if outbound else step.to_platform(value, ctx)
            traces.append(
                StepTrace(
                    kind=step.kind,
                    description=step.describe(),
                    input=before,
                    output=value,
                    notes=tuple(ctx.notes),
                )
            )
        if outbound and field.default_value is not None and is_blank(value):
            traces.append(
                StepTrace(
                    kind="default_value",
                    description=f"default {field.default_value!r} when empty",
                    input=value,
                    output=field.default_value,
                )
            )
            value = field.default_value
        if len(targets) > 1 and (not isinstance(value, list) or len(value) != len(targets)):
            raise TransformError(
                f"expected {len(targets)} values for {', '.join(targets)}, got {value!r}"
            )
    except (TransformError, FormulaError) as exc:
        return FieldResult(
            label=field.label,
            source_fields=sources,
            target_fields=targets,
            input=initial,
            steps=tuple(traces),
            error=exc.message,
        )
    return FieldResult(
        label=field.label,
        source_fields=sources,
        target_fields=targets,
        input=initial,
        steps=tuple(traces),
        output=value,
    )


def _put(values: dict[str, Any], name: str, value: Any) -> None:
    """Store a value; a dotted platform path (``sub_goals.voted``) fills a nested object."""
    head, _, rest = name.partition(".")
    if not rest:
        values[name] = value
        return
    nested = values.get(head)
    if not isinstance(nested, dict):
        nested = values[head] = {}
    _put(nested, rest, value)


def _collect(
    results: Sequence[FieldResult], *, outbound: bool
) -> tuple[dict[str, Any], tuple[FieldResult, ...]]:
    """The values of the results, and the results with clashes turned into errors.

    Several mappings may fill one field (Task.WhoId from a member or from a lead):
    the first non-empty value wins, and a second, different one is an error.
    """
    convert = _to_salesforce_value if outbound else _to_platform_value
    values: dict[str, Any] = {}
    written_by: dict[str, str] = {}
    checked: list[FieldResult] = []
    for result in results:
        if result.error is not None or result.skipped is not None:
            checked.append(result)
            continue
        outputs = [result.output] if len(result.target_fields) == 1 else list(result.output)
        clash = None
        pending: list[tuple[str, Any]] = []
        for name, item in zip(result.target_fields, outputs, strict=True):
            converted = convert(item)
            if name in written_by:
                previous = read_path(values, name)
                if is_blank(converted) or converted == previous:
                    continue
                if not is_blank(previous):
                    clash = f"{name} is already set by {written_by[name]} to {previous!r}"
                    break
            pending.append((name, converted))
        if clash is not None:
            checked.append(replace(result, error=clash))
            continue
        for name, converted in pending:
            _put(values, name, converted)
            written_by[name] = result.label
        checked.append(result)
    return values, tuple(checked)


def map_to_salesforce(
    record: Mapping[str, Any], mapping: ObjectMapping, *, context: MappingContext
) -> MappedRecord:
    """Map a platform record to Salesforce field values.

    Args:
        record: the platform record (field name → value).
        mapping: the object mapping; only fields flowing to Salesforce are applied.
        context: time zone, today, and the batch's resolved lookups.

    Returns:
        The Salesforce values (API names; wire formats) with per-field traces and errors.
    """
    values, results = _collect(
        [_map_field(record, field, context, outbound=True) for field in mapping.outbound_fields()],
        outbound=True,
    )
    return MappedRecord(
        values=values,
        fields=results,
        excluded_by_filter=not mapping.accepts_platform_record(record),
    )


def map_to_platform(
    sf_record: Mapping[str, Any], mapping: ObjectMapping, *, context: MappingContext
) -> MappedRecord:
    """Map a Salesforce record (as the REST API returns it) to platform field values.

    Args:
        sf_record: the Salesforce record; parent records nested (``Account: {Name}``).
        mapping: the object mapping; only fields flowing from Salesforce are applied.
        context: time zone, today, known links and the batch's resolved lookups.

    Returns:
        The platform values with per-field traces and errors.
    """
    values, results = _collect(
        [
            _map_field(sf_record, field, context, outbound=False)
            for field in mapping.inbound_fields()
        ],
        outbound=False,
    )
    return MappedRecord(
        values=values,
        fields=results,
        excluded_by_filter=not mapping.accepts_salesforce_record(sf_record),
    )


def collect_lookup_requests(
    records: Sequence[Mapping[str, Any]],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    allow_create: bool = True,
) -> tuple[LookupRequest, ...]:
    """The distinct related-record lookups a batch of platform records needs.

    Equal keys (same object, field and value ignoring case) are asked once; a key asked
    with creation by any field is asked with creation.
    """
    wanted: dict[LookupKey, bool] = {}
    for field in mapping.outbound_fields():
        for index, step in enumerate(field.steps):
            if not isinstance(step, Lookup):
                continue
            create = allow_create and step.if_missing is MissingRecordRule.CREATE
            for record in records:
                partial = _map_field(record, field, context, outbound=True, stop_before=index)
                if partial.error or partial.skipped:
                    continue
                key = step.key_for(partial.output)
                if key is not None:
                    wanted[key] = wanted.get(key, False) or create
    return tuple(LookupRequest(key=k, create_missing=c) for k, c in wanted.items())


def map_records_to_salesforce(
    records: Sequence[Mapping[str, Any]],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    resolver: RelatedRecordResolver | None = None,
    allow_create: bool = True,
) -> list[MappedRecord]:
    """Map a batch, resolving all its lookups in one resolver call first.

    Args:
        records: platform records.
        mapping: the object mapping.
        context: the run's context.
        resolver: finds (and creates) related records; without one, lookups the
            context does not already hold fail on their field.
        allow_create: ``False`` for previews: nothing is created, fields that would
            create a record say so in their trace.
    """
    requests = collect_lookup_requests(records, mapping, context=context, allow_create=allow_create)
    pending = [r for r in requests if r.key not in context.lookups]
    if pending and resolver is not None:
        resolved = resolver.resolve_related(pending)
        context = replace(context, lookups={**context.lookups, **resolved})
    if not allow_create:
        context = replace(context, preview=True)
    return [map_to_salesforce(record, mapping, context=context) for record in records]


def collect_related_value_keys(
    sf_records: Sequence[Mapping[str, Any]], mapping: ObjectMapping
) -> tuple[RelatedValueKey, ...]:
    """Related values inbound lookups need that the records do not carry nested."""
    keys: dict[RelatedValueKey, None] = {}
    for field in mapping.inbound_fields():
        if not field.salesforce_fields:
            continue
        relationship = relationship_name(field.salesforce_fields[0])
        for step in field.steps:
            if not isinstance(step, Lookup):
                continue
            for record in sf_records:
                value = read_path(record, field.salesforce_fields[0], case_sensitive=False)
                nested = read_path(record, relationship, case_sensitive=False)
                if not is_blank(value) and not isinstance(nested, Mapping):
                    key = RelatedValueKey(
                        object_name=step.object_name,
                        field_name=step.match_field,
                        record_id=str(value),
                    )
                    keys[key] = None
    return tuple(keys)


def map_records_to_platform(
    sf_records: Sequence[Mapping[str, Any]],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    resolver: RelatedRecordResolver | None = None,
) -> list[MappedRecord]:
    """Map a batch of Salesforce records, reading missing related values in one call."""
    keys = collect_related_value_keys(sf_records, mapping)
    pending = [k for k in keys if k not in context.related_values]
    if pending and resolver is not None:
        found = resolver.read_related_values(pending)
        context = replace(context, related_values={**context.related_values, **found})
    return [map_to_platform(record, mapping, context=context) for record in sf_records]
