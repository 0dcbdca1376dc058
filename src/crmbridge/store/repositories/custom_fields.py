"""Queries on tenant custom field definitions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.models import CustomFieldDefinition


def list_definitions(
    session: Session, *, tenant_id: str, entity_type: str | None = None
) -> list[CustomFieldDefinition]:
    query = (
        sa.select(CustomFieldDefinition)
        .where(CustomFieldDefinition.tenant_id == tenant_id)
        .order_by(CustomFieldDefinition.entity_type, CustomFieldDefinition.name)
    )
    if entity_type is not None:
        query = query.where(CustomFieldDefinition.entity_type == entity_type)
    return list(session.scalars(query))


def get_definition(
    session: Session, *, tenant_id: str, definition_id: str
) -> CustomFieldDefinition | None:
    return session.scalar(
        sa.select(CustomFieldDefinition).where(
            CustomFieldDefinition.id == definition_id,
            CustomFieldDefinition.tenant_id == tenant_id,
        )
    )


def add_definition(session: Session, definition: CustomFieldDefinition) -> CustomFieldDefinition:
    session.add(definition)
    session.flush()
    return definition


def delete_definition(session: Session, definition: CustomFieldDefinition) -> None:
    session.delete(definition)
    session.flush()
