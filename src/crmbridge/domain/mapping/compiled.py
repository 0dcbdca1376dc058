"""A mapping's inbound fields prepared once, for the sync: values and errors, no traces.

:func:`~crmbridge.domain.mapping.apply.map_to_platform` builds a result object per
field (source and target names, trace, output) so that a preview can show each step.
The sync wants only the values and the errors, for up to 2,000 records a page, and that
bookkeeping was most of its mapping time (py-spy, 10,000-contact initial sync: mapping
28% of applying a page, ``map_field`` itself the largest part). :class:`InboundMapper`
gives the same values and errors as ``map_to_platform`` (a test compares the two on
every default mapping) with each field's names, steps and reading split once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.mapping.apply import _put, _to_platform_value, map_field
from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.context import MappingContext
from crmbridge.domain.mapping.errors import FormulaError, TransformError
from crmbridge.domain.mapping.model import FieldKind, FieldMapping, ObjectMapping
from crmbridge.domain.mapping.transforms import StepContext, TransformStep
from crmbridge.domain.mapping.values import is_blank


@dataclass(frozen=True)
class _Field:
    mapping: FieldMapping
    label: str
    #: Salesforce fields read (API names) and the first part of each dotted one.
    sources: tuple[str, ...]
    heads: tuple[str, ...]
    folded_heads: tuple[str, ...]
    #: Platform fields written.
    targets: tuple[str, ...]
    #: Steps in the inbound order (the pipeline reversed).
    steps: tuple[TransformStep, ...]
    formula: bool
    #: The one platform field written, when it is a plain (not dotted) name.
    plain_target: str | None


class KeyFolder:
    """Records' keys by case-folded name (first key wins), for fields that Salesforce
    matches ignoring case. The answer for the last set of keys is kept: a page's
    records carry the same keys, so folding them is paid once a page, not per record
    and field (a lookup's relationship not read with the record scanned every key)."""

    def __init__(self) -> None:
        self._last: tuple[tuple[str, ...], dict[str, str]] = ((), {})

    def __call__(self, record: Mapping[str, Any]) -> dict[str, str]:
        keys = tuple(record)
        seen, folded = self._last
        if keys != seen:
            folded = {}
            for key in keys:
                folded.setdefault(key.casefold(), key)
            self._last = (keys, folded)
        return folded


class InboundMapper:
    """Maps Salesforce records (REST JSON) to platform values with one mapping.

    Args:
        mapping: the object mapping; its inbound fields are applied, in order.
    """

    def __init__(self, mapping: ObjectMapping) -> None:
        self.mapping = mapping
        self._fields = tuple(
            _Field(
                mapping=field,
                label=field.label,
                sources=field.salesforce_fields,
                heads=tuple(name.split(".")[0] for name in field.salesforce_fields),
                folded_heads=tuple(
                    name.split(".")[0].casefold() for name in field.salesforce_fields
                ),
                targets=field.platform_fields,
                steps=tuple(reversed(field.steps)),
                formula=field.kind is FieldKind.FORMULA,
                plain_target=(
                    field.platform_fields[0]
                    if len(field.platform_fields) == 1 and "." not in field.platform_fields[0]
                    else None
                ),
            )
            for field in mapping.inbound_fields()
        )
        self._folded_keys = KeyFolder()

    def map(
        self, record: Mapping[str, Any], context: MappingContext
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The platform values of ``record`` and the errors by field mapping label.

        The same as ``map_to_platform(record, mapping, context=context)``'s ``values``
        and ``errors``: a field the record does not carry is skipped; several fields
        filling one target keep the first non-empty value, and a second, different one
        is an error on the later field.
        """
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        written_by: dict[str, str] = {}
        folded: dict[str, str] | None = None  # folded key → first key, made when needed
        for field in self._fields:
            if field.formula:
                result = map_field(record, field.mapping, context, outbound=False, trace=False)
                if result.error is not None:
                    errors[field.label] = result.error
                    continue
                if result.skipped is not None:
                    continue
                value = result.output
            else:
                present = False
                for head, folded_head in zip(field.heads, field.folded_heads, strict=True):
                    if head in record:
                        present = True
                        break
                    if folded is None:
                        folded = self._folded_keys(record)
                    if folded_head in folded:
                        present = True
                        break
                if not present:
                    continue
                if len(field.sources) == 1:
                    value = _read_one(record, field.sources[0])
                else:
                    value = [_read_one(record, name) for name in field.sources]
                if field.steps or len(field.targets) > 1:
                    if folded is None:
                        folded = self._folded_keys(record)
                    try:
                        value = _run_steps(field, value, record, context, folded)
                    except (TransformError, FormulaError) as exc:
                        errors[field.label] = exc.message
                        continue
            clash = _store(values, written_by, field, value)
            if clash is not None:
                errors[field.label] = clash
        return values, errors


def _read_one(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    return read_path(record, name, case_sensitive=False)


def _run_steps(
    field: _Field,
    value: Any,
    record: Mapping[str, Any],
    context: MappingContext,
    folded_keys: Mapping[str, str],
) -> Any:
    ctx = StepContext(
        context=context,
        record=record,
        platform_fields=field.targets,
        salesforce_fields=field.sources,
        folded_keys=folded_keys,
    )
    for step in field.steps:
        ctx.notes = []
        value = step.to_platform(value, ctx)
    targets = field.targets
    if len(targets) > 1 and (not isinstance(value, list) or len(value) != len(targets)):
        names = ", ".join(targets)
        raise TransformError(f"expected {len(targets)} values for {names}, got {value!r}")
    return value


def _store(
    values: dict[str, Any], written_by: dict[str, str], field: _Field, output: Any
) -> str | None:
    """Put a field's output into ``values``; a clash with an earlier field is returned."""
    name = field.plain_target
    if name is not None and name not in written_by:  # most fields: one target, first writer
        values[name] = _to_platform_value(output)
        written_by[name] = field.label
        return None
    targets = field.targets
    outputs = [output] if len(targets) == 1 else list(output)
    pending: list[tuple[str, Any]] = []
    for name, item in zip(targets, outputs, strict=True):
        converted = _to_platform_value(item)
        if name in written_by:
            previous = read_path(values, name)
            if is_blank(converted) or converted == previous:
                continue
            if not is_blank(previous):
                return f"{name} is already set by {written_by[name]} to {previous!r}"
        pending.append((name, converted))
    for name, converted in pending:
        _put(values, name, converted)
        written_by[name] = field.label
    return None
