"""``query``, ``queryAll`` and ``query/{locator}`` wired to the SOQL engine
(REST API Developer Guide, "Query", "QueryAll"; paging with ``nextRecordsUrl`` and the
``Sforce-Query-Options: batchSize=N`` header, 200 to 2,000, default 2,000).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import ApiRequest, api_routes, json_response

DEFAULT_BATCH_SIZE = 2000
_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def batch_size(api: ApiRequest) -> int:
    """The page size the client asked for, kept within 200..2000."""
    match = _BATCH_SIZE.search(api.headers.get("sforce-query-options", ""))
    if not match:
        return DEFAULT_BATCH_SIZE
    return max(200, min(2000, int(match.group(1))))


def _soql_error(exc: Exception) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        exc.error_code,  # type: ignore[attr-defined]
        exc.message,  # type: ignore[attr-defined]
        request_level=True,
    )


def _page_body(api: ApiRequest, resource: str, page: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"totalSize": page.total_size, "done": page.done}
    if not page.done and page.locator:
        body["nextRecordsUrl"] = f"{api.base_path()}/{resource}/{page.locator}"
    body["records"] = page.records
    return body


def _run(api: ApiRequest, resource: str, *, include_deleted: bool) -> Response:
    from crmbridge.emulator.soql import SoqlError

    soql = api.query.get("q")
    if soql is None or not soql.strip():
        raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        page = api.ctx.query_engine.start(
            soql,
            include_deleted=include_deleted,
            batch_size=batch_size(api),
            api_version=api.version,
        )
    except SoqlError as exc:
        raise _soql_error(exc) from None
    return json_response(api.request, _page_body(api, resource, page))


def query_handler(api: ApiRequest) -> Response:
    """GET query?q=SOQL."""
    return _run(api, "query", include_deleted=False)


def query_all_handler(api: ApiRequest) -> Response:
    """GET queryAll?q=SOQL: deleted records too."""
    return _run(api, "queryAll", include_deleted=True)


def _more(api: ApiRequest, resource: str) -> Response:
    from crmbridge.emulator.soql import SoqlError

    try:
        page = api.ctx.query_engine.more(api.path_params["locator"])
    except SoqlError as exc:
        raise _soql_error(exc) from None
    return json_response(api.request, _page_body(api, resource, page))


def more_handler(api: ApiRequest) -> Response:
    """GET query/{locator}: the next page."""
    return _more(api, "query")


def more_all_handler(api: ApiRequest) -> Response:
    """GET queryAll/{locator}: the next page of a queryAll."""
    return _more(api, "queryAll")


routes = [
    *api_routes(
        "/services/data/v{version}/query", query_handler, methods=["GET"], resource="query"
    ),
    *api_routes(
        "/services/data/v{version}/queryAll",
        query_all_handler,
        methods=["GET"],
        resource="queryAll",
    ),
    *api_routes(
        "/services/data/v{version}/query/{locator}", more_handler, methods=["GET"], resource="query"
    ),
    *api_routes(
        "/services/data/v{version}/queryAll/{locator}",
        more_all_handler,
        methods=["GET"],
        resource="queryAll",
    ),
]
