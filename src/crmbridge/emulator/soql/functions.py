"""SOQL functions usable outside aggregates: date functions and pass-through wrappers.

Date functions (SOQL and SOSL Reference, "Date Functions") work on the store's text
dates and UTC datetimes; the fiscal year is the calendar year and users are in UTC, so
``FISCAL_*`` equal ``CALENDAR_*`` and ``convertTimezone()`` changes nothing.
``toLabel()``, ``convertCurrency()`` and ``FORMAT()`` return the value itself: picklist
labels equal their values and the org has a single currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmbridge.emulator.soql import ast
from crmbridge.emulator.soql.errors import malformed
from crmbridge.emulator.soql.resolve import Address, Column, Scope

_INT = "CAST(strftime('{fmt}', {x}) AS INTEGER)"

#: Date function → (SQL template over ``{x}``, result type, needs a dateTime argument).
_DATE_FUNCTIONS: dict[str, tuple[str, str, bool]] = {
    "CALENDAR_YEAR": (_INT.replace("{fmt}", "%Y"), "int", False),
    "CALENDAR_MONTH": (_INT.replace("{fmt}", "%m"), "int", False),
    "CALENDAR_QUARTER": ("((" + _INT.replace("{fmt}", "%m") + " + 2) / 3)", "int", False),
    "FISCAL_YEAR": (_INT.replace("{fmt}", "%Y"), "int", False),
    "FISCAL_MONTH": (_INT.replace("{fmt}", "%m"), "int", False),
    "FISCAL_QUARTER": ("((" + _INT.replace("{fmt}", "%m") + " + 2) / 3)", "int", False),
    "DAY_IN_MONTH": (_INT.replace("{fmt}", "%d"), "int", False),
    "DAY_IN_WEEK": ("(" + _INT.replace("{fmt}", "%w") + " + 1)", "int", False),
    "DAY_IN_YEAR": (_INT.replace("{fmt}", "%j"), "int", False),
    "WEEK_IN_MONTH": ("((" + _INT.replace("{fmt}", "%d") + " - 1) / 7 + 1)", "int", False),
    "WEEK_IN_YEAR": ("((" + _INT.replace("{fmt}", "%j") + " - 1) / 7 + 1)", "int", False),
    "HOUR_IN_DAY": (_INT.replace("{fmt}", "%H"), "int", True),
    "DAY_ONLY": ("substr({x}, 1, 10)", "date", True),
}
_PASS_THROUGH = frozenset({"TOLABEL", "CONVERTCURRENCY", "FORMAT", "CONVERTTIMEZONE"})
AGGREGATE_FUNCTIONS = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})


@dataclass(frozen=True, slots=True)
class FunctionColumn:
    """The value of a function call, usable like a :class:`Column`."""

    sql: str
    type: str
    #: The name errors and aggregate results use (the argument's field name).
    name: str
    #: The column the function reads, when there is one.
    source: Column | None = None
    text: bool = False
    field: None = None


def compile_function(scope: Scope, call: ast.FunctionCall) -> FunctionColumn:
    """The SQL value of a non-aggregate function call, checked against its argument."""
    name = call.upper_name
    if name in AGGREGATE_FUNCTIONS:
        raise malformed(scope.soql, call.pos, f"Invalid aggregate function usage: {call.name}")
    if name not in _DATE_FUNCTIONS and name not in _PASS_THROUGH:
        raise malformed(scope.soql, call.pos, f"unexpected token: '{call.name}'")
    arg = call.arg
    if arg is None:
        raise malformed(scope.soql, call.pos, f"unexpected token: '{call.name}'")
    inner: Column | FunctionColumn
    if isinstance(arg, ast.FunctionCall):
        inner = compile_function(scope, arg)
    else:
        resolved = scope.resolve(arg)
        if isinstance(resolved, Address):
            raise malformed(scope.soql, arg.pos, f"Invalid field for {call.name}: {arg.text}")
        inner = resolved
    if name in _PASS_THROUGH:
        source = inner if isinstance(inner, Column) else inner.source
        return FunctionColumn(inner.sql, inner.type, inner.name, source, inner.text)
    template, result_type, needs_datetime = _DATE_FUNCTIONS[name]
    allowed = ("datetime",) if needs_datetime else ("date", "datetime")
    if inner.type not in allowed:
        raise malformed(
            scope.soql,
            call.pos,
            f"{call.name} only works on {' or '.join(allowed)} fields: {inner.name}",
        )
    source = inner if isinstance(inner, Column) else inner.source
    return FunctionColumn(template.replace("{x}", inner.sql), result_type, inner.name, source)
