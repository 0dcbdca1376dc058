"""Compiled queries: the SQL to run and how each result row becomes a record.

A plan is built once per query by compiler.py and then reused for every page, so the
work per page is one SQL statement for the rows plus one per child subquery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- record shapes: where each selected column goes in the JSON record ----------------


@dataclass(slots=True)
class FieldOut:
    """A plain field: ``key`` takes the value of column ``index``."""

    key: str
    index: int
    type: str
    #: True when the stored value is already the JSON value (text, dates, ids).
    plain: bool = False


@dataclass(slots=True)
class AddressOut:
    """A compound address: an object built from its component columns (or null)."""

    key: str
    components: list[tuple[str, int]]


@dataclass(slots=True)
class ParentOut:
    """A parent relationship: a nested record, or null when the lookup is empty."""

    key: str
    #: ``attributes.type``: the parent object, or ``Name`` for polymorphic lookups.
    type_name: str
    #: Column holding the parent's id (decides null and builds ``attributes.url``).
    id_index: int
    entries: dict[str, Entry] = field(default_factory=dict)


@dataclass(slots=True)
class TypeOfOut:
    """``TYPEOF What WHEN Account THEN ... ELSE ... END``: fields chosen per parent type."""

    key: str
    id_index: int
    #: Column holding the parent's object name.
    type_index: int
    branches: dict[str, dict[str, Entry]]
    else_entries: dict[str, Entry] | None


@dataclass(slots=True)
class ChildOut:
    """A parent-to-child subquery: ``{totalSize, done, records}`` or null."""

    key: str
    plan: ChildPlan


Entry = FieldOut | AddressOut | ParentOut | TypeOfOut | ChildOut


@dataclass(slots=True)
class RecordShape:
    """How one SQL row becomes one record of ``type_name``."""

    type_name: str
    id_index: int
    entries: dict[str, Entry] = field(default_factory=dict)


# --- SQL --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ORDER BY key: its SQL, direction and where nulls go."""

    sql: str
    descending: bool
    nulls_first: bool
    text: bool

    @property
    def order_sql(self) -> str:
        """The key as an ORDER BY term (NULLS only when it differs from SQLite's)."""
        collate = " COLLATE NOCASE" if self.text else ""
        direction = " DESC" if self.descending else " ASC"
        # SQLite sorts NULL first ascending and last descending, as SOQL does by default.
        nulls = ""
        if self.nulls_first == self.descending:
            nulls = " NULLS FIRST" if self.nulls_first else " NULLS LAST"
        return f"{self.sql}{collate}{direction}{nulls}"


@dataclass(slots=True)
class RowPlan:
    """A query returning records (the top-level query or a child subquery)."""

    sobject: str
    #: SQL expressions selected, in column order (hidden columns included).
    columns: list[str]
    shape: RecordShape
    from_sql: str
    #: WHERE clause (deleted-row filter included) and its parameters.
    where_sql: str
    where_params: list[Any]
    #: FROM clause with only the joins WHERE needs (for COUNT).
    count_from_sql: str
    #: ORDER BY keys, the row id tiebreaker last; ``key_indexes`` are their columns.
    order_keys: list[OrderKey]
    key_indexes: list[int]
    limit: int | None
    offset: int | None
    children: list[ChildOut] = field(default_factory=list)
    #: Flattened column names and indexes for Bulk CSV (``Account.Name``).
    flat_columns: list[tuple[str, int, str]] = field(default_factory=list)
    #: ``totalSize`` without LIMIT or OFFSET: live rows as every row minus deleted ones.
    total_count_sql: str | None = None
    total_count_params: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class ChildPlan:
    """A child subquery: its own row plan plus the lookup to its parent."""

    plan: RowPlan
    #: SQL of the child's lookup field and its column in ``plan.columns``.
    parent_sql: str
    parent_index: int


@dataclass(slots=True)
class CountPlan:
    """``SELECT COUNT() ...``: only ``totalSize`` matters."""

    sql: str
    params: list[Any]


@dataclass(slots=True)
class AggregatePlan:
    """An aggregate query (``COUNT(Id)``, ``GROUP BY``): AggregateResult records."""

    sql: str
    params: list[Any]
    #: (JSON key, describe type) of each selected column, in order.
    outputs: list[tuple[str, str]]


Plan = RowPlan | CountPlan | AggregatePlan
