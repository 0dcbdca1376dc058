"""Shared pieces of the mapping routers: reaching the org, versions, problem answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from crmbridge.connections import open_salesforce_client
from crmbridge.connections.errors import NotConnected
from crmbridge.domain.errors import CrmError
from crmbridge.mappings import service
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.errors import (
    MappingRejected,
    SalesforceNotConnected,
    SalesforceUnavailable,
)
from crmbridge.mappings.preview import PreviewNotPossible
from crmbridge.web.api.mapping_schemas import MappingDefinitionIn, MappingSaved
from crmbridge.web.api.salesforce import crm_problem
from crmbridge.web.deps import DbSession
from crmbridge.web.problems import PROBLEM_MEDIA_TYPE, TYPE_PREFIX, ProblemError

#: Opens the tenant's org for one block: ``with open_org(tenant_id) as org: ...``.
OrgOpener = Callable[[str], AbstractContextManager[OrgSchema]]


def get_org_opener(request: Request, session: DbSession) -> OrgOpener:
    """How this request reaches the tenant's org (tests may override this dependency)."""
    settings = request.app.state.settings
    factory = request.app.state.session_factory

    @contextmanager
    def open_org(tenant_id: str) -> Iterator[OrgSchema]:
        # Fetch, then write: nothing of the endpoint is written yet, but authentication
        # may have touched the API key; commit that so no write lock is held while
        # Salesforce is called (token renewals and the describe cache write in their
        # own transactions; SQLite allows one writer).
        session.commit()
        try:
            with open_salesforce_client(factory, settings, tenant_id) as client:
                yield OrgSchema(factory, client, tenant_id=tenant_id)
        except NotConnected as error:
            raise SalesforceNotConnected(f"{error.message} {error.advice}") from None
        except CrmError as error:
            raise SalesforceUnavailable(error) from None

    return open_org


OpenOrg = Annotated[OrgOpener, Depends(get_org_opener)]


def expected_version(body_version: int | None, if_match: str | None) -> int | None:
    if body_version is not None:
        return body_version
    if if_match is None or not if_match.strip():
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise ProblemError(
            400, 'If-Match must be a version in quotes, e.g. "3".', slug="bad-if-match"
        ) from None


def saved_mapping(result: service.SaveResult, response: Response) -> MappingSaved:
    response.headers["ETag"] = f'"{result.mapping.version}"'
    return MappingSaved(
        **service.mapping_view(result.mapping),
        issues=[p.to_dict() for p in result.problems],
        changed=result.changed,
    )


def definition_of(body: MappingDefinitionIn) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, exclude={"filter_name", "version"})


# --- problems ---------------------------------------------------------------------------------


def _problem(request: Request, status: int, slug: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": {409: "Conflict", 422: "Unprocessable Entity"}.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def install_mapping_problems(app: FastAPI) -> None:
    """Answer the mapping use cases' refusals as problem+json (docs/api.md, "Mappings")."""

    @app.exception_handler(MappingRejected)
    async def _rejected(request: Request, exc: MappingRejected) -> JSONResponse:
        errors = [p.to_dict() for p in exc.problems if p.severity == "error"]
        warnings = [p.to_dict() for p in exc.problems if p.severity != "error"]
        return _problem(
            request, 422, "invalid-mapping", exc.message, errors=errors, warnings=warnings
        )

    @app.exception_handler(SalesforceNotConnected)
    async def _not_connected(request: Request, exc: SalesforceNotConnected) -> JSONResponse:
        return _problem(request, 409, "salesforce-not-connected", exc.message)

    @app.exception_handler(SalesforceUnavailable)
    async def _unavailable(request: Request, exc: SalesforceUnavailable) -> JSONResponse:
        problem = crm_problem(exc.error)
        return _problem(request, problem.status, problem.slug or "salesforce-error", problem.detail)

    @app.exception_handler(PreviewNotPossible)
    async def _no_preview(request: Request, exc: PreviewNotPossible) -> JSONResponse:
        return _problem(request, 422, "preview-not-possible", exc.message)
