"""The formula language's functions: names, argument counts and implementations.

Names and behaviour follow Salesforce's formula functions where they share a name
(Salesforce Help, "Formula Operators and Functions"), so admins can reuse what they
know. ``IF``, ``CASE``, ``AND``, ``OR``, ``BLANKVALUE``, ``NULLVALUE`` and ``COALESCE``
evaluate their arguments lazily and live in the evaluator; the rest are here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from crmbridge.domain.mapping.errors import FormulaEvaluationError
from crmbridge.domain.mapping.values import coerce_string, is_blank


@dataclass(frozen=True)
class FunctionSpec:
    """A function's arity and, unless the evaluator handles it, its implementation."""

    #: Fewest arguments.
    min_args: int
    #: Most arguments (``None``: no limit).
    max_args: int | None
    #: One-line usage shown in errors.
    usage: str
    #: The implementation over evaluated arguments (``None``: special in the evaluator).
    impl: Callable[[Sequence[Any], date | None], Any] | None = None


def text_of(value: Any) -> str:
    """A value as text the way ``TEXT()`` and ``&`` show it (``null`` is empty)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        normalized = value.normalize()
        # normalize() turns 100 into 1E+2; fixed-point keeps it readable.
        return format(normalized, "f")
    return coerce_string(value) or ""


def number_of(value: Any, function: str) -> Decimal | None:
    """A numeric argument, ``None`` for ``null``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    raise FormulaEvaluationError(f"{function} needs a number, got {_kind(value)} {value!r}")


