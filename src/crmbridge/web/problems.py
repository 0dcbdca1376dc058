"""Every error leaves as ``application/problem+json`` (RFC 9457).

Service errors are named by reason (crmbridge.services.errors); this module is the one
place that gives them HTTP status codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from crmbridge.domain.entities import FieldError, RecordValidationError
from crmbridge.services.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    StaleVersion,
    TenantSuspended,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Problem type URIs are URNs: stable identifiers, documented in docs/api.md.
TYPE_PREFIX = "urn:crmbridge:problem:"

log = structlog.get_logger(__name__)
#: Problem types whose status phrase differs between Python versions.
_HTTP_SLUGS = {413: "payload-too-large", 422: "validation-error"}


class ProblemError(Exception):
    """Raised by web code to answer with a specific problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = tuple(errors)
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; ``slug`` names the problem type (default: the status)."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors or status == 422:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field_errors_from_pydantic(errors: Sequence[Any]) -> list[FieldError]:
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "extra_forbidden":
            message = "is not an accepted field"
        result.append(FieldError(field=".".join(loc) or "body", message=message))
    return result


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    def _instance(request: Request) -> str:
        return request.url.path

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            instance=_instance(request),
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem_response(
            exc.status_code,
            detail,
            slug=_HTTP_SLUGS.get(exc.status_code),
            instance=_instance(request),
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return problem_response(
                400,
                "The request body is not valid JSON.",
                slug="invalid-json",
                instance=_instance(request),
            )
        return problem_response(
            422,
            "The request has invalid fields; nothing was changed.",
            slug="validation-error",
            errors=_field_errors_from_pydantic(errors),
            instance=_instance(request),
        )

    @app.exception_handler(RecordValidationError)
    async def _record_validation(request: Request, exc: RecordValidationError) -> JSONResponse:
        return problem_response(
            422,
            "The request has invalid fields; nothing was changed.",
            slug="validation-error",
            errors=exc.errors,
            instance=_instance(request),
        )

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        status, slug, headers = _status_of(exc)
        return problem_response(
            status, exc.message, slug=slug, instance=_instance(request), headers=headers
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(
            409, StaleVersion().message, slug="stale-version", instance=_instance(request)
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity_error", error=str(exc.orig).splitlines()[0][:200])
        return problem_response(
            409,
            "The request conflicts with existing data (a value that must be unique is taken).",
            slug="conflict",
            instance=_instance(request),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(
            500,
            "An unexpected error occurred; nothing was changed. Quote the X-Request-ID "
            "response header when reporting it.",
            instance=_instance(request),
        )


def _status_of(exc: ServiceError) -> tuple[int, str, dict[str, str] | None]:
    if isinstance(exc, AuthenticationFailed):
        return 401, "unauthenticated", {"WWW-Authenticate": 'Bearer realm="crmbridge"'}
    if isinstance(exc, TenantSuspended):
        return 403, "tenant-suspended", None
    if isinstance(exc, Forbidden):
        return 403, "forbidden", None
    if isinstance(exc, NotFound):
        return 404, "not-found", None
    if isinstance(exc, StaleVersion):
        return 409, "stale-version", None
    if isinstance(exc, Conflict):
        return 409, "conflict", None
    return 400, "bad-request", None
