"""Rows a sync page inserts without ORM objects: written together, before anyone reads.

An inbound page creates up to 2,000 platform records, each with its change-log entry and
its pair. As ORM objects they cost more to build, track and flush than the mapping
and merge that produced them (py-spy, 10,000-contact initial sync: the flush alone was
28% of applying a page). Rows that the page never reads back go here instead, as
column values, and are inserted with one ``executemany`` per table.

They behave like pending ORM objects: they are written, in the caller's transaction,
before any statement the session runs while autoflush is on, before a flush, before a
commit, and when :func:`write_deferred` is called. A rollback drops them with the
transaction. Change-log rows get their per-tenant ``seq`` when written, with one
reservation per tenant as the ORM flush numbers entries (see ``change_log``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from crmbridge.store.models import ChangeLogEntry
from crmbridge.store.repositories.tenants import next_change_seqs

_KEY = "crmbridge.deferred_rows"
_CHANGE_LOG: sa.Table = ChangeLogEntry.__table__  # type: ignore[assignment]


@dataclass
class _Deferred:
    """The rows one transaction has waiting, per table, in the order deferred."""

    transaction: SessionTransaction
    tables: dict[sa.Table, list[dict[str, Any]]] = field(default_factory=dict)
    writing: bool = False


def defer_insert(session: Session, table: sa.Table, row: dict[str, Any]) -> None:
    """Insert ``row`` into ``table`` with the transaction's next write.

    Every row of one table must name the same columns (one ``executemany``).
    Change-log rows leave ``seq`` out: it is given when they are written.
    """
    deferred = _current(session, create=True)
    assert deferred is not None
    deferred.tables.setdefault(table, []).append(row)


def pending_rows(session: Session, table: sa.Table) -> int:
    """How many rows of ``table`` wait to be written in the session's transaction."""
    deferred = _current(session, create=False)
    return len(deferred.tables.get(table, ())) if deferred is not None else 0


def write_deferred(session: Session) -> None:
    """Write the waiting rows now (one statement per table, change-log rows numbered)."""
    deferred = _current(session, create=False)
    if deferred is None or deferred.writing or not deferred.tables:
        return
    deferred.writing = True
    try:
        tables, deferred.tables = deferred.tables, {}
        changes = tables.get(_CHANGE_LOG)
        if changes:
            _number(session, changes)
        connection = session.connection()
        for table, rows in tables.items():
            insert_rows(connection, table, rows)
    finally:
        deferred.writing = False


