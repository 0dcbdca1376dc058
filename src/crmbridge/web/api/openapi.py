"""OpenAPI: one schema per entity type, generated from the registry."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from crmbridge.domain.entities import ENTITY_TYPES, EntityType, FieldSpec, FieldType
from crmbridge.web.api.records import schema_name

_JSON_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.STRING: {"type": "string"},
    FieldType.TEXT: {"type": "string"},
    FieldType.EMAIL: {"type": "string", "format": "email"},
    FieldType.PHONE: {"type": "string"},
    FieldType.URL: {"type": "string", "format": "uri"},
    FieldType.INTEGER: {"type": "integer"},
    FieldType.DECIMAL: {"type": "number"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.DATETIME: {"type": "string", "format": "date-time"},
    FieldType.PICKLIST: {"type": "string"},
    FieldType.MULTI_PICKLIST: {"type": "array", "items": {"type": "string"}},
    FieldType.REFERENCE: {"type": "string", "format": "uuid"},
    FieldType.FLAGS: {"type": "object", "additionalProperties": {"type": "boolean"}},
}

_META: dict[str, Any] = {
    "id": {"type": "string", "format": "uuid", "readOnly": True},
    "entity_type": {"type": "string", "readOnly": True},
    "version": {"type": "integer", "readOnly": True, "description": "Optimistic-lock version."},
    "salesforce_id": {"type": ["string", "null"], "readOnly": True},
    "sync_status": {
        "type": "string",
        "enum": ["pending", "synced", "failed", "skipped"],
        "readOnly": True,
    },
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "deleted_at": {"type": ["string", "null"], "format": "date-time", "readOnly": True},
}

_CUSTOM_NOTE = (
    " The tenant's custom fields (GET /api/v1/entity-types/{name}) are accepted and"
    " returned as further properties; any other property is rejected with 422."
)


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """JSON Schema of one field's value."""
    schema = dict(_JSON_TYPES[spec.type])
    if spec.type is FieldType.PICKLIST:
        schema["enum"] = list(spec.values)
    if spec.type is FieldType.MULTI_PICKLIST:
        schema["items"] = {"type": "string", "enum": list(spec.values)}
    limit = spec.effective_max_length
    if limit is not None and spec.type is not FieldType.PICKLIST:
        schema["maxLength"] = limit
    if spec.references:
        schema["description"] = f"Id of a {spec.references}."
    if spec.description:
        schema["description"] = spec.description
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def entity_schemas(entity: EntityType) -> dict[str, dict[str, Any]]:
    """The Create, Update, record and Page schemas of ``entity``."""
    name = schema_name(entity)
    fields = {spec.name: field_schema(spec) for spec in entity.fields}
    nullable = {
        spec.name: {"anyOf": [field_schema(spec), {"type": "null"}]}
        for spec in entity.fields
        if not spec.required
    }
    required = [spec.name for spec in entity.fields if spec.required and spec.default is None]
    update_props = {**fields, **nullable, "version": {"type": "integer"}}
    return {
        f"{name}Create": {
            "type": "object",
            "title": f"{name}Create",
            "description": f"A new {entity.label.lower()}." + _CUSTOM_NOTE,
            "properties": {**fields, **nullable},
            "required": required,
            "additionalProperties": True,
        },
        f"{name}Update": {
            "type": "object",
            "title": f"{name}Update",
            "description": "Fields to change; null clears an optional field. `version` (or an"
            " If-Match header) makes the update fail with 409 if the record changed since."
            + _CUSTOM_NOTE,
            "properties": update_props,
            "additionalProperties": True,
        },
        name: {
            "type": "object",
            "title": name,
            "description": (entity.description or entity.label) + _CUSTOM_NOTE,
            "properties": {**_META, **nullable, **fields},
            "required": list(_META),
            "additionalProperties": True,
        },
        f"{name}Page": {
            "type": "object",
            "title": f"{name}Page",
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "next_cursor": {"type": ["string", "null"]},
            },
            "required": ["items", "next_cursor"],
        },
    }


def install_openapi(app: FastAPI) -> None:
    """Add the registry's schemas to the generated OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for entity in ENTITY_TYPES.values():
            schemas.update(entity_schemas(entity))
        document["components"].setdefault("securitySchemes", {})["apiKey"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: Authorization: Bearer crmb_…",
        }
        document["security"] = [{"apiKey": []}]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
