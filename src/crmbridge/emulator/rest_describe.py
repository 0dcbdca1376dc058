"""``sobjects`` (describeGlobal), ``sobjects/{Type}`` (basic information) and
``sobjects/{Type}/describe``, with ``If-Modified-Since`` answered by 304 when the
schema has not changed since (REST API Developer Guide, "Describe Global",
"sObject Basic Information", "sObject Describe").
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from crmbridge.emulator.describe import describe_global, describe_sobject, global_entry
from crmbridge.emulator.http import (
    ApiRequest,
    api_routes,
    json_response,
    limit_info_header,
    not_found,
)
from crmbridge.emulator.schema import SObjectDef

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext


def schema_modified_at(ctx: EmulatorContext) -> datetime:
    """When the org's schema last changed (kept with a fingerprint of the schema)."""
    cached = ctx.services.get("schema_modified_at")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    fingerprint = hashlib.sha256(repr(ctx.schema.objects).encode()).hexdigest()
    saved = ctx.store.meta_get("schema_fingerprint") or {}
    if saved.get("fingerprint") != fingerprint:
        saved = {
            "fingerprint": fingerprint,
            "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        }
        ctx.store.meta_set("schema_fingerprint", saved)
    modified = datetime.fromisoformat(saved["at"])
    ctx.services["schema_modified_at"] = modified
    return modified


def _not_modified(api: ApiRequest) -> Response | None:
    """A 304 when ``If-Modified-Since`` is at or after the schema's last change."""
    header = api.headers.get("if-modified-since")
    if not header:
        return None
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if schema_modified_at(api.ctx) <= since:
        return Response(status_code=304, headers=limit_info_header(api.request))
    return None


def _last_modified(api: ApiRequest) -> dict[str, str]:
    return {"Last-Modified": format_datetime(schema_modified_at(api.ctx), usegmt=True)}


def sobject_or_404(api: ApiRequest) -> SObjectDef:
    """The object named in the path, or 404 NOT_FOUND."""
    sobj = api.ctx.schema.get(api.path_params["sobject"])
    if sobj is None:
        raise not_found()
    return sobj


def describe_global_handler(api: ApiRequest) -> Response:
    """GET sobjects."""
    unchanged = _not_modified(api)
    if unchanged is not None:
        return unchanged
    body = describe_global(list(api.ctx.schema.objects), api.version or "")
    return json_response(api.request, body, headers=_last_modified(api))


def _recent_items(api: ApiRequest, sobj: SObjectDef) -> list[dict[str, Any]]:
    """The object's most recently modified records (the emulator's "recently viewed")."""
    name_field = sobj.name_field
    columns = '"Id"' + (f', "{name_field.name}"' if name_field and name_field.stored else "")
    with api.ctx.store.connection() as conn:
        rows = conn.execute(
            f'SELECT {columns} FROM "{sobj.name}" WHERE "IsDeleted" = 0 '
            'ORDER BY "SystemModstamp" DESC, "Id" DESC LIMIT 5'
        ).fetchall()
    items = []
    for row in rows:
        item: dict[str, Any] = {
            "attributes": {
                "type": sobj.name,
                "url": f"{api.base_path()}/sobjects/{sobj.name}/{row[0]}",
            },
            "Id": row[0],
        }
        if len(row) > 1 and name_field is not None:
            item[name_field.name] = row[1]
        items.append(item)
    return items


def basic_info_handler(api: ApiRequest) -> Response:
    """GET sobjects/{Type}: the object's summary and its recent records."""
    sobj = sobject_or_404(api)
    body = {
        "objectDescribe": global_entry(sobj, api.version or ""),
        "recentItems": _recent_items(api, sobj),
    }
    return json_response(api.request, body)


def record_types_of(ctx: EmulatorContext, sobj: SObjectDef) -> list[dict[str, Any]]:
    """The RecordType rows of an object."""
    with ctx.store.connection() as conn:
        cursor = conn.execute(
            'SELECT "Id", "Name", "DeveloperName", "IsActive" FROM "RecordType" '
            'WHERE "SobjectType" = ? AND "IsDeleted" = 0 ORDER BY "Name"',
            (sobj.name,),
        )
        return [
            dict(zip(("Id", "Name", "DeveloperName", "IsActive"), r, strict=True)) for r in cursor
        ]


def describe_handler(api: ApiRequest) -> Response:
    """GET sobjects/{Type}/describe."""
    sobj = sobject_or_404(api)
    unchanged = _not_modified(api)
    if unchanged is not None:
        return unchanged
    body = describe_sobject(sobj, api.version or "", record_types_of(api.ctx, sobj))
    return json_response(api.request, body, headers=_last_modified(api))


routes = [
    *api_routes(
        "/services/data/v{version}/sobjects",
        describe_global_handler,
        methods=["GET"],
        resource="describeGlobal",
    ),
    *api_routes(
        "/services/data/v{version}/sobjects/{sobject}/describe",
        describe_handler,
        methods=["GET"],
        resource="describe",
    ),
    *api_routes(
        "/services/data/v{version}/sobjects/{sobject}",
        basic_info_handler,
        methods=["GET"],
        resource="sobject",
    ),
]
