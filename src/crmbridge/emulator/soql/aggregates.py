"""Aggregate queries: ``COUNT(Id)``, ``MAX(Amount)``, ``GROUP BY`` and ``HAVING``.

Results are ``AggregateResult`` records; unaliased aggregates are named ``expr0``,
``expr1`` ... (SOQL and SOSL Reference, "COUNT() and COUNT(fieldName)"), grouped fields
keep their field name. They come back in one page: REST cannot page GROUP BY results
with a query locator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmbridge.emulator.soql import ast
from crmbridge.emulator.soql.errors import invalid_field, malformed
from crmbridge.emulator.soql.functions import AGGREGATE_FUNCTIONS, FunctionColumn, compile_function
from crmbridge.emulator.soql.plans import AggregatePlan, OrderKey
from crmbridge.emulator.soql.resolve import Column, Scope

if TYPE_CHECKING:
    from crmbridge.emulator.soql.compiler import Compiler
    from crmbridge.emulator.soql.conditions import ConditionCompiler

_NUMERIC = frozenset({"int", "double", "currency", "percent"})
_NOT_COUNTABLE = frozenset({"multipicklist", "textarea", "boolean", "time", "address"})


class _Aggregates:
    def __init__(self, scope: Scope, soql: str) -> None:
        self.scope = scope
        self.soql = soql

    def argument(self, call: ast.FunctionCall, purpose: str) -> Column | FunctionColumn:
        arg = call.arg
        if isinstance(arg, ast.FunctionCall):
            return compile_function(self.scope, arg)
        if arg is None:
            raise malformed(self.soql, call.pos, f"unexpected token: '{call.name}'")
        return self.scope.resolve_scalar(arg, purpose=purpose)

    def aggregate(self, call: ast.FunctionCall) -> FunctionColumn:
        name = call.upper_name
        if name == "COUNT" and call.arg is None:
            return FunctionColumn("count(*)", "int", "COUNT")
        column = self.argument(call, "aggregated")
        if column.type in _NOT_COUNTABLE or (
            name in ("SUM", "AVG") and column.type not in _NUMERIC
        ):
            raise malformed(
                self.soql,
                call.pos,
                f"field {column.name} does not support aggregate operator {name}",
            )
        if name == "COUNT":
            return FunctionColumn(f"count({column.sql})", "int", column.name)
        if name == "COUNT_DISTINCT":
            collate = " COLLATE NOCASE" if column.text else ""
            return FunctionColumn(f"count(DISTINCT {column.sql}{collate})", "int", column.name)
        if name == "SUM":
            kind = "int" if column.type == "int" else "double"
            return FunctionColumn(f"total({column.sql})", kind, column.name)
        if name == "AVG":
            return FunctionColumn(f"avg({column.sql})", "double", column.name)
        function = "min" if name == "MIN" else "max"
        collate = " COLLATE NOCASE" if column.text else ""
        return FunctionColumn(f"{function}({column.sql}{collate})", column.type, column.name)

    def group_operand(self, operand: ast.Operand) -> Column | FunctionColumn:
        if isinstance(operand, ast.FunctionCall):
            if operand.upper_name in AGGREGATE_FUNCTIONS:
                raise malformed(self.soql, operand.pos, "Cannot group by an aggregate function")
            return compile_function(self.scope, operand)
        column = self.scope.resolve_scalar(operand, purpose="grouped in a query call")
        if column.field is not None and not column.field.groupable:
            raise invalid_field(
                self.soql,
                operand.pos,
                f"field '{column.name}' can not be grouped in a query call",
            )
        return column


def compile_aggregate(
    compiler: Compiler,
    scope: Scope,
    query: ast.Query,
    select: tuple[ast.SelectItem, ...],
    where_sql: str,
    where_params: list[Any],
    condition_compiler: type[ConditionCompiler],
) -> AggregatePlan:
    """The plan of an aggregate query whose WHERE is already compiled."""
    soql = compiler.soql
    helper = _Aggregates(scope, soql)
    groups = [helper.group_operand(operand) for operand in query.group_by]
    grouped = {g.sql for g in groups}
    outputs: list[tuple[str, str]] = []
    columns: list[str] = []
    unnamed = 0
    for item in select:
        if isinstance(item, ast.SelectField):
            column = scope.resolve_scalar(item.path, purpose="grouped in a query call")
            if column.sql not in grouped:
                raise malformed(
                    soql, item.path.pos, f"Field must be grouped or aggregated: {column.name}"
                )
            outputs.append((column.name, column.type))
            columns.append(column.sql)
            continue
        if not isinstance(item, ast.SelectFunction):
            raise malformed(soql, query.pos, "Subqueries are not allowed in aggregate queries")
        call = item.call
        if call.upper_name in AGGREGATE_FUNCTIONS:
            if call.upper_name == "COUNT" and call.arg is None:
                raise malformed(
                    soql, call.pos, "COUNT() must be the only element in the SELECT list"
                )
            value = helper.aggregate(call)
        else:
            value = compile_function(scope, call)
            if value.sql not in grouped:
                raise malformed(
                    soql, call.pos, f"Field must be grouped or aggregated: {value.name}"
                )
        key = item.alias
        if key is None:
            key = f"expr{unnamed}"
            unnamed += 1
        outputs.append((key, value.type))
        columns.append(value.sql)
    conditions = condition_compiler(scope, today=compiler.today, aggregate=helper.aggregate)
    params = list(where_params)
    having_sql = ""
    if query.having is not None:
        sql, having_params = conditions.compile(query.having)
        having_sql = f" HAVING {sql}"
        params.extend(having_params)
    order = []
    for order_item in query.order_by:
        descending = order_item.descending
        nulls_first = not descending if order_item.nulls_first is None else order_item.nulls_first
        key_value = conditions.operand(order_item.expr)
        order.append(OrderKey(key_value.sql, descending, nulls_first, key_value.text).order_sql)
    sql = f"SELECT {', '.join(columns)} FROM {scope.from_sql} WHERE {where_sql}"
    if groups:
        sql += f" GROUP BY {', '.join(g.sql for g in groups)}"
    sql += having_sql
    if order:
        sql += f" ORDER BY {', '.join(order)}"
    if query.limit is not None or query.offset:
        limit = -1 if query.limit is None else query.limit
        sql += f" LIMIT {limit} OFFSET {query.offset or 0}"
    return AggregatePlan(sql, params, outputs)
