"""Entity types with their fields, and tenant custom field definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from crmbridge.domain.entities import ENTITY_TYPES, EntityType, get_entity_type
from crmbridge.services import custom_fields as service
from crmbridge.services.errors import NotFound
from crmbridge.services.records import fields_for
from crmbridge.web.api.schemas import Input
from crmbridge.web.deps import Configurer, DbSession, Viewer

router = APIRouter()


class CustomFieldIn(Input):
    entity_type: str = Field(max_length=50)
    name: str = Field(max_length=63)
    type: str = Field(max_length=20)
    label: str = Field(default="", max_length=255)
    required: bool = False
    max_length: int | None = None
    values: list[str] = Field(default_factory=list, max_length=500)
    description: str = Field(default="", max_length=2000)


class CustomFieldPatch(Input):
    label: str | None = Field(default=None, max_length=255)
    required: bool | None = None
    max_length: int | None = None
    values: list[str] | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=2000)


class CustomFieldOut(BaseModel):
    id: str
    entity_type: str
    name: str
    type: str
    label: str
    required: bool
    max_length: int | None
    values: list[str]
    description: str
    created_at: datetime
    updated_at: datetime


class FieldOut(BaseModel):
    name: str
    type: str
    label: str
    required: bool
    max_length: int | None
    values: list[str]
    references: str | None
    default: Any
    description: str
    custom: bool


class EntityTypeOut(BaseModel):
    name: str
    plural: str
    label: str
    description: str
    fields: list[FieldOut]


def _entity_out(entity: EntityType, fields: list[dict[str, Any]]) -> EntityTypeOut:
    return EntityTypeOut(
        name=entity.name,
        plural=entity.plural,
        label=entity.label,
        description=entity.description,
        fields=[FieldOut(**f) for f in fields],
    )


@router.get("/entity-types", response_model=list[EntityTypeOut], tags=["entity types"])
def list_entity_types(context: Viewer, session: DbSession) -> list[EntityTypeOut]:
    """Every entity type with its core fields and this tenant's custom fields."""
    return [
        _entity_out(
            entity,
            [
                f.describe()
                for f in fields_for(session, tenant_id=context.tenant_id, entity=entity).values()
            ],
        )
        for entity in ENTITY_TYPES.values()
    ]


@router.get("/entity-types/{name}", response_model=EntityTypeOut, tags=["entity types"])
def get_entity_type_fields(name: str, context: Viewer, session: DbSession) -> EntityTypeOut:
    if name not in ENTITY_TYPES:
        raise NotFound("No entity type with this name.")
    entity = get_entity_type(name)
    fields = fields_for(session, tenant_id=context.tenant_id, entity=entity)
    return _entity_out(entity, [f.describe() for f in fields.values()])


@router.get("/custom-fields", response_model=list[CustomFieldOut], tags=["custom fields"])
def list_custom_fields(
    context: Viewer,
    session: DbSession,
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
) -> list[CustomFieldOut]:
    definitions = service.list_definitions(
        session, tenant_id=context.tenant_id, entity_type=entity_type
    )
    return [CustomFieldOut(**service.definition_view(d)) for d in definitions]


@router.post(
    "/custom-fields", status_code=201, response_model=CustomFieldOut, tags=["custom fields"]
)
def create_custom_field(
    body: CustomFieldIn, context: Configurer, session: DbSession
) -> CustomFieldOut:
    definition = service.create_definition(
        session, context.principal, tenant_id=context.tenant_id, attributes=body.model_dump()
    )
    return CustomFieldOut(**service.definition_view(definition))


@router.get("/custom-fields/{definition_id}", response_model=CustomFieldOut, tags=["custom fields"])
def get_custom_field(definition_id: str, context: Viewer, session: DbSession) -> CustomFieldOut:
    definition = service.get_definition(
        session, tenant_id=context.tenant_id, definition_id=definition_id
    )
    return CustomFieldOut(**service.definition_view(definition))


@router.patch(
    "/custom-fields/{definition_id}", response_model=CustomFieldOut, tags=["custom fields"]
)
def update_custom_field(
    definition_id: str, body: CustomFieldPatch, context: Configurer, session: DbSession
) -> CustomFieldOut:
    definition = service.update_definition(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        definition_id=definition_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return CustomFieldOut(**service.definition_view(definition))


@router.delete("/custom-fields/{definition_id}", status_code=204, tags=["custom fields"])
def delete_custom_field(definition_id: str, context: Configurer, session: DbSession) -> Response:
    service.delete_definition(
        session, context.principal, tenant_id=context.tenant_id, definition_id=definition_id
    )
    return Response(status_code=204)
