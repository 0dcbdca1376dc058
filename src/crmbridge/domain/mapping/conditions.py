"""Record filters: a small condition structure evaluated on dicts.

An object mapping can filter either side, e.g. Salesforce ``Movement_Exclude__c =
false`` or platform ``status != 'LOST'``. The structure is exposed as data so the
Salesforce client can render a Salesforce-side condition as a SOQL ``WHERE`` clause
(with its own literal escaping); this module never renders SOQL. The same condition is
also evaluated here on records that do not come from a query (outbound messages,
platform changes).

Semantics follow SOQL where they differ from Python: ``eq``/``ne`` treat ``null`` as a
value (``field = null`` matches empty fields), ordering operators never match ``null``,
and on the Salesforce side text comparisons and ``like`` ignore case (SOQL and SOSL
Reference, "Comparison Operators").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.mapping.reading import DefinitionReader, is_json_scalar

#: A JSON scalar, or a list of them for ``in`` / ``not_in``.
ConditionValue = str | int | float | bool | None | tuple[str | int | float | bool | None, ...]


class Operator(enum.StrEnum):
    """Comparison operators, named as SOQL names them."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    NOT_IN = "not_in"
    #: SOQL ``LIKE``: ``%`` matches any run of characters, ``_`` one character.
    LIKE = "like"


class BooleanOperator(enum.StrEnum):
    """How a group combines its conditions."""

    AND = "and"
    OR = "or"


@dataclass(frozen=True, kw_only=True)
class FieldCondition:
    """``field operator value``, e.g. ``Movement_Exclude__c eq false``."""

    #: Field name; a dotted path (``Campaign.Movement_Include__c``) reads a parent record.
    field: str
    #: The comparison.
    operator: Operator
    #: The value compared with (a tuple for ``in``/``not_in``).
    value: ConditionValue

    def matches(self, record: Mapping[str, Any], *, case_sensitive: bool = True) -> bool:
        """Whether ``record`` satisfies the condition.

        Args:
            record: a platform record or a Salesforce record (nested parents as dicts).
            case_sensitive: ``False`` on the Salesforce side, where SOQL ignores case.
        """
        actual = read_path(record, self.field, case_sensitive=case_sensitive)
        return _compare(actual, self.operator, self.value, case_sensitive=case_sensitive)

    def fields(self) -> frozenset[str]:
        """The field names this condition reads."""
        return frozenset({self.field})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form: ``{"field": ..., "op": ..., "value": ...}``."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": self.operator.value, "value": value}


@dataclass(frozen=True, kw_only=True)
class ConditionGroup:
    """Several conditions joined by AND or OR."""

    #: AND (all must match) or OR (at least one must match).
    operator: BooleanOperator
    #: The conditions joined (at least one).
    conditions: tuple[Condition, ...]

    def matches(self, record: Mapping[str, Any], *, case_sensitive: bool = True) -> bool:
        """Whether ``record`` satisfies the group (see :meth:`FieldCondition.matches`)."""
        results = (c.matches(record, case_sensitive=case_sensitive) for c in self.conditions)
        return all(results) if self.operator is BooleanOperator.AND else any(results)

    def fields(self) -> frozenset[str]:
        """The field names the group reads."""
        return frozenset().union(*(c.fields() for c in self.conditions))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form: ``{"and": [...]}`` or ``{"or": [...]}``."""
        return {self.operator.value: [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True, kw_only=True)
class Negation:
    """NOT of a condition."""

    #: The negated condition.
    condition: Condition

    def matches(self, record: Mapping[str, Any], *, case_sensitive: bool = True) -> bool:
        """Whether ``record`` does not satisfy the inner condition."""
        return not self.condition.matches(record, case_sensitive=case_sensitive)

    def fields(self) -> frozenset[str]:
        """The field names the inner condition reads."""
        return self.condition.fields()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form: ``{"not": {...}}``."""
        return {"not": self.condition.to_dict()}


