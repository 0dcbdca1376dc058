"""Bulk job records: state machines, persistence, paged result files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmbridge.emulator import bulk2_jobs as jobs
from crmbridge.emulator.csvio import iter_csv_lines


def _job(kind: str = "ingest", state: str = jobs.OPEN) -> jobs.BulkJob:
    now = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    return jobs.BulkJob(
        id="7505g0000000001AAA",
        kind=kind,
        operation="insert",
        object="Contact",
        created_by_id="0055g0000000001AAA",
        created_date=now,
        system_modstamp=now,
        state=state,
        api_version="59.0",
    )


def test_ingest_job_moves_only_along_documented_transitions() -> None:
    job = _job()
    job.request_state(jobs.UPLOAD_COMPLETE)
    assert job.state == jobs.UPLOAD_COMPLETE
    with pytest.raises(jobs.JobStateError):
        job.request_state(jobs.UPLOAD_COMPLETE)
    job.request_state(jobs.ABORTED)
    with pytest.raises(jobs.JobStateError, match="from Aborted to UploadComplete"):
        job.request_state(jobs.UPLOAD_COMPLETE)
    done = _job(state=jobs.JOB_COMPLETE)
    with pytest.raises(jobs.JobStateError):
        done.request_state(jobs.ABORTED)


def test_job_info_json_has_the_documented_shape() -> None:
    info = _job().to_json(detailed=False)
    assert info["createdDate"] == "2025-01-02T03:04:05.678+0000"
    assert info["contentUrl"] == "services/data/v59.0/jobs/ingest/7505g0000000001AAA/batches"
    assert info["apiVersion"] == 59.0
    assert "numberRecordsProcessed" not in info
    detailed = _job(state=jobs.JOB_COMPLETE).to_json(detailed=True)
    assert detailed["jobType"] == "V2Ingest"
    assert "contentUrl" not in detailed
    assert detailed["numberRecordsFailed"] == 0
    query = _job(kind="query", state=jobs.UPLOAD_COMPLETE).to_json(detailed=True)
    assert query["jobType"] == "V2Query"
    assert "numberRecordsFailed" not in query


def test_jobs_survive_a_restart(tmp_path: Path) -> None:
    store = jobs.JobStore(tmp_path)
    job = _job()
    store.add(job)
    store.update(job.id, lambda j: j.request_state(jobs.UPLOAD_COMPLETE))
    reopened = jobs.JobStore(tmp_path)
    again = reopened.get(job.id)
    assert again is not None
    assert again.state == jobs.UPLOAD_COMPLETE
    assert again.created_date == job.created_date
    assert [j.id for j in reopened.pending()] == [job.id]
    reopened.delete(job.id)
    assert jobs.JobStore(tmp_path).get(job.id) is None


def test_paged_result_file_serves_any_page_with_the_header(tmp_path: Path) -> None:
    paged = jobs.PagedCsvFile(tmp_path / "result.csv")
    lines = list(iter_csv_lines(["Id", "Name"], ([f"id{i}", f"line\n{i}"] for i in range(25))))
    count = paged.write(lines[0], lambda: iter(lines[1:]))
    assert count == paged.count() == 25
    body, n = paged.read_page(20, 10)
    assert n == 5
    assert body.decode() == lines[0] + "".join(lines[21:])
    empty, none = paged.read_page(25, 10)
    assert (empty.decode(), none) == (lines[0], 0)
