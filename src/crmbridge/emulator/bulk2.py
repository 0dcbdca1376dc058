"""Bulk API 2.0: ingest jobs and query jobs under ``/services/data/vXX.X/jobs``.

Resources and shapes from the "Bulk API 2.0 and Bulk API Developer Guide": Create a
Job (200 with the job info), Upload Job Data (``PUT …/batches``, 201, one upload per
job), Upload Complete / Abort (``PATCH`` with ``state``), Get Job Info, Get All Jobs
(``{done, records, nextRecordsUrl}``), Delete a Job (204), the three ingest result
files, and query results paged by ``locator``/``maxRecords`` with ``Sforce-Locator``
(the literal ``null`` on the last page) and ``Sforce-NumberOfRecords`` on every page.
Errors are the REST error array (``[{errorCode, message}]``).

Jobs are processed by one background worker per org
(:class:`~crmbridge.emulator.bulk2_service.BulkService`).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from crmbridge.emulator import bulk2_jobs as jobs
from crmbridge.emulator.bulk2_service import BulkService, bulk_service
from crmbridge.emulator.csvio import check_dialect
from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import ApiRequest, api_route, json_response, limit_info_header
from crmbridge.emulator.soql import SoqlError, parse_soql

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext

#: Records a query results page holds when the client does not say (Get Results for
#: a Query Job leaves the default to the server).
DEFAULT_MAX_RECORDS = 50_000


def setup(ctx: EmulatorContext) -> None:
    """Create the service and tie its worker to the server's start and stop."""
    service = bulk_service(ctx)
    ctx.on_start.append(lambda _ctx: service.start())
    ctx.on_stop.append(lambda _ctx: service.stop())


# --- errors --------------------------------------------------------------------------------


def _error(status: int, code: str, message: str) -> SalesforceApiError:
    return SalesforceApiError(status, code, message)


def _job_or_404(api: ApiRequest, kind: str) -> jobs.BulkJob:
    job = bulk_service(api.ctx).jobs.get(api.path_params["job_id"])
    if job is None or job.kind != kind:
        raise _error(404, "NOT_FOUND", "The requested resource does not exist")
    return job


def _require_version(api: ApiRequest, minimum: float) -> None:
    if float(api.version or 0) < minimum:
        raise _error(404, "NOT_FOUND", "The requested resource does not exist")


def _dialect_from(body: dict[str, Any]) -> tuple[str, str]:
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    line_ending = str(body.get("lineEnding") or "LF")
    problem = check_dialect(delimiter, line_ending)
    if problem:
        raise _error(400, "INVALIDJOB", f"InvalidJob : {problem}")
    content_type = str(body.get("contentType") or "CSV")
    if content_type != "CSV":
        raise _error(400, "INVALIDJOB", f"InvalidJob : Unsupported content type: {content_type}")
    return delimiter, line_ending


def _new_job(api: ApiRequest, **fields: Any) -> jobs.BulkJob:
    now = api.ctx.clock.now()
    job_id = api.ctx.store.allocate_ids("750")[0]
    return jobs.BulkJob(
        id=job_id,
        created_by_id=api.session.user_id,
        created_date=now,
        system_modstamp=now,
        api_version=api.version or "59.0",
        **fields,
    )


# --- ingest ------------------------------------------------------------------------------------


def create_ingest_job(api: ApiRequest) -> Response:
    """``POST /jobs/ingest``."""
    _require_version(api, 41.0)
    body = api.json_object()
    operation = body.get("operation")
    if operation not in jobs.INGEST_OPERATIONS:
        raise _error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    object_name = body.get("object")
    sobj = api.ctx.schema.get(object_name) if isinstance(object_name, str) else None
    if sobj is None:
        raise _error(
            400,
            "INVALIDENTITY",
            f"InvalidEntity : Entity '{object_name}' is not supported by the Bulk API.",
        )
    external = body.get("externalIdFieldName")
    if operation == "upsert":
        field = sobj.field(external) if isinstance(external, str) else None
        if field is None or not (field.external_id or field.name == "Id"):
            raise _error(
                400,
                "INVALIDJOB",
                "InvalidJob : External ID was blank or not an external ID field for "
                f"{sobj.name}: {external}",
            )
        external = field.name
    delimiter, line_ending = _dialect_from(body)
    job = _new_job(
        api,
        kind="ingest",
        operation=operation,
        object=sobj.name,
        state=jobs.OPEN,
        column_delimiter=delimiter,
        line_ending=line_ending,
        external_id_field=external if operation == "upsert" else None,
    )
    bulk_service(api.ctx).jobs.add(job)
    return json_response(api.request, job.to_json(detailed=False))