def insert_rows(
    connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (column values) into ``table`` with one ``executemany`` per set of
    columns.

    The values go through the columns' own bind processors (the same conversions
    ``connection.execute(insert(table), rows)`` applies), but prepared once per table
    and set of columns, and with each distinct timestamp converted once: SQLAlchemy's
    per-value parameter handling had been 15% of applying an inbound page (py-spy,
    10,000-contact initial sync). Rows that leave out a column with a default go
    through SQLAlchemy, which fills the default.

    On PostgreSQL (psycopg) the rows go in by ``COPY … FROM STDIN`` instead, in the same
    transaction and under the same constraints: psycopg's ``executemany`` sends one
    ``INSERT`` per row, and the bench's store floor for a 10,000-record inbound page set
    took 189 µs a record that way against 110 by ``COPY`` (``bench_sync.py --postgres``;
    PostgreSQL documentation, "Populating a Database": "Use COPY").
    """
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for columns, group in groups.items():
        plan = _insert_plan(connection.dialect, table, columns)
        if plan is None:
            connection.execute(sa.insert(table), group)
        elif plan.copy is not None:
            _copy(connection, plan.copy, plan.parameters(group, as_tuples=True))
        else:
            connection.exec_driver_sql(plan.sql, plan.parameters(group))


def _copy(connection: sa.Connection, sql: str, rows: list[Any]) -> None:
    """``COPY`` ``rows`` in on the connection's own transaction (psycopg).

    Listeners of the engine's cursor events see the statement as they see an INSERT,
    and a failure is raised as SQLAlchemy raises a failed INSERT's (an
    ``IntegrityError`` for a broken constraint), so callers need not know which way
    the rows went in.
    """
    import psycopg

    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        # With no listeners these calls do nothing.
        connection.dispatch.before_cursor_execute(connection, cursor, sql, rows, None, True)
        try:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise sa.exc.DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
        connection.dispatch.after_cursor_execute(connection, cursor, sql, rows, None, True)


@dataclass(frozen=True)
class _InsertPlan:
    sql: str
    #: Parameter names in the statement's order, each with its bind processor.
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool
    #: Per parameter, the column type's class when its conversions are remembered
    #: (timestamps: a page's rows share few distinct times, and a record's
    #: ``created_at`` is its ``updated_at``), else ``None``.
    memoized: tuple[type | None, ...]
    #: ``COPY … FROM STDIN`` for these columns where the driver can (psycopg), else ``None``.
    copy: str | None = None

    def parameters(
        self, rows: Sequence[Mapping[str, Any]], *, as_tuples: bool = False
    ) -> list[Any]:
        # Column by column: one comprehension per column costs less than a branch per
        # value, and most columns (ids, names, flags) need no conversion at all.
        columns: list[list[Any]] = []
        memos: dict[type, dict[Any, Any]] = {}
        for name, process, memo in zip(self.names, self.processors, self.memoized, strict=True):
            column = [row[name] for row in rows]
            if process is not None:
                if memo is not None:
                    seen = memos.setdefault(memo, {})
                    for value in column:
                        if value not in seen:
                            seen[value] = process(value)
                    column = [seen[value] for value in column]
                else:
                    # ``None`` too, as SQLAlchemy does (a JSON column stores it as ``null``).
                    column = [process(value) for value in column]
            columns.append(column)
        if self.positional or as_tuples:
            return list(zip(*columns, strict=True))
        return [dict(zip(self.names, values, strict=True)) for values in zip(*columns, strict=True)]


#: Plans per dialect (each engine has its own, with its JSON serializer), then per
#: table and set of columns.
_PLANS: weakref.WeakKeyDictionary[
    sa.Dialect, dict[tuple[sa.Table, tuple[str, ...]], _InsertPlan | None]
] = weakref.WeakKeyDictionary()


def _insert_plan(
    dialect: sa.Dialect, table: sa.Table, columns: tuple[str, ...]
) -> _InsertPlan | None:
    plans = _PLANS.setdefault(dialect, {})
    key = (table, columns)
    if key not in plans:
        plans[key] = _make_plan(dialect, table, columns)
    return plans[key]


def _make_plan(
    dialect: sa.Dialect, table: sa.Table, columns: tuple[str, ...]
) -> _InsertPlan | None:
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(columns))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    if set(names) != set(columns):
        return None  # a column default to fill, or a bind name that is not the column's
    types = [table.c[name].type for name in names]
    copy = None
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        quote = dialect.identifier_preparer.quote
        copy = (f"COPY {dialect.identifier_preparer.format_table(table)} "
                f"({', '.join(quote(name) for name in names)}) FROM STDIN")  # fmt: skip
    return _InsertPlan(
        sql=compiled.string,
        names=names,
        processors=tuple(t.dialect_impl(dialect).bind_processor(dialect) for t in types),
        positional=compiled.positional,
        memoized=tuple(type(t) if t._type_affinity is sa.DateTime else None for t in types),
        copy=copy,
    )


def _number(session: Session, rows: list[dict[str, Any]]) -> None:
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_tenant.setdefault(row["tenant_id"], []).append(row)
    for tenant_id, entries in by_tenant.items():
        first = next_change_seqs(session, tenant_id, count=len(entries))
        for offset, row in enumerate(entries):
            row["seq"] = first + offset


def _current(session: Session, *, create: bool) -> _Deferred | None:
    """The waiting rows of the session's current transaction (a finished one's are gone:
    committed ones were written before the commit, rolled back ones are dropped)."""
    deferred = session.info.get(_KEY)
    if isinstance(deferred, _Deferred):
        transaction = session.get_transaction()
        if deferred.transaction is transaction:
            return deferred
        if not create:
            return None
    elif not create:
        return None
    session.connection()  # begins the transaction the rows belong to, if none is open
    transaction = session.get_transaction()
    assert transaction is not None
    deferred = session.info[_KEY] = _Deferred(transaction=transaction)
    return deferred


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    # As autoflush: a query sees the rows; ``no_autoflush`` blocks leave them waiting.
    if state.session.autoflush:
        write_deferred(state.session)


@event.listens_for(Session, "before_flush")
def _before_flush(
    session: Session, _context: UOWTransaction, _instances: Iterable[object] | None
) -> None:
    write_deferred(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_deferred(session)
