"""Processing Bulk jobs: ingest rows through the store's validation, run queries to CSV.

Ingest ("Bulk API 2.0 Developer Guide", Prepare CSV Files, Valid CSV Record Rows,
Relationship Fields in a Header Row, Get Job Successful/Failed/Unprocessed Record
Results):

- the whole upload is parsed first; a malformed file or an unknown column fails the
  job (``errorMessage`` like ``InvalidBatch : Field name not found : Foo``) before any
  record is written, and every row is reported unprocessed;
- rows are then written in chunks, each chunk one store transaction and each row its
  own savepoint, so one bad row fails alone;
- an empty value leaves a field unchanged, ``#N/A`` sets it to null, a column
  ``Account.Platform_Id__c`` sets ``AccountId`` to the Account with that external id;
- successful rows are reported with ``sf__Id`` and ``sf__Created``, failed rows with
  ``sf__Id`` and ``sf__Error`` (``STATUS_CODE:message:fields --``), each followed by
  the row's original values.

Query jobs stream :meth:`QueryEngine.iter_flat` into a paged CSV file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmbridge.emulator import bulk2_jobs as jobs
from crmbridge.emulator.csvio import (
    NULL_MARKER,
    CsvDialect,
    CsvFormatError,
    ParsedCsv,
    iter_csv_lines,
    parse_csv,
    write_csv,
)
from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.schema import FieldDef, SObjectDef
from crmbridge.emulator.store import OrgStore, quote
from crmbridge.emulator.store_writes import StoreTransaction
from crmbridge.emulator.values import coerce

#: Rows written per store transaction (Salesforce also commits ingest data in chunks).
CHUNK_SIZE = 2_000
#: Bulk API 2.0 counts one batch per 10,000 records toward DailyBulkApiBatches.
RECORDS_PER_BATCH = 10_000


def format_bulk_error(error: SalesforceApiError) -> str:
    """The ``sf__Error`` text of a failed row.

    For example ``REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --``.
    """
    return f"{error.error_code}:{error.message}:{','.join(error.fields)} --"


@dataclass(frozen=True)
class _Column:
    """How one CSV column maps onto the object."""

    #: The header as the client wrote it (kept for results).
    header: str
    #: The field written (``AccountId`` for ``Account.Platform_Id__c``).
    field: FieldDef
    #: For relationship columns: the parent object and the field that identifies it.
    parent: SObjectDef | None = None
    parent_key: FieldDef | None = None


def map_columns(sobj: SObjectDef, header: Sequence[str], schema: Any) -> list[_Column]:
    """Resolve each header to a field, or raise ``CsvFormatError`` (InvalidBatch)."""
    columns = []
    for name in header:
        if "." in name:
            relationship, _, key_name = name.partition(".")
            # Polymorphic lookups name the parent type: ``Who:Contact.Email``.
            relationship, _, parent_type = relationship.partition(":")
            ref = sobj.relationship(relationship)
            if ref is None:
                raise CsvFormatError("InvalidBatch", f"Field name not found : {name}")
            target = parent_type or (ref.reference_to[0] if len(ref.reference_to) == 1 else "")
            parent = schema.get(target) if target else None
            key = parent.field(key_name) if parent is not None else None
            if (
                parent is None
                or key is None
                or not (key.external_id or key.unique or key.name == "Id")
            ):
                raise CsvFormatError("InvalidBatch", f"Field name not found : {name}")
            columns.append(_Column(name, ref, parent, key))
            continue
        field = sobj.field(name)
        if field is None or field.type == "address":
            raise CsvFormatError("InvalidBatch", f"Field name not found : {name}")
        columns.append(_Column(name, field))
    return columns


def _parent_id(tx: StoreTransaction, column: _Column, value: str) -> str:
    assert column.parent is not None
    assert column.parent_key is not None
    key = coerce(column.parent_key, value)
    rows = tx.conn.execute(
        f'SELECT "Id" FROM {quote(column.parent.name)} WHERE "IsDeleted" = 0 AND '
        f"{quote(column.parent_key.name)} = ? LIMIT 2",
        (key,),
    ).fetchall()
    if len(rows) != 1:
        problem = "not found" if not rows else "matches more than one record"
        raise SalesforceApiError(
            400,
            "INVALID_FIELD",
            f"Foreign key external ID: {value} {problem} for field {column.parent_key.name} "
            f"in entity {column.parent.name}",
        )
    return str(rows[0][0])


def _row_values(
    tx: StoreTransaction, columns: Sequence[_Column], row: Sequence[str]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, text in zip(columns, row, strict=True):
        if text == "":
            continue  # Valid CSV Record Rows: empty values are ignored.
        if text == NULL_MARKER:
            values[column.field.name] = None
            continue
        if column.parent is not None:
            values[column.field.name] = _parent_id(tx, column, text)
        else:
            values[column.field.name] = text
    return values


@dataclass
class IngestOutcome:
    processed: int = 0
    failed: int = 0


class IngestRun:
    """Processes one ingest job's upload into result files."""

    def __init__(self, store: OrgStore, job: jobs.BulkJob, job_dir: Path) -> None:
        self.store = store
        self.job = job
        self.dir = job_dir
        self.dialect = CsvDialect(
            column_delimiter=job.column_delimiter, line_ending=job.line_ending
        )

    def parse(self) -> ParsedCsv:
        data_path = self.dir / "data.csv"
        data = data_path.read_bytes() if data_path.exists() else b""
        return parse_csv(data, self.dialect)

    def write_unprocessed(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        (self.dir / "unprocessed.csv").write_text(write_csv(header, rows, self.dialect), "utf-8")

    def run(self, *, user_id: str, aborted: Callable[[], bool]) -> IngestOutcome:
        """Write every row; raise ``CsvFormatError`` when the upload is unusable."""
        parsed = self.parse()
        sobj = self.store.sobject(self.job.object)
        columns = map_columns(sobj, parsed.header, self.store.schema)
        operation = self.job.operation
        lowered = [c.field.name.lower() for c in columns if c.parent is None]
        if operation in ("delete", "hardDelete") and lowered != ["id"]:
            raise CsvFormatError("InvalidBatch", f"The '{operation}' batch must contain only 'Id'")
        if operation == "update" and "id" not in lowered:
            raise CsvFormatError("InvalidBatch", "Field name not found : Id")
        external = None
        if operation == "upsert":
            external = sobj.field(self.job.external_id_field or "")
            if external is None or external.name.lower() not in lowered:
                raise CsvFormatError(
                    "InvalidBatch",
                    f"Field name not found : {self.job.external_id_field}",
                )
        ok_header = ["sf__Id", "sf__Created", *parsed.header]
        bad_header = ["sf__Id", "sf__Error", *parsed.header]
        successes: list[list[Any]] = []
        failures: list[list[Any]] = []
        outcome = IngestOutcome()
        rows = parsed.rows
        position = 0
        while position < len(rows):
            if aborted():
                break
            chunk = rows[position : position + CHUNK_SIZE]
            with self.store.transaction(user_id=user_id) as tx:
                for row in chunk:
                    try:
                        with tx.savepoint():
                            record_id, created = self._write(tx, sobj, columns, row, external)
                        successes.append([record_id, "true" if created else "false", *row])
                    except SalesforceApiError as error:
                        failures.append([_row_id(columns, row), format_bulk_error(error), *row])
                        outcome.failed += 1
                    outcome.processed += 1
            position += len(chunk)
        (self.dir / "success.csv").write_text(
            write_csv(ok_header, successes, self.dialect), "utf-8"
        )
        (self.dir / "failed.csv").write_text(write_csv(bad_header, failures, self.dialect), "utf-8")
        self.write_unprocessed(parsed.header, rows[position:])
        return outcome

    def _write(
        self,
        tx: StoreTransaction,
        sobj: SObjectDef,
        columns: Sequence[_Column],
        row: Sequence[str],
        external: FieldDef | None,
    ) -> tuple[str, bool]:
        values = _row_values(tx, columns, row)
        operation = self.job.operation
        if operation == "insert":
            return tx.create(sobj.name, values), True
        if operation == "upsert":
            assert external is not None
            key = values.get(external.name)
            if key in (None, ""):
                raise SalesforceApiError(
                    400, "MISSING_ARGUMENT", f"{external.name} not specified", [external.name]
                )
            return tx.upsert(sobj.name, external.name, key, values)
        record_id = values.pop("Id", None)
        if record_id in (None, ""):
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
        if operation == "update":
            tx.update(sobj.name, str(record_id), values)
            return str(coerce(sobj.field("Id"), record_id)), False  # type: ignore[arg-type]
        deleted = tx.delete(sobj.name, str(record_id))
        if operation == "hardDelete":
            # Hard-deleted records skip the recycle bin: queryAll no longer sees them.
            for gone in deleted:
                target = self.store.schema.object_for_id(gone)
                if target is not None:
                    tx.conn.execute(f'DELETE FROM {quote(target.name)} WHERE "Id" = ?', (gone,))
        return deleted[0], False


def _row_id(columns: Sequence[_Column], row: Sequence[str]) -> str:
    for column, value in zip(columns, row, strict=True):
        if column.parent is None and column.field.name == "Id":
            return value
    return ""


def run_query_to_file(
    engine: Any,
    soql: str,
    *,
    include_deleted: bool,
    target: Path,
    dialect: CsvDialect,
    aborted: Callable[[], bool],
) -> int:
    """Run a Bulk query into a paged CSV file; return how many records it holds."""
    names, rows = engine.iter_flat(soql, include_deleted=include_deleted)
    lines = iter_csv_lines(names, rows, dialect)
    header = next(lines)

    def records() -> Any:
        for index, line in enumerate(lines):
            if index % 5_000 == 0 and aborted():
                return
            yield line

    return jobs.PagedCsvFile(target).write(header, records)


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
