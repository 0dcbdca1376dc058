"""Bulk job records, their state machines, and where their data lives on disk.

Shared by Bulk API 2.0 (ingest and query jobs) and Bulk API 1.0 (query jobs with
batches). A job is a small JSON file plus its CSV files in ``DIR/bulk/<jobId>/``, so
a restart of the emulator keeps every job and its results, as Salesforce keeps them
for seven days.

States and transitions follow "Bulk API 2.0 and Bulk API Developer Guide":
ingest ``Open → UploadComplete → InProgress → JobComplete | Failed`` with ``Aborted``
reachable until processing ends; query ``UploadComplete → InProgress → JobComplete |
Failed | Aborted``; Bulk 1.0 jobs ``Open → Closed | Aborted``.
"""

from __future__ import annotations

import json
import shutil
import threading
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OPEN = "Open"
UPLOAD_COMPLETE = "UploadComplete"
IN_PROGRESS = "InProgress"
JOB_COMPLETE = "JobComplete"
FAILED = "Failed"
ABORTED = "Aborted"
CLOSED = "Closed"

INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")

#: States in which a job's processing is over.
FINAL_STATES = frozenset({JOB_COMPLETE, FAILED, ABORTED})

#: Allowed ``PATCH`` targets per current state, for Bulk 2.0 ingest jobs (Close or Abort
#: a Job: only ``UploadComplete`` and ``Aborted`` can be requested).
_INGEST_TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({UPLOAD_COMPLETE, ABORTED}),
    UPLOAD_COMPLETE: frozenset({ABORTED}),
    IN_PROGRESS: frozenset({ABORTED}),
}
#: Query jobs can only be aborted, while they run (Abort a Query Job).
_QUERY_TRANSITIONS: dict[str, frozenset[str]] = {
    UPLOAD_COMPLETE: frozenset({ABORTED}),
    IN_PROGRESS: frozenset({ABORTED}),
}
#: Bulk 1.0 jobs are closed or aborted while open (Close a Job / Abort a Job).
_CLASSIC_TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({CLOSED, ABORTED}),
}


class JobStateError(Exception):
    """A requested state change is not allowed from the job's current state."""


def sf_datetime(moment: datetime) -> str:
    """Salesforce's JSON datetime form, e.g. ``2022-01-02T21:33:43.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def xml_datetime(moment: datetime) -> str:
    """The Bulk 1.0 XML form, e.g. ``2015-12-15T21:41:45.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(kw_only=True)
class BatchInfo:
    """One Bulk 1.0 batch (a query) of a classic job."""

    #: 751-prefixed id.
    id: str
    #: ``Queued``, ``InProgress``, ``Completed``, ``Failed`` or ``NotProcessed``.
    state: str = "Queued"
    state_message: str = ""
    created_date: str = ""
    system_modstamp: str = ""
    number_records_processed: int = 0
    number_records_failed: int = 0
    total_processing_time: int = 0
    #: 752-prefixed ids of the result files, in order.
    result_ids: list[str] = field(default_factory=list)
    query: str = ""


@dataclass(kw_only=True)
class BulkJob:
    """A Bulk API job, ingest or query, 2.0 or 1.0 (``kind``)."""

    #: 750-prefixed 18-character id.
    id: str
    #: ``ingest`` or ``query`` (Bulk 2.0), ``classic`` (Bulk 1.0).
    kind: str
    operation: str
    object: str
    created_by_id: str
    created_date: datetime
    system_modstamp: datetime
    state: str
    api_version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    content_type: str = "CSV"
    external_id_field: str | None = None
    query: str | None = None
    number_records_processed: int = 0
    number_records_failed: int = 0
    retries: int = 0
    total_processing_time: int = 0
    api_active_processing_time: int = 0
    error_message: str | None = None
    #: Whether a Bulk 2.0 ingest job has received its (single) upload.
    has_data: bool = False
    #: Bulk 1.0 only: the job's batches in creation order.
    batches: list[BatchInfo] = field(default_factory=list)

    # --- state machine ------------------------------------------------------------

    def request_state(self, target: str) -> None:
        """Apply a state change a client asked for, or raise :class:`JobStateError`."""
        table = {
            "ingest": _INGEST_TRANSITIONS,
            "query": _QUERY_TRANSITIONS,
            "classic": _CLASSIC_TRANSITIONS,
        }[self.kind]
        if target not in table.get(self.state, frozenset()):
            raise JobStateError(f"Invalid state transition from {self.state} to {target}")
        self.state = target

    def mark(self, state: str, *, now: datetime, error_message: str | None = None) -> None:
        """Record a state the processor reached (not a client request)."""
        self.state = state
        self.system_modstamp = now
        if error_message is not None:
            self.error_message = error_message

    # --- JSON shapes (Bulk API 2.0) ------------------------------------------------

    def to_json(self, *, detailed: bool) -> dict[str, Any]:
        """The job info as Bulk API 2.0 shows it.

        ``detailed`` adds the counters that Get Job Info returns but Create a Job and
        Get All Jobs do not.
        """
        info: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by_id,
            "createdDate": sf_datetime(self.created_date),
            "systemModstamp": sf_datetime(self.system_modstamp),
            "state": self.state,
        }
        if self.external_id_field:
            info["externalIdFieldName"] = self.external_id_field
        info.update(
            {
                "concurrencyMode": "Parallel",
                "contentType": self.content_type,
                "apiVersion": float(self.api_version),
            }
        )
        if self.kind == "ingest":
            if self.state == OPEN:
                info["contentUrl"] = (
                    f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
                )
            if detailed:
                info["jobType"] = "V2Ingest"
        elif detailed:
            info["jobType"] = "V2Query"
        info["lineEnding"] = self.line_ending
        info["columnDelimiter"] = self.column_delimiter
        if detailed:
            info["numberRecordsProcessed"] = self.number_records_processed
            if self.kind == "ingest":
                info["numberRecordsFailed"] = self.number_records_failed
            info["retries"] = self.retries
            info["totalProcessingTime"] = self.total_processing_time
            if self.kind == "ingest":
                info["apiActiveProcessingTime"] = self.api_active_processing_time
                info["apexProcessingTime"] = 0
            if self.error_message:
                info["errorMessage"] = self.error_message
        return info

    # --- persistence ----------------------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["created_date"] = self.created_date.isoformat()
        record["system_modstamp"] = self.system_modstamp.isoformat()
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> BulkJob:
        record = dict(record)
        record["created_date"] = datetime.fromisoformat(record["created_date"])
        record["system_modstamp"] = datetime.fromisoformat(record["system_modstamp"])
        record["batches"] = [BatchInfo(**batch) for batch in record.get("batches", [])]
        return cls(**record)


