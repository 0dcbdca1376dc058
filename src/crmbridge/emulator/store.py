"""The org's data: one SQLite file in the data directory, one table per sObject.

Tables are named exactly as the object's API name and have one column per stored
field named exactly as its API name (formula and compound address fields are not
stored). Encodings are described in :mod:`crmbridge.emulator.values`. Every read and
write goes through one connection guarded by a lock; the SOQL engine reads the tables
directly through :meth:`OrgStore.connection`, and every write goes through
:meth:`OrgStore.transaction` (or the one-call shortcuts), which validates against the
schema the way Salesforce does and tells listeners about each committed change.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.ids import DEFAULT_POD, make_ids
from crmbridge.emulator.schema import FieldDef, Schema, SObjectDef
from crmbridge.emulator.values import format_datetime

if TYPE_CHECKING:
    from crmbridge.emulator.store_writes import StoreTransaction

__all__ = [
    "ChangeListener",
    "OrgStore",
    "SalesforceApiError",
    "WriteResult",
    "column_sql_type",
    "quote",
]

#: ``callback(sobject_name, operation, records)``; operation is insert/update/delete.
ChangeListener = Callable[[str, str, list[dict[str, Any]]], None]

#: First counter value of each key prefix (ids then look like ``0035g0000004c92AAA``).
_FIRST_COUNTER = 1_000_000
_INSERT_CHUNK = 50_000
#: Reads go through a memory map of the file up to this size (SQLite caps it at 2 GB).
#: A query page with parent paths or child records reads thousands of rows scattered
#: over the table; from the map each costs no read call and no copy into the page
#: cache (child-subquery pages at 1,000,000 contacts: 110 ms instead of 170 ms).
MMAP_BYTES = 1 << 31


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one record of a multi-record write."""

    #: The record's id (None when a create failed).
    id: str | None
    #: True when the record was created (upsert tells create from update).
    created: bool = False
    #: Why the record failed, or None on success.
    error: SalesforceApiError | None = None

    @property
    def success(self) -> bool:
        """True when the record was written."""
        return self.error is None


def quote(identifier: str) -> str:
    """A SQL identifier in double quotes (API names may clash with SQL keywords)."""
    return '"' + identifier.replace('"', '""') + '"'


