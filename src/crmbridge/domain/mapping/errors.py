"""Errors of the mapping domain, named by who has to act on them.

A :class:`MappingDefinitionError` means a stored or submitted mapping is malformed (the
admin or API client fixes the definition); a :class:`FormulaSyntaxError` or
:class:`FormulaValidationError` means a formula cannot be accepted; a
:class:`TransformError` or :class:`FormulaEvaluationError` is about one record's value
and is reported on that field of that record only.
"""

from __future__ import annotations

from collections.abc import Sequence


class MappingError(Exception):
    """A mapping could not be used."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        super().__init__(self.message)


class MappingDefinitionError(MappingError):
    """The mapping definition is invalid."""

    def __init__(self, problems: Sequence[str]) -> None:
        #: Every problem found, each prefixed with the path of the offending value.
        self.problems = tuple(problems)
        listed = "; ".join(self.problems)
        super().__init__(f"The mapping definition is invalid: {listed}")


class TransformError(MappingError):
    """A value could not be transformed (this record's field only)."""


class FormulaError(MappingError):
    """A formula could not be accepted."""


class FormulaSyntaxError(FormulaError):
    """The formula does not follow the grammar."""

    def __init__(self, message: str, *, line: int, column: int, token: str | None = None) -> None:
        #: 1-based line of the offending character or token.
        self.line = line
        #: 1-based column of the offending character or token.
        self.column = column
        #: The offending token's text, or ``None`` at the end of the formula.
        self.token = token
        super().__init__(f"{message} (line {line}, column {column})")


class FormulaValidationError(FormulaError):
    """The formula parses but refers to unknown names or calls functions wrongly."""

    def __init__(self, problems: Sequence[str]) -> None:
        #: Every problem found, in the order they appear in the formula.
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class FormulaEvaluationError(TransformError):
    """The formula failed on this record (e.g. a division by zero)."""
