"""Request plumbing every emulated API route uses.

- :func:`authenticate`: the session behind ``Authorization: Bearer …`` (or ``OAuth …``)
  or Bulk API 1.0's ``X-SFDC-Session``; 401 INVALID_SESSION_ID otherwise.
- :func:`count_api_call`: one call against the org's daily quota (403
  REQUEST_LIMIT_EXCEEDED past it).
- :func:`apply_faults`: injected latency, 503s and UNABLE_TO_LOCK_ROW on writes.
- :func:`sf_error_response` / :func:`json_response`: Salesforce's REST bodies, with
  ``Sforce-Limit-Info: api-usage=USED/LIMIT`` on every REST response except the
  versions list (REST API Developer Guide, "Limit Info Header").
- :func:`api_route`: a Starlette route doing all of the above around a plain
  synchronous handler, which runs in a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.emulator.context import API_VERSIONS
from crmbridge.emulator.errors import SalesforceApiError

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext
    from crmbridge.emulator.sessions import Session

__all__ = [
    "ApiRequest",
    "SalesforceApiError",
    "api_route",
    "api_routes",
    "apply_faults",
    "authenticate",
    "count_api_call",
    "emulator",
    "json_response",
    "limit_info_header",
    "not_found",
    "parse_version",
    "sf_error_response",
]

#: Salesforce's body for an unknown resource (REST API Developer Guide, status code 404).
NOT_FOUND_MESSAGE = "The requested resource does not exist"
LIMIT_INFO_HEADER = "Sforce-Limit-Info"


def emulator(request: Request) -> EmulatorContext:
    """The org this request talks to."""
    return request.app.state.emulator  # type: ignore[no-any-return]


def bearer_token(request: Request) -> str | None:
    """The session id a request carries, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in {"bearer", "oauth"} and token.strip():
        return token.strip()
    session_header = request.headers.get("x-sfdc-session")
    if session_header:
        return session_header.strip()
    return None


def authenticate(request: Request) -> Session:
    """The live session of the request, or raise 401 INVALID_SESSION_ID."""
    token = bearer_token(request)
    session = emulator(request).auth.session_for_token(token) if token else None
    if session is None:
        raise SalesforceApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    return session


def count_api_call(request: Request, resource: str) -> None:
    """Count one API call against the daily quota, or raise 403 REQUEST_LIMIT_EXCEEDED."""
    emulator(request).limits.count_call(resource)


def limit_info_header(request: Request) -> dict[str, str]:
    """``{"Sforce-Limit-Info": "api-usage=USED/LIMIT"}`` for the request's org."""
    limits = emulator(request).limits
    return {LIMIT_INFO_HEADER: f"api-usage={limits.used()}/{limits.quota()}"}


async def apply_faults(request: Request, *, write: bool) -> None:
    """Injected latency, then maybe a 503 or (on writes) UNABLE_TO_LOCK_ROW."""
    await emulator(request).faults.before_call(write=write)


def sf_error_response(
    status: int,
    errors: Sequence[Mapping[str, Any]],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Salesforce's REST error body: a JSON *array* of ``{message, errorCode, fields}``."""
    return JSONResponse([dict(e) for e in errors], status_code=status, headers=dict(headers or {}))


def json_response(
    request: Request,
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON response with the Sforce-Limit-Info header."""
    merged = limit_info_header(request)
    merged.update(headers or {})
    return JSONResponse(data, status_code=status, headers=merged)


def not_found() -> SalesforceApiError:
    """404 NOT_FOUND worded as Salesforce words it."""
    return SalesforceApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def parse_version(raw: str) -> str:
    """``"59.0"`` from a path segment like ``v59.0`` or ``59.0``; 404 for unknown versions."""
    version = raw[1:] if raw[:1] in {"v", "V"} else raw
    if version not in API_VERSIONS:
        raise not_found()
    return version


@dataclass
class ApiRequest:
    """What a synchronous handler receives: the parsed request and its session."""

    request: Request
    session: Session
    #: API version of the URL (``"59.0"``), or None for unversioned routes.
    version: str | None
    body: bytes
    path_params: dict[str, Any]
    query: Mapping[str, str]
    headers: Mapping[str, str]

    @property
    def ctx(self) -> EmulatorContext:
        """The org."""
        return emulator(self.request)

    def json_body(self) -> Any:
        """The JSON body, or raise 400 JSON_PARSER_ERROR as Salesforce does."""
        if not self.body.strip():
            raise SalesforceApiError(
                400,
                "JSON_PARSER_ERROR",
                "The HTTP entity body is required, but this request has no entity body.",
            )
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            column = getattr(exc, "colno", 1)
            raise SalesforceApiError(
                400,
                "JSON_PARSER_ERROR",
                "Unexpected character: was expecting a valid JSON value "
                f"at [line:{line}, column:{column}]",
            ) from None

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        data = self.json_body()
        if not isinstance(data, dict):
            raise SalesforceApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of SObject out of START_ARRAY token",
            )
        return data

    def base_path(self) -> str:
        """``/services/data/vXX.X`` for this request's version."""
        return f"/services/data/v{self.version}"


Handler = Callable[[ApiRequest], Response]


def api_route(
    path: str,
    handler: Handler,
    *,
    methods: Sequence[str],
    resource: str,
    write: bool | Callable[[Request], bool] = False,
    versioned: bool = True,
    name: str | None = None,
) -> Route:
    """A route that checks version and session, counts the call, injects faults, runs ``handler``.

    ``resource`` names the call in the per-resource call counts; ``write`` may be a
    function of the request (e.g. true for PATCH only). Handlers are synchronous and run
    in a worker thread; a :class:`SalesforceApiError` they raise becomes Salesforce's
    error body.
    """

    async def endpoint(request: Request) -> Response:
        authenticated = False
        try:
            version = parse_version(request.path_params["version"]) if versioned else None
            session = authenticate(request)
            authenticated = True
            count_api_call(request, resource)
            is_write = write(request) if callable(write) else write
            await apply_faults(request, write=is_write)
            api_request = ApiRequest(
                request=request,
                session=session,
                version=version,
                body=await request.body(),
                path_params=dict(request.path_params),
                query=request.query_params,
                headers=request.headers,
            )
            response = await run_in_threadpool(handler, api_request)
        except SalesforceApiError as error:
            response = error_response(error)
        if authenticated and LIMIT_INFO_HEADER not in response.headers:
            response.headers.update(limit_info_header(request))
        return response

    route = Route(path, endpoint, methods=list(methods), name=name)
    # Composite subrequests call the handler in-process (crmbridge.emulator.composite_tree).
    route.api_handler = handler  # type: ignore[attr-defined]
    route.api_resource = resource  # type: ignore[attr-defined]
    route.api_versioned = versioned  # type: ignore[attr-defined]
    return route


def api_routes(path: str, handler: Handler, **kwargs: Any) -> list[Route]:
    """:func:`api_route` for ``path`` and for ``path/`` (clients use both spellings)."""
    return [
        api_route(path, handler, **kwargs),
        api_route(path.rstrip("/") + "/", handler, **kwargs),
    ]


def error_response(error: SalesforceApiError) -> Response:
    """The REST response for an error."""
    return sf_error_response(error.status, [error.rest_entry()])
