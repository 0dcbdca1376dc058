"""Bulk API 1.0 query jobs, which widely used extractors (tap-salesforce) still call.

Resources under ``/services/async/{version}/`` ("Bulk API 2.0 and Bulk API Developer
Guide", Bulk API 1.0 reference): create a job (``POST job``), read or close/abort it
(``GET``/``POST job/{jobId}``), add a query batch (``POST job/{jobId}/batch`` with the
SOQL as the body), read batches (``batchInfo`` / ``batchInfoList``), list a batch's
results (``result-list``) and download one (CSV). Clients authenticate with the
``X-SFDC-Session`` header. Job-level requests sent as JSON get JSON back (as
tap-salesforce expects); otherwise everything is the ``asyncapi/dataload`` XML, and
errors are ``<error><exceptionCode/><exceptionMessage/></error>``.

Only query and queryAll jobs are emulated; ingest goes through Bulk API 2.0. The
``Sforce-Enable-PKChunking`` header is accepted and ignored: each batch runs the whole
query and has one result file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmbridge.emulator import bulk2_jobs as jobs
from crmbridge.emulator.bulk2_processing import elapsed_ms, run_query_to_file
from crmbridge.emulator.csvio import CsvDialect
from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import apply_faults, authenticate, count_api_call, emulator
from crmbridge.emulator.soql import SoqlError

if TYPE_CHECKING:
    from crmbridge.emulator.bulk2_service import BulkService
    from crmbridge.emulator.sessions import Session

NS = "http://www.force.com/2009/06/asyncapi/dataload"
_XML = "application/xml"
_JOB_FIELDS = ("operation", "object", "contentType", "state", "concurrencyMode")


class BulkV1Error(Exception):
    """An error answered in the Bulk API 1.0 shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_CODE_MAP = {
    "INVALID_SESSION_ID": "InvalidSessionId",
    "REQUEST_LIMIT_EXCEEDED": "ExceededQuota",
    "NOT_FOUND": "InvalidUrl",
    "SERVER_UNAVAILABLE": "ServerUnavailable",
}


def _wants_json(request: Request) -> bool:
    return "json" in request.headers.get("content-type", "").lower()


def _error_response(error: BulkV1Error, as_json: bool) -> Response:
    if as_json:
        body = json.dumps({"exceptionCode": error.code, "exceptionMessage": error.message})
        return Response(body, status_code=error.status, media_type="application/json")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<error xmlns="{NS}"><exceptionCode>{escape(error.code)}</exceptionCode>'
        f"<exceptionMessage>{escape(error.message)}</exceptionMessage></error>"
    )
    return Response(xml, status_code=error.status, media_type=_XML)


Handler = Callable[[Request, "Session", bytes], Response]


def _route(path: str, handler: Handler, methods: list[str], *, write: bool = False) -> Route:
    """Authenticate, count and fault like the REST routes, but answer Bulk 1.0 errors."""

    async def endpoint(request: Request) -> Response:
        as_json = _wants_json(request)
        try:
            version = request.path_params["version"]
            if not _is_version(version):
                raise BulkV1Error(404, "InvalidUrl", f"Invalid API version: {version}")
            try:
                session = authenticate(request)
                count_api_call(request, "async")
                await apply_faults(request, write=write)
            except SalesforceApiError as error:
                code = _CODE_MAP.get(error.error_code, error.error_code)
                raise BulkV1Error(error.status, code, error.message) from None
            body = await request.body()
            try:
                return await run_in_threadpool(handler, request, session, body)
            except SalesforceApiError as error:
                raise BulkV1Error(error.status, error.error_code, error.message) from None
        except BulkV1Error as error:
            return _error_response(error, as_json)

    return Route(path, endpoint, methods=methods)


def _is_version(raw: str) -> bool:
    try:
        return 20.0 <= float(raw) <= 64.0 and raw.endswith(".0")
    except ValueError:
        return False


def _service(request: Request) -> BulkService:
    from crmbridge.emulator.bulk2_service import bulk_service

    return bulk_service(emulator(request))


def _job(request: Request) -> jobs.BulkJob:
    job = _service(request).jobs.get(request.path_params["job_id"])
    if job is None or job.kind != "classic":
        raise BulkV1Error(400, "InvalidJob", f"Invalid job id: {request.path_params['job_id']}")
    return job


# --- shapes ------------------------------------------------------------------------------------


def job_info(job: jobs.BulkJob) -> dict[str, Any]:
    """jobInfo fields in document order (Bulk API 1.0, JobInfo)."""
    states = [b.state for b in job.batches]
    return {
        "id": job.id,
        "operation": job.operation,
        "object": job.object,
        "createdById": job.created_by_id,
        "createdDate": jobs.xml_datetime(job.created_date),
        "systemModstamp": jobs.xml_datetime(job.system_modstamp),
        "state": job.state,
        "concurrencyMode": "Parallel",
        "contentType": job.content_type,
        "numberBatchesQueued": states.count("Queued"),
        "numberBatchesInProgress": states.count("InProgress"),
        "numberBatchesCompleted": states.count("Completed"),
        "numberBatchesFailed": states.count("Failed"),
        "numberBatchesTotal": len(states),
        "numberRecordsProcessed": sum(b.number_records_processed for b in job.batches),
        "numberRetries": 0,
        "apiVersion": float(job.api_version),
        "numberRecordsFailed": sum(b.number_records_failed for b in job.batches),
        "totalProcessingTime": sum(b.total_processing_time for b in job.batches),
        "apiActiveProcessingTime": sum(b.total_processing_time for b in job.batches),
        "apexProcessingTime": 0,
    }


