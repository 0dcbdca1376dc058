"""Bulk API 2.0 through the one client: ingest jobs for large writes, query jobs for
large reads.

An ingest job costs about six API calls whatever its size (create, upload, close, one or
more state polls, successful and failed results), against one call per 200 records
for collections; the engine switches above a configurable threshold (R-S6).

Source: Bulk API 2.0 and Bulk API Developer Guide ("Create a Job", "Upload Job Data",
"Close or Abort a Job", "Get Job Successful/Failed Record Results", "Get Results for
a Query Job" with ``Sforce-Locator``).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.errors import (
    ConfigurationError,
    CrmError,
    NetworkError,
    classify_salesforce_error,
)
from crmbridge.salesforce.client import SalesforceClient

#: How Bulk API 2.0 CSV writes a null in ingest data.
CSV_NULL = "#N/A"
_FINISHED = {"JobComplete", "Failed", "Aborted"}


@dataclass(frozen=True, kw_only=True)
class BulkRowResult:
    """The outcome of one uploaded row."""

    #: The row as uploaded (column → text).
    row: Mapping[str, str]
    #: Salesforce id when the row succeeded (or when Salesforce reported one).
    id: str | None
    #: Whether Salesforce saved it.
    success: bool
    #: For inserts/upserts: whether it was created.
    created: bool | None = None
    #: Why it failed, classified.
    error: CrmError | None = None


@dataclass(frozen=True, kw_only=True)
class BulkIngestResult:
    """A finished ingest job."""

    #: The job id.
    job_id: str
    #: Final state: JobComplete, Failed or Aborted.
    state: str
    #: One result per row Salesforce reported (successful and failed).
    rows: tuple[BulkRowResult, ...]
    #: Rows Salesforce never processed (job failed or aborted).
    unprocessed: tuple[Mapping[str, str], ...] = ()


def to_csv_value(value: Any) -> str:
    """A Python value as Bulk API 2.0 CSV text (``#N/A`` clears a field)."""
    if value is None:
        return CSV_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)  # multi-select picklist
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def records_to_csv(records: Sequence[Mapping[str, Any]]) -> tuple[bytes, list[str]]:
    """CSV bytes (LF line endings, every field quoted as needed) and its columns."""
    columns: list[str] = []
    for record in records:
        for name in record:
            if name != "attributes" and name not in columns:
                columns.append(name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([to_csv_value(record.get(c)) if c in record else "" for c in columns])
    return buffer.getvalue().encode("utf-8"), columns


class BulkClient:
    """Bulk API 2.0 jobs through a :class:`SalesforceClient`.

    Args:
        client: the connection's client (auth, retries, usage accounting).
        poll_initial: first wait before asking for the job state, in seconds.
        poll_max: longest wait between state polls.
        timeout: give up waiting for a job after this many seconds.
        sleep: the sleep function (tests pass a fake one).
    """

    def __init__(
        self,
        client: SalesforceClient,
        *,
        poll_initial: float = 0.2,
        poll_max: float = 10.0,
        timeout: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._poll_initial = poll_initial
        self._poll_max = poll_max
        self._timeout = timeout
        self._sleep = sleep

    def ingest(
        self,
        sobject: str,
        operation: str,
        records: Sequence[Mapping[str, Any]],
        *,
        external_id_field: str | None = None,
    ) -> BulkIngestResult:
        """Run one ingest job (insert, update, upsert, delete) and collect its results."""
        body: dict[str, Any] = {
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if operation == "upsert":
            if not external_id_field:
                raise ConfigurationError("An upsert job needs an external id field.")
            body["externalIdFieldName"] = external_id_field
        job = self._client.request("POST", "jobs/ingest", json=body, idempotent=False).json()
        job_id = str(job["id"])
        payload, _ = records_to_csv(records)
        self._client.request(
            "PUT",
            f"jobs/ingest/{job_id}/batches",
            content=payload,
            headers={"Content-Type": "text/csv"},
        )
        self._client.request("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})
        info = self._wait("ingest", job_id)
        state = str(info["state"])
        rows: list[BulkRowResult] = []
        if int(info.get("numberRecordsProcessed", 0)) - int(info.get("numberRecordsFailed", 0)):
            rows.extend(self._successes(job_id))
        if int(info.get("numberRecordsFailed", 0)):
            rows.extend(self._failures(job_id))
        unprocessed: list[Mapping[str, str]] = []
        if state != "JobComplete":
            text = self._client.request("GET", f"jobs/ingest/{job_id}/unprocessedrecords/").text
            unprocessed = list(csv.DictReader(io.StringIO(text)))
        return BulkIngestResult(
            job_id=job_id, state=state, rows=tuple(rows), unprocessed=tuple(unprocessed)
        )

    def _successes(self, job_id: str) -> Iterator[BulkRowResult]:
        text = self._client.request("GET", f"jobs/ingest/{job_id}/successfulResults/").text
        for row in csv.DictReader(io.StringIO(text)):
            sf_id = row.pop("sf__Id", "") or None
            created = row.pop("sf__Created", "")
            yield BulkRowResult(
                row=row,
                id=sf_id,
                success=True,
                created=None if created == "" else created.lower() == "true",
            )

    def _failures(self, job_id: str) -> Iterator[BulkRowResult]:
        text = self._client.request("GET", f"jobs/ingest/{job_id}/failedResults/").text
        for row in csv.DictReader(io.StringIO(text)):
            sf_id = row.pop("sf__Id", "") or None
            yield BulkRowResult(
                row=row, id=sf_id, success=False, error=parse_bulk_error(row.pop("sf__Error", ""))
            )

    def query(
        self, soql: str, *, include_deleted: bool = False, page_size: int = 50_000
    ) -> Iterator[dict[str, str]]:
        """Rows of a query job, page by page (``Sforce-Locator``); values are CSV text."""
        body = {"operation": "queryAll" if include_deleted else "query", "query": soql}
        job = self._client.request("POST", "jobs/query", json=body, idempotent=True).json()
        job_id = str(job["id"])
        self._wait("query", job_id)
        locator: str | None = None
        while True:
            params: dict[str, Any] = {"maxRecords": page_size}
            if locator:
                params["locator"] = locator
            response = self._client.request("GET", f"jobs/query/{job_id}/results", params=params)
            yield from csv.DictReader(io.StringIO(response.text))
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    def _wait(self, kind: str, job_id: str) -> dict[str, Any]:
        waited, delay = 0.0, self._poll_initial
        while True:
            self._sleep(delay)
            waited += delay
            info = dict(self._client.request("GET", f"jobs/{kind}/{job_id}").json())
            state = info.get("state")
            if state in _FINISHED:
                if kind == "query" and state != "JobComplete":
                    raise ConfigurationError(
                        f"The Bulk query job {job_id} ended {state}: "
                        f"{info.get('errorMessage', 'no reason given')}"
                    )
                return info
            if waited >= self._timeout:
                raise NetworkError(f"The Bulk job {job_id} did not finish in {self._timeout}s.")
            delay = min(delay * 2, self._poll_max)


def parse_bulk_error(text: str) -> CrmError:
    """Classify ``sf__Error`` text.

    Example: ``REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --``.
    """
    code, _, rest = text.partition(":")
    message, _, fields_part = rest.rpartition(":")
    if not message:
        message, fields_part = rest, ""
    fields = [f for f in fields_part.replace("--", "").strip().split(",") if f]
    return classify_salesforce_error(
        status=None, code=code.strip(), message=message.strip() or text, fields=fields
    )
