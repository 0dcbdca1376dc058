"""SOQL text: the only place crmbridge writes SOQL, and the one literal-escaping function.

Everything that ends up in a SOQL string passes through :func:`soql_literal` (values)
or :func:`soql_identifier` (field and object names), so no caller can splice user data
into a query. Escapes and literal formats follow the SOQL and SOSL Reference,
"Quoted String Escape Sequences" and "Date Formats and Date Literals".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

#: Backslash escapes SOQL understands inside single-quoted strings.
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}

# API names: letters, digits and underscores, starting with a letter; relationship
# paths join them with dots (Account.Owner.Name).
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")

SoqlValue = str | int | float | Decimal | bool | dt.date | dt.datetime | None


def escape_soql_literal(value: str, *, like: bool = False) -> str:
    """Escape a string for use between single quotes in SOQL.

    Args:
        value: the raw string.
        like: also escape ``%`` and ``_`` so they match literally in a LIKE pattern.

    Returns:
        The escaped text, without the surrounding quotes.
    """
    table = {**_ESCAPES, **_LIKE_ESCAPES} if like else _ESCAPES
    return "".join(table.get(ch, ch) for ch in value)


def soql_literal(value: SoqlValue) -> str:
    """Render a Python value as a SOQL literal.

    Datetimes must be timezone-aware and are rendered in UTC
    (``2024-01-02T03:04:05Z``); dates as ``2024-01-02``; booleans as ``true``/``false``;
    ``None`` as ``null``.

    Raises:
        TypeError: for a value SOQL has no literal for, or a naive datetime.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("SOQL datetime literals need a timezone-aware datetime")
        utc = value.astimezone(dt.UTC)
        text = utc.strftime("%Y-%m-%dT%H:%M:%S")
        if utc.microsecond:
            text += f".{utc.microsecond // 1000:03d}"
        return text + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{escape_soql_literal(value)}'"
    raise TypeError(f"no SOQL literal for {type(value).__name__}")


def soql_identifier(name: str) -> str:
    """Check that ``name`` is a field, object or relationship path and return it.

    Raises:
        ValueError: when ``name`` could carry anything but an API name.
    """
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a Salesforce API name: {name!r}")
    return name


# --- conditions ------------------------------------------------------------------------

_OPERATORS = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "IN", "NOT IN", "INCLUDES", "EXCLUDES"}


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """``field operator value`` in a WHERE clause."""

    #: API name or relationship path of the field.
    field: str
    #: One of ``= != < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES``.
    operator: str
    #: A literal, or a sequence of literals for IN / NOT IN / INCLUDES / EXCLUDES.
    value: SoqlValue | Sequence[SoqlValue]


@dataclass(frozen=True, kw_only=True)
class AllOf:
    """Every condition holds (AND)."""

    #: The conditions joined with AND.
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, kw_only=True)
class AnyOf:
    """At least one condition holds (OR)."""

    #: The conditions joined with OR.
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, kw_only=True)
class Negation:
    """The condition does not hold (NOT)."""

    #: The negated condition.
    condition: Condition


Condition = Comparison | AllOf | AnyOf | Negation


def render_condition(condition: Condition) -> str:
    """Render a condition tree as the text of a WHERE clause."""
    if isinstance(condition, Comparison):
        return _render_comparison(condition)
    if isinstance(condition, Negation):
        return f"(NOT {render_condition(condition.condition)})"
    joiner = " AND " if isinstance(condition, AllOf) else " OR "
    if not condition.conditions:
        raise ValueError("an AND/OR group needs at least one condition")
    parts = [render_condition(c) for c in condition.conditions]
    return parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"


def _render_comparison(cmp: Comparison) -> str:
    operator = cmp.operator.upper()
    if operator == "<>":
        operator = "!="
    if operator not in _OPERATORS:
        raise ValueError(f"unsupported SOQL operator: {cmp.operator!r}")
    name = soql_identifier(cmp.field)
    if operator in {"IN", "NOT IN", "INCLUDES", "EXCLUDES"}:
        if isinstance(cmp.value, str) or not isinstance(cmp.value, Iterable):
            raise ValueError(f"{operator} needs a list of values")
        values = list(cmp.value)
        if not values:
            raise ValueError(f"{operator} needs at least one value")
        rendered = ", ".join(soql_literal(v) for v in values)
        return f"{name} {operator} ({rendered})"
    if isinstance(cmp.value, list | tuple):
        raise ValueError(f"{operator} takes a single value")
    return f"{name} {operator} {soql_literal(cmp.value)}"  # type: ignore[arg-type]


# --- SELECT ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrderBy:
    """One ORDER BY term."""

    #: API name of the field.
    field: str
    #: Ascending when true.
    ascending: bool = True


@dataclass(frozen=True, kw_only=True)
class Select:
    """A SELECT statement, rendered by :meth:`to_soql`."""

    #: The sObject API name.
    sobject: str
    #: Field API names or relationship paths; ``Id`` is added when missing.
    fields: tuple[str, ...]
    #: The WHERE condition, if any.
    where: Condition | None = None
    #: ORDER BY terms.
    order_by: tuple[OrderBy, ...] = field(default_factory=tuple)
    #: LIMIT, if any.
    limit: int | None = None

    def to_soql(self) -> str:
        """The SOQL text of this statement."""
        names = list(dict.fromkeys(("Id", *self.fields)))
        columns = ", ".join(soql_identifier(n) for n in names)
        text = f"SELECT {columns} FROM {soql_identifier(self.sobject)}"
        if self.where is not None:
            text += f" WHERE {render_condition(self.where)}"
        if self.order_by:
            terms = [
                f"{soql_identifier(o.field)} {'ASC' if o.ascending else 'DESC'}"
                for o in self.order_by
            ]
            text += f" ORDER BY {', '.join(terms)}"
        if self.limit is not None:
            if self.limit < 0:
                raise ValueError("LIMIT must not be negative")
            text += f" LIMIT {int(self.limit)}"
        return text
