"""Lookups set through the parent's external id in REST and collection writes.

A record body may name its parent by relationship instead of Id:
``{"LastName": "Ng", "Account": {"Platform_Id__c": "org-1"}}``. Salesforce finds the
one live parent whose external id (or unique field, or ``Id``) holds the value and
writes its Id into the lookup (REST API Developer Guide, "Insert or Update (Upsert) a
Record Using an External ID" and "Upserting Records and Associating with an External
ID"). A polymorphic lookup names the parent type in ``attributes``:
``{"Who": {"attributes": {"type": "Contact"}, "Platform_Id__c": "m-1"}}``. A parent
that does not exist fails the record with ``INVALID_FIELD`` "Foreign key external ID:
… not found for field … in entity …", as Bulk API 2.0 relationship columns do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.schema import SObjectDef
from crmbridge.emulator.store import quote
from crmbridge.emulator.values import coerce


def resolve_relationship_references(
    conn: sqlite3.Connection, schema: Any, sobj: SObjectDef, values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` with every nested parent reference replaced by the parent's Id.

    Keys that are not relationship names, and relationship keys whose value is not an
    object, are left as they are (the usual field checks report them).
    """
    resolved: dict[str, Any] = {}
    for name, value in values.items():
        ref = sobj.relationship(name) if isinstance(value, Mapping) else None
        if ref is None:
            resolved[name] = value
            continue
        assert isinstance(value, Mapping)
        resolved[ref.name] = _parent_id(conn, schema, sobj, name, ref.reference_to, value)
    return resolved


def _parent_id(
    conn: sqlite3.Connection,
    schema: Any,
    sobj: SObjectDef,
    relationship: str,
    targets: tuple[str, ...],
    reference: Mapping[str, Any],
) -> str:
    attributes = reference.get("attributes")
    named = attributes.get("type") if isinstance(attributes, Mapping) else None
    target = named or (targets[0] if len(targets) == 1 else None)
    parent = schema.get(target) if isinstance(target, str) else None
    keys = [(k, v) for k, v in reference.items() if k != "attributes"]
    if parent is None or parent.name not in targets or len(keys) != 1:
        raise SalesforceApiError(
            400,
            "INVALID_FIELD",
            f"The relationship {relationship} on {sobj.name} needs exactly one external id "
            "field of its parent (and attributes.type for a polymorphic lookup)",
            [relationship],
        )
    key_name, raw = keys[0]
    key = parent.field(key_name)
    if key is None or not (key.external_id or key.unique or key.name == "Id"):
        raise SalesforceApiError(
            400,
            "INVALID_FIELD",
            f"Field {key_name} is not an external ID or indexed field for {parent.name}",
            [relationship],
        )
    collate = "" if key.case_sensitive or key.name == "Id" else " COLLATE NOCASE"
    rows = conn.execute(
        f'SELECT "Id" FROM {quote(parent.name)} WHERE "IsDeleted" = 0 AND '
        f"{quote(key.name)} = ?{collate} LIMIT 2",
        (coerce(key, raw),),
    ).fetchall()
    if len(rows) != 1:
        problem = "not found" if not rows else "matches more than one record"
        raise SalesforceApiError(
            400,
            "INVALID_FIELD",
            f"Foreign key external ID: {raw} {problem} for field {key.name} in entity "
            f"{parent.name}",
            [relationship],
        )
    return str(rows[0][0])
