"""WHERE (and HAVING) conditions → SQL with bound parameters.

SOQL logic is two-valued: ``Name != 'x'`` and ``NOT IN`` also return rows whose field
is null, and ``boolean = null`` means ``= false`` (SOQL and SOSL Reference, "Use null
in WHERE"). NOT is pushed down to the comparisons (De Morgan) so every comparison
decides its own null handling and plain comparisons keep using the store's indexes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

from crmbridge.emulator.ids import normalize_id
from crmbridge.emulator.soql import ast
from crmbridge.emulator.soql.dates import date_literal_range
from crmbridge.emulator.soql.errors import SoqlError, invalid_field, malformed
from crmbridge.emulator.soql.functions import AGGREGATE_FUNCTIONS, FunctionColumn, compile_function
from crmbridge.emulator.soql.resolve import Column, Scope
from crmbridge.emulator.values import format_datetime

SQL = tuple[str, list[Any]]

_ID_TYPES = frozenset({"id", "reference"})
_NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
_STRING_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox",
     "encryptedstring", "time"}
)  # fmt: skip
_INVERSE = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}

#: SemiJoinCompiler(semi_join, scope) -> SQL of ``SELECT field FROM ... WHERE ...``.
SemiJoinCompiler = Callable[[ast.SemiJoin, Scope], SQL]


def register_functions(conn: sqlite3.Connection) -> None:
    """Add the SQL functions compiled conditions call to ``conn`` (cheap; done per use)."""
    conn.create_function("soql_mps_includes", 2, _mps_includes, deterministic=True)
    conn.create_function("soql_mps_equals", 2, _mps_equals, deterministic=True)


def _mps_set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(";") if part.strip()}


def _mps_includes(value: str | None, required: str | None) -> int:
    # INCLUDES ('AAA;BBB'): every value of the ;-joined set must be selected.
    wanted = _mps_set(required)
    return int(bool(wanted) and wanted <= _mps_set(value))


def _mps_equals(value: str | None, other: str | None) -> int:
    return int(_mps_set(value) == _mps_set(other))


class ConditionCompiler:
    """Compiles the conditions of one statement against its :class:`Scope`."""

    def __init__(
        self,
        scope: Scope,
        *,
        today: dt.date,
        semi_join: SemiJoinCompiler | None = None,
        aggregate: Callable[[ast.FunctionCall], FunctionColumn] | None = None,
    ) -> None:
        self.scope = scope
        self.soql = scope.soql
        self.today = today
        self._semi_join = semi_join
        self._aggregate = aggregate

    # --- operands -----------------------------------------------------------------
    def operand(self, expr: ast.Operand) -> Column | FunctionColumn:
        """The column a WHERE operand names, checked to be filterable."""
        if isinstance(expr, ast.FunctionCall):
            if self._aggregate is not None and expr.upper_name in AGGREGATE_FUNCTIONS:
                return self._aggregate(expr)
            return compile_function(self.scope, expr)
        column = self.scope.resolve_scalar(expr, purpose="filtered in a query call")
        if column.field is not None and not column.field.filterable:
            raise invalid_field(
                self.soql, expr.pos, f"field '{column.name}' can not be filtered in a query call"
            )
        return column

    # --- conditions -----------------------------------------------------------------
    def compile(self, cond: ast.Condition, negate: bool = False) -> SQL:
        """SQL for ``cond`` (or for its negation), never evaluating to NULL for a row."""
        if isinstance(cond, ast.Not):
            return self.compile(cond.item, not negate)
        if isinstance(cond, ast.And | ast.Or):
            parts = [self.compile(item, negate) for item in cond.items]
            joiner = " AND " if isinstance(cond, ast.And) != negate else " OR "
            return "(" + joiner.join(p[0] for p in parts) + ")", [v for p in parts for v in p[1]]
        if isinstance(cond, ast.Comparison):
            return self._comparison(cond, negate)
        if isinstance(cond, ast.Like):
            return self._like(cond, negate)
        if isinstance(cond, ast.InList):
            return self._in_list(cond, negate != cond.negated)
        if isinstance(cond, ast.InSemiJoin):
            return self._in_semi_join(cond, negate != cond.negated)
        return self._includes(cond, negate != cond.excludes)

    def _comparison(self, cond: ast.Comparison, negate: bool) -> SQL:
        column = self.operand(cond.left)
        op = _INVERSE[cond.op] if negate else cond.op
        value = cond.value
        if isinstance(value, ast.NullValue):
            if column.type == "boolean":  # null matches false on checkboxes
                return f"{column.sql} = ?", [0 if op == "=" else 1]
            if op not in ("=", "!="):
                raise malformed(self.soql, value.pos, "invalid operator on null value")
            return f"{column.sql} IS {'NOT ' if op == '!=' else ''}NULL", []
        if isinstance(value, ast.DateLiteral):
            self._check_date_type(column, value)
            return self._date_range(column, op, value)
        param = self.parameter(column, value)
        if column.type == "multipicklist" and op in ("=", "!="):
            sql = f"soql_mps_equals({column.sql}, ?)"
            if op == "=":
                return f"{sql} = 1", [param]
            return f"({column.sql} IS NULL OR {sql} = 0)", [param]
        return self._plain(column, op, param)

    def _plain(self, column: Column | FunctionColumn, op: str, param: Any) -> SQL:
        collate = " COLLATE NOCASE" if column.text else ""
        sql = f"{column.sql}{collate} {op} ?"
        if op == "!=":  # SOQL's != also matches rows where the field is null
            return f"({column.sql} IS NULL OR {sql})", [param]
        return sql, [param]

    def _like(self, cond: ast.Like, negate: bool) -> SQL:
        column = self.operand(cond.left)
        if column.type not in _STRING_TYPES:
            raise invalid_field(
                self.soql,
                cond.pos,
                f"invalid operator on field '{column.name}': LIKE is only valid on text fields",
            )
        sql = f"{column.sql} LIKE ? ESCAPE '\\'"
        if negate:
            return f"({column.sql} IS NULL OR NOT ({sql}))", [cond.pattern.sql_pattern]
        return sql, [cond.pattern.sql_pattern]

    def _in_list(self, cond: ast.InList, negate: bool) -> SQL:
        column = self.operand(cond.left)
        params: list[Any] = []
        ranges: list[SQL] = []
        has_null = False
        for value in cond.values:
            if isinstance(value, ast.NullValue):
                has_null = True
            elif isinstance(value, ast.DateLiteral):
                self._check_date_type(column, value)
                ranges.append(self._date_range(column, "=", value))
            else:
                params.append(self.parameter(column, value))
        collate = " COLLATE NOCASE" if column.text else ""
        parts: list[SQL] = []
        if params:
            marks = ", ".join("?" for _ in params)
            parts.append((f"{column.sql}{collate} IN ({marks})", params))
        parts.extend(ranges)
        if has_null:
            parts.append((f"{column.sql} IS NULL", []))
        if not parts:
            parts.append(("0", []))
        positive = "(" + " OR ".join(p[0] for p in parts) + ")"
        values = [v for p in parts for v in p[1]]
        if not negate:
            return positive, values
        null_ok = "" if has_null else f"{column.sql} IS NULL OR "
        return f"({null_ok}NOT {positive})", values

    def _in_semi_join(self, cond: ast.InSemiJoin, negate: bool) -> SQL:
        column = self.operand(cond.left)
        if column.type not in _ID_TYPES or not isinstance(cond.left, ast.FieldPath):
            raise malformed(
                self.soql,
                cond.pos,
                "The left operand of a semi join must be an ID or a reference field",
            )
        if len(cond.left.parts) > 1 and self.scope.strip_prefix(cond.left.parts) != (column.name,):
            raise malformed(
                self.soql, cond.pos, "The left operand of a semi join can't use relationships"
            )
        if self._semi_join is None:
            raise malformed(self.soql, cond.pos, "Semi join sub-selects are not allowed here")
        sub_sql, params = self._semi_join(cond.query, self.scope)
        if negate:
            return f"({column.sql} IS NULL OR {column.sql} NOT IN ({sub_sql}))", params
        return f"{column.sql} IN ({sub_sql})", params

    def _includes(self, cond: ast.Includes, negate: bool) -> SQL:
        column = self.operand(cond.left)
        if column.type != "multipicklist":
            raise malformed(
                self.soql,
                cond.pos,
                "includes or excludes operator only valid on multipicklist field",
            )
        params = [self.parameter(column, value) for value in cond.values]
        positive = " OR ".join(f"soql_mps_includes({column.sql}, ?) = 1" for _ in params)
        if negate:
            return f"NOT ({positive})", params
        return f"({positive})", params

    # --- values ---------------------------------------------------------------------
    def parameter(self, column: Column | FunctionColumn, value: ast.Value) -> Any:
        """The bound parameter for ``value`` compared with ``column``, type-checked."""
        kind = column.type
        if kind in _ID_TYPES:
            if not isinstance(value, ast.StringValue):
                raise self._wrong_type(column, value, "id")
            normalized = normalize_id(value.value)
            if normalized is None:
                # Summer '24 (API 61.0) reports bad ids as MALFORMED_QUERY.
                raise malformed(self.soql, value.pos, f"invalid ID field: {value.value}")
            return normalized
        if kind in _STRING_TYPES:
            if not isinstance(value, ast.StringValue):
                raise self._wrong_type(column, value, "string")
            return value.value
        if kind == "boolean":
            if not isinstance(value, ast.BooleanValue):
                raise self._wrong_type(column, value, "boolean")
            return int(value.value)
        if kind in _NUMBER_TYPES:
            if not isinstance(value, ast.NumberValue):
                raise self._wrong_type(column, value, "int" if kind == "int" else "double")
            return value.value
        if kind == "date":
            if not isinstance(value, ast.DateValue):
                raise self._wrong_type(column, value, "date")
            return value.value.isoformat()
        if kind == "datetime":
            if not isinstance(value, ast.DateTimeValue):
                raise self._wrong_type(column, value, "dateTime")
            return format_datetime(value.value)
        raise invalid_field(
            self.soql, value.pos, f"field '{column.name}' can not be filtered in a query call"
        )

    def _wrong_type(
        self, column: Column | FunctionColumn, value: ast.Value, kind: str
    ) -> SoqlError:
        quotes = "should be enclosed" if kind in ("string", "id") else "should not be enclosed"
        return invalid_field(
            self.soql,
            value.pos,
            f"value of filter criterion for field '{column.name}' must be of type {kind} "
            f"and {quotes} in quotes",
        )

    def _check_date_type(self, column: Column | FunctionColumn, value: ast.DateLiteral) -> None:
        if column.type not in ("date", "datetime"):
            kind = "string" if column.type in _STRING_TYPES else column.type
            raise self._wrong_type(column, value, kind)

    def _date_range(self, column: Column | FunctionColumn, op: str, value: ast.DateLiteral) -> SQL:
        # A date literal is a range of days; on dateTime fields the days are UTC days.
        start, end = date_literal_range(value.name, value.n, today=self.today)
        low, high = _bound(column.type, start), _bound(column.type, end)
        sql = column.sql
        if op == "=":
            return f"({sql} >= ? AND {sql} < ?)", [low, high]
        if op == "!=":
            return f"({sql} IS NULL OR {sql} < ? OR {sql} >= ?)", [low, high]
        if op == "<":
            return f"{sql} < ?", [low]
        if op == "<=":
            return f"{sql} < ?", [high]
        if op == ">":
            return f"{sql} >= ?", [high]
        return f"{sql} >= ?", [low]


def _bound(kind: str, day: dt.date) -> str:
    if kind == "datetime":
        return f"{day.isoformat()}T00:00:00.000Z"
    return day.isoformat()
