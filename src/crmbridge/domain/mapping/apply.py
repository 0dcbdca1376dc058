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
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.context import MappingContext
from crmbridge.domain.mapping.errors import FormulaError, TransformError
from crmbridge.domain.mapping.formula import parse_cached
from crmbridge.domain.mapping.model import FieldKind, FieldMapping, ObjectMapping
from crmbridge.domain.mapping.results import FieldResult, MappedRecord, StepTrace
from crmbridge.domain.mapping.transforms import ExternalIdReference, StepContext
from crmbridge.domain.mapping.values import decimal_to_json, is_blank, to_wire_value

#: Exact types platform records hold as they are (subclasses take the long way).
_JSON_SCALARS = frozenset({str, int, float, bool})


def _to_platform_value(value: Any) -> Any:
    """A value as platform records hold it: JSON scalars, ISO dates, lists."""
    if value is None or type(value) in _JSON_SCALARS:
        return value
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


def map_field(
    record: Mapping[str, Any],
    field: FieldMapping,
    context: MappingContext,
    *,
    outbound: bool,
    stop_before: int | None = None,
    trace: bool = True,
) -> FieldResult:
    """Apply one field mapping to one record, tracing every step.

    Args:
        record: the source record (platform outbound, Salesforce inbound).
        field: the field mapping.
        context: the run's context.
        outbound: ``True`` towards Salesforce, ``False`` towards the platform.
        stop_before: run only the steps before this index (used to find the value a
            lookup step will see, so a batch's lookups can be resolved first).
        trace: record each step's input and output (previews); the sync, which only
            wants the value, passes ``False``.

    Returns:
        The field's result; failures are in ``error``, never raised.
    """
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
            formula = parse_cached(field.formula or "")
            sources = tuple(
                sorted(formula.platform_fields() if outbound else formula.salesforce_fields())
            )
            value = formula.evaluate(
                platform=record if outbound else None,
                salesforce=None if outbound else record,
                today=context.today,
            )
            initial = {name: read_path(record, name, case_sensitive=outbound) for name in sources}
            if trace:
                traces.append(
                    StepTrace(
                        kind="formula",
                        description=field.formula or "",
                        input=initial,
                        output=value,
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
            if trace:
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
            if trace:
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


#: :func:`field_value`'s answer for a field the record does not carry.
SKIPPED: Any = object()


def field_value(
    record: Mapping[str, Any],
    field: FieldMapping,
    context: MappingContext,
    *,
    outbound: bool,
    stop_before: int | None = None,
) -> tuple[Any, str | None]:
    """:func:`map_field` without its result object: ``(output, error)``.

    The output is :data:`SKIPPED` when the record does not carry the field's sources.
    Gives what ``map_field(..., trace=False)`` gives (a test compares the two on every
    default mapping); the sync calls it for every field of every record.
    """
    if field.kind is FieldKind.FORMULA:
        result = map_field(
            record, field, context, outbound=outbound, stop_before=stop_before, trace=False
        )
        if result.skipped is not None:
            return SKIPPED, None
        return result.output, result.error
    sources = field.platform_fields if outbound else field.salesforce_fields
    if not any(_has(record, name, case_sensitive=outbound) for name in sources):
        return SKIPPED, None
    value = _read(record, sources, outbound=outbound)
    steps = field.steps if outbound else tuple(reversed(field.steps))
    if stop_before is not None:
        steps = steps[:stop_before]
    targets = field.salesforce_fields if outbound else field.platform_fields
    try:
        if steps:
            ctx = StepContext(
                context=context,
                record=record,
                platform_fields=field.platform_fields,
                salesforce_fields=field.salesforce_fields,
            )
            for step in steps:
                ctx.notes = []
                value = step.to_salesforce(value, ctx) if outbound else step.to_platform(value, ctx)
        if outbound and field.default_value is not None and is_blank(value):
            value = field.default_value
        if len(targets) > 1 and (not isinstance(value, list) or len(value) != len(targets)):
            raise TransformError(
                f"expected {len(targets)} values for {', '.join(targets)}, got {value!r}"
            )
    except (TransformError, FormulaError) as exc:
        return None, exc.message
    return value, None


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
        [map_field(record, field, context, outbound=True) for field in mapping.outbound_fields()],
        outbound=True,
    )
    return MappedRecord(
        values=values,
        fields=results,
        excluded_by_filter=not mapping.accepts_platform_record(record),
    )


def map_to_platform(
    sf_record: Mapping[str, Any],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    trace: bool = True,
) -> MappedRecord:
    """Map a Salesforce record (as the REST API returns it) to platform field values.

    Args:
        sf_record: the Salesforce record; parent records nested (``Account: {Name}``).
        mapping: the object mapping; only fields flowing from Salesforce are applied.
        context: time zone, today, known links and the batch's resolved lookups.
        trace: keep each step's input and output (see :func:`map_field`).

    Returns:
        The platform values with per-field traces (when asked) and errors.
    """
    values, results = _collect(
        [
            map_field(sf_record, field, context, outbound=False, trace=trace)
            for field in mapping.inbound_fields()
        ],
        outbound=False,
    )
    return MappedRecord(
        values=values,
        fields=results,
        excluded_by_filter=not mapping.accepts_salesforce_record(sf_record),
    )
