"""The mapping API: object mappings, versions, checks, defaults, auto-match, preview and
the describe the editor needs (docs/api.md, "Mappings").

CLIENT_ADMIN and the operator change mappings; every role of the tenant reads them.
Endpoints that need the org open the tenant's Salesforce client, read what they need
(describes, records) and close it before anything is written, so no write lock is
held while Salesforce is called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from crmbridge.connections import open_salesforce_client
from crmbridge.connections.errors import NotConnected
from crmbridge.domain.errors import CrmError
from crmbridge.domain.mapping import ObjectMapping
from crmbridge.mappings import defaults as defaults_service
from crmbridge.mappings import service
from crmbridge.mappings import suggestions as suggestions_service
from crmbridge.mappings.checks import CheckedMapping, parse_definition
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.editor import editor_object
from crmbridge.mappings.errors import (
    MappingRejected,
    SalesforceNotConnected,
    SalesforceUnavailable,
)
from crmbridge.mappings.preview import (
    PreviewNotPossible,
    preview_to_platform,
    preview_to_salesforce,
)
from crmbridge.web.api.mapping_schemas import (
    AcceptSuggestionsIn,
    AutoMatchIn,
    AutoMatchOut,
    DefaultMappingOut,
    DraftPreviewIn,
    EditorObjectOut,
    InstallDefaultsIn,
    InstallOutcomeOut,
    MappingDefinitionIn,
    MappingIn,
    MappingOut,
    MappingPatch,
    MappingSaved,
    MappingUpdate,
    MappingVersionDetail,
    MappingVersionOut,
    PreviewIn,
    PreviewOut,
    SalesforceObjectOut,
    ValidationOut,
)
from crmbridge.web.api.salesforce import crm_problem
from crmbridge.web.deps import Configurer, DbSession, TenantContext, Viewer
from crmbridge.web.problems import PROBLEM_MEDIA_TYPE, TYPE_PREFIX, ProblemError

router = APIRouter(tags=["mappings"])

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


def _expected_version(body_version: int | None, if_match: str | None) -> int | None:
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


def _saved(result: service.SaveResult, response: Response) -> MappingSaved:
    response.headers["ETag"] = f'"{result.mapping.version}"'
    return MappingSaved(
        **service.mapping_view(result.mapping),
        issues=[p.to_dict() for p in result.problems],
        changed=result.changed,
    )


def _definition(body: MappingDefinitionIn) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, exclude={"filter_name", "version"})


# --- static paths first: they would otherwise read as mapping ids --------------------------


@router.get("/mappings", response_model=list[MappingOut])
def list_mappings(
    context: Viewer,
    session: DbSession,
    platform_entity: Annotated[str | None, Query(max_length=50)] = None,
    salesforce_object: Annotated[str | None, Query(max_length=80)] = None,
    enabled: bool | None = None,
) -> list[MappingOut]:
    """The tenant's object mappings, by entity, object and filter name."""
    found = service.list_mappings(
        session,
        tenant_id=context.tenant_id,
        platform_entity=platform_entity,
        salesforce_object=salesforce_object,
        enabled=enabled,
    )
    return [MappingOut(**service.mapping_view(m)) for m in found]


@router.post("/mappings", status_code=201, response_model=MappingSaved)
def create_mapping(
    body: MappingIn, context: Configurer, session: DbSession, open_org: OpenOrg, response: Response
) -> MappingSaved:
    """Check a mapping against the org and store it as version 1.

    Errors answer 422 with one ``errors`` item per issue and nothing is saved, unless
    the mapping is disabled (a draft keeps its describe-driven errors, listed in
    ``issues``).
    """
    with open_org(context.tenant_id) as org:
        checked = service.validate_draft(
            session, org, tenant_id=context.tenant_id, definition=_definition(body)
        )
    result = service.store_new_mapping(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        checked=checked,
        filter_name=body.filter_name,
    )
    return _saved(result, response)


