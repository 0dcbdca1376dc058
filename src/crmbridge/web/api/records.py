"""CRUD and list endpoints for every entity type, generated from the registry (R-D2)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from crmbridge.domain.entities import ENTITY_TYPES, EntityType, FieldError
from crmbridge.services import records as service
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.web.api.cursors import decode_cursor, encode_cursor
from crmbridge.web.deps import DbSession, Editor, TenantContext, Viewer
from crmbridge.web.problems import ProblemError

router = APIRouter()
_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def schema_name(entity: EntityType) -> str:
    """OpenAPI component name: ``event_registration`` → ``EventRegistration``."""
    return "".join(part.capitalize() for part in entity.name.split("_"))


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (400 when it is not JSON, 422 when not an object)."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProblemError(
            400, "The request body is not valid JSON.", slug="invalid-json"
        ) from None
    if not isinstance(body, dict):
        raise ProblemError(
            422,
            "The request body must be a JSON object.",
            slug="validation-error",
            errors=[FieldError(field="body", message="must be a JSON object")],
        )
    return body


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


def _context(request: Request, tenant: TenantContext) -> ChangeContext:
    source = "ui" if tenant.principal.kind == "user" else "api"
    return ChangeContext(
        source=source,
        origin=f"request:{getattr(request.state, 'request_id', '')}",
        actor=tenant.principal.actor,
    )


def _expected_version(request: Request, body: dict[str, Any] | None = None) -> int | None:
    header = request.headers.get("if-match")
    from_body = body.pop("version", None) if body is not None else None
    if header is not None:
        match = _ETAG.match(header.strip())
        if not match:
            raise ProblemError(
                422,
                'If-Match must be the record\'s version, e.g. If-Match: "3".',
                slug="validation-error",
                errors=[FieldError(field="If-Match", message="is not a version")],
            )
        return int(match.group(1))
    if from_body is None:
        return None
    if isinstance(from_body, bool) or not isinstance(from_body, int):
        raise ProblemError(
            422,
            "The request has invalid fields; nothing was changed.",
            slug="validation-error",
            errors=[FieldError(field="version", message="must be an integer")],
        )
    return from_body


def _record_response(view: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(view, status_code=status, headers={"ETag": f'"{view["version"]}"'})


def _add_entity_routes(entity: EntityType) -> None:
    name = schema_name(entity)
    path = f"/{entity.plural}"
    tags = [entity.plural]

    def _body_doc(component: str) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{component}"}
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}

    def _ok(component: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
        ref = {"$ref": f"#/components/schemas/{component}"}
        return {status: {"description": "OK", "content": {"application/json": {"schema": ref}}}}

    @router.get(
        path,
        name=f"list_{entity.name}",
        summary=f"List {entity.label.lower()} records",
        tags=tags,
        responses=_ok(f"{name}Page"),
        response_class=JSONResponse,
    )
    def list_records(
        request: Request,
        context: Viewer,
        session: DbSession,
        limit: Annotated[int, Query(ge=1, description="Page size.")] = 50,
        cursor: Annotated[str | None, Query(max_length=1000)] = None,
        updated_since: Annotated[
            datetime | None, Query(description="Only records changed at or after (ISO 8601).")
        ] = None,
        include_deleted: bool = False,
    ) -> JSONResponse:
        settings = request.app.state.settings
        if limit > settings.max_page_size:
            raise ProblemError(
                422,
                "The request has invalid fields; nothing was changed.",
                slug="validation-error",
                errors=[
                    FieldError(field="limit", message=f"must be at most {settings.max_page_size}")
                ],
            )
        if updated_since is not None and updated_since.tzinfo is None:
            raise ProblemError(
                422,
                "The request has invalid fields; nothing was changed.",
                slug="validation-error",
                errors=[FieldError(field="updated_since", message="must include a time zone")],
            )
        scope = f"{context.tenant_id}|{entity.name}|{updated_since}|{include_deleted}"
        key = settings.signing_key("cursor")
        after = decode_cursor(key, cursor, scope=scope) if cursor else None
        page = service.list_records(
            session,
            tenant_id=context.tenant_id,
            entity=entity,
            limit=limit,
            after=after,
            updated_since=updated_since,
            include_deleted=include_deleted,
        )
        fields = service.fields_for(session, tenant_id=context.tenant_id, entity=entity)
        next_cursor = (
            encode_cursor(key, scope=scope, position=page.next_position)
            if page.next_position
            else None
        )
        return JSONResponse(
            {
                "items": [service.record_view(r, fields) for r in page.records],
                "next_cursor": next_cursor,
            }
        )

    @router.post(
        path,
        name=f"create_{entity.name}",
        summary=f"Create a {entity.label.lower()}",
        tags=tags,
        status_code=201,
        openapi_extra=_body_doc(f"{name}Create"),
        responses=_ok(name, 201),
        response_class=JSONResponse,
    )
    def create_record(
        request: Request, body: JsonObject, context: Editor, session: DbSession
    ) -> JSONResponse:
        record = service.create_record(
            session,
            tenant_id=context.tenant_id,
            entity=entity,
            payload=body,
            context=_context(request, context),
        )
        fields = service.fields_for(session, tenant_id=context.tenant_id, entity=entity)
        return _record_response(service.record_view(record, fields), 201)

    @router.get(
        f"{path}/{{record_id}}",
        name=f"get_{entity.name}",
        summary=f"Get a {entity.label.lower()}",
        tags=tags,
        responses=_ok(name),
        response_class=JSONResponse,
    )
    def get_record(record_id: str, context: Viewer, session: DbSession) -> JSONResponse:
        record = service.get_record(
            session, tenant_id=context.tenant_id, entity=entity, record_id=record_id
        )
        fields = service.fields_for(session, tenant_id=context.tenant_id, entity=entity)
        return _record_response(service.record_view(record, fields))

    @router.patch(
        f"{path}/{{record_id}}",
        name=f"update_{entity.name}",
        summary=f"Update a {entity.label.lower()} (fields not sent stay as they are)",
        tags=tags,
        openapi_extra=_body_doc(f"{name}Update"),
        responses=_ok(name),
        response_class=JSONResponse,
    )
    def update_record(
        record_id: str, request: Request, body: JsonObject, context: Editor, session: DbSession
    ) -> JSONResponse:
        expected = _expected_version(request, body)
        record = service.update_record(
            session,
            tenant_id=context.tenant_id,
            entity=entity,
            record_id=record_id,
            payload=body,
            context=_context(request, context),
            expected_version=expected,
        )
        fields = service.fields_for(session, tenant_id=context.tenant_id, entity=entity)
        return _record_response(service.record_view(record, fields))

    @router.delete(
        f"{path}/{{record_id}}",
        name=f"delete_{entity.name}",
        summary=f"Delete a {entity.label.lower()}",
        tags=tags,
        status_code=204,
        response_class=Response,
    )
    def delete_record(
        record_id: str, request: Request, context: Editor, session: DbSession
    ) -> Response:
        service.delete_record(
            session,
            tenant_id=context.tenant_id,
            entity=entity,
            record_id=record_id,
            context=_context(request, context),
            expected_version=_expected_version(request),
        )
        return Response(status_code=204)


for _entity in ENTITY_TYPES.values():
    _add_entity_routes(_entity)