def batch_info(job: jobs.BulkJob, batch: jobs.BatchInfo) -> dict[str, Any]:
    info: dict[str, Any] = {"id": batch.id, "jobId": job.id, "state": batch.state}
    if batch.state_message:
        info["stateMessage"] = batch.state_message
    info.update(
        {
            "createdDate": batch.created_date,
            "systemModstamp": batch.system_modstamp,
            "numberRecordsProcessed": batch.number_records_processed,
            "numberRecordsFailed": batch.number_records_failed,
            "totalProcessingTime": batch.total_processing_time,
            "apiActiveProcessingTime": batch.total_processing_time,
            "apexProcessingTime": 0,
        }
    )
    return info


def _xml_fields(info: dict[str, Any]) -> str:
    return "".join(f"<{k}>{escape(_xml_value(v))}</{k}>" for k, v in info.items())


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(root: str, inner: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NS}">{inner}</{root}>'
    return Response(body, media_type=_XML)


def _job_response(request: Request, job: jobs.BulkJob, status: int = 200) -> Response:
    info = job_info(job)
    if _wants_json(request):
        return Response(json.dumps(info), status_code=status, media_type="application/json")
    response = _xml("jobInfo", _xml_fields(info))
    response.status_code = status
    return response


def _parse_job_body(request: Request, body: bytes) -> dict[str, str]:
    if _wants_json(request):
        try:
            data = json.loads(body or b"{}")
        except ValueError as exc:
            raise BulkV1Error(400, "InvalidJob", f"Unable to parse the JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise BulkV1Error(400, "InvalidJob", "The body must be a JSON object")
        return {k: str(v) for k, v in data.items() if k in _JOB_FIELDS}
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise BulkV1Error(400, "InvalidXML", f"Unable to parse the XML body: {exc}") from None
    if root.tag != f"{{{NS}}}jobInfo":
        raise BulkV1Error(400, "InvalidXML", "The root element must be jobInfo")
    values = {}
    for child in root:
        name = child.tag.rsplit("}", 1)[-1]
        if name in _JOB_FIELDS:
            values[name] = (child.text or "").strip()
    return values


# --- handlers ----------------------------------------------------------------------------------


def create_job(request: Request, session: Session, body: bytes) -> Response:
    """``POST /services/async/{v}/job``."""
    values = _parse_job_body(request, body)
    operation = values.get("operation", "")
    if operation not in jobs.QUERY_OPERATIONS:
        raise BulkV1Error(
            400,
            "InvalidJob",
            f"Invalid operation: {operation}. The emulator's Bulk API 1.0 runs query and "
            "queryAll jobs; use Bulk API 2.0 for ingest.",
        )
    ctx = emulator(request)
    sobj = ctx.schema.get(values.get("object", ""))
    if sobj is None:
        raise BulkV1Error(
            400,
            "InvalidEntity",
            f"Entity '{values.get('object')}' is not supported by the Bulk API.",
        )
    content_type = values.get("contentType", "CSV")
    if content_type != "CSV":
        raise BulkV1Error(
            400, "InvalidJob", f"Unsupported content type for query jobs: {content_type}"
        )
    now = ctx.clock.now()
    job = jobs.BulkJob(
        id=ctx.store.allocate_ids("750")[0],
        kind="classic",
        operation=operation,
        object=sobj.name,
        created_by_id=session.user_id,
        created_date=now,
        system_modstamp=now,
        state=jobs.OPEN,
        api_version=request.path_params["version"],
    )
    _service(request).jobs.add(job)
    return _job_response(request, job, status=201)


def job_resource(request: Request, session: Session, body: bytes) -> Response:
    """``GET`` a job, or ``POST`` a new state (Closed / Aborted)."""
    job = _job(request)
    if request.method == "GET":
        return _job_response(request, job)
    target = _parse_job_body(request, body).get("state", "")
    service = _service(request)
    try:
        with service.jobs.lock:
            job = _job(request)
            job.request_state(target)
            job.system_modstamp = emulator(request).clock.now()
            service.jobs.save(job)
    except jobs.JobStateError as error:
        raise BulkV1Error(400, "InvalidJobState", str(error)) from None
    return _job_response(request, job)


def add_batch(request: Request, session: Session, body: bytes) -> Response:
    """``POST job/{jobId}/batch``: the body is the SOQL query."""
    service = _service(request)
    soql = body.decode("utf-8", "replace").strip()
    if not soql:
        raise BulkV1Error(400, "InvalidBatch", "The batch has no query")
    ctx = emulator(request)
    now = jobs.xml_datetime(ctx.clock.now())
    with service.jobs.lock:
        job = _job(request)
        if job.state != jobs.OPEN:
            raise BulkV1Error(400, "InvalidJobState", f"Job {job.id} is not open: {job.state}")
        batch = jobs.BatchInfo(
            id=ctx.store.allocate_ids("751")[0],
            created_date=now,
            system_modstamp=now,
            query=soql,
        )
        job.batches.append(batch)
        service.jobs.save(job)
    service.enqueue(job.id)
    response = _xml("batchInfo", _xml_fields(batch_info(job, batch)))
    response.status_code = 201
    return response


def list_batches(request: Request, session: Session, body: bytes) -> Response:
    job = _job(request)
    inner = "".join(
        f"<batchInfo>{_xml_fields(batch_info(job, b))}</batchInfo>" for b in job.batches
    )
    return _xml("batchInfoList", inner)


def _batch(request: Request) -> tuple[jobs.BulkJob, jobs.BatchInfo]:
    job = _job(request)
    for batch in job.batches:
        if batch.id == request.path_params["batch_id"]:
            return job, batch
    raise BulkV1Error(400, "InvalidBatch", f"Invalid batch id: {request.path_params['batch_id']}")


def get_batch(request: Request, session: Session, body: bytes) -> Response:
    job, batch = _batch(request)
    return _xml("batchInfo", _xml_fields(batch_info(job, batch)))


def batch_request(request: Request, session: Session, body: bytes) -> Response:
    _, batch = _batch(request)
    return Response(batch.query, media_type="text/plain")


def batch_results(request: Request, session: Session, body: bytes) -> Response:
    _, batch = _batch(request)
    if batch.state != "Completed":
        raise BulkV1Error(400, "InvalidBatch", f"Batch not completed: {batch.state}")
    inner = "".join(f"<result>{escape(r)}</result>" for r in batch.result_ids)
    return _xml("result-list", inner)


def batch_result_file(request: Request, session: Session, body: bytes) -> Response:
    job, batch = _batch(request)
    result_id = request.path_params["result_id"]
    if result_id not in batch.result_ids:
        raise BulkV1Error(400, "InvalidBatch", f"Invalid result id: {result_id}")
    paged = jobs.PagedCsvFile(_service(request).jobs.job_dir(job.id) / f"{batch.id}.csv")
    data, _count = paged.read_page(0, paged.count())
    return Response(data, media_type="text/csv")


# --- processing (run by the BulkService worker) ------------------------------------------------


def process_classic_batches(service: BulkService, job_id: str) -> None:
    """Run every queued batch of a Bulk 1.0 job."""
    while True:
        job = service.jobs.get(job_id)
        if job is None:
            return
        batch = next((b for b in job.batches if b.state in ("Queued", "InProgress")), None)
        if batch is None:
            return
        if job.state == jobs.ABORTED:
            _set_batch(service, job_id, batch.id, state="NotProcessed")
            continue
        _set_batch(service, job_id, batch.id, state="InProgress")
        started = time.monotonic()
        try:
            count = run_query_to_file(
                service.ctx.query_engine,
                batch.query,
                include_deleted=job.operation == "queryAll",
                target=service.jobs.job_dir(job_id) / f"{batch.id}.csv",
                dialect=CsvDialect(),
                aborted=lambda: False,
            )
        except (SoqlError, SalesforceApiError) as error:
            code = getattr(error, "error_code", "")
            message = getattr(error, "message", str(error))
            _set_batch(
                service,
                job_id,
                batch.id,
                state="Failed",
                state_message=f"InvalidBatch : Failed to process query: {code}: {message}",
            )
            continue
        service.ctx.limits.count_other("DailyBulkApiBatches", 1)
        _set_batch(
            service,
            job_id,
            batch.id,
            state="Completed",
            number_records_processed=count,
            total_processing_time=elapsed_ms(started),
            result_ids=[service.ctx.store.allocate_ids("752")[0]],
        )


def _set_batch(service: BulkService, job_id: str, batch_id: str, **changes: Any) -> None:
    now = jobs.xml_datetime(service.ctx.clock.now())

    def change(job: jobs.BulkJob) -> None:
        for batch in job.batches:
            if batch.id == batch_id:
                for key, value in changes.items():
                    setattr(batch, key, value)
                batch.system_modstamp = now

    service.jobs.update(job_id, change)


_BASE = "/services/async/{version}/job"
routes = [
    _route(_BASE, create_job, ["POST"], write=True),
    _route(_BASE + "/{job_id}", job_resource, ["GET", "POST"]),
    _route(_BASE + "/{job_id}/batch", list_batches, ["GET"]),
    _route(_BASE + "/{job_id}/batch", add_batch, ["POST"], write=True),
    _route(_BASE + "/{job_id}/batch/{batch_id}", get_batch, ["GET"]),
    _route(_BASE + "/{job_id}/batch/{batch_id}/request", batch_request, ["GET"]),
    _route(_BASE + "/{job_id}/batch/{batch_id}/result", batch_results, ["GET"]),
    _route(_BASE + "/{job_id}/batch/{batch_id}/result/{result_id}", batch_result_file, ["GET"]),
]