@router.post("/mappings/validate", response_model=ValidationOut)
def validate_mapping(
    body: MappingDefinitionIn, context: Viewer, session: DbSession, open_org: OpenOrg
) -> ValidationOut:
    """Check a draft against the org without saving it (200 even when it has errors)."""
    with open_org(context.tenant_id) as org:
        checked = service.validate_draft(
            session, org, tenant_id=context.tenant_id, definition=_definition(body)
        )
    return _validation(checked)


def _validation(checked: CheckedMapping) -> ValidationOut:
    return ValidationOut(
        valid=not checked.errors,
        issues=[p.to_dict() for p in checked.problems],
        definition=checked.mapping.to_dict(),
    )


@router.get("/mappings/defaults", response_model=list[DefaultMappingOut])
def list_default_mappings(context: Viewer, session: DbSession) -> list[DefaultMappingOut]:
    """The shipped default mappings (R-M4) and which ones the tenant has installed."""
    return [
        DefaultMappingOut(
            platform_entity=d.mapping.platform_entity,
            salesforce_object=d.mapping.salesforce_object,
            definition=d.mapping.to_dict(),
            installed_mapping_id=d.installed.id if d.installed else None,
        )
        for d in defaults_service.list_default_mappings(session, tenant_id=context.tenant_id)
    ]


@router.post("/mappings/defaults/install", response_model=list[InstallOutcomeOut])
def install_default_mappings(
    body: InstallDefaultsIn, context: Configurer, session: DbSession, open_org: OpenOrg
) -> list[InstallOutcomeOut]:
    """Install one, several or all defaults after checking them against the org."""
    pairs = (
        None
        if body.pairs is None
        else [(p.platform_entity, p.salesforce_object) for p in body.pairs]
    )
    with open_org(context.tenant_id) as org:
        plan = defaults_service.check_default_mappings(
            session, org, tenant_id=context.tenant_id, pairs=pairs, enabled=body.enabled
        )
    outcomes = defaults_service.install_default_mappings(
        session, context.principal, plan, tenant_id=context.tenant_id
    )
    return [
        InstallOutcomeOut(
            pair=o.pair,
            status=o.status,
            mapping=MappingOut(**service.mapping_view(o.mapping)),
            issues=[p.to_dict() for p in o.problems],
        )
        for o in outcomes
    ]


@router.post("/mappings/auto-match", response_model=AutoMatchOut)
def auto_match(
    body: AutoMatchIn, context: Viewer, session: DbSession, open_org: OpenOrg
) -> AutoMatchOut:
    """Suggest field mappings: "Found n matching, n partially matching and n unmatched"."""
    existing: ObjectMapping | None = None
    if body.mapping_id is not None:
        stored = service.get_mapping(
            session, tenant_id=context.tenant_id, mapping_id=body.mapping_id
        )
        existing = ObjectMapping.from_dict(stored.definition)
    with open_org(context.tenant_id) as org:
        result = suggestions_service.suggest_field_mappings(
            session,
            org,
            tenant_id=context.tenant_id,
            platform_entity=body.platform_entity,
            salesforce_object=body.salesforce_object,
            existing=existing,
        )
    return AutoMatchOut(**result.to_dict())


@router.post("/mappings/preview", response_model=PreviewOut)
def preview_draft(
    body: DraftPreviewIn, context: Viewer, session: DbSession, open_org: OpenOrg
) -> PreviewOut:
    """What a record becomes under an unsaved definition (nothing is created)."""
    mapping = parse_definition(_definition(body.mapping))
    return _preview(body, mapping, context, session, open_org)


