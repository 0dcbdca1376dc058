"""Evaluating a formula's AST on one record.

Values inside a formula are ``str``, ``Decimal`` (every number, so money adds up
exactly), ``bool``, ``date``/``datetime`` and ``None``. Blank follows Salesforce: ``&``
treats ``null`` as empty text, arithmetic with ``null`` gives ``null``, and a ``null``
condition counts as false. Failures raise
:class:`~crmbridge.domain.mapping.errors.FormulaEvaluationError` with the position of
the operation, and concern only the record being mapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.errors import FormulaEvaluationError
from crmbridge.domain.mapping.formula.functions import FUNCTIONS, text_of
from crmbridge.domain.mapping.formula.syntax import Binary, Call, FieldRef, Literal, Node, Unary
from crmbridge.domain.mapping.values import coerce_number, is_blank


@dataclass(frozen=True, kw_only=True)
class Environment:
    """The values a formula can see."""

    #: The platform record (bare field names).
    platform: Mapping[str, Any]
    #: The Salesforce record (``sf.`` names; nested parents as dicts).
    salesforce: Mapping[str, Any]
    #: Today's date in the tenant's time zone, for ``TODAY()``.
    today: date | None


def _fail(node: Node, message: str) -> FormulaEvaluationError:
    return FormulaEvaluationError(f"{message} (line {node.line}, column {node.column})")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, date):
        return "date"
    return "list" if isinstance(value, list | tuple) else type(value).__name__


def _field_value(value: Any) -> Any:
    """A record's value in formula terms: numbers become ``Decimal``."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return coerce_number(value)
    return value


def _truth(node: Node, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise _fail(node, f"expected true/false, got {_kind(value)} {value!r}")


def _equal(left: Any, right: Any) -> bool:
    left = None if left == "" else left
    right = None if right == "" else right
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def evaluate(node: Node, env: Environment) -> Any:
    """The value of ``node`` for the record in ``env``.

    Raises:
        FormulaEvaluationError: on type errors, division by zero and similar failures.
    """
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FieldRef):
        if node.side == "salesforce":
            return _field_value(read_path(env.salesforce, node.name, case_sensitive=False))
        return _field_value(env.platform.get(node.name))
    if isinstance(node, Unary):
        return _unary(node, evaluate(node.operand, env))
    if isinstance(node, Binary):
        if node.operator in ("and", "or"):
            left = _truth(node.left, evaluate(node.left, env))
            if (node.operator == "and") != left:
                return left
            return _truth(node.right, evaluate(node.right, env))
        return _binary(node, evaluate(node.left, env), evaluate(node.right, env))
    if isinstance(node, Call):
        return _call(node, env)
    raise _fail(node, "unknown expression")  # pragma: no cover - the parser builds no other node


def _unary(node: Unary, value: Any) -> Any:
    if node.operator == "not":
        return not _truth(node.operand, value)
    if value is None:
        return None
    if not isinstance(value, Decimal):
        raise _fail(node, f"'{node.operator}' needs a number, got {_kind(value)} {value!r}")
    return -value if node.operator == "-" else value


def _binary(node: Binary, left: Any, right: Any) -> Any:
    op = node.operator
    try:
        if op == "&" or (op == "+" and (isinstance(left, str) or isinstance(right, str))):
            return text_of(left) + text_of(right)
        if op in ("=", "!="):
            return _equal(left, right) == (op == "=")
        if op in ("<", "<=", ">", ">="):
            return _order(node, left, right)
        if left is None or right is None:
            return None
        if op in ("+", "-"):
            return _add(node, left, right, subtract=op == "-")
        if (
            isinstance(left, Decimal)
            and isinstance(right, Decimal)
            and not any(isinstance(v, bool) for v in (left, right))
        ):
            if op == "*":
                return left * right
            if right == 0:
                raise _fail(node, "division by zero")
            return left / right
    except ArithmeticError as exc:
        raise _fail(node, f"the arithmetic failed ({type(exc).__name__})") from None
    raise _fail(node, f"'{op}' needs numbers, got {_kind(left)} and {_kind(right)}")


def _add(node: Binary, left: Any, right: Any, *, subtract: bool) -> Any:
    sign = -1 if subtract else 1
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        return left + sign * right
    if isinstance(left, date) and isinstance(right, Decimal):
        try:
            if isinstance(left, datetime):
                return left + sign * timedelta(days=float(right))
            return left + sign * timedelta(days=int(right))
        except OverflowError:
            raise _fail(node, "the date is out of range") from None
    if subtract and isinstance(left, date) and isinstance(right, date):
        if isinstance(left, datetime) and isinstance(right, datetime):
            return Decimal(str((left - right).total_seconds())) / Decimal(86400)
        if not isinstance(left, datetime) and not isinstance(right, datetime):
            return Decimal((left - right).days)
    word = "subtract" if subtract else "add"
    raise _fail(node, f"cannot {word} {_kind(right)} and {_kind(left)}")


def _order(node: Binary, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    comparable = (
        (isinstance(left, Decimal) and isinstance(right, Decimal))
        or (isinstance(left, str) and isinstance(right, str))
        or (isinstance(left, date) and isinstance(right, date))
    )
    if not comparable or isinstance(left, datetime) != isinstance(right, datetime):
        raise _fail(node, f"cannot compare {_kind(left)} with {_kind(right)}")
    op = node.operator
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _call(node: Call, env: Environment) -> Any:
    name, args = node.name, node.args
    if name == "IF":
        if _truth(args[0], evaluate(args[0], env)):
            return evaluate(args[1], env)
        return evaluate(args[2], env) if len(args) > 2 else None
    if name == "CASE":
        subject = evaluate(args[0], env)
        for index in range(1, len(args) - 1, 2):
            if _equal(subject, evaluate(args[index], env)):
                return evaluate(args[index + 1], env)
        return evaluate(args[-1], env)
    if name in ("AND", "OR"):
        wanted = name == "OR"
        for arg in args:
            if _truth(arg, evaluate(arg, env)) == wanted:
                return wanted
        return not wanted
    if name in ("BLANKVALUE", "NULLVALUE", "COALESCE"):
        for arg in args:
            value = evaluate(arg, env)
            if not (is_blank(value) if name != "NULLVALUE" else value is None):
                return value
        return None
    spec = FUNCTIONS.get(name)
    if spec is None or spec.impl is None:  # pragma: no cover - validation rejects these
        raise _fail(node, f"unknown function {name}")
    values = [evaluate(arg, env) for arg in args]
    try:
        return spec.impl(values, env.today)
    except FormulaEvaluationError as exc:
        raise _fail(node, exc.message) from None
    except ArithmeticError as exc:
        raise _fail(node, f"{name} failed ({type(exc).__name__})") from None
