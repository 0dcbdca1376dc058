"""sObject Collections: create, update, upsert, delete and retrieve up to 200 records.

Shapes from the REST API Developer Guide, "sObject Collections": requests carry
``allOrNone`` and ``records`` (each with ``attributes.type``); the answer is an array
of SaveResults in request order, ``{id, success, errors: [{statusCode, message,
fields}]}`` (plus ``created`` for upsert). With ``allOrNone`` a single failure rolls
the whole call back: the failing records keep their own errors and every other record
reports ALL_OR_NONE_OPERATION_ROLLED_BACK. A call counts as one API request however
many records it holds.

The ``composite`` and ``composite/batch`` resources live in
:mod:`crmbridge.emulator.composite_tree`; their routes are mounted from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.responses import Response

from crmbridge.emulator.composite_tree import routes as tree_routes
from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import ApiRequest, api_route, json_response
from crmbridge.emulator.ids import normalize_id
from crmbridge.emulator.schema import SObjectDef
from crmbridge.emulator.store_writes import StoreTransaction
from crmbridge.emulator.values import api_value

#: Most records one collection call may carry (sObject Collections, "Usage Guidelines").
MAX_RECORDS = 200
#: Most ids a retrieve may ask for (sObject Collections, "Get Records").
MAX_RETRIEVE_IDS = 2000
ROLLED_BACK = SalesforceApiError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)


def _too_many(limit: int = MAX_RECORDS) -> SalesforceApiError:
    # The error Salesforce returns above the collection limit (EXCEEDED_ID_LIMIT).
    return SalesforceApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call",
    )


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise SalesforceApiError(
        400, "JSON_PARSER_ERROR", f"Cannot deserialize value of type boolean from {name}: {value!r}"
    )


def _records_body(api: ApiRequest) -> tuple[list[Any], bool]:
    body = api.json_object()
    records = body.get("records")
    if not isinstance(records, list):
        raise SalesforceApiError(
            400, "INVALID_FIELD", "The 'records' property is required and must be a list", []
        )
    if len(records) > MAX_RECORDS:
        raise _too_many()
    unknown = set(body) - {"records", "allOrNone"}
    if unknown:
        name = sorted(unknown)[0]
        raise SalesforceApiError(
            400,
            "JSON_PARSER_ERROR",
            f'Unrecognized field "{name}" (class SObjectCollectionRequest), '
            "not marked as ignorable",
        )
    return records, _flag(body.get("allOrNone"), "allOrNone")


def _record_type(api: ApiRequest, record: Any) -> tuple[SObjectDef, dict[str, Any]]:
    """The record's object (from ``attributes.type``) and its field values."""
    if not isinstance(record, Mapping):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
    attributes = record.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, Mapping) else None
    if not isinstance(type_name, str) or not type_name:
        raise SalesforceApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    sobj = api.ctx.schema.get(type_name)
    if sobj is None:
        raise SalesforceApiError(
            400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported."
        )
    return sobj, {k: v for k, v in record.items() if k != "attributes"}


def _error_entries(error: SalesforceApiError) -> list[dict[str, Any]]:
    return [error.collection_entry()]