Condition = FieldCondition | ConditionGroup | Negation


def where(field: str, operator: str, value: Any) -> FieldCondition:
    """Shorthand: ``where("status", "ne", "LOST")``."""
    if isinstance(value, list):
        value = tuple(value)
    return FieldCondition(field=field, operator=Operator(operator), value=value)


def all_of(*conditions: Condition) -> ConditionGroup:
    """Shorthand for an AND group."""
    return ConditionGroup(operator=BooleanOperator.AND, conditions=conditions)


def any_of(*conditions: Condition) -> ConditionGroup:
    """Shorthand for an OR group."""
    return ConditionGroup(operator=BooleanOperator.OR, conditions=conditions)


def read_path(record: Mapping[str, Any], path: str, *, case_sensitive: bool = True) -> Any:
    """The value at a dotted path of a record; ``None`` when any part is missing.

    Salesforce field names are case-insensitive, so with ``case_sensitive=False`` a key
    that differs only in case is found too.
    """
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        if part in current:
            current = current[part]
            continue
        if case_sensitive:
            return None
        folded = part.casefold()
        current = next((v for k, v in current.items() if k.casefold() == folded), None)
    return current


def _fold(value: Any, case_sensitive: bool) -> Any:
    return value.casefold() if isinstance(value, str) and not case_sensitive else value


def _compare(actual: Any, op: Operator, expected: Any, *, case_sensitive: bool) -> bool:
    left = _fold(actual, case_sensitive)
    if op in (Operator.IN, Operator.NOT_IN):
        options = [_fold(v, case_sensitive) for v in expected or ()]
        found = any(_equal(left, option) for option in options)
        return found if op is Operator.IN else not found
    right = _fold(expected, case_sensitive)
    if op is Operator.EQ:
        return _equal(left, right)
    if op is Operator.NE:
        return not _equal(left, right)
    if op is Operator.LIKE:
        return isinstance(actual, str) and isinstance(expected, str) and _like(actual, expected)
    if left is None or right is None or isinstance(left, bool) != isinstance(right, bool):
        return False
    try:
        if op is Operator.LT:
            return bool(left < right)
        if op is Operator.LE:
            return bool(left <= right)
        if op is Operator.GT:
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def _equal(left: Any, right: Any) -> bool:
    # True == 1 in Python; a boolean field never equals a number.
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def _like(text: str, pattern: str) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    # SOQL LIKE is case-insensitive on both sides of the integration.
    return re.fullmatch(regex, text, flags=re.IGNORECASE | re.DOTALL) is not None


def condition_from_dict(reader: DefinitionReader) -> Condition:
    """Read a condition written by ``to_dict``, recording problems on ``reader``."""
    data = reader.data
    if "and" in data or "or" in data:
        key = "and" if "and" in data else "or"
        reader.reject_unknown({key})
        items = [condition_from_dict(r) for r in reader.children(key)]
        if not items:
            reader.problem("must list at least one condition", key)
        return ConditionGroup(operator=BooleanOperator(key), conditions=tuple(items))
    if "not" in data:
        reader.reject_unknown({"not"})
        return Negation(condition=condition_from_dict(reader.child("not")))
    reader.reject_unknown({"field", "op", "value"})
    field = reader.string("field")
    operator = reader.choice("op", Operator)
    raw = reader.raw("value")
    value: ConditionValue
    if operator in (Operator.IN, Operator.NOT_IN):
        if not isinstance(raw, list) or not all(is_json_scalar(v) for v in raw):
            reader.problem("must be a list of values for 'in' and 'not_in'", "value")
            raw = []
        value = tuple(raw)
    elif not is_json_scalar(raw):
        reader.problem("must be a string, number, boolean or null", "value")
        value = None
    else:
        value = raw
    if operator is Operator.LIKE and not isinstance(value, str):
        reader.problem("must be a text pattern for 'like'", "value")
    return FieldCondition(field=field, operator=operator, value=value)
