"""Mapping tools: auto-match and accept, previews, and the org's objects for the editor.

Included by :mod:`crmbridge.web.api.mappings` before its ``/mappings/{mapping_id}``
routes, so the static paths here are not read as mapping ids.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from crmbridge.domain.mapping import ObjectMapping
from crmbridge.mappings import service
from crmbridge.mappings import suggestions as suggestions_service
from crmbridge.mappings.checks import parse_definition
from crmbridge.mappings.editor import editor_object
from crmbridge.mappings.preview import preview_to_platform, preview_to_salesforce
from crmbridge.web.api.mapping_schemas import (
    AcceptSuggestionsIn,
    AutoMatchIn,
    AutoMatchOut,
    DraftPreviewIn,
    EditorObjectOut,
    MappingSaved,
    PreviewIn,
    PreviewOut,
    SalesforceObjectOut,
)
from crmbridge.web.api.mapping_support import (
    OpenOrg,
    OrgOpener,
    definition_of,
    expected_version,
    saved_mapping,
)
from crmbridge.web.deps import Configurer, DbSession, TenantContext, Viewer
from crmbridge.web.problems import ProblemError

router = APIRouter(tags=["mappings"])


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
    mapping = parse_definition(definition_of(body.mapping))
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
    service.check_expected_version(stored, expected_version(body.version, if_match))
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
    return saved_mapping(result, response)


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
