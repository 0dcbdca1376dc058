"""The mapping API: object mappings, versions, checks, defaults, auto-match, preview and
the describe the editor needs (docs/api.md, "Mappings").

CLIENT_ADMIN and the operator change mappings; every role of the tenant reads them.
Endpoints that need the org open the tenant's Salesforce client, read what they need
(describes, records) and close it before anything is written, so no write lock is
held while Salesforce is called.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from crmbridge.mappings import defaults as defaults_service
from crmbridge.mappings import service
from crmbridge.mappings.checks import CheckedMapping
from crmbridge.web.api import mapping_tools
from crmbridge.web.api.mapping_schemas import (
    DefaultMappingOut,
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
    ValidationOut,
)
from crmbridge.web.api.mapping_support import (
    OpenOrg,
    definition_of,
    expected_version,
    get_org_opener,
    install_mapping_problems,
    saved_mapping,
)
from crmbridge.web.deps import Configurer, DbSession, Viewer

router = APIRouter(tags=["mappings"])
# Before the /mappings/{mapping_id} routes: its static paths are not mapping ids.
router.include_router(mapping_tools.router)

# --- the collection and its static paths ------------------------------------------------------


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
            session, org, tenant_id=context.tenant_id, definition=definition_of(body)
        )
    result = service.store_new_mapping(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        checked=checked,
        filter_name=body.filter_name,
    )
    return saved_mapping(result, response)


@router.post("/mappings/validate", response_model=ValidationOut)
def validate_mapping(
    body: MappingDefinitionIn, context: Viewer, session: DbSession, open_org: OpenOrg
) -> ValidationOut:
    """Check a draft against the org without saving it (200 even when it has errors)."""
    with open_org(context.tenant_id) as org:
        checked = service.validate_draft(
            session, org, tenant_id=context.tenant_id, definition=definition_of(body)
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
    service.check_expected_version(stored, expected_version(body.version, if_match))
    with open_org(context.tenant_id) as org:
        checked = service.validate_draft(
            session, org, tenant_id=context.tenant_id, definition=definition_of(body)
        )
    result = service.store_mapping_change(
        session,
        context.principal,
        stored,
        checked=checked,
        filter_name=stored.filter_name if body.filter_name is None else body.filter_name,
    )
    return saved_mapping(result, response)


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
    service.check_expected_version(stored, expected_version(body.version, if_match))
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
    return saved_mapping(result, response)


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
        expected_version=expected_version(None, if_match),
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


# --- problems ---------------------------------------------------------------------------------


__all__ = ["get_org_opener", "install_mapping_problems", "router"]
