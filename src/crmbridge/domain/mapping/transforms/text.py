"""Text steps: case, concatenation and split, and defaults for empty values."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Self

from crmbridge.domain.mapping.errors import TransformError
from crmbridge.domain.mapping.reading import DefinitionReader, is_json_scalar
from crmbridge.domain.mapping.transforms.base import StepContext, TransformStep
from crmbridge.domain.mapping.values import coerce_string, is_blank


class TextCase(enum.StrEnum):
    """Case conversions."""

    UPPER = "upper"
    LOWER = "lower"
    TITLE = "title"


@dataclass(frozen=True, kw_only=True)
class ChangeCase(TransformStep):
    """Upper-, lower- or title-case text sent to Salesforce (one-way)."""

    kind = "text_case"
    invertible = False

    #: The conversion applied on the way to Salesforce.
    case: TextCase

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        if value is None:
            return None
        text = coerce_string(value) or ""
        if self.case is TextCase.UPPER:
            return text.upper()
        if self.case is TextCase.LOWER:
            return text.lower()
        return text.title()

    def params(self) -> dict[str, Any]:
        return {"case": self.case.value}

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"case"})
        return cls(case=reader.choice("case", TextCase))

    def salesforce_value_type(self) -> str | None:
        return "text"

    def describe(self) -> str:
        return f"{self.case.value}case"


def _split_parts(text: str, separator: str, count: int, from_right: bool) -> list[str | None]:
    """``text`` cut into exactly ``count`` parts (``count`` 0: as many as there are).

    The part that takes the remainder is the last one, or the first with ``from_right``
    (so "Mary Ann Smith" splits into "Mary Ann" and "Smith"); missing parts are ``None``
    on the side away from the remainder.
    """
    if count <= 0:
        return [part for part in text.split(separator) if part != ""] or [None]
    if from_right:
        pieces = text.rsplit(separator, count - 1)
        padded: list[str | None] = [None] * (count - len(pieces))
        return padded + [p or None for p in pieces]
    pieces = text.split(separator, count - 1)
    return [p or None for p in pieces] + [None] * (count - len(pieces))


def _join(values: Any, separator: str, skip_blank: bool) -> str | None:
    items = values if isinstance(values, list | tuple) else [values]
    texts = [coerce_string(v) for v in items if not (skip_blank and is_blank(v))]
    joined = separator.join(t if t is not None else "" for t in texts)
    return joined if texts and joined != "" else None


@dataclass(frozen=True, kw_only=True)
class Concatenate(TransformStep):
    """Several platform fields (or one list field) joined into one Salesforce field.

    On the way back the text is split at the separator into the platform fields again,
    which restores the original values as long as they did not contain the separator.
    """

    kind = "concatenate"

    #: Put between the parts (e.g. " " for names, ";" for multi-select picklists).
    separator: str = " "
    #: Leave out empty parts instead of producing doubled separators.
    skip_blank: bool = True
    #: On the way back, give the remainder to the first field instead of the last.
    from_right: bool = False

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        return _join(value, self.separator, self.skip_blank)

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        count = len(ctx.platform_fields)
        if is_blank(value):
            return [None] * count if count > 1 else None
        wanted = count if count > 1 else 0  # one list field: as many parts as there are
        return _split_parts(str(value), self.separator, wanted, self.from_right)

    def params(self) -> dict[str, Any]:
        return {
            "separator": self.separator,
            "skip_blank": self.skip_blank,
            "from_right": self.from_right,
        }

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"separator", "skip_blank", "from_right"})
        separator = reader.string("separator", " ")
        if separator == "":
            reader.problem("must not be empty", "separator")
            separator = " "
        return cls(
            separator=separator,
            skip_blank=reader.boolean("skip_blank", True),
            from_right=reader.boolean("from_right", False),
        )

    def salesforce_value_type(self) -> str | None:
        return "text"

    def describe(self) -> str:
        return f"join with {self.separator!r}"


@dataclass(frozen=True, kw_only=True)
class Split(TransformStep):
    """One platform field split into several Salesforce fields (inverse: joined again)."""

    kind = "split"

    #: Where to cut the text.
    separator: str = " "
    #: Give the remainder to the first Salesforce field (e.g. "Mary Ann" | "Smith").
    from_right: bool = False

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        count = len(ctx.salesforce_fields)
        if is_blank(value):
            return [None] * count if count > 1 else None
        if not isinstance(value, str):
            raise TransformError(f"{value!r} is not text and cannot be split")
        return _split_parts(value, self.separator, count if count > 1 else 0, self.from_right)

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        return _join(value, self.separator, skip_blank=True)

    def params(self) -> dict[str, Any]:
        return {"separator": self.separator, "from_right": self.from_right}

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"separator", "from_right"})
        separator = reader.string("separator", " ")
        if separator == "":
            reader.problem("must not be empty", "separator")
            separator = " "
        return cls(separator=separator, from_right=reader.boolean("from_right", False))

    def salesforce_value_type(self) -> str | None:
        return "text"

    def describe(self) -> str:
        return f"split at {self.separator!r}"


class DefaultSide(enum.StrEnum):
    """Which way a default applies."""

    TO_SALESFORCE = "to_salesforce"
    TO_PLATFORM = "to_platform"
    BOTH = "both"


@dataclass(frozen=True, kw_only=True)
class UseDefault(TransformStep):
    """Use a fixed value when the value is empty (one-way unless ``side`` is both)."""

    kind = "default"
    invertible = False

    #: The value used instead of an empty one.
    value: str | int | float | bool
    #: Which way the default applies.
    side: DefaultSide = DefaultSide.TO_SALESFORCE

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        if self.side is not DefaultSide.TO_PLATFORM and is_blank(value):
            return self.value
        return value

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        if self.side is not DefaultSide.TO_SALESFORCE and is_blank(value):
            return self.value
        return value

    def params(self) -> dict[str, Any]:
        return {"value": self.value, "side": self.side.value}

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"value", "side"})
        value = reader.raw("value")
        if value is None or not is_json_scalar(value):
            reader.problem("must be a string, number or boolean", "value")
            value = ""
        return cls(value=value, side=reader.choice("side", DefaultSide, DefaultSide.TO_SALESFORCE))

    def describe(self) -> str:
        return f"default {self.value!r} when empty"