def upload_job_data(api: ApiRequest) -> Response:
    """``PUT /jobs/ingest/{id}/batches``: the job's CSV (201 Created)."""
    service = bulk_service(api.ctx)
    job = _job_or_404(api, "ingest")
    content_type = api.headers.get("content-type", "")
    if not content_type.lower().startswith("text/csv"):
        raise _error(
            400, "INVALIDBATCH", f"InvalidBatch : Unsupported content type: {content_type}"
        )
    with service.jobs.lock:
        job = _job_or_404(api, "ingest")
        if job.state != jobs.OPEN:
            raise _error(409, "INVALIDJOBSTATE", f"Job is not in Open state: {job.state}")
        if job.has_data:
            # Salesforce accepts one upload per ingest job.
            raise _error(
                409,
                "INVALIDJOBSTATE",
                f"Found multiple contents for job: <{job.id}>, please 'Close' / 'Abort' / "
                "'Delete' the current Job then create a new Job and make sure you only do "
                "'PUT' once on a given Job.",
            )
        (service.jobs.job_dir(job.id) / "data.csv").write_bytes(api.body)
        service.jobs.update(job.id, lambda j: setattr(j, "has_data", True))
    return Response(status_code=201, headers=limit_info_header(api.request))


def _patch_state(api: ApiRequest, kind: str) -> Response:
    service = bulk_service(api.ctx)
    job = _job_or_404(api, kind)
    body = api.json_object()
    target = body.get("state")
    if not isinstance(target, str):
        raise _error(400, "INVALIDJOBSTATE", "The state property is required")
    try:
        with service.jobs.lock:
            job = _job_or_404(api, kind)
            job.request_state(target)
            job.system_modstamp = api.ctx.clock.now()
            if target == jobs.UPLOAD_COMPLETE and not job.has_data:
                job.mark(
                    jobs.FAILED,
                    now=api.ctx.clock.now(),
                    error_message="InvalidBatch : No data uploaded to the job",
                )
            service.jobs.save(job)
    except jobs.JobStateError as error:
        raise _error(400, "INVALIDJOBSTATE", str(error)) from None
    if job.state == jobs.UPLOAD_COMPLETE:
        service.enqueue(job.id)
    return json_response(api.request, job.to_json(detailed=False))


def ingest_job(api: ApiRequest) -> Response:
    """``GET``/``PATCH``/``DELETE /jobs/ingest/{id}``."""
    return _job_resource(api, "ingest")


def _job_resource(api: ApiRequest, kind: str) -> Response:
    method = api.request.method
    if method == "PATCH":
        return _patch_state(api, kind)
    service = bulk_service(api.ctx)
    job = _job_or_404(api, kind)
    if method == "DELETE":
        if job.state in (jobs.OPEN, jobs.IN_PROGRESS):
            raise _error(
                400, "INVALIDJOBSTATE", f"Job {job.id} cannot be deleted while it is {job.state}"
            )
        service.jobs.delete(job.id)
        return Response(status_code=204, headers=limit_info_header(api.request))
    return json_response(api.request, job.to_json(detailed=True))


def _list_jobs(api: ApiRequest, kind: str) -> Response:
    listed = bulk_service(api.ctx).jobs.list(kind)
    return json_response(
        api.request,
        {
            "done": True,
            "records": [j.to_json(detailed=False) for j in listed],
            "nextRecordsUrl": None,
        },
    )


_RESULT_FILES = {
    "successfulresults": "success.csv",
    "failedresults": "failed.csv",
    "unprocessedrecords": "unprocessed.csv",
}


def ingest_results(api: ApiRequest) -> Response:
    """``GET /jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords``."""
    job = _job_or_404(api, "ingest")
    kind = str(api.path_params["results"]).strip("/").lower()
    file_name = _RESULT_FILES.get(kind)
    if file_name is None:
        raise _error(404, "NOT_FOUND", "The requested resource does not exist")
    path = bulk_service(api.ctx).jobs.job_dir(job.id) / file_name
    if kind != "unprocessedrecords" and job.state not in (jobs.JOB_COMPLETE, jobs.FAILED):
        raise _error(400, "INVALIDJOBSTATE", f"Job {job.id} is not complete: {job.state}")
    body = path.read_bytes() if path.exists() else b""
    if (
        not body
        and kind == "unprocessedrecords"
        and job.state in (jobs.OPEN, jobs.UPLOAD_COMPLETE, jobs.ABORTED)
    ):
        data = bulk_service(api.ctx).jobs.job_dir(job.id) / "data.csv"
        body = data.read_bytes() if data.exists() else b""
    return Response(
        body,
        media_type="text/csv",
        headers=limit_info_header(api.request),
    )


# --- query -------------------------------------------------------------------------------------


