"""What the mapping editor shows of a Salesforce object: its fields and what each allows.

Fields that cannot be written are flagged before anyone maps them (R-M6, seed 003):
Shield-encrypted fields the integration cannot read or write, formula and auto-number
fields Salesforce computes, cross-object (relational) values that must be written
through the lookup field instead, and fields the integration user may not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmbridge.domain.mapping import ObjectDescribe, SalesforceField
from crmbridge.mappings.describes import DescribeSnapshot


def editor_object(snapshot: DescribeSnapshot) -> dict[str, Any]:
    """The object with its fields, flags and notes, from a cached describe."""
    raw = snapshot.describe
    obj = ObjectDescribe.from_describe(raw)
    raw_fields = {str(f.get("name")): f for f in raw.get("fields") or () if isinstance(f, Mapping)}
    return {
        "name": obj.name,
        "label": obj.label,
        "custom": bool(raw.get("custom", obj.name.endswith("__c"))),
        "createable": obj.createable,
        "updateable": obj.updateable,
        "queryable": obj.queryable,
        "fetched_at": snapshot.fetched_at,
        "checked_at": snapshot.checked_at,
        "source": snapshot.source,
        "fields": [editor_field(f, raw_fields.get(f.name, {})) for f in obj.fields],
    }


def editor_field(field: SalesforceField, raw: Mapping[str, Any]) -> dict[str, Any]:
    """One field as the editor shows it."""
    flags: list[str] = []
    notes: list[str] = []
    if field.encrypted:
        flags.append("encrypted")
        notes.append(
            "Shield Platform Encryption is on: the integration cannot use this field "
            "(seed 003); map an unencrypted field instead"
        )
    if field.calculated or field.auto_number:
        flags.append("calculated")
        notes.append("computed by Salesforce (formula or auto-number): read only")
    if field.type == "reference":
        flags.append("relational")
        targets = ", ".join(field.reference_to) or "another object"
        notes.append(
            f"a lookup to {targets}: write it with a lookup or reference step; "
            f"{field.relationship_name or 'its relationship'}.<field> values can be read, "
            "never written"
        )
    if field.is_system:
        flags.append("system")
    if not field.createable and not field.updateable and not field.is_system:
        if not (field.calculated or field.auto_number):
            flags.append("read_only")
            notes.append("the integration user may neither create nor update it")
    elif field.createable and not field.updateable:
        flags.append("create_only")
        notes.append("can be set when a record is created, not changed afterwards")
    elif field.updateable and not field.createable:
        flags.append("update_only")
    if field.required_on_create:
        flags.append("required_on_create")
    if field.external_id:
        flags.append("external_id")
    writable = (field.createable or field.updateable) and not field.encrypted
    return {
        "name": field.name,
        "label": field.label,
        "type": field.type,
        "length": field.length,
        "createable": field.createable,
        "updateable": field.updateable,
        "nillable": field.nillable,
        "writable": writable,
        "picklist_values": [
            {"value": v.get("value"), "label": v.get("label"), "active": v.get("active", True)}
            for v in raw.get("picklistValues") or ()
            if isinstance(v, Mapping)
        ],
        "restricted_picklist": field.restricted_picklist,
        "encrypted": field.encrypted,
        "calculated": field.calculated or field.auto_number,
        "reference_to": list(field.reference_to),
        "relationship_name": field.relationship_name,
        "external_id": field.external_id,
        "unique": field.unique,
        "flags": flags,
        "notes": notes,
    }
