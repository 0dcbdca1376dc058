"""Tenant custom fields: defined by CLIENT_ADMIN, validated and returned like core fields."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import (
    ENTITY_TYPES,
    FieldError,
    FieldSpec,
    FieldType,
    RecordValidationError,
    build_custom_field,
    get_entity_type,
)
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import NotFound
from crmbridge.store.db import utcnow
from crmbridge.store.models import CustomFieldDefinition
from crmbridge.store.repositories import custom_fields as repo

#: What PATCH may change; the name, type and entity type are fixed once created,
#: because stored values and mappings depend on them.
MUTABLE_ATTRIBUTES = ("label", "required", "max_length", "values", "description")


def definition_view(definition: CustomFieldDefinition) -> dict[str, Any]:
    return {
        "id": definition.id,
        "entity_type": definition.entity_type,
        "name": definition.name,
        "type": definition.type,
        "label": definition.label,
        "required": definition.required,
        "max_length": definition.max_length,
        "values": list(definition.values),
        "description": definition.description,
        "created_at": definition.created_at,
        "updated_at": definition.updated_at,
    }


def to_field_spec(definition: CustomFieldDefinition) -> FieldSpec:
    return FieldSpec(
        name=definition.name,
        type=FieldType(definition.type),
        label=definition.label,
        required=definition.required,
        max_length=definition.max_length,
        values=tuple(definition.values),
        description=definition.description,
        custom=True,
    )


def custom_field_specs(session: Session, *, tenant_id: str, entity_type: str) -> list[FieldSpec]:
    """The tenant's custom fields of ``entity_type`` as field specs."""
    return [
        to_field_spec(d)
        for d in repo.list_definitions(session, tenant_id=tenant_id, entity_type=entity_type)
    ]


def list_definitions(
    session: Session, *, tenant_id: str, entity_type: str | None = None
) -> list[CustomFieldDefinition]:
    return repo.list_definitions(session, tenant_id=tenant_id, entity_type=entity_type)


def get_definition(
    session: Session, *, tenant_id: str, definition_id: str
) -> CustomFieldDefinition:
    definition = repo.get_definition(session, tenant_id=tenant_id, definition_id=definition_id)
    if definition is None:
        raise NotFound("No custom field with this id.")
    return definition


def create_definition(
    session: Session, principal: Principal, *, tenant_id: str, attributes: dict[str, Any]
) -> CustomFieldDefinition:
    """Define a custom field; raises ``RecordValidationError`` listing every problem."""
    entity_name = attributes.get("entity_type", "")
    if entity_name not in ENTITY_TYPES:
        raise RecordValidationError(
            [FieldError(field="entity_type", message=f"must be one of {', '.join(ENTITY_TYPES)}")]
        )
    entity = get_entity_type(entity_name)
    taken = [
        d.name for d in repo.list_definitions(session, tenant_id=tenant_id, entity_type=entity.name)
    ]
    spec = build_custom_field(
        entity,
        name=attributes.get("name", ""),
        type=attributes.get("type", ""),
        label=attributes.get("label") or "",
        required=bool(attributes.get("required", False)),
        max_length=attributes.get("max_length"),
        values=attributes.get("values") or (),
        description=attributes.get("description") or "",
        taken_names=taken,
    )
    now = utcnow()
    definition = repo.add_definition(
        session,
        CustomFieldDefinition(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            entity_type=entity.name,
            name=spec.name,
            type=spec.type.value,
            label=spec.label,
            required=spec.required,
            max_length=spec.max_length,
            values=list(spec.values),
            description=spec.description,
            created_at=now,
            updated_at=now,
        ),
    )
    record_audit(
        session,
        principal,
        action="custom_field.create",
        target_type="custom_field",
        target_id=definition.id,
        tenant_id=tenant_id,
        after=definition_view(definition),
    )
    return definition


def update_definition(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    definition_id: str,
    changes: dict[str, Any],
) -> CustomFieldDefinition:
    definition = get_definition(session, tenant_id=tenant_id, definition_id=definition_id)
    before = definition_view(definition)
    merged = {**before, **{k: v for k, v in changes.items() if k in MUTABLE_ATTRIBUTES}}
    spec = build_custom_field(
        get_entity_type(definition.entity_type),
        name=definition.name,
        type=definition.type,
        label=merged["label"] or "",
        required=bool(merged["required"]),
        max_length=merged["max_length"],
        values=merged["values"] or (),
        description=merged["description"] or "",
    )
    definition.label = spec.label
    definition.required = spec.required
    definition.max_length = spec.max_length
    definition.values = list(spec.values)
    definition.description = spec.description
    definition.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        principal,
        action="custom_field.update",
        target_type="custom_field",
        target_id=definition.id,
        tenant_id=tenant_id,
        before=before,
        after=definition_view(definition),
    )
    return definition


def delete_definition(
    session: Session, principal: Principal, *, tenant_id: str, definition_id: str
) -> None:
    """Remove the definition; stored values stay in the records but are no longer shown."""
    definition = get_definition(session, tenant_id=tenant_id, definition_id=definition_id)
    before = definition_view(definition)
    repo.delete_definition(session, definition)
    record_audit(
        session,
        principal,
        action="custom_field.delete",
        target_type="custom_field",
        target_id=definition_id,
        tenant_id=tenant_id,
        before=before,
    )
