"""Mapping filters as SOQL conditions.

An object mapping's Salesforce-side filter is a small structure of the mapping domain
(``Movement_Exclude__c eq false``); this module turns it into a
:mod:`crmbridge.salesforce.soql` condition tree, which renders the ``WHERE`` clause with
the one literal-escaping function. Nothing here writes SOQL text itself.

Semantics carry over unchanged: SOQL's ``= null`` / ``!= null`` are how the domain's
``eq``/``ne`` treat null, and SOQL text comparisons and ``LIKE`` ignore case as the
domain does on the Salesforce side (SOQL and SOSL Reference, "Comparison Operators").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crmbridge.domain.mapping.conditions import (
    BooleanOperator,
    ConditionGroup,
    FieldCondition,
    Operator,
)
from crmbridge.domain.mapping.conditions import Condition as MappingCondition
from crmbridge.domain.mapping.conditions import Negation as MappingNegation
from crmbridge.salesforce import soql

_OPERATORS: dict[Operator, str] = {
    Operator.EQ: "=",
    Operator.NE: "!=",
    Operator.LT: "<",
    Operator.LE: "<=",
    Operator.GT: ">",
    Operator.GE: ">=",
    Operator.IN: "IN",
    Operator.NOT_IN: "NOT IN",
    Operator.LIKE: "LIKE",
}

# Conditions SOQL cannot say directly: every record has an Id, so these two are
# "never" and "always" in a form every object accepts.
_NEVER = soql.Comparison(field="Id", operator="=", value=None)
_ALWAYS = soql.Comparison(field="Id", operator="!=", value=None)


def salesforce_condition(
    condition: MappingCondition, *, field_types: Mapping[str, str] | None = None
) -> soql.Condition:
    """The SOQL condition tree of a mapping filter.

    Args:
        condition: the filter (``ObjectMapping.salesforce_filter``).
        field_types: describe types by lower-cased field name (``{"closedate":
            "date"}``); text values compared with ``date`` / ``datetime`` fields are then
            rendered as unquoted date literals, as SOQL requires ("Date Formats and Date
            Literals"). Fields it does not list are rendered from their JSON value.

    Returns:
        A condition for :class:`crmbridge.salesforce.soql.Select`'s ``where``.

    Raises:
        ValueError: a text value for a date field that is not an ISO date.
    """
    types = field_types or {}
    if isinstance(condition, FieldCondition):
        return _comparison(condition, types)
    if isinstance(condition, MappingNegation):
        return soql.Negation(condition=salesforce_condition(condition.condition, field_types=types))
    assert isinstance(condition, ConditionGroup)
    parts = tuple(salesforce_condition(c, field_types=types) for c in condition.conditions)
    if condition.operator is BooleanOperator.AND:
        return soql.AllOf(conditions=parts)
    return soql.AnyOf(conditions=parts)


def _comparison(condition: FieldCondition, types: Mapping[str, str]) -> soql.Condition:
    op = condition.operator
    field_type = types.get(condition.field.lower(), "")
    if op in (Operator.IN, Operator.NOT_IN):
        values = tuple(_literal(v, field_type) for v in condition.value or ())  # type: ignore[union-attr]
        if not values:  # IN () matches nothing, NOT IN () everything
            return _NEVER if op is Operator.IN else _ALWAYS
        return soql.Comparison(field=condition.field, operator=_OPERATORS[op], value=values)
    value = _literal(condition.value, field_type)
    if value is None and op in (Operator.LT, Operator.LE, Operator.GT, Operator.GE):
        return _NEVER  # ordering never matches null
    return soql.Comparison(field=condition.field, operator=_OPERATORS[op], value=value)


def _literal(value: Any, field_type: str) -> soql.SoqlValue:
    if isinstance(value, str) and field_type == "date":
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, str) and field_type == "datetime":
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"a filter value must be a JSON scalar, not {type(value).__name__}")
