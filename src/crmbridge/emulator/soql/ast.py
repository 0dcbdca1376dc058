"""The SOQL syntax tree: plain frozen values, produced by parser.py, read by compiler.py.

Names are kept as the query spelled them; the compiler resolves them against the schema
case-insensitively. Every node that can be blamed in an error carries its ``pos``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeAlias

from crmbridge.emulator.soql.errors import Position

_ORIGIN = Position(1, 1)

# --- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StringValue:
    """A quoted string, escapes decoded."""

    value: str
    pos: Position


@dataclass(frozen=True, slots=True)
class LikePattern:
    """The quoted pattern of LIKE, translated to SQL LIKE syntax with ``\\`` as escape."""

    sql_pattern: str
    text: str
    pos: Position


@dataclass(frozen=True, slots=True)
class NumberValue:
    """An unquoted number; ``value`` is an int when the literal had no decimals."""

    value: int | float
    text: str
    pos: Position


@dataclass(frozen=True, slots=True)
class BooleanValue:
    """``TRUE`` or ``FALSE``."""

    value: bool
    pos: Position


@dataclass(frozen=True, slots=True)
class NullValue:
    """``NULL``."""

    pos: Position


@dataclass(frozen=True, slots=True)
class DateValue:
    """An unquoted ``YYYY-MM-DD``."""

    value: dt.date
    text: str
    pos: Position


@dataclass(frozen=True, slots=True)
class DateTimeValue:
    """An unquoted dateTime, normalised to UTC."""

    value: dt.datetime
    text: str
    pos: Position


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """A relative date range such as ``TODAY`` or ``LAST_N_DAYS:30``."""

    name: str
    n: int | None
    pos: Position


Value: TypeAlias = (
    StringValue | NumberValue | BooleanValue | NullValue | DateValue | DateTimeValue | DateLiteral
)

# --- expressions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldPath:
    """``Name``, ``Account.Name``, ``Account.Owner.IsActive`` ..."""

    parts: tuple[str, ...]
    pos: Position

    @property
    def text(self) -> str:
        """The path as written."""
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """``COUNT()``, ``COUNT(Id)``, ``MAX(Amount)``, ``FIELDS(ALL)``, ``toLabel(Status)`` ..."""

    name: str
    arg: FieldPath | FunctionCall | None
    pos: Position

    @property
    def upper_name(self) -> str:
        """The function name in upper case (function names are case-insensitive)."""
        return self.name.upper()


Operand: TypeAlias = FieldPath | FunctionCall

# --- SELECT items -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectField:
    """A field path in the SELECT list (``alias`` only valid in aggregate queries)."""

    path: FieldPath
    alias: str | None


@dataclass(frozen=True, slots=True)
class SelectFunction:
    """A function in the SELECT list: an aggregate, ``FIELDS(...)``, ``toLabel(...)``."""

    call: FunctionCall
    alias: str | None


@dataclass(frozen=True, slots=True)
class SelectSubquery:
    """A parent-to-child subquery ``(SELECT ... FROM Contacts ...)``."""

    query: Query
    pos: Position


@dataclass(frozen=True, slots=True)
class TypeOfWhen:
    """``WHEN Account THEN Phone, Name``."""

    sobject: str
    fields: tuple[FieldPath, ...]
    pos: Position


@dataclass(frozen=True, slots=True)
class SelectTypeOf:
    """``TYPEOF What WHEN ... THEN ... [ELSE ...] END``."""

    field: FieldPath
    whens: tuple[TypeOfWhen, ...]
    else_fields: tuple[FieldPath, ...]
    pos: Position


SelectItem: TypeAlias = SelectField | SelectFunction | SelectSubquery | SelectTypeOf

# --- conditions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """``operand op value`` with op one of = != < <= > >= (``<>`` arrives as ``!=``)."""

    left: Operand
    op: str
    value: Value
    pos: Position


@dataclass(frozen=True, slots=True)
class Like:
    """``operand LIKE 'pattern'``."""

    left: Operand
    pattern: LikePattern
    pos: Position


@dataclass(frozen=True, slots=True)
class InList:
    """``operand [NOT] IN (values)``."""

    left: Operand
    values: tuple[Value, ...]
    negated: bool
    pos: Position


@dataclass(frozen=True, slots=True)
class SemiJoin:
    """The subquery of a semi-join: ``SELECT field FROM Object [WHERE ...]``."""

    field: FieldPath
    sobject: str
    sobject_pos: Position
    where: Condition | None


@dataclass(frozen=True, slots=True)
class InSemiJoin:
    """``operand [NOT] IN (SELECT ...)``."""

    left: Operand
    query: SemiJoin
    negated: bool
    pos: Position


@dataclass(frozen=True, slots=True)
class Includes:
    """``operand INCLUDES|EXCLUDES ('a;b', 'c')``: each string an AND-set, the list an OR."""

    left: Operand
    values: tuple[Value, ...]
    excludes: bool
    pos: Position


@dataclass(frozen=True, slots=True)
class And:
    """All items hold."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one item holds."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold."""

    item: Condition


Condition: TypeAlias = Comparison | Like | InList | InSemiJoin | Includes | And | Or | Not

# --- the query ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY key; ``nulls_first`` None means Salesforce's default for the direction."""

    expr: Operand
    descending: bool
    nulls_first: bool | None


@dataclass(frozen=True, slots=True)
class Query:
    """A SELECT statement (the top-level query or a parent-to-child subquery).

    For a subquery, ``sobject`` is the relationship path of its FROM (``Contacts`` or
    ``Account.Contacts``), resolved by the compiler against the outer object.
    """

    select: tuple[SelectItem, ...]
    sobject: FieldPath
    alias: str | None
    where: Condition | None = None
    group_by: tuple[Operand, ...] = ()
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    scope: str | None = None
    all_rows: bool = False
    for_update: bool = False
    pos: Position = _ORIGIN