class JobStore:
    """Jobs kept as ``DIR/bulk/<jobId>/job.json`` with their CSV files beside them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._jobs: dict[str, BulkJob] = {}
        for job_file in sorted(self.root.glob("*/job.json")):
            job = BulkJob.from_record(json.loads(job_file.read_text("utf-8")))
            self._jobs[job.id] = job

    @property
    def lock(self) -> threading.RLock:
        """Held while reading-modifying-saving a job."""
        return self._lock

    def job_dir(self, job_id: str) -> Path:
        return self.root / job_id

    def add(self, job: BulkJob) -> None:
        with self._lock:
            self.job_dir(job.id).mkdir(parents=True, exist_ok=True)
            self._jobs[job.id] = job
            self.save(job)

    def save(self, job: BulkJob) -> None:
        with self._lock:
            path = self.job_dir(job.id) / "job.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(job.to_record()), "utf-8")
            tmp.replace(path)

    def get(self, job_id: str) -> BulkJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def update(self, job_id: str, change: Callable[[BulkJob], None]) -> BulkJob | None:
        """Apply ``change`` to the job under the lock and save it."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            change(job)
            self.save(job)
            return job

    def list(self, kind: str) -> list[BulkJob]:
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.kind == kind]
        return sorted(jobs, key=lambda job: (job.created_date, job.id))

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def pending(self) -> list[BulkJob]:
        """Jobs whose processing a restart interrupted or never started."""
        with self._lock:
            return [
                job
                for job in self._jobs.values()
                if job.state in (UPLOAD_COMPLETE, IN_PROGRESS)
                or (
                    job.kind == "classic"
                    and any(b.state in ("Queued", "InProgress") for b in job.batches)
                )
            ]


class PagedCsvFile:
    """A CSV result file with a byte offset per record, so any page is one read.

    Query results at a million records are served page by page by ``locator``; the
    offsets file (8 bytes a record) makes each page independent of the ones before.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offsets_path = path.with_suffix(".offsets")

    def write(self, header_line: str, record_lines: Callable[[], Any]) -> int:
        """Write the header and each record line; return the number of records."""
        offsets = array("Q")
        count = 0
        with self.path.open("wb") as out:
            position = out.write(header_line.encode("utf-8"))
            for line in record_lines():
                offsets.append(position)
                position += out.write(line.encode("utf-8"))
                count += 1
            offsets.append(position)
        with self.offsets_path.open("wb") as out:
            offsets.tofile(out)
        return count

    def count(self) -> int:
        size = self.offsets_path.stat().st_size
        return max(0, size // 8 - 1)

    def read_page(self, start: int, limit: int) -> tuple[bytes, int]:
        """Return the header plus records ``start`` … ``start+limit-1``, and how many."""
        total = self.count()
        start = max(0, min(start, total))
        end = min(total, start + max(0, limit))
        offsets = array("Q")
        with self.offsets_path.open("rb") as source:
            source.seek(start * 8)
            offsets.fromfile(source, end - start + 1)
            source.seek(0)
            first = array("Q")
            first.fromfile(source, 1)
        with self.path.open("rb") as source:
            header = source.read(first[0])
            source.seek(offsets[0])
            body = source.read(offsets[-1] - offsets[0])
        return header + body, end - start
