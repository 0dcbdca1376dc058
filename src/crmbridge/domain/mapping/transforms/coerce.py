"""Type coercion for values whose type differs between the two sides."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Self

from crmbridge.domain.mapping.reading import DefinitionReader
from crmbridge.domain.mapping.transforms.base import StepContext, TransformStep
from crmbridge.domain.mapping.values import (
    coerce_boolean,
    coerce_integer,
    coerce_number,
    coerce_string,
    decimal_to_json,
)


class ScalarType(enum.StrEnum):
    """Target types of a coercion."""

    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"


def coerce_to(value: Any, target: ScalarType) -> Any:
    """``value`` converted to ``target``; ``None`` stays ``None``.

    Raises:
        TransformError: when the value cannot be read as the target type.
    """
    if target is ScalarType.TEXT:
        return coerce_string(value)
    if target is ScalarType.BOOLEAN:
        return coerce_boolean(value)
    if target is ScalarType.INTEGER:
        return coerce_integer(value)
    number = coerce_number(value)
    return None if number is None else decimal_to_json(number)


@dataclass(frozen=True, kw_only=True)
class Coerce(TransformStep):
    """Convert to the Salesforce field's type, and back to the platform field's type.

    ``"42"`` → ``42`` for a number field, ``"yes"`` → ``true`` for a checkbox, ``7`` →
    ``"7"`` for a text field. Without ``platform_type`` values come back as Salesforce
    sent them.
    """

    kind = "coerce"

    #: The type Salesforce expects.
    salesforce_type: ScalarType
    #: The type the platform expects on the way back (``None``: unchanged).
    platform_type: ScalarType | None = None

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        return coerce_to(value, self.salesforce_type)

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        if self.platform_type is None:
            return value
        return coerce_to(value, self.platform_type)

    def params(self) -> dict[str, Any]:
        return {
            "salesforce_type": self.salesforce_type.value,
            "platform_type": self.platform_type.value if self.platform_type else None,
        }

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"salesforce_type", "platform_type"})
        platform_type = (
            reader.choice("platform_type", ScalarType) if reader.raw("platform_type") else None
        )
        return cls(
            salesforce_type=reader.choice("salesforce_type", ScalarType),
            platform_type=platform_type,
        )

    def salesforce_value_type(self) -> str | None:
        return self.salesforce_type.value

    def describe(self) -> str:
        return f"as {self.salesforce_type.value}"
