"""Writes inside one store transaction: create, update, upsert, delete, bulk insert.

Obtained from :meth:`OrgStore.transaction`; every method validates like Salesforce
and raises :class:`SalesforceApiError` without writing anything for that record. Use
:meth:`StoreTransaction.savepoint` to let one record fail while others in the same
transaction succeed (collections with ``allOrNone=false``, Bulk API rows).
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.ids import parse_id
from crmbridge.emulator.references import resolve_relationship_references
from crmbridge.emulator.rules import check_record, derive, new_record, prepare_values
from crmbridge.emulator.schema import SObjectDef
from crmbridge.emulator.store import WriteResult, decode_row, quote
from crmbridge.emulator.values import coerce

if TYPE_CHECKING:
    from crmbridge.emulator.store import OrgStore

_NOT_FOUND = "The requested resource does not exist"


class StoreTransaction:
    """The write operations of one open transaction."""

    def __init__(self, store: OrgStore, conn: sqlite3.Connection, user_id: str) -> None:
        self.store = store
        self.conn = conn
        #: The running user: CreatedById, LastModifiedById and the default OwnerId.
        self.user_id = user_id
        self._events: list[tuple[str, str, list[dict[str, Any]]]] = []
        self._savepoints = itertools.count()

    # --- plumbing -------------------------------------------------------------------

    def events(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """The changes of this transaction, consecutive ones of a kind merged."""
        merged: list[tuple[str, str, list[dict[str, Any]]]] = []
        for name, operation, records in self._events:
            if merged and merged[-1][0] == name and merged[-1][1] == operation:
                merged[-1][2].extend(records)
            else:
                merged.append((name, operation, list(records)))
        return merged

    def _record_event(self, sobj: SObjectDef, operation: str, record: Mapping[str, Any]) -> None:
        if self.store.has_listeners:
            self._events.append((sobj.name, operation, [_public(sobj, record)]))

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo only the writes of this block when it raises (the exception propagates)."""
        name = f"sp{next(self._savepoints)}"
        mark = len(self._events)
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            del self._events[mark:]
            raise
        self.conn.execute(f"RELEASE {name}")

    def fetch(self, sobj: SObjectDef, record_id: str) -> dict[str, Any] | None:
        """The stored row of a record (deleted or not), or None."""
        fields = sobj.stored_fields
        row = self.conn.execute(
            f"SELECT {', '.join(quote(f.name) for f in fields)} FROM {quote(sobj.name)} "
            'WHERE "Id" = ?',
            (record_id,),
        ).fetchone()
        if row is None:
            return None
        return dict(zip((f.name for f in fields), row, strict=True))

    def _live_record(self, sobj: SObjectDef, record_id: str) -> dict[str, Any]:
        canonical = parse_id(record_id, label=f"{sobj.name} ID")
        record = self.fetch(sobj, canonical)
        if record is None:
            raise SalesforceApiError(404, "NOT_FOUND", _NOT_FOUND)
        if record["IsDeleted"]:
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    # --- create -----------------------------------------------------------------------

    def create(self, sobject: str, values: Mapping[str, Any], *, system: bool = False) -> str:
        """Create a record and return its id.

        ``system=True`` is for the emulator's own writes (bootstrap, lead conversion):
        read-only fields may be set and an ``Id`` may be given.
        """
        sobj = self.store.sobject(sobject)
        if not sobj.createable and not system:
            raise SalesforceApiError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {sobj.name}"
            )
        values = resolve_relationship_references(self.conn, self.store.schema, sobj, values)
        given = prepare_values(sobj, values, creating=True, system=system)
        now = self.store.now()
        record_id = given.pop("Id", None) or self.store.allocate_ids(sobj.key_prefix)[0]
        record = new_record(sobj, record_id=record_id, now=now, user_id=self.user_id)
        record.update(given)
        changed = set(given)
        derive(self.store, sobj, record, changed, now=now)
        check_record(self.store, self.conn, sobj, record, changed, creating=True)
        columns, sql = insert_statement(sobj)
        self.conn.execute(sql, [record[c] for c in columns])
        self._record_event(sobj, "insert", record)
        return record_id

    def create_each(self, sobject: str, rows: Iterable[Mapping[str, Any]]) -> list[WriteResult]:
        """Create each row on its own: a failing row is skipped, the others are kept."""
        results = []
        for row in rows:
            try:
                with self.savepoint():
                    results.append(WriteResult(self.create(sobject, row), created=True))
            except SalesforceApiError as error:
                results.append(WriteResult(None, error=error))
        return results

    def insert_trusted(
        self, sobject: str, rows: Iterable[Mapping[str, Any]], *, chunk: int
    ) -> list[WriteResult]:
        """Insert rows already in stored form, without validation (seed generator path)."""
        sobj = self.store.sobject(sobject)
        columns, sql = insert_statement(sobj)
        now = self.store.now()
        template = new_record(sobj, record_id="", now=now, user_id=self.user_id)
        row_values = operator.itemgetter(*columns)
        derives = bool(sobj.full_name_parts) or sobj.name in {
            "Opportunity",
            "Task",
            "CampaignMember",
            "Event",
        }
        results: list[WriteResult] = []
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, chunk)):
            ids = iter(self.store.allocate_ids(sobj.key_prefix, len(batch)))
            params = []
            for row in batch:
                record = template.copy()
                record.update(row)
                if not row.get("Id"):
                    record["Id"] = next(ids)
                if derives:
                    derive(self.store, sobj, record, set(row), now=record["SystemModstamp"])
                params.append(row_values(record))
                if self.store.has_listeners:
                    self._record_event(sobj, "insert", record)
                results.append(WriteResult(record["Id"], created=True))
            self.conn.executemany(sql, params)
        return results

    # --- update -----------------------------------------------------------------------

    def update(
        self,
        sobject: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        system: bool = False,
    ) -> None:
        """Update a record (NOT_FOUND / ENTITY_IS_DELETED when it is not there)."""
        sobj = self.store.sobject(sobject)
        if not sobj.updateable and not system:
            raise SalesforceApiError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be updated: {sobj.name}"
            )
        existing = self._live_record(sobj, record_id)
        if sobj.name == "Lead" and existing.get("IsConverted") and not system:
            # A converted lead is read-only (SOAP API StatusCode CANNOT_UPDATE_CONVERTED_LEAD).
            raise SalesforceApiError(
                400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"
            )
        given_id = next((v for k, v in values.items() if k.lower() == "id"), None)
        if given_id not in (None, "") and parse_id(given_id, label="Record ID") != existing["Id"]:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Record ID: cannot specify Id in an update call",
                ["Id"],
            )
        values = resolve_relationship_references(self.conn, self.store.schema, sobj, values)
        given = prepare_values(sobj, values, creating=False, system=system)
        given.pop("Id", None)
        now = self.store.now()
        record = dict(existing)
        record.update(given)
        changed = set(given)
        derive(self.store, sobj, record, changed, now=now)
        check_record(self.store, self.conn, sobj, record, changed, creating=False)
        # Every update bumps the audit fields, even one that changes no value.
        record.update(LastModifiedDate=now, LastModifiedById=self.user_id, SystemModstamp=now)
        columns = [c for c in record if c != "Id" and record[c] != existing.get(c)]
        self.conn.execute(
            f"UPDATE {quote(sobj.name)} SET {', '.join(f'{quote(c)} = ?' for c in columns)} "
            'WHERE "Id" = ?',
            [record[c] for c in columns] + [existing["Id"]],
        )
        self._record_event(sobj, "update", record)

    # --- upsert -----------------------------------------------------------------------

    def upsert(
        self,
        sobject: str,
        external_field: str,
        external_value: Any,
        values: Mapping[str, Any],
    ) -> tuple[str, bool]:
        """Create or update by an external id field (or ``Id``); return ``(id, created)``.

        Several matches raise status 300 with ``matching_ids`` (REST API Developer Guide,
        "Insert or Update (Upsert) a Record Using an External ID").
        """
        sobj = self.store.sobject(sobject)
        field = sobj.field(external_field)
        if field is None:
            raise SalesforceApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {external_field}",
            )
        body = {k: v for k, v in values.items() if k.lower() != field.name.lower()}
        if field.name == "Id":
            if external_value in (None, ""):
                return self.create(sobject, body), True
            self.update(sobject, external_value, body)
            return parse_id(external_value), False
        if not field.external_id:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"Field {field.name} is not an external ID or indexed field for {sobj.name}",
                [field.name],
            )
        sent = next((v for k, v in values.items() if k.lower() == field.name.lower()), None)
        key = coerce(field, external_value)
        if sent not in (None, "") and coerce(field, sent) != key:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"The {field.name} value in the URL and in the request body differ",
                [field.name],
            )
        if key is None:
            raise SalesforceApiError(
                400, "MISSING_ARGUMENT", f"{field.name} not specified", [field.name]
            )
        collate = "" if field.case_sensitive else " COLLATE NOCASE"
        matches = [
            row[0]
            for row in self.conn.execute(
                f'SELECT "Id" FROM {quote(sobj.name)} WHERE "IsDeleted" = 0 '
                f'AND {quote(field.name)} = ?{collate} ORDER BY "Id" LIMIT 100',
                (key,),
            )
        ]
        if not matches:
            return self.create(sobject, {**body, field.name: key}), True
        if len(matches) > 1:
            raise SalesforceApiError(
                300,
                "DUPLICATE_EXTERNAL_ID",
                f"{field.label}: more than one record found for external id field: "
                f"[{', '.join(matches)}]",
                [field.name],
                matching_ids=matches,
            )
        self.update(sobject, matches[0], body)
        return matches[0], False

    # --- delete -----------------------------------------------------------------------

    def delete(self, sobject: str, record_id: str, *, system: bool = False) -> list[str]:
        """Delete a record and its cascade-deleted children; return every deleted id.

        Deleted rows keep ``IsDeleted = 1`` so queryAll and the ``deleted`` resource see
        them; their SystemModstamp is the deletion time. Lookups that do not cascade
        are cleared, as Salesforce clears lookup fields to a deleted parent.
        """
        sobj = self.store.sobject(sobject)
        if not sobj.deletable and not system:
            raise SalesforceApiError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {sobj.name}"
            )
        record = self._live_record(sobj, record_id)
        now = self.store.now()
        deleted: list[str] = []
        self._delete_tree(sobj, record, now, deleted)
        return deleted

    def _delete_tree(
        self, sobj: SObjectDef, record: dict[str, Any], now: str, deleted: list[str]
    ) -> None:
        record.update(
            IsDeleted=1, LastModifiedDate=now, LastModifiedById=self.user_id, SystemModstamp=now
        )
        self.conn.execute(
            f'UPDATE {quote(sobj.name)} SET "IsDeleted" = 1, "LastModifiedDate" = ?, '
            '"LastModifiedById" = ?, "SystemModstamp" = ? WHERE "Id" = ?',
            (now, self.user_id, now, record["Id"]),
        )
        deleted.append(record["Id"])
        self._record_event(sobj, "delete", record)
        for child in sobj.child_relationships:
            child_obj = self.store.schema.get(child.child_sobject)
            if child_obj is None:
                continue
            column = quote(child.field)
            if child.cascade_delete:
                ids = [
                    r[0]
                    for r in self.conn.execute(
                        f'SELECT "Id" FROM {quote(child_obj.name)} WHERE {column} = ? '
                        'AND "IsDeleted" = 0',
                        (record["Id"],),
                    )
                ]
                for child_id in ids:
                    child_record = self.fetch(child_obj, child_id)
                    if child_record is not None and not child_record["IsDeleted"]:
                        self._delete_tree(child_obj, child_record, now, deleted)
            else:
                self.conn.execute(
                    f"UPDATE {quote(child_obj.name)} SET {column} = NULL, "
                    '"SystemModstamp" = ? WHERE ' + f'{column} = ? AND "IsDeleted" = 0',
                    (now, record["Id"]),
                )


_INSERTS: dict[int, tuple[SObjectDef, list[str], str]] = {}


def insert_statement(sobj: SObjectDef) -> tuple[list[str], str]:
    """The stored columns of an object and the INSERT statement that fills them all."""
    cached = _INSERTS.get(id(sobj))
    if cached is None or cached[0] is not sobj:
        columns = [f.name for f in sobj.stored_fields]
        sql = (
            f"INSERT INTO {quote(sobj.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        cached = _INSERTS[id(sobj)] = (sobj, columns, sql)
    return cached[1], cached[2]


def _public(sobj: SObjectDef, record: Mapping[str, Any]) -> dict[str, Any]:
    """A listener's copy of a record: stored fields, booleans as bool."""
    fields = sobj.stored_fields
    return decode_row(fields, [record.get(f.name) for f in fields])
