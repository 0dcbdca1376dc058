"""Errors of platform-record validation, carrying one message per offending field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class FieldError:
    """One problem with one input field."""

    #: The field's name as the caller sent it (dotted for nested values).
    field: str
    #: What is wrong, in words the caller can act on.
    message: str


class RecordValidationError(ValueError):
    """The input does not fit the entity type; nothing was written."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        summary = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(summary or "invalid input")