def _run_all(
    api: ApiRequest,
    items: Sequence[Any],
    all_or_none: bool,
    write: Callable[[StoreTransaction, Any], dict[str, Any]],
    failure: Callable[[Any, SalesforceApiError], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Write each item in a savepoint; with ``all_or_none`` one failure undoes them all."""
    results: list[dict[str, Any] | None] = []
    errors: list[SalesforceApiError | None] = []

    class _RollBack(Exception):
        pass

    try:
        with api.ctx.store.transaction(user_id=api.session.user_id) as tx:
            for item in items:
                try:
                    with tx.savepoint():
                        results.append(write(tx, item))
                    errors.append(None)
                except SalesforceApiError as error:
                    results.append(None)
                    errors.append(error)
            if all_or_none and any(errors):
                raise _RollBack
    except _RollBack:
        return [
            failure(item, error or ROLLED_BACK) for item, error in zip(items, errors, strict=True)
        ]
    return [
        result if error is None else failure(item, error)
        for item, result, error in zip(items, results, errors, strict=True)
    ]


# --- create / update / delete ------------------------------------------------------------


def _create(api: ApiRequest) -> Response:
    records, all_or_none = _records_body(api)

    def write(tx: StoreTransaction, record: Any) -> dict[str, Any]:
        sobj, values = _record_type(api, record)
        if any(k.lower() == "id" and v not in (None, "") for k, v in values.items()):
            raise SalesforceApiError(
                400, "INVALID_FIELD", "Record ID: cannot specify Id in an insert call", ["Id"]
            )
        record_id = tx.create(sobj.name, values)
        return {"id": record_id, "success": True, "errors": []}

    def failure(record: Any, error: SalesforceApiError) -> dict[str, Any]:
        return {"success": False, "errors": _error_entries(error)}

    return json_response(api.request, _run_all(api, records, all_or_none, write, failure))


def _record_id(values: Mapping[str, Any]) -> Any:
    return next((v for k, v in values.items() if k.lower() == "id"), None)


def _update(api: ApiRequest) -> Response:
    records, all_or_none = _records_body(api)

    def write(tx: StoreTransaction, record: Any) -> dict[str, Any]:
        sobj, values = _record_type(api, record)
        record_id = _record_id(values)
        if record_id in (None, ""):
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
        canonical = normalize_id(record_id)
        if canonical is None or api.ctx.schema.object_for_id(canonical) is not sobj:
            raise SalesforceApiError(
                400,
                "MALFORMED_ID",
                f"{sobj.label} ID: id value of incorrect type: {record_id}",
                ["Id"],
            )
        tx.update(sobj.name, canonical, {k: v for k, v in values.items() if k.lower() != "id"})
        return {"id": canonical, "success": True, "errors": []}

    def failure(record: Any, error: SalesforceApiError) -> dict[str, Any]:
        record_id = _record_id(record) if isinstance(record, Mapping) else None
        result: dict[str, Any] = {"success": False, "errors": _error_entries(error)}
        if isinstance(record_id, str) and record_id:
            result = {"id": normalize_id(record_id) or record_id, **result}
        return result

    return json_response(api.request, _run_all(api, records, all_or_none, write, failure))


def _split_ids(raw: str | None, limit: int) -> list[str]:
    if raw is None or not raw.strip():
        raise SalesforceApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > limit:
        raise _too_many(limit)
    return ids


def _delete(api: ApiRequest) -> Response:
    ids = _split_ids(api.query.get("ids"), MAX_RECORDS)
    all_or_none = _flag(api.query.get("allOrNone"), "allOrNone")
    schema = api.ctx.schema

    def write(tx: StoreTransaction, raw_id: str) -> dict[str, Any]:
        canonical = normalize_id(raw_id)
        sobj = schema.object_for_id(canonical) if canonical else None
        if canonical is None or sobj is None:
            raise SalesforceApiError(400, "MALFORMED_ID", f"malformed id {raw_id}", [])
        tx.delete(sobj.name, canonical)
        return {"id": canonical, "success": True, "errors": []}

    def failure(raw_id: str, error: SalesforceApiError) -> dict[str, Any]:
        if error.error_code == "NOT_FOUND":
            # Collections report a missing record as ENTITY_IS_DELETED (SaveResult wording).
            error = SalesforceApiError(400, "ENTITY_IS_DELETED", "entity is deleted")
        return {
            "id": normalize_id(raw_id) or raw_id,
            "success": False,
            "errors": _error_entries(error),
        }

    return json_response(api.request, _run_all(api, ids, all_or_none, write, failure))


def collections_handler(api: ApiRequest) -> Response:
    """``/composite/sobjects``: POST creates, PATCH updates, DELETE deletes."""
    method = api.request.method
    if method == "POST":
        return _create(api)
    if method == "PATCH":
        return _update(api)
    return _delete(api)


# --- upsert ---------------------------------------------------------------------------------


def upsert_handler(api: ApiRequest) -> Response:
    """``PATCH /composite/sobjects/{Type}/{ExternalIdField}`` (API 46.0 and later)."""
    if float(api.version or 0) < 46.0:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    sobj = api.ctx.schema.get(api.path_params["sobject"])
    if sobj is None:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    field = sobj.field(api.path_params["field"])
    if field is None or not (field.external_id or field.name == "Id"):
        raise SalesforceApiError(
            400,
            "INVALID_FIELD",
            f"Field {api.path_params['field']} is not an external ID or indexed field for "
            f"{sobj.name}",
        )
    records, all_or_none = _records_body(api)

    def write(tx: StoreTransaction, record: Any) -> dict[str, Any]:
        record_sobj, values = _record_type(api, record)
        if record_sobj is not sobj:
            raise SalesforceApiError(
                400,
                "INVALID_TYPE",
                f"Record type {record_sobj.name} does not match the URL's type {sobj.name}",
            )
        key = next((v for k, v in values.items() if k.lower() == field.name.lower()), None)
        if key in (None, ""):
            raise SalesforceApiError(
                400, "MISSING_ARGUMENT", f"{field.name} not specified", [field.name]
            )
        record_id, created = tx.upsert(sobj.name, field.name, key, values)
        return {"id": record_id, "success": True, "errors": [], "created": created}

    def failure(record: Any, error: SalesforceApiError) -> dict[str, Any]:
        return {"success": False, "errors": _error_entries(error), "created": False}

    return json_response(api.request, _run_all(api, records, all_or_none, write, failure))


# --- retrieve -------------------------------------------------------------------------------


def record_json(api: ApiRequest, sobj: SObjectDef, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record in the REST shape: ``attributes`` then each field's API value."""
    out: dict[str, Any] = {
        "attributes": {
            "type": sobj.name,
            "url": f"{api.base_path()}/sobjects/{sobj.name}/{record['Id']}",
        }
    }
    for name, value in record.items():
        field = sobj.field(name)
        out[name] = api_value(field, value) if field is not None else value
    return out


def retrieve_handler(api: ApiRequest) -> Response:
    """``GET /composite/sobjects/{Type}?ids=&fields=`` (or POST with the same in a body)."""
    sobj = api.ctx.store.sobject(api.path_params["sobject"])
    if api.request.method == "POST":
        body = api.json_object()
        ids_value, fields_value = body.get("ids"), body.get("fields")
        if not isinstance(ids_value, list) or not isinstance(fields_value, list):
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "ids and fields are required")
        ids = [str(i) for i in ids_value]
        if len(ids) > MAX_RETRIEVE_IDS:
            raise _too_many(MAX_RETRIEVE_IDS)
        fields = [str(f) for f in fields_value]
    else:
        ids = _split_ids(api.query.get("ids"), MAX_RETRIEVE_IDS)
        raw_fields = api.query.get("fields")
        if not raw_fields:
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "fields parameter is required")
        fields = [f.strip() for f in raw_fields.split(",") if f.strip()]
    results: list[dict[str, Any] | None] = []
    for raw_id in ids:
        canonical = normalize_id(raw_id)
        if canonical is None:
            raise SalesforceApiError(
                400, "MALFORMED_ID", f"{sobj.label} ID: id value of incorrect type: {raw_id}"
            )
        record = api.ctx.store.get(sobj.name, canonical, fields)
        results.append(record_json(api, sobj, record) if record is not None else None)
    return json_response(api.request, results)


def _write_method(request: Any) -> bool:
    return request.method != "GET"


routes = [
    api_route(
        "/services/data/{version}/composite/sobjects",
        collections_handler,
        methods=["POST", "PATCH", "DELETE"],
        resource="composite/sobjects",
        write=True,
    ),
    api_route(
        "/services/data/{version}/composite/sobjects/{sobject}",
        retrieve_handler,
        methods=["GET", "POST"],
        resource="composite/sobjects",
    ),
    api_route(
        "/services/data/{version}/composite/sobjects/{sobject}/{field}",
        upsert_handler,
        methods=["PATCH"],
        resource="composite/sobjects",
        write=True,
    ),
    *tree_routes,
]
