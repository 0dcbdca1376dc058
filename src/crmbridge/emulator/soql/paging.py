"""Running row plans page by page: counts, keyset pages and batched child subqueries.

Pages are read with keyset pagination: every statement orders by the query's ORDER BY
keys plus the row id, and the next page starts strictly after the last row's keys. A
page therefore costs the same at row 1,000,000 as at row 1, whatever the ORDER BY.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from crmbridge.emulator.soql.plans import ChildOut, ChildPlan, OrderKey, RowPlan
from crmbridge.emulator.soql.records import RecordRenderer

#: Stay well below SQLite's limit on bound parameters per statement.
_IDS_PER_STATEMENT = 10_000
#: Rows of a page whose children are read first, then at least this many at a time.
_FIRST_CHILD_BLOCK = 200
_MIN_CHILD_BLOCK = 50

Key = tuple[Any, ...]


def count_rows(conn: sqlite3.Connection, plan: RowPlan) -> int:
    """How many records the query returns in all (``totalSize``)."""
    params = list(plan.where_params)
    if plan.limit is None and not plan.offset and plan.total_count_sql is not None:
        return int(conn.execute(plan.total_count_sql, plan.total_count_params).fetchone()[0])
    if plan.limit is None and not plan.offset:
        sql = f"SELECT count(*) FROM {plan.count_from_sql} WHERE {plan.where_sql}"
    else:
        limit = -1 if plan.limit is None else plan.limit
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {plan.count_from_sql} WHERE {plan.where_sql} "
            f"LIMIT {limit} OFFSET {plan.offset or 0})"
        )
    row = conn.execute(sql, params).fetchone()
    return int(row[0])


def after_predicate(keys: Sequence[OrderKey], last: Key) -> tuple[str, list[Any]]:
    """SQL that holds for rows strictly after ``last`` in the order of ``keys``.

    The last key is the row id, so the order is total and no row is seen twice.
    """
    alternatives: list[str] = []
    params: list[Any] = []
    equal_prefix: list[str] = []
    equal_params: list[Any] = []
    for key, value in zip(keys, last, strict=True):
        greater, greater_params = _greater(key, value)
        if greater != "0":
            alternatives.append("(" + " AND ".join([*equal_prefix, greater]) + ")")
            params.extend(equal_params + greater_params)
        if value is None:
            equal_prefix.append(f"{key.sql} IS NULL")
        else:
            equal_prefix.append(f"{key.sql}{_collate(key)} = ?")
            equal_params.append(value)
    predicate = "(" + " OR ".join(alternatives or ["0"]) + ")"
    # A redundant bound on the first key lets SQLite seek its index instead of scanning.
    # Only when nulls sort first are all later rows non-null on the first key.
    first, first_value = keys[0], last[0]
    if first_value is not None and first.nulls_first and len(keys) > 1:
        op = "<=" if first.descending else ">="
        return f"{first.sql}{_collate(first)} {op} ? AND {predicate}", [first_value, *params]
    return predicate, params


def _collate(key: OrderKey) -> str:
    return " COLLATE NOCASE" if key.text else ""


def _greater(key: OrderKey, value: Any) -> tuple[str, list[Any]]:
    """SQL for "comes after ``value``" on one key."""
    if value is None:
        # Nulls first: every non-null value comes after; nulls last: nothing does.
        return (f"{key.sql} IS NOT NULL", []) if key.nulls_first else ("0", [])
    op = "<" if key.descending else ">"
    strict = f"{key.sql}{_collate(key)} {op} ?"
    if key.nulls_first:
        return strict, [value]
    return f"({strict} OR {key.sql} IS NULL)", [value]


def fetch_rows(
    conn: sqlite3.Connection,
    plan: RowPlan,
    *,
    after: Key | None,
    count: int,
    offset: int = 0,
) -> list[tuple[Any, ...]]:
    """Up to ``count`` rows of the plan following the row whose keys are ``after``."""
    where, params = plan.where_sql, list(plan.where_params)
    if after is not None:
        # The keyset predicate comes first. When WHERE bounds the first ORDER BY key
        # too (``SystemModstamp >= X ORDER BY SystemModstamp``), SQLite seeks the index
        # with the first of two equally rated lower bounds: the window's start would
        # make every page step over all the rows before it (a page at row 800,000 of
        # 1,000,000 took 90 ms instead of 14 ms).
        predicate, extra = after_predicate(plan.order_keys, after)
        where, params = f"{predicate} AND ({where})", [*extra, *params]
    sql = f"SELECT {', '.join(plan.columns)} FROM {plan.from_sql} WHERE {where}"
    sql += " ORDER BY " + ", ".join(key.order_sql for key in plan.order_keys)
    sql += f" LIMIT {int(count)} OFFSET {int(offset)}"
    return conn.execute(sql, params).fetchall()


def row_key(plan: RowPlan, row: tuple[Any, ...]) -> Key:
    """The ORDER BY key values of a row (where the next page starts)."""
    return tuple(row[i] for i in plan.key_indexes)


def render_page(
    conn: sqlite3.Connection,
    plan: RowPlan,
    rows: list[tuple[Any, ...]],
    renderer: RecordRenderer,
) -> list[dict[str, Any]]:
    """The records of ``rows``, child subqueries fetched in one statement each."""
    children = _child_results(conn, plan, rows, renderer)
    return renderer.records(plan.shape, rows, children)


def render_batch(
    conn: sqlite3.Connection,
    plan: RowPlan,
    rows: list[tuple[Any, ...]],
    renderer: RecordRenderer,
    batch_size: int,
) -> tuple[int, list[dict[str, Any]]]:
    """The records of a query page: how many of ``rows`` it holds, and them.

    Child records count toward the batch size (SOAP API "QueryOptions", REST "Query
    Options Header": "Child objects count toward the number of records for the batch
    size"): a page of a query with child subqueries holds the leading rows whose
    records and direct child records fit in ``batch_size``, and at least one row. Their
    children are fetched a block of rows at a time, each block sized from the
    children per row seen so far, so a page reads little more than what it returns.
    """
    if not plan.children or not rows:
        return len(rows), render_page(conn, plan, rows, renderer)
    children: dict[int, dict[str, list[dict[str, Any]]]] = {id(c): {} for c in plan.children}
    id_index = plan.shape.id_index
    taken = used = 0
    fetched = 0
    block = min(len(rows), _FIRST_CHILD_BLOCK)
    while fetched < len(rows):
        parent_ids = [row[id_index] for row in rows[fetched : fetched + block]]
        for out in plan.children:
            children[id(out)].update(_fetch_child(conn, out, parent_ids, renderer))
        fetched += len(parent_ids)
        while taken < fetched:
            parent_id = rows[taken][id_index]
            cost = 1 + sum(len(children[id(out)].get(parent_id, ())) for out in plan.children)
            if taken and used + cost > batch_size:
                return taken, renderer.records(plan.shape, rows[:taken], children)
            used += cost
            taken += 1
        # Enough rows for what is left of the batch at the children per row seen so far.
        per_row = used / taken
        block = max(_MIN_CHILD_BLOCK, int((batch_size - used) / per_row) + 1)
    return taken, renderer.records(plan.shape, rows[:taken], children)


def _child_results(
    conn: sqlite3.Connection,
    plan: RowPlan,
    rows: list[tuple[Any, ...]],
    renderer: RecordRenderer,
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    if not plan.children or not rows:
        return {}
    parent_ids = [row[plan.shape.id_index] for row in rows]
    results: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for child in plan.children:
        results[id(child)] = _fetch_child(conn, child, parent_ids, renderer)
    return results


def _fetch_child(
    conn: sqlite3.Connection,
    out: ChildOut,
    parent_ids: list[str],
    renderer: RecordRenderer,
) -> dict[str, list[dict[str, Any]]]:
    child: ChildPlan = out.plan
    plan = child.plan
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(parent_ids), _IDS_PER_STATEMENT):
        chunk = parent_ids[start : start + _IDS_PER_STATEMENT]
        rows.extend(_child_rows(conn, child, chunk))
    records = render_page(conn, plan, rows, renderer)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row, record in zip(rows, records, strict=True):
        grouped[row[child.parent_index]].append(record)
    return grouped


def _child_rows(
    conn: sqlite3.Connection, child: ChildPlan, parent_ids: list[str]
) -> list[tuple[Any, ...]]:
    plan = child.plan
    marks = ", ".join("?" for _ in parent_ids)
    where = f"{plan.where_sql} AND {child.parent_sql} IN ({marks})"
    params = [*plan.where_params, *parent_ids]
    order = ", ".join(key.order_sql for key in plan.order_keys)
    if plan.limit is None and not plan.offset:
        sql = (
            f"SELECT {', '.join(plan.columns)} FROM {plan.from_sql} WHERE {where} "
            f"ORDER BY {child.parent_sql}, {order}"
        )
        return conn.execute(sql, params).fetchall()
    # LIMIT and OFFSET apply per parent record: number each parent's children.
    named = ", ".join(f"{sql} AS c{i}" for i, sql in enumerate(plan.columns))
    outer = ", ".join(f"c{i}" for i in range(len(plan.columns)))
    low = plan.offset or 0
    high = low + plan.limit if plan.limit is not None else -1
    bound = "" if high < 0 else f" AND soql_rn <= {int(high)}"
    sql = (
        f"SELECT {outer} FROM (SELECT {named}, ROW_NUMBER() OVER (PARTITION BY "
        f"{child.parent_sql} ORDER BY {order}) AS soql_rn FROM {plan.from_sql} WHERE {where}) "
        f"WHERE soql_rn > {int(low)}{bound} ORDER BY c{child.parent_index}, soql_rn"
    )
    return conn.execute(sql, params).fetchall()