def date_of(value: Any, function: str) -> date | None:
    """A date argument (datetimes give their date), ``None`` for ``null``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise FormulaEvaluationError(f"{function} needs a date, got {_kind(value)} {value!r}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, date):
        return "date"
    return type(value).__name__


def _text_fn(transform: Callable[[str], Any]) -> Callable[[Sequence[Any], date | None], Any]:
    def run(args: Sequence[Any], today: date | None) -> Any:
        return None if args[0] is None else transform(text_of(args[0]))

    return run


def _count(value: Any, function: str) -> int:
    number = number_of(value, function)
    return 0 if number is None else max(int(number), 0)


def _left(args: Sequence[Any], today: date | None) -> Any:
    return None if args[0] is None else text_of(args[0])[: _count(args[1], "LEFT")]


def _right(args: Sequence[Any], today: date | None) -> Any:
    if args[0] is None:
        return None
    count = _count(args[1], "RIGHT")
    return text_of(args[0])[-count:] if count else ""


def _mid(args: Sequence[Any], today: date | None) -> Any:
    if args[0] is None:
        return None
    start = max(_count(args[1], "MID"), 1) - 1
    return text_of(args[0])[start : start + _count(args[2], "MID")]


def _value(args: Sequence[Any], today: date | None) -> Any:
    if is_blank(args[0]):
        return None
    if isinstance(args[0], Decimal):
        return args[0]
    text = text_of(args[0]).strip()
    try:
        number = Decimal(text)
    except ArithmeticError:
        number = None
    if number is None or not number.is_finite():
        raise FormulaEvaluationError(f"VALUE cannot read {text!r} as a number")
    return number


def _round(args: Sequence[Any], today: date | None) -> Any:
    number = number_of(args[0], "ROUND")
    if number is None:
        return None
    digits = int(number_of(args[1], "ROUND") or 0) if len(args) > 1 else 0
    # Salesforce's ROUND rounds half away from zero, not to even.
    return number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _rounding(mode: str, name: str) -> Callable[[Sequence[Any], date | None], Any]:
    def run(args: Sequence[Any], today: date | None) -> Any:
        number = number_of(args[0], name)
        return None if number is None else number.to_integral_value(rounding=mode)

    return run


def _abs(args: Sequence[Any], today: date | None) -> Any:
    number = number_of(args[0], "ABS")
    return None if number is None else abs(number)


def _extreme(pick: Callable[[list[Decimal]], Decimal], name: str) -> Callable[..., Any]:
    def run(args: Sequence[Any], today: date | None) -> Any:
        numbers = [n for n in (number_of(a, name) for a in args) if n is not None]
        return pick(numbers) if numbers else None

    return run


def _today(args: Sequence[Any], today: date | None) -> Any:
    if today is None:
        raise FormulaEvaluationError("TODAY() needs today's date, which this run did not provide")
    return today


def _datevalue(args: Sequence[Any], today: date | None) -> Any:
    return date_of(args[0], "DATEVALUE")


def _date(args: Sequence[Any], today: date | None) -> Any:
    parts = [number_of(a, "DATE") for a in args]
    if any(p is None for p in parts):
        return None
    try:
        return date(*(int(p) for p in parts if p is not None))
    except ValueError as exc:
        raise FormulaEvaluationError(f"DATE: {exc}") from None


def _date_part(part: str) -> Callable[[Sequence[Any], date | None], Any]:
    def run(args: Sequence[Any], today: date | None) -> Any:
        day = date_of(args[0], part)
        return None if day is None else Decimal(getattr(day, part.lower()))

    return run


def _concat(args: Sequence[Any], today: date | None) -> Any:
    return "".join(text_of(a) for a in args)


def _contains(args: Sequence[Any], today: date | None) -> Any:
    return text_of(args[1]) in text_of(args[0])


def _begins(args: Sequence[Any], today: date | None) -> Any:
    return text_of(args[0]).startswith(text_of(args[1]))


def _substitute(args: Sequence[Any], today: date | None) -> Any:
    if args[0] is None:
        return None
    old = text_of(args[1])
    return text_of(args[0]).replace(old, text_of(args[2])) if old else text_of(args[0])


def _isblank(args: Sequence[Any], today: date | None) -> Any:
    return is_blank(args[0])


def _text(args: Sequence[Any], today: date | None) -> Any:
    return text_of(args[0])


def _len(args: Sequence[Any], today: date | None) -> Any:
    return Decimal(len(text_of(args[0])))


#: Every function the language knows, by upper-case name.
FUNCTIONS: dict[str, FunctionSpec] = {
    "IF": FunctionSpec(2, 3, "IF(condition, value_if_true, value_if_false)"),
    "CASE": FunctionSpec(4, None, "CASE(expression, value1, result1, ..., else_result)"),
    "AND": FunctionSpec(1, None, "AND(condition1, condition2, ...)"),
    "OR": FunctionSpec(1, None, "OR(condition1, condition2, ...)"),
    "BLANKVALUE": FunctionSpec(2, 2, "BLANKVALUE(value, substitute_if_blank)"),
    "NULLVALUE": FunctionSpec(2, 2, "NULLVALUE(value, substitute_if_null)"),
    "COALESCE": FunctionSpec(1, None, "COALESCE(value1, value2, ...)"),
    "UPPER": FunctionSpec(1, 1, "UPPER(text)", _text_fn(str.upper)),
    "LOWER": FunctionSpec(1, 1, "LOWER(text)", _text_fn(str.lower)),
    "TRIM": FunctionSpec(1, 1, "TRIM(text)", _text_fn(str.strip)),
    "LEN": FunctionSpec(1, 1, "LEN(text)", _len),
    "LEFT": FunctionSpec(2, 2, "LEFT(text, count)", _left),
    "RIGHT": FunctionSpec(2, 2, "RIGHT(text, count)", _right),
    "MID": FunctionSpec(3, 3, "MID(text, start, count)", _mid),
    "CONCAT": FunctionSpec(1, None, "CONCAT(text1, text2, ...)", _concat),
    "CONTAINS": FunctionSpec(2, 2, "CONTAINS(text, fragment)", _contains),
    "BEGINS": FunctionSpec(2, 2, "BEGINS(text, prefix)", _begins),
    "SUBSTITUTE": FunctionSpec(3, 3, "SUBSTITUTE(text, old, new)", _substitute),
    "ISBLANK": FunctionSpec(1, 1, "ISBLANK(value)", _isblank),
    "ISNULL": FunctionSpec(1, 1, "ISNULL(value)", _isblank),
    "TEXT": FunctionSpec(1, 1, "TEXT(value)", _text),
    "VALUE": FunctionSpec(1, 1, "VALUE(text)", _value),
    "ROUND": FunctionSpec(1, 2, "ROUND(number, digits)", _round),
    "FLOOR": FunctionSpec(1, 1, "FLOOR(number)", _rounding(ROUND_FLOOR, "FLOOR")),
    "CEILING": FunctionSpec(1, 1, "CEILING(number)", _rounding(ROUND_CEILING, "CEILING")),
    "ABS": FunctionSpec(1, 1, "ABS(number)", _abs),
    "MIN": FunctionSpec(1, None, "MIN(number1, number2, ...)", _extreme(min, "MIN")),
    "MAX": FunctionSpec(1, None, "MAX(number1, number2, ...)", _extreme(max, "MAX")),
    "TODAY": FunctionSpec(0, 0, "TODAY()", _today),
    "DATEVALUE": FunctionSpec(1, 1, "DATEVALUE(text_or_datetime)", _datevalue),
    "DATE": FunctionSpec(3, 3, "DATE(year, month, day)", _date),
    "YEAR": FunctionSpec(1, 1, "YEAR(date)", _date_part("YEAR")),
    "MONTH": FunctionSpec(1, 1, "MONTH(date)", _date_part("MONTH")),
    "DAY": FunctionSpec(1, 1, "DAY(date)", _date_part("DAY")),
}