@router.get("/mappings/salesforce-objects", response_model=list[SalesforceObjectOut])
def list_salesforce_objects(
    context: Viewer, session: DbSession, open_org: OpenOrg
) -> list[SalesforceObjectOut]:
    """The org's objects (describeGlobal), for picking one in the editor."""
    with open_org(context.tenant_id) as org:
        objects = org.list_objects()
    return [
        SalesforceObjectOut(
            name=str(o.get("name")),
            label=str(o.get("label") or o.get("name")),
            custom=bool(o.get("custom")),
            createable=bool(o.get("createable")),
            updateable=bool(o.get("updateable")),
            queryable=bool(o.get("queryable")),
        )
        for o in objects
    ]


@router.get("/mappings/salesforce-objects/{sobject}", response_model=EditorObjectOut)
def describe_salesforce_object(
    sobject: str, context: Viewer, session: DbSession, open_org: OpenOrg
) -> EditorObjectOut:
    """An object's fields as the editor shows them (from the describe cache)."""
    _check_api_name(sobject)
    with open_org(context.tenant_id) as org:
        snapshot = org.describe(sobject)
    return EditorObjectOut(**editor_object(snapshot))


@router.post("/mappings/salesforce-objects/{sobject}/refresh", response_model=EditorObjectOut)
def refresh_salesforce_object(
    sobject: str, context: Configurer, session: DbSession, open_org: OpenOrg
) -> EditorObjectOut:
    """Download an object's describe again (after changing fields or permissions)."""
    _check_api_name(sobject)
    with open_org(context.tenant_id) as org:
        snapshot = org.describe(sobject, refresh=True)
    return EditorObjectOut(**editor_object(snapshot))


def _check_api_name(name: str) -> None:
    if not name or len(name) > 80 or not name.replace("_", "").isalnum() or not name.isascii():
        raise ProblemError(404, f"No Salesforce object {name!r}.", slug="not-found")


# --- one mapping ----------------------------------------------------------------------------


@router.get("/mappings/{mapping_id}", response_model=MappingOut)
def get_mapping(
    mapping_id: str, context: Viewer, session: DbSession, response: Response
) -> MappingOut:
    """One mapping (``ETag`` is its version)."""
    stored = service.get_mapping(session, tenant_id=context.tenant_id, mapping_id=mapping_id)
    response.headers["ETag"] = f'"{stored.version}"'
    return MappingOut(**service.mapping_view(stored))