def column_sql_type(field: FieldDef) -> str:
    """The column declaration of a stored field (type and collation)."""
    if field.type in {"id", "reference"}:
        return "TEXT"
    if field.is_text:
        # SOQL '=' and ORDER BY on text are case-insensitive (SOQL and SOSL Reference).
        return "TEXT COLLATE NOCASE"
    if field.type == "boolean":
        return "INTEGER NOT NULL DEFAULT 0"
    if field.type == "int":
        return "INTEGER"
    if field.type in {"double", "currency", "percent"}:
        return "REAL"
    return "TEXT"


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class OrgStore:
    """The org's records in one SQLite file, validated the way Salesforce validates."""

    def __init__(
        self,
        path: Path,
        schema: Schema,
        *,
        clock: Callable[[], datetime] = utc_now,
        pod: str = DEFAULT_POD,
    ) -> None:
        self.path = Path(path)
        self.schema = schema
        self.clock = clock
        self.pod = pod
        self._lock = threading.RLock()
        self._listeners: list[ChangeListener] = []
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._conn.execute("PRAGMA cache_size=-131072")
        self._conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._create_tables()
        self._counters: dict[str, int] = dict(
            self._conn.execute("SELECT prefix, next_value FROM _emulator_counters").fetchall()
        )
        self._dirty_counters: set[str] = set()
        self._stage_cache: dict[str, dict[str, Any]] | None = None
        #: The transaction open on the thread holding the lock, if any (see transaction()).
        self._open_tx: StoreTransaction | None = None

    @classmethod
    def open(
        cls,
        data_dir: Path,
        schema: Schema,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> OrgStore:
        """The store of the org kept in ``data_dir`` (``DIR/org.sqlite3``), created if new."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / "org.sqlite3", schema, clock=clock)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    # --- tables ---------------------------------------------------------------------

    def _create_tables(self) -> None:
        conn = self._conn
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _emulator_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _emulator_counters "
            "(prefix TEXT PRIMARY KEY, next_value INTEGER NOT NULL)"
        )
        for sobj in self.schema:
            self._create_table(sobj)

    def _create_table(self, sobj: SObjectDef) -> None:
        conn = self._conn
        table = quote(sobj.name)
        existing = {row[1].lower() for row in conn.execute(f"PRAGMA table_info({table})")}
        columns = list(sobj.stored_fields)
        if not existing:
            parts = []
            for f in columns:
                decl = "TEXT PRIMARY KEY" if f.name == "Id" else column_sql_type(f)
                parts.append(f"{quote(f.name)} {decl}")
            conn.execute(f"CREATE TABLE {table} ({', '.join(parts)})")
        else:
            # A schema file may add fields to an org created earlier.
            for f in columns:
                if f.name.lower() not in existing:
                    conn.execute(
                        f"ALTER TABLE {table} ADD COLUMN {quote(f.name)} {column_sql_type(f)}"
                    )
        conn.execute(f"DROP INDEX IF EXISTS {quote(sobj.name + '__SystemModstamp')}")
        self._create_indexes(sobj)

    def _create_indexes(self, sobj: SObjectDef) -> None:
        for name, ddl in self._index_ddl(sobj):
            self._conn.execute(ddl.format(index=quote(name), table=quote(sobj.name)))

    @contextmanager
    def bulk_load(self, sobjects: Iterable[str]) -> Iterator[None]:
        """Load many rows into ``sobjects`` with their secondary indexes built afterwards.

        Inside the block the tables keep only their primary key; when it ends (even by
        an exception) every index is created again from the finished table. One sort
        per index is much cheaper than keeping each up to date row by row once the
        indexes outgrow the page cache (the seed generator's 1,000,000 contacts). The
        lock is held throughout, so no other thread reads a table without its indexes.
        """
        with self._lock:
            objects = [self.sobject(name) for name in dict.fromkeys(sobjects)]
            for sobj in objects:
                for name, _ in self._index_ddl(sobj):
                    self._conn.execute(f"DROP INDEX IF EXISTS {quote(name)}")
            # Loading gains little from the memory map, and the mapped pages would count
            # in the loading process's resident memory.
            self._conn.execute("PRAGMA mmap_size=0")
            try:
                yield
            finally:
                for sobj in objects:
                    self._create_indexes(sobj)
                self._conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")

    @staticmethod
    def _index_ddl(sobj: SObjectDef) -> Iterator[tuple[str, str]]:
        # IsDeleted rides along so counts and watermark windows are index-only.
        yield (
            f"{sobj.name}__SystemModstamp_Id_IsDeleted",
            'CREATE INDEX IF NOT EXISTS {index} ON {table} ("SystemModstamp", "Id", "IsDeleted")',
        )
        # Only the deleted rows (few): a query's totalSize without a WHERE clause is
        # the whole table, which SQLite counts without reading rows, minus these.
        yield (
            f"{sobj.name}__IsDeleted_true",
            'CREATE INDEX IF NOT EXISTS {index} ON {table} ("IsDeleted") WHERE "IsDeleted" = 1',
        )
        for f in sobj.stored_fields:
            column = quote(f.name)
            if f.type == "reference":
                yield (
                    f"{sobj.name}__{f.name}",
                    f"CREATE INDEX IF NOT EXISTS {{index}} ON {{table}} ({column})",
                )
            elif f.unique:
                # Unique among live rows: a deleted record frees its value.
                yield (
                    f"{sobj.name}__{f.name}",
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {{index}} ON {{table}} ({column}) "
                    f'WHERE "IsDeleted" = 0 AND {column} IS NOT NULL',
                )
            elif f.external_id or f.name == "Email":
                yield (
                    f"{sobj.name}__{f.name}",
                    f"CREATE INDEX IF NOT EXISTS {{index}} ON {{table}} ({column})",
                )

    # --- access ---------------------------------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held exclusively for the duration of the ``with`` block.

        The SOQL engine reads through it; writes must go through :meth:`transaction`.
        """
        with self._lock:
            yield self._conn

    def sobject(self, name: str) -> SObjectDef:
        """The object called ``name`` or raise INVALID_TYPE (SOQL and REST wording)."""
        sobj = self.schema.get(name)
        if sobj is None:
            raise SalesforceApiError(
                400, "INVALID_TYPE", f"sObject type '{name}' is not supported."
            )
        return sobj

    def now(self) -> str:
        """The current time in the stored datetime form."""
        return format_datetime(self.clock())

    # --- meta values (auth, limits, org identity) --------------------------------------

    def meta_get(self, key: str, default: Any = None) -> Any:
        """A JSON value the emulator keeps about the org (credentials, counters …)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM _emulator_meta WHERE key = ?", (key,)
            ).fetchone()
        return default if row is None else json.loads(row[0])

    def meta_set(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO _emulator_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    # --- ids --------------------------------------------------------------------------

    def allocate_ids(self, key_prefix: str, count: int = 1) -> list[str]:
        """``count`` new ids for the object with ``key_prefix`` (persisted on commit)."""
        with self._lock:
            start = self._counters.get(key_prefix, _FIRST_COUNTER)
            self._counters[key_prefix] = start + count
            self._dirty_counters.add(key_prefix)
            return make_ids(key_prefix, start, count, self.pod)

    def _flush_counters(self) -> None:
        for prefix in self._dirty_counters:
            self._conn.execute(
                "INSERT INTO _emulator_counters (prefix, next_value) VALUES (?, ?) "
                "ON CONFLICT(prefix) DO UPDATE SET next_value = excluded.next_value",
                (prefix, self._counters[prefix]),
            )
        self._dirty_counters.clear()

    # --- listeners --------------------------------------------------------------------

    def add_listener(self, callback: ChangeListener) -> None:
        """Call ``callback(sobject, operation, records)`` after each committed change.

        ``operation`` is ``insert``, ``update`` or ``delete``; ``records`` are the
        affected rows after the change, every stored field in stored form (booleans as
        ``bool``), without formula or compound fields.
        """
        self._listeners.append(callback)

    def remove_listener(self, callback: ChangeListener) -> None:
        """Stop calling ``callback``."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    @property
    def has_listeners(self) -> bool:
        """True when someone listens for changes (records are then read back after writes)."""
        return bool(self._listeners)

    def _notify(self, events: Sequence[tuple[str, str, list[dict[str, Any]]]]) -> None:
        for sobject_name, operation, records in events:
            for listener in list(self._listeners):
                listener(sobject_name, operation, records)

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, user_id: str | None = None) -> Iterator[StoreTransaction]:
        """A write transaction: commits when the block ends, rolls back on an exception.

        ``user_id`` is the running user (CreatedById, LastModifiedById, default OwnerId);
        it defaults to the org's admin user.
        """
        from crmbridge.emulator.store_writes import StoreTransaction

        with self._lock:
            outer = self._open_tx
            if outer is not None:
                # Re-entered by the thread that holds the lock (a composite request's
                # subrequests): nest as a savepoint of the open transaction, whose
                # commit notifies the listeners.
                with outer.savepoint():
                    yield outer
                return
            self._conn.execute("BEGIN IMMEDIATE")
            tx = StoreTransaction(self, self._conn, user_id or self.default_user_id)
            self._open_tx = tx
            try:
                yield tx
                self._flush_counters()
                self._conn.execute("COMMIT")
            except BaseException:
                # Ids handed out in a rolled-back transaction are simply never used.
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._open_tx = None
            events = tx.events()
        self._notify(events)

    @property
    def default_user_id(self) -> str:
        """The org's admin user (the running user of internal writes)."""
        user_id = self.meta_get("admin_user_id")
        if not user_id:
            raise RuntimeError("the org has no admin user yet (bootstrap it first)")
        return str(user_id)

    def create(self, sobject: str, values: Mapping[str, Any], *, user_id: str | None = None) -> str:
        """Create one record; return its id. Raises :class:`SalesforceApiError`."""
        with self.transaction(user_id=user_id) as tx:
            return tx.create(sobject, values)

    def update(
        self, sobject: str, record_id: str, values: Mapping[str, Any], *, user_id: str | None = None
    ) -> None:
        """Update one record. Raises :class:`SalesforceApiError`."""
        with self.transaction(user_id=user_id) as tx:
            tx.update(sobject, record_id, values)

    def delete(self, sobject: str, record_id: str, *, user_id: str | None = None) -> None:
        """Delete one record (it stays visible to queryAll). Raises :class:`SalesforceApiError`."""
        with self.transaction(user_id=user_id) as tx:
            tx.delete(sobject, record_id)

    def upsert(
        self,
        sobject: str,
        external_field: str,
        external_value: str,
        values: Mapping[str, Any],
        *,
        user_id: str | None = None,
    ) -> tuple[str, bool]:
        """Create or update by an external id (or ``Id``); return ``(id, created)``."""
        with self.transaction(user_id=user_id) as tx:
            return tx.upsert(sobject, external_field, external_value, values)

    def insert_many(
        self,
        sobject: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        user_id: str | None = None,
        validate: bool = True,
    ) -> list[WriteResult]:
        """Insert many records in one transaction.

        With ``validate=True`` each row is checked like a create and fails alone (the
        others are kept). With ``validate=False`` (the seed generator's fast path) rows
        must already hold stored-form values; defaults, Name and system fields are
        filled in (a row may bring its own CreatedDate/SystemModstamp/OwnerId), and rows
        go in with ``executemany`` in large chunks.
        """
        with self.transaction(user_id=user_id) as tx:
            if validate:
                return tx.create_each(sobject, rows)
            return tx.insert_trusted(sobject, rows, chunk=_INSERT_CHUNK)

    # --- reads --------------------------------------------------------------------------

    def get(
        self,
        sobject: str,
        record_id: str,
        fields: Sequence[str] | None = None,
        *,
        include_deleted: bool = False,
    ) -> dict[str, Any] | None:
        """One record by id in stored form (booleans as bool), formula fields computed.

        ``fields`` limits the result (API names, any case); unknown names raise
        INVALID_FIELD. Returns None when there is no such (live) record.
        """
        sobj = self.sobject(sobject)
        wanted = _resolve_fields(sobj, fields)
        stored = [f for f in wanted if f.stored]
        if not any(f.name == "IsDeleted" for f in stored):
            stored.append(sobj.field("IsDeleted"))  # type: ignore[arg-type]
        with self._lock:
            row = self._conn.execute(
                f"SELECT {', '.join(quote(f.name) for f in stored)} FROM {quote(sobj.name)} "
                f'WHERE "Id" = ?',
                (record_id,),
            ).fetchone()
            if row is None:
                return None
            record = decode_row(stored, row)
            if record.get("IsDeleted") and not include_deleted:
                return None
            for f in wanted:
                if f.calculated and f.formula:
                    record[f.name] = self._formula_value(sobj, record_id, f.formula)
        if fields is not None and not any(f.name == "IsDeleted" for f in wanted):
            record.pop("IsDeleted", None)
        return record

    def _formula_value(self, sobj: SObjectDef, record_id: str, path: str) -> Any:
        """Follow a formula path such as ``Account.Name`` from the record."""
        current_obj, current_id = sobj, record_id
        parts = path.split(".")
        for part in parts[:-1]:
            ref = current_obj.relationship(part)
            if ref is None:
                return None
            row = self._conn.execute(
                f'SELECT {quote(ref.name)} FROM {quote(current_obj.name)} WHERE "Id" = ?',
                (current_id,),
            ).fetchone()
            if row is None or row[0] is None:
                return None
            target = self.schema.object_for_id(row[0])
            if target is None:
                return None
            current_obj, current_id = target, row[0]
        final = current_obj.field(parts[-1])
        if final is None:
            return None
        row = self._conn.execute(
            f'SELECT {quote(final.name)} FROM {quote(current_obj.name)} WHERE "Id" = ?',
            (current_id,),
        ).fetchone()
        if row is None:
            return None
        return bool(row[0]) if final.type == "boolean" else row[0]

    def stage(self, name: str | None) -> dict[str, Any] | None:
        """The OpportunityStage row whose label is ``name`` (case-insensitive), cached."""
        if name is None:
            return None
        if self._stage_cache is None:
            with self._lock:
                cursor = self._conn.execute(
                    'SELECT * FROM "OpportunityStage" WHERE "IsDeleted" = 0'
                )
                columns = [d[0] for d in cursor.description]
                self._stage_cache = {
                    str(r[columns.index("MasterLabel")]).lower(): dict(zip(columns, r, strict=True))
                    for r in cursor.fetchall()
                }
        return self._stage_cache.get(name.lower())

    def forget_cached_stages(self) -> None:
        """Reload OpportunityStage rows on next use (after bootstrap changed them)."""
        self._stage_cache = None

    def count(self, sobject: str, *, include_deleted: bool = False) -> int:
        """How many records of ``sobject`` exist."""
        sobj = self.sobject(sobject)
        where = "" if include_deleted else ' WHERE "IsDeleted" = 0'
        with self._lock:
            return int(
                self._conn.execute(f"SELECT COUNT(*) FROM {quote(sobj.name)}{where}").fetchone()[0]
            )


def _resolve_fields(sobj: SObjectDef, names: Sequence[str] | None) -> list[FieldDef]:
    if names is None:
        return [f for f in sobj.fields if f.type != "address"]
    resolved = []
    for name in names:
        f = sobj.field(name.strip())
        if f is None:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name.strip()}' on sobject of type {sobj.name}",
            )
        if f.type != "address" and f not in resolved:
            resolved.append(f)
    if not any(f.name == "Id" for f in resolved):
        resolved.insert(0, sobj.field("Id"))  # type: ignore[arg-type]
    return resolved


def decode_row(fields: Sequence[FieldDef], row: Sequence[Any]) -> dict[str, Any]:
    """A record dict from a row of stored values (booleans become ``bool``)."""
    return {
        f.name: (bool(value) if f.type == "boolean" and value is not None else value)
        for f, value in zip(fields, row, strict=True)
    }