def create_query_job(api: ApiRequest) -> Response:
    """``POST /jobs/query``: validates the SOQL at once, like Salesforce."""
    _require_version(api, 47.0)
    body = api.json_object()
    operation = body.get("operation", "query")
    if operation not in jobs.QUERY_OPERATIONS:
        raise _error(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    soql = body.get("query")
    if not isinstance(soql, str) or not soql.strip():
        raise _error(400, "INVALIDJOB", "InvalidJob : The query property is required")
    try:
        api.ctx.query_engine.iter_flat(soql, include_deleted=operation == "queryAll")
        object_name = parse_soql(soql).sobject.text
    except SoqlError as error:
        raise _error(400, error.error_code, error.message) from None
    sobj = api.ctx.schema.get(object_name)
    delimiter, line_ending = _dialect_from(body)
    job = _new_job(
        api,
        kind="query",
        operation=operation,
        object=sobj.name if sobj else object_name,
        state=jobs.UPLOAD_COMPLETE,
        column_delimiter=delimiter,
        line_ending=line_ending,
        query=soql,
    )
    service = bulk_service(api.ctx)
    service.jobs.add(job)
    service.enqueue(job.id)
    return json_response(api.request, job.to_json(detailed=False))


def query_job(api: ApiRequest) -> Response:
    """``GET``/``PATCH``/``DELETE /jobs/query/{id}``."""
    return _job_resource(api, "query")


def encode_locator(position: int) -> str:
    """A locator for the record at ``position`` (Salesforce's look: ``MTAwMDA``)."""
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    padded = locator + "=" * (-len(locator) % 4)
    try:
        value = int(base64.b64decode(padded, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _error(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None
    if value < 0:
        raise _error(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    return value


def query_results(api: ApiRequest) -> Response:
    """``GET /jobs/query/{id}/results?locator=&maxRecords=``: one page of CSV."""
    job = _job_or_404(api, "query")
    if job.api_version != api.version:
        # Get Results for a Query Job: use the job's API version, otherwise 409.
        raise _error(409, "INVALIDVERSION", f"Use API version {job.api_version} for this job")
    if job.state != jobs.JOB_COMPLETE:
        raise _error(400, "INVALIDJOBSTATE", f"Job {job.id} is not complete: {job.state}")
    raw_locator = api.query.get("locator")
    start = decode_locator(raw_locator) if raw_locator and raw_locator != "null" else 0
    raw_max = api.query.get("maxRecords")
    try:
        max_records = int(raw_max) if raw_max else DEFAULT_MAX_RECORDS
    except ValueError:
        raise _error(400, "INVALIDREQUEST", f"Invalid maxRecords: {raw_max}") from None
    if max_records <= 0:
        raise _error(400, "INVALIDREQUEST", f"Invalid maxRecords: {raw_max}")
    paged = jobs.PagedCsvFile(bulk_service(api.ctx).jobs.job_dir(job.id) / "result.csv")
    total = paged.count()
    if start > total:
        raise _error(400, "INVALIDLOCATOR", f"Invalid locator: {raw_locator}")
    body, count = paged.read_page(start, max_records)
    following = start + count
    headers = limit_info_header(api.request)
    headers["Sforce-NumberOfRecords"] = str(count)
    headers["Sforce-Locator"] = encode_locator(following) if following < total else "null"
    return Response(body, media_type="text/csv", headers=headers)


def _ingest_root(api: ApiRequest) -> Response:
    if api.request.method == "POST":
        return create_ingest_job(api)
    return _list_jobs(api, "ingest")


def _query_root(api: ApiRequest) -> Response:
    if api.request.method == "POST":
        return create_query_job(api)
    return _list_jobs(api, "query")


def _writes(request: Any) -> bool:
    return request.method in ("POST", "PUT", "PATCH", "DELETE")


routes = [
    api_route(
        "/services/data/{version}/jobs/ingest",
        _ingest_root,
        methods=["GET", "POST"],
        resource="jobs/ingest",
        write=_writes,
    ),
    api_route(
        "/services/data/{version}/jobs/ingest/{job_id}",
        ingest_job,
        methods=["GET", "PATCH", "DELETE"],
        resource="jobs/ingest",
        write=_writes,
    ),
    api_route(
        "/services/data/{version}/jobs/ingest/{job_id}/batches",
        upload_job_data,
        methods=["PUT"],
        resource="jobs/ingest",
        write=True,
    ),
    api_route(
        "/services/data/{version}/jobs/ingest/{job_id}/{results:path}",
        ingest_results,
        methods=["GET"],
        resource="jobs/ingest",
    ),
    api_route(
        "/services/data/{version}/jobs/query",
        _query_root,
        methods=["GET", "POST"],
        resource="jobs/query",
        write=_writes,
    ),
    api_route(
        "/services/data/{version}/jobs/query/{job_id}",
        query_job,
        methods=["GET", "PATCH", "DELETE"],
        resource="jobs/query",
        write=_writes,
    ),
    api_route(
        "/services/data/{version}/jobs/query/{job_id}/results",
        query_results,
        methods=["GET"],
        resource="jobs/query",
    ),
]

__all__ = ["BulkService", "bulk_service", "routes", "setup"]
