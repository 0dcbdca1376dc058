"""sObject rows over REST: create, read, update, delete, upsert by external id, read by
external id, and relationship traversal (REST API Developer Guide, "sObject Rows",
"sObject Rows by External ID", "sObject Relationships").
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import ApiRequest, api_route, json_response, limit_info_header
from crmbridge.emulator.ids import normalize_id
from crmbridge.emulator.records import record_url, render_record
from crmbridge.emulator.rest_describe import sobject_or_404
from crmbridge.emulator.schema import SObjectDef

#: Upsert answers 200 with ``created: false`` from this version on, 204 before it.
UPSERT_BODY_VERSION = 46.0


def rest_error(error: SalesforceApiError) -> SalesforceApiError:
    """A store error as the REST API reports it.

    A value of the wrong type fails while Salesforce deserializes the JSON body, so REST
    reports JSON_PARSER_ERROR where SOAP and Bulk report INVALID_TYPE_ON_FIELD_IN_RECORD.
    """
    if error.error_code == "INVALID_TYPE_ON_FIELD_IN_RECORD":
        value = error.message.split(": value not of required type: ", 1)[-1]
        return SalesforceApiError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {error.fields[0] if error.fields else 'field'} "
            f"from VALUE_STRING value {value} or request may be missing a required field",
        )
    return error


def _no_content(api: ApiRequest) -> Response:
    return Response(status_code=204, headers=limit_info_header(api.request))


def _record_id(sobj: SObjectDef, raw: str, *, for_write: bool) -> str | None:
    """The canonical id when ``raw`` is an id of this object; None when it is not an id."""
    record_id = normalize_id(raw)
    if record_id is None:
        return None
    if record_id[:3] != sobj.key_prefix:
        if for_write:
            raise SalesforceApiError(
                400, "MALFORMED_ID", f"{sobj.label} ID: id value of incorrect type: {raw}", ["Id"]
            )
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return record_id


def _no_such_external_field(name: str) -> SalesforceApiError:
    return SalesforceApiError(
        404,
        "NOT_FOUND",
        f"Provided external ID field does not exist or is not accessible: {name}",
    )


def _read(api: ApiRequest, sobj: SObjectDef, record_id: str) -> Response:
    record = api.ctx.store.get(sobj.name, record_id)
    if record is None:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    fields = None
    if api.query.get("fields"):
        fields = []
        for name in api.query["fields"].split(","):
            field = sobj.field(name.strip())
            if field is None:
                raise SalesforceApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name.strip()}' on entity '{sobj.name}'. If you are "
                    "attempting to use a custom field, be sure to append the '__c' after the "
                    "custom field name. Please reference your WSDL or the describe call for "
                    "the appropriate names.",
                )
            fields.append(field)
    return json_response(api.request, render_record(sobj, record, api.version or "", fields))


def create_handler(api: ApiRequest) -> Response:
    """POST sobjects/{Type}: 201 ``{id, success, errors}`` with a Location header."""
    sobj = sobject_or_404(api)
    values = api.json_object()
    try:
        record_id = api.ctx.store.create(sobj.name, values, user_id=api.session.user_id)
    except SalesforceApiError as error:
        raise rest_error(error) from None
    url = record_url(api.version or "", sobj.name, record_id)
    return json_response(
        api.request,
        {"id": record_id, "success": True, "errors": []},
        status=201,
        headers={"Location": url},
    )


def row_handler(api: ApiRequest) -> Response:
    """GET, PATCH or DELETE sobjects/{Type}/{Id}; GET/PATCH/POST by external id field."""
    sobj = sobject_or_404(api)
    method = api.request.method
    raw = api.path_params["record_id"]
    record_id = _record_id(sobj, raw, for_write=method != "GET")
    if record_id is None:
        # sobjects/{Type}/{ExternalIdField} without a value: POST creates (Id upsert).
        if method == "POST" and raw.lower() == "id":
            return create_handler(api)
        raise _no_such_external_field(raw)
    store = api.ctx.store
    try:
        if method == "GET":
            return _read(api, sobj, record_id)
        if method == "PATCH":
            store.update(sobj.name, record_id, api.json_object(), user_id=api.session.user_id)
            return _no_content(api)
        store.delete(sobj.name, record_id, user_id=api.session.user_id)
        return _no_content(api)
    except SalesforceApiError as error:
        raise rest_error(error) from None


def _matching_urls(api: ApiRequest, sobj: SObjectDef, ids: list[str]) -> Response:
    """300 Multiple Choices with the URLs of every matching record."""
    urls = [record_url(api.version or "", sobj.name, i) for i in ids]
    return JSONResponse(urls, status_code=300, headers=limit_info_header(api.request))


def _traverse(api: ApiRequest, sobj: SObjectDef, record_id: str, name: str) -> Response:
    """GET sobjects/{Type}/{Id}/{relationship}: the parent record or the child records."""
    record = api.ctx.store.get(sobj.name, record_id)
    if record is None:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    parent_ref = sobj.relationship(name)
    if parent_ref is not None:
        parent_id = record.get(parent_ref.name)
        parent_obj = api.ctx.schema.object_for_id(parent_id) if parent_id else None
        if parent_obj is None:
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return _read(api, parent_obj, parent_id)  # type: ignore[arg-type]
    child = sobj.child_relationship(name)
    if child is None:
        raise _no_such_external_field(name)
    child_obj = api.ctx.schema.get(child.child_sobject)
    assert child_obj is not None
    with api.ctx.store.connection() as conn:
        ids = [
            row[0]
            for row in conn.execute(
                f'SELECT "Id" FROM "{child_obj.name}" WHERE "{child.field}" = ? '
                'AND "IsDeleted" = 0 ORDER BY "Id" LIMIT 2000',
                (record_id,),
            )
        ]
    records = []
    for child_id in ids:
        child_record = api.ctx.store.get(child_obj.name, child_id)
        if child_record is not None:
            records.append(render_record(child_obj, child_record, api.version or ""))
    return json_response(api.request, {"totalSize": len(records), "done": True, "records": records})


def external_handler(api: ApiRequest) -> Response:
    """sobjects/{Type}/{Field}/{Value}: upsert (PATCH/POST), read or delete by external id.

    When ``{Field}`` is a record id the request is relationship traversal instead.
    """
    sobj = sobject_or_404(api)
    method = api.request.method
    name, value = api.path_params["field"], api.path_params["value"]
    record_id = normalize_id(name)
    if record_id is not None and record_id[:3] == sobj.key_prefix and method == "GET":
        return _traverse(api, sobj, record_id, value)
    field = sobj.field(name)
    if field is None or not (field.external_id or field.name == "Id"):
        raise _no_such_external_field(name)
    store = api.ctx.store
    try:
        if method in {"PATCH", "POST"}:
            return _upsert(api, sobj, field.name, value)
        matches = _matches(api, sobj, field.name, value)
        if len(matches) > 1:
            return _matching_urls(api, sobj, matches)
        if not matches:
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if method == "GET":
            return _read(api, sobj, matches[0])
        store.delete(sobj.name, matches[0], user_id=api.session.user_id)
        return _no_content(api)
    except SalesforceApiError as error:
        raise rest_error(error) from None


def _matches(api: ApiRequest, sobj: SObjectDef, field: str, value: str) -> list[str]:
    if field == "Id":
        found = normalize_id(value)
        return [found] if found and api.ctx.store.get(sobj.name, found) else []
    with api.ctx.store.connection() as conn:
        return [
            row[0]
            for row in conn.execute(
                f'SELECT "Id" FROM "{sobj.name}" WHERE "IsDeleted" = 0 '
                f'AND "{field}" = ? COLLATE NOCASE ORDER BY "Id" LIMIT 100',
                (value,),
            )
        ]


def _upsert(api: ApiRequest, sobj: SObjectDef, field: str, value: str) -> Response:
    body = api.json_object()
    try:
        record_id, created = api.ctx.store.upsert(
            sobj.name, field, value, body, user_id=api.session.user_id
        )
    except SalesforceApiError as error:
        if error.status == 300 and error.matching_ids:
            return _matching_urls(api, sobj, error.matching_ids)
        raise
    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    modern = float(api.version or "0") >= UPSERT_BODY_VERSION
    if modern:
        result["created"] = created
    if created:
        return json_response(api.request, result, status=201)
    if not modern:
        return _no_content(api)
    return json_response(api.request, result, status=200)


def _write(request: Any) -> bool:
    return bool(request.method != "GET")


_BASE = "/services/data/v{version}/sobjects/{sobject}"
routes: list[Route] = [
    api_route(_BASE, create_handler, methods=["POST"], resource="sobject", write=True),
    api_route(_BASE + "/", create_handler, methods=["POST"], resource="sobject", write=True),
    api_route(
        _BASE + "/{record_id}",
        row_handler,
        methods=["GET", "PATCH", "DELETE", "POST"],
        resource="sobject",
        write=_write,
    ),
    api_route(
        _BASE + "/{field}/{value:path}",
        external_handler,
        methods=["GET", "PATCH", "POST", "DELETE"],
        resource="sobject",
        write=_write,
    ),
]
