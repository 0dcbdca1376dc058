"""What applying a mapping produces: values, per-field traces and errors.

The preview endpoint returns these as JSON (``to_dict``); the sync engine reads
``values`` (or ``salesforce_body()``) and ``errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.mapping.transforms import ExternalIdReference
from crmbridge.domain.mapping.values import to_wire_value


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


def jsonable(value: Any) -> Any:
    """A mapped value as JSON: wire formats for dates and decimals, references nested."""
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, ExternalIdReference):
        return {value.relationship_name: value.to_json()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return to_wire_value(value)
