"""The contract every transform step follows.

A step converts one value on the way to Salesforce (:meth:`TransformStep.to_salesforce`)
and, where that can be undone, on the way back (:meth:`TransformStep.to_platform`).
Steps that cannot be undone (text case, defaults) pass values through unchanged on
the way back. Each step has a stable ``kind`` and JSON-able ``params`` so the admin UI
and the API can build pipelines; :func:`step_from_dict` reads one back.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.context import MappingContext
from crmbridge.domain.mapping.reading import DefinitionReader


@dataclass(kw_only=True)
class StepContext:
    """What a step may read besides its input value (mutable only for notes)."""

    #: The run's context (time zone, today, resolved lookups).
    context: MappingContext
    #: The whole source record (platform record outbound, Salesforce record inbound).
    record: Mapping[str, Any]
    #: The field mapping's platform fields (several for a concatenation).
    platform_fields: tuple[str, ...]
    #: The field mapping's Salesforce fields (several for a split).
    salesforce_fields: tuple[str, ...]
    #: Remarks a step adds for the preview trace (e.g. "would create Account 'Acme'").
    notes: list[str] = field(default_factory=list)
    #: The record's keys by case-folded name (first key wins), when the caller has them.
    folded_keys: Mapping[str, str] | None = None

    def record_value(self, name: str) -> Any:
        """The source record's value of the top-level field ``name``, matched ignoring
        case as Salesforce names are; ``None`` when the record does not carry it."""
        record = self.record
        if name in record:
            return record[name]
        if self.folded_keys is not None:
            key = self.folded_keys.get(name.casefold())
            return record[key] if key is not None else None
        return read_path(record, name, case_sensitive=False)


class TransformStep(abc.ABC):
    """One step of a field mapping's pipeline."""

    #: Stable name used in stored definitions and the API.
    kind: ClassVar[str]
    #: Whether :meth:`to_platform` undoes :meth:`to_salesforce`.
    invertible: ClassVar[bool] = True

    @abc.abstractmethod
    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        """Convert a value travelling from the platform to Salesforce.

        Raises:
            TransformError: when this record's value cannot be converted.
        """

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        """Convert a value travelling from Salesforce to the platform (default: as is).

        Raises:
            TransformError: when this record's value cannot be converted.
        """
        del ctx
        return value

    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """The step's parameters as a JSON-able dict."""

    @classmethod
    @abc.abstractmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        """Read the parameters written by :meth:`params`, recording problems on reader."""

    def salesforce_value_type(self) -> str | None:
        """The kind of value this step hands towards Salesforce, when it fixes one.

        One of ``text``, ``number``, ``integer``, ``boolean``, ``date``, ``datetime``,
        ``reference``, ``list``; ``None`` when it depends on the input.
        """
        return None

    def describe(self) -> str:
        """A one-line human description for previews and the admin UI."""
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., "params": {...}}``."""
        return {"kind": self.kind, "params": self.params()}
