"""``sobjects/{Type}/updated`` and ``sobjects/{Type}/deleted`` (REST API Developer Guide,
"sObject Get Updated" and "sObject Get Deleted"; SOAP getUpdated()/getDeleted() rules).

The seconds of ``start`` and ``end`` are ignored; the range may not exceed 30 days; at
most 600,000 ids are returned (EXCEEDED_ID_LIMIT past that).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import ApiRequest, api_routes, json_response
from crmbridge.emulator.rest_describe import sobject_or_404
from crmbridge.emulator.values import api_datetime, format_datetime, parse_datetime

MAX_RANGE = timedelta(days=30)
MAX_IDS = 600_000


def _replication_error(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_REPLICATION_DATE", message)


def _range(api: ApiRequest) -> tuple[datetime, datetime]:
    bounds = []
    for name in ("start", "end"):
        raw = api.query.get(name)
        moment = parse_datetime(raw.replace(" ", "+")) if raw else None
        if moment is None:
            raise SalesforceApiError(
                400, "MALFORMED_QUERY", f"{name} parameter is required and must be a dateTime"
            )
        bounds.append(moment.replace(second=0, microsecond=0))
    start, end = bounds
    if end <= start:
        raise _replication_error("end date must be after start date")
    if end - start > MAX_RANGE:
        raise _replication_error("the date range may not exceed 30 days")
    return start, end


def _latest_covered(api: ApiRequest, end: datetime) -> str:
    now = api.ctx.clock.now().replace(second=0, microsecond=0)
    return api_datetime(format_datetime(min(end, now))) or ""


def updated_handler(api: ApiRequest) -> Response:
    """Ids of records created or changed between start and end (not deleted ones)."""
    sobj = sobject_or_404(api)
    start, end = _range(api)
    with api.ctx.store.connection() as conn:
        ids = [
            row[0]
            for row in conn.execute(
                f'SELECT "Id" FROM "{sobj.name}" WHERE "IsDeleted" = 0 '
                'AND "SystemModstamp" >= ? AND "SystemModstamp" < ? '
                'ORDER BY "SystemModstamp", "Id" LIMIT ?',
                (format_datetime(start), format_datetime(end), MAX_IDS + 1),
            )
        ]
    if len(ids) > MAX_IDS:
        raise SalesforceApiError(
            400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 600000 ids"
        )
    return json_response(api.request, {"ids": ids, "latestDateCovered": _latest_covered(api, end)})


def deleted_handler(api: ApiRequest) -> Response:
    """Records deleted between start and end, with their deletion time."""
    sobj = sobject_or_404(api)
    start, end = _range(api)
    earliest = api.ctx.store.meta_get("earliest_deleted_available")
    if earliest is None:
        with api.ctx.store.connection() as conn:
            row = conn.execute('SELECT MIN("CreatedDate") FROM "Organization"').fetchone()
        created = parse_datetime(row[0]) if row and row[0] else api.ctx.clock.now()
        # A new org has purged nothing yet: answer as if the recycle bin reached back
        # one replication window before the org existed.
        earliest = format_datetime((created or api.ctx.clock.now()) - MAX_RANGE)
    if format_datetime(start) < earliest[:17] + "00.000Z":
        raise _replication_error(
            "startDate must chronologically precede the earliestDateAvailable "
            f"({api_datetime(earliest)})"
        )
    with api.ctx.store.connection() as conn:
        rows = conn.execute(
            f'SELECT "Id", "SystemModstamp" FROM "{sobj.name}" WHERE "IsDeleted" = 1 '
            'AND "SystemModstamp" >= ? AND "SystemModstamp" < ? '
            'ORDER BY "SystemModstamp", "Id" LIMIT ?',
            (format_datetime(start), format_datetime(end), MAX_IDS + 1),
        ).fetchall()
    if len(rows) > MAX_IDS:
        raise SalesforceApiError(
            400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 600000 ids"
        )
    body: dict[str, Any] = {
        "deletedRecords": [{"id": r[0], "deletedDate": api_datetime(r[1])} for r in rows],
        "earliestDateAvailable": api_datetime(earliest),
        "latestDateCovered": _latest_covered(api, end),
    }
    return json_response(api.request, body)


routes = [
    *api_routes(
        "/services/data/v{version}/sobjects/{sobject}/updated",
        updated_handler,
        methods=["GET"],
        resource="updated",
    ),
    *api_routes(
        "/services/data/v{version}/sobjects/{sobject}/deleted",
        deleted_handler,
        methods=["GET"],
        resource="deleted",
    ),
]
