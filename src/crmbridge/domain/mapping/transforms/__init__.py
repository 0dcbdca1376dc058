"""Transform steps, composable in a field mapping's pipeline, and their registry."""

from __future__ import annotations

from crmbridge.domain.mapping.reading import DefinitionReader
from crmbridge.domain.mapping.transforms.base import StepContext, TransformStep
from crmbridge.domain.mapping.transforms.coerce import Coerce, ScalarType, coerce_to
from crmbridge.domain.mapping.transforms.dates import DateFormat, DateKind
from crmbridge.domain.mapping.transforms.related import (
    ExternalIdReference,
    Lookup,
    MissingRecordRule,
    Reference,
    relationship_name,
)
from crmbridge.domain.mapping.transforms.text import (
    ChangeCase,
    Concatenate,
    DefaultSide,
    Split,
    TextCase,
    UseDefault,
)
from crmbridge.domain.mapping.transforms.value_map import UNSET, Unset, ValueMap, value_map

#: Every step type by its stable ``kind``.
STEP_TYPES: dict[str, type[TransformStep]] = {
    step.kind: step
    for step in (
        DateFormat,
        ChangeCase,
        ValueMap,
        Concatenate,
        Split,
        Lookup,
        Reference,
        UseDefault,
        Coerce,
    )
}


def step_from_dict(reader: DefinitionReader) -> TransformStep | None:
    """Read ``{"kind": ..., "params": {...}}``; ``None`` (with a problem) when unusable."""
    reader.reject_unknown({"kind", "params"})
    kind = reader.raw("kind")
    step_type = STEP_TYPES.get(kind) if isinstance(kind, str) else None
    if step_type is None:
        reader.problem(f"must be one of {', '.join(sorted(STEP_TYPES))}", "kind")
        return None
    return step_type.from_params(reader.child("params") if reader.has("params") else _empty(reader))


def _empty(reader: DefinitionReader) -> DefinitionReader:
    return DefinitionReader({}, path=f"{reader.path}.params", problems=reader.problems)


__all__ = [
    "STEP_TYPES",
    "UNSET",
    "ChangeCase",
    "Coerce",
    "Concatenate",
    "DateFormat",
    "DateKind",
    "DefaultSide",
    "ExternalIdReference",
    "Lookup",
    "MissingRecordRule",
    "Reference",
    "ScalarType",
    "Split",
    "StepContext",
    "TextCase",
    "TransformStep",
    "Unset",
    "UseDefault",
    "ValueMap",
    "coerce_to",
    "relationship_name",
    "step_from_dict",
    "value_map",
]
