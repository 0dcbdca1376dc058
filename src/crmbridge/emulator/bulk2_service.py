"""The org's bulk jobs and the background worker that processes them.

Shared by Bulk API 2.0 (:mod:`crmbridge.emulator.bulk2`) and Bulk API 1.0
(:mod:`crmbridge.emulator.bulk1`). One worker thread per org takes job ids from a
queue and runs each job to its final state, so clients see ``UploadComplete`` /
``InProgress`` before ``JobComplete`` as on Salesforce; jobs a restart interrupted
are queued again when the worker starts.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import queue
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

from crmbridge.emulator import bulk2_jobs as jobs
from crmbridge.emulator.bulk2_processing import (
    RECORDS_PER_BATCH,
    IngestRun,
    elapsed_ms,
    run_query_to_file,
)
from crmbridge.emulator.csvio import CsvDialect, CsvFormatError
from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.soql import SoqlError

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext

log = logging.getLogger(__name__)
_SERVICE_KEY = "bulk"


class BulkService:
    """The org's bulk jobs and the worker that processes them."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.jobs = jobs.JobStore(ctx.data_dir / "bulk")
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and requeue jobs a restart interrupted."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="bulk-jobs", daemon=True)
            self._thread.start()
        for job in self.jobs.pending():
            self._queue.put(job.id)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def enqueue(self, job_id: str) -> None:
        self.start()
        self._queue.put(job_id)

    def _run(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self.process(job_id)
            except Exception:  # one broken job must not stop the others
                log.exception("bulk job %s failed unexpectedly", job_id)
                self._finish(job_id, jobs.FAILED, "UNKNOWN_EXCEPTION : internal error")

    # --- processing ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.ctx.clock.now()

    def _finish(self, job_id: str, state: str, error: str | None = None, **counts: int) -> None:
        def change(job: jobs.BulkJob) -> None:
            if job.state == jobs.ABORTED:
                return
            job.mark(state, now=self._now(), error_message=error)
            for key, value in counts.items():
                setattr(job, key, value)

        self.jobs.update(job_id, change)

    def _aborted(self, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        return job is None or job.state == jobs.ABORTED

    def process(self, job_id: str) -> None:
        """Run one job to its final state."""
        job = self.jobs.get(job_id)
        if job is not None and job.kind == "classic":
            from crmbridge.emulator.bulk1 import process_classic_batches

            process_classic_batches(self, job_id)
            return
        if job is None or job.state not in (jobs.UPLOAD_COMPLETE, jobs.IN_PROGRESS):
            return
        self.jobs.update(job_id, lambda j: j.mark(jobs.IN_PROGRESS, now=self._now()))
        started = time.monotonic()
        if job.kind == "ingest":
            self._process_ingest(job, started)
        else:
            self._process_query(job, started)

    def _process_ingest(self, job: jobs.BulkJob, started: float) -> None:
        run = IngestRun(self.ctx.store, job, self.jobs.job_dir(job.id))
        try:
            outcome = run.run(user_id=job.created_by_id, aborted=lambda: self._aborted(job.id))
        except CsvFormatError as error:
            try:
                parsed_rows: tuple[list[str], list[list[str]]] = ([], [])
                raw = (self.jobs.job_dir(job.id) / "data.csv").read_bytes()
                parsed_rows = _loose_rows(raw, run.dialect)
            except OSError:
                pass
            run.write_unprocessed(*parsed_rows)
            self._finish(job.id, jobs.FAILED, str(error), total_processing_time=elapsed_ms(started))
            return
        ms = elapsed_ms(started)
        self.ctx.limits.count_other(
            "DailyBulkApiBatches", max(1, math.ceil(outcome.processed / RECORDS_PER_BATCH))
        )
        self._finish(
            job.id,
            jobs.JOB_COMPLETE,
            number_records_processed=outcome.processed,
            number_records_failed=outcome.failed,
            total_processing_time=ms,
            api_active_processing_time=ms,
        )

    def _process_query(self, job: jobs.BulkJob, started: float) -> None:
        dialect = CsvDialect(column_delimiter=job.column_delimiter, line_ending=job.line_ending)
        try:
            count = run_query_to_file(
                self.ctx.query_engine,
                job.query or "",
                include_deleted=job.operation == "queryAll",
                target=self.jobs.job_dir(job.id) / "result.csv",
                dialect=dialect,
                aborted=lambda: self._aborted(job.id),
            )
        except (SoqlError, SalesforceApiError) as error:
            code = getattr(error, "error_code", "")
            self._finish(job.id, jobs.FAILED, f"{code} : {getattr(error, 'message', error)}")
            return
        self.ctx.limits.count_other("DailyBulkV2QueryJobs", 1)
        self._finish(
            job.id,
            jobs.JOB_COMPLETE,
            number_records_processed=count,
            total_processing_time=elapsed_ms(started),
        )


def _loose_rows(raw: bytes, dialect: CsvDialect) -> tuple[list[str], list[list[str]]]:
    """Best-effort rows of an unusable upload, for the unprocessed-records file."""
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        return [], []
    if not rows:
        return [], []
    return rows[0], [r for r in rows[1:] if r]


def bulk_service(ctx: EmulatorContext) -> BulkService:
    """The org's :class:`BulkService`, created on first use."""
    services = ctx.__dict__.setdefault("services", {})
    service = services.get(_SERVICE_KEY)
    if service is None:
        service = services[_SERVICE_KEY] = BulkService(ctx)
    return service  # type: ignore[no-any-return]
