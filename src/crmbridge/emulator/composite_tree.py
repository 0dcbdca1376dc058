"""``composite`` (dependent subrequests with references) and ``composite/batch``.

REST API Developer Guide, "Composite" and "Batch":

- ``composite`` runs up to 25 subrequests in order in one transaction scope; a later
  subrequest refers to an earlier one's result with ``@{referenceId.path}`` (e.g.
  ``@{NewAccount.id}``, ``@{Query.records[0].Id}``) in its URL or body. With
  ``allOrNone`` one failure rolls everything back and every other subrequest reports
  400 PROCESSING_HALTED; the top-level status is 200 either way. ``collateSubrequests``
  only affects how Salesforce groups work internally, so it is accepted and has no
  visible effect here.
- ``composite/batch`` runs up to 25 independent subrequests (URLs relative to
  ``/services/data``, e.g. ``v59.0/sobjects/Account/describe``); with ``haltOnError``
  the rest after a failure answer 412 BATCH_PROCESSING_HALTED.

Both count as one API request. Subrequests are dispatched in-process to the same
handlers the plain REST routes use (the routes :func:`~crmbridge.emulator.http.api_route`
builds), without counting or fault injection of their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import ApiRequest, api_route, error_response, json_response

MAX_SUBREQUESTS = 25
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_PATH_PART = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."


class _Unresolved(Exception):
    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(reference)


# --- in-process dispatch ---------------------------------------------------------------------


def dispatch(
    api: ApiRequest,
    method: str,
    url: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Run one subrequest against the app's API routes; return ``(status, headers, body)``."""
    path, _, query = url.partition("?")
    outer = api.request.scope
    merged = {k.lower(): v for k, v in api.headers.items() if k.lower() != "content-length"}
    merged.update({k.lower(): v for k, v in (headers or {}).items()})
    scope = dict(outer)
    scope.update(
        method=method.upper(),
        path=path,
        raw_path=path.encode(),
        query_string=query.encode(),
        headers=[(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in merged.items()],
    )
    partial = False
    for route in api.request.app.routes:
        match, child = route.matches(scope)
        handler = getattr(route, "api_handler", None)
        if match is Match.NONE or handler is None:
            continue
        if match is Match.PARTIAL:
            partial = True
            continue
        if getattr(route, "api_resource", "").startswith("composite") and route.path.endswith(
            ("/composite", "/composite/batch")
        ):
            break
        scope.update(child)
        request = Request(scope)
        raw_body = b"" if body is None else json.dumps(body).encode()
        try:
            version = None
            if getattr(route, "api_versioned", True):
                from crmbridge.emulator.http import parse_version

                version = parse_version(str(child["path_params"]["version"]))
            sub = ApiRequest(
                request=request,
                session=api.session,
                version=version,
                body=raw_body,
                path_params=dict(child["path_params"]),
                query=QueryParams(parse_qsl(query, keep_blank_values=True)),
                headers=Headers(raw=scope["headers"]),
            )
            response = handler(sub)
        except SalesforceApiError as error:
            response = error_response(error)
        return _unpack(response)
    if partial:
        return (
            405,
            {},
            [{"errorCode": "METHOD_NOT_ALLOWED", "message": f"HTTP Method '{method}' not allowed"}],
        )
    return 404, {}, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def _unpack(response: Response) -> tuple[int, dict[str, str], Any]:
    raw = bytes(response.body) if response.body else b""
    parsed: Any = None
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
    keep = {}
    for name in ("Location", "Sforce-Locator"):
        if name.lower() in response.headers:
            keep[name] = response.headers[name.lower()]
    return response.status_code, keep, parsed


# --- references -----------------------------------------------------------------------


def _resolve_path(value: Any, path: str, reference: str) -> Any:
    for name, index in _PATH_PART.findall(path):
        if name:
            if not isinstance(value, Mapping):
                raise _Unresolved(reference)
            lowered = {k.lower(): k for k in value}
            if name.lower() not in lowered:
                raise _Unresolved(reference)
            value = value[lowered[name.lower()]]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise _Unresolved(reference)
            value = value[int(index)]
    return value


def _substitute(value: Any, results: Mapping[str, Any]) -> Any:
    """Replace ``@{ref.path}`` in every string of ``value`` with the referenced value."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)

        def lookup(match: re.Match[str]) -> Any:
            ref, path = match.group(1), match.group(2)
            if ref not in results:
                raise _Unresolved(match.group(0))
            return _resolve_path(results[ref], path, match.group(0))

        if whole:
            return lookup(whole)
        return _REFERENCE.sub(lambda m: str(lookup(m)), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, Mapping):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


# --- composite ------------------------------------------------------------------------


def _halted(reference_id: str, message: str = _HALTED) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference_id,
    }


def _validate_subrequests(items: Any, key: str) -> list[Mapping[str, Any]]:
    if not isinstance(items, list) or not items:
        raise SalesforceApiError(400, "INVALID_INPUT", f"{key} is required and must be a list")
    if len(items) > MAX_SUBREQUESTS:
        raise SalesforceApiError(
            400,
            "LIMIT_EXCEEDED",
            f"Composite requests are limited to {MAX_SUBREQUESTS} subrequests",
        )
    for item in items:
        if not isinstance(item, Mapping):
            raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Each subrequest must be an object")
    return items


class _RollBack(Exception):
    pass


def composite_handler(api: ApiRequest) -> Response:
    """``POST /composite``: dependent subrequests sharing references."""
    body = api.json_object()
    items = _validate_subrequests(body.get("compositeRequest"), "compositeRequest")
    all_or_none = body.get("allOrNone") is True
    seen: set[str] = set()
    for item in items:
        for key in ("method", "url", "referenceId"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise SalesforceApiError(400, "INVALID_INPUT", f"{key} is required in a subrequest")
        if not _REFERENCE_ID.match(item["referenceId"]):
            raise SalesforceApiError(
                400, "INVALID_INPUT", f"Invalid referenceId: {item['referenceId']}"
            )
        if item["referenceId"] in seen:
            raise SalesforceApiError(
                400, "INVALID_INPUT", f"Duplicate referenceId: {item['referenceId']}"
            )
        seen.add(item["referenceId"])
        if not str(item["url"]).startswith("/services/data/"):
            raise SalesforceApiError(
                400, "INVALID_INPUT", "The subrequest URL must start with /services/data/vXX.X/"
            )
    responses: list[dict[str, Any]] = []
    results: dict[str, Any] = {}
    try:
        with api.ctx.store.transaction(user_id=api.session.user_id):
            failed = False
            for item in items:
                reference_id = item["referenceId"]
                try:
                    url = _substitute(item["url"], results)
                    sub_body = _substitute(item.get("body"), results)
                except _Unresolved as missing:
                    failed = True
                    responses.append(
                        _halted(
                            reference_id,
                            f"Invalid reference specification: {missing.reference} could not be "
                            "resolved (the referenced subrequest failed, comes later, or has no "
                            "such value)",
                        )
                    )
                    continue
                status, headers, result = dispatch(
                    api, item["method"], str(url), sub_body, item.get("httpHeaders") or {}
                )
                if status < 300:
                    results[reference_id] = result
                else:
                    failed = True
                responses.append(
                    {
                        "body": result,
                        "httpHeaders": headers,
                        "httpStatusCode": status,
                        "referenceId": reference_id,
                    }
                )
            if failed and all_or_none:
                raise _RollBack
    except _RollBack:
        # Failures keep their own answer; everything that had succeeded is undone.
        responses = [
            r if r["httpStatusCode"] >= 300 else _halted(r["referenceId"]) for r in responses
        ]
    return json_response(api.request, {"compositeResponse": responses})


_REFERENCE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# --- batch ----------------------------------------------------------------------------


def batch_handler(api: ApiRequest) -> Response:
    """``POST /composite/batch``: independent subrequests, optionally halting on error."""
    body = api.json_object()
    items = _validate_subrequests(body.get("batchRequests"), "batchRequests")
    halt = body.get("haltOnError") is True
    results: list[dict[str, Any]] = []
    has_errors = False
    for item in items:
        if halt and has_errors:
            results.append(
                {
                    "statusCode": 412,
                    "result": [
                        {
                            "errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request",
                        }
                    ],
                }
            )
            continue
        method, url = item.get("method"), item.get("url")
        if not isinstance(method, str) or not isinstance(url, str):
            raise SalesforceApiError(400, "INVALID_INPUT", "method and url are required")
        path = url if url.startswith("/services/data/") else "/services/data/" + url.lstrip("/")
        sub_body = item.get("richInput")
        status, _headers, result = dispatch(api, method, path, sub_body)
        if status >= 400:
            has_errors = True
        results.append({"statusCode": status, "result": result})
    return json_response(api.request, {"hasErrors": has_errors, "results": results})


def composite_resources(api: ApiRequest) -> Response:
    """``GET /composite``: the composite resources of this version."""
    base = api.base_path()
    return json_response(
        api.request,
        {
            "batch": f"{base}/composite/batch",
            "sobjects": f"{base}/composite/sobjects",
        },
    )


def _composite_entry(api: ApiRequest) -> Response:
    if api.request.method == "GET":
        return composite_resources(api)
    return composite_handler(api)


def _composite_method(request: Request) -> bool:
    return request.method != "GET"


routes = [
    api_route(
        "/services/data/{version}/composite",
        _composite_entry,
        methods=["GET", "POST"],
        resource="composite",
        write=_composite_method,
    ),
    api_route(
        "/services/data/{version}/composite/batch",
        batch_handler,
        methods=["POST"],
        resource="composite/batch",
    ),
]

__all__ = ["batch_handler", "composite_handler", "dispatch", "routes"]