@router.put("/mappings/{mapping_id}", response_model=MappingSaved)
def replace_mapping(
    mapping_id: str,
    body: MappingUpdate,
    context: Configurer,
    session: DbSession,
    open_org: OpenOrg,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> MappingSaved:
    """Replace the definition (a new version); 409 when the version moved on."""
    stored = service.get_mapping(session, tenant_id=context.tenant_id, mapping_id=mapping_id)
    service.check_expected_version(stored, _expected_version(body.version, if_match))
    with open_org(context.tenant_id) as org:
        checked = service.validate_draft(
            session, org, tenant_id=context.tenant_id, definition=_definition(body)
        )
    result = service.store_mapping_change(
        session,
        context.principal,
        stored,
        checked=checked,
        filter_name=stored.filter_name if body.filter_name is None else body.filter_name,
    )
    return _saved(result, response)


@router.patch("/mappings/{mapping_id}", response_model=MappingSaved)
def patch_mapping(
    mapping_id: str,
    body: MappingPatch,
    context: Configurer,
    session: DbSession,
    open_org: OpenOrg,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> MappingSaved:
    """Change some attributes (``{"enabled": false}``); a new version when anything changed."""
    stored = service.get_mapping(session, tenant_id=context.tenant_id, mapping_id=mapping_id)
    service.check_expected_version(stored, _expected_version(body.version, if_match))
    changes = body.model_dump(exclude_unset=True, exclude={"filter_name", "version"})
    definition = service.patched_definition(stored, changes)
    with open_org(context.tenant_id) as org:
        checked = service.validate_draft(
            session, org, tenant_id=context.tenant_id, definition=definition
        )
    result = service.store_mapping_change(
        session,
        context.principal,
        stored,
        checked=checked,
        filter_name=stored.filter_name if body.filter_name is None else body.filter_name,
    )
    return _saved(result, response)


@router.delete("/mappings/{mapping_id}", status_code=204)
def delete_mapping(
    mapping_id: str,
    context: Configurer,
    session: DbSession,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Delete a mapping; its versions stay readable."""
    service.delete_mapping(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        mapping_id=mapping_id,
        expected_version=_expected_version(None, if_match),
    )
    return Response(status_code=204)


@router.get("/mappings/{mapping_id}/versions", response_model=list[MappingVersionOut])
def list_mapping_versions(
    mapping_id: str, context: Viewer, session: DbSession
) -> list[MappingVersionOut]:
    """Every version, newest first: who changed what, when (also after a delete)."""
    versions = service.list_versions(session, tenant_id=context.tenant_id, mapping_id=mapping_id)
    return [MappingVersionOut(**service.version_view(v, with_definition=False)) for v in versions]


@router.get("/mappings/{mapping_id}/versions/{version}", response_model=MappingVersionDetail)
def get_mapping_version(
    mapping_id: str, version: int, context: Viewer, session: DbSession
) -> MappingVersionDetail:
    """One version with its definition as it was saved."""
    found = service.get_mapping_version(
        session, tenant_id=context.tenant_id, mapping_id=mapping_id, version=version
    )
    return MappingVersionDetail(**service.version_view(found, with_definition=True))


@router.post("/mappings/{mapping_id}/suggestions/accept", response_model=MappingSaved)
def accept_suggestions(
    mapping_id: str,
    body: AcceptSuggestionsIn,
    context: Configurer,
    session: DbSession,
    open_org: OpenOrg,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> MappingSaved:
    """Add suggested field mappings (given, or every matching one) as one new version."""
    stored = service.get_mapping(session, tenant_id=context.tenant_id, mapping_id=mapping_id)
    service.check_expected_version(stored, _expected_version(body.version, if_match))
    fields = (
        None if body.fields is None else [f.model_dump(exclude_unset=True) for f in body.fields]
    )
    with open_org(context.tenant_id) as org:
        checked = suggestions_service.check_with_accepted(
            session, org, stored, fields=fields, include_partial=body.include_partial
        )
    result = service.store_mapping_change(
        session, context.principal, stored, checked=checked, filter_name=stored.filter_name
    )
    return _saved(result, response)


@router.post("/mappings/{mapping_id}/preview", response_model=PreviewOut)
def preview_mapping(
    mapping_id: str, body: PreviewIn, context: Viewer, session: DbSession, open_org: OpenOrg
) -> PreviewOut:
    """What a record becomes on the other side, field by field (nothing is created)."""
    stored = service.get_mapping(session, tenant_id=context.tenant_id, mapping_id=mapping_id)
    return _preview(body, ObjectMapping.from_dict(stored.definition), context, session, open_org)


def _preview(
    body: PreviewIn,
    mapping: ObjectMapping,
    context: TenantContext,
    session: DbSession,
    open_org: OrgOpener,
) -> PreviewOut:
    given = [body.record_id is not None, body.record is not None, body.salesforce_id is not None]
    if sum(given) != 1:
        raise ProblemError(
            422,
            "Send exactly one of record_id, record or salesforce_id.",
            slug="validation-error",
        )
    with open_org(context.tenant_id) as org:
        if body.salesforce_id is not None:
            result = preview_to_platform(
                session,
                org,
                tenant_id=context.tenant_id,
                mapping=mapping,
                salesforce_id=body.salesforce_id,
            )
        else:
            result = preview_to_salesforce(
                session,
                org,
                tenant_id=context.tenant_id,
                mapping=mapping,
                record_id=body.record_id,
                record=body.record,
            )
    return PreviewOut(**result)


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


__all__ = ["get_org_opener", "install_mapping_problems", "router"]
