"""A stored record as the REST API shows it: ``attributes`` first, then the fields in
describe order, datetimes as ``…000+0000`` and compound addresses as objects.
"""

from __future__ import annotations

from typing import Any

from crmbridge.emulator.schema import FieldDef, SObjectDef
from crmbridge.emulator.values import api_value

#: Address components as the compound field's keys (REST API Developer Guide,
#: "Compound Fields": Address).
_ADDRESS_KEYS = {
    "Street": "street",
    "City": "city",
    "State": "state",
    "PostalCode": "postalCode",
    "Country": "country",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "GeocodeAccuracy": "geocodeAccuracy",
}


def record_url(version: str, sobject: str, record_id: str) -> str:
    """``/services/data/vXX.X/sobjects/{Type}/{Id}``."""
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def compound_address(sobj: SObjectDef, compound: FieldDef, record: dict[str, Any]) -> Any:
    """The value of a compound address field (null when every component is empty)."""
    prefix = compound.name[: -len("Address")]
    value: dict[str, Any] = {}
    empty = True
    for suffix, key in sorted(_ADDRESS_KEYS.items(), key=lambda item: item[1]):
        component = sobj.field(prefix + suffix)
        raw = record.get(component.name) if component else None
        value[key] = api_value(component, raw) if component and raw is not None else None
        empty = empty and raw is None
    return None if empty else value


def render_record(
    sobj: SObjectDef,
    record: dict[str, Any],
    version: str,
    fields: list[FieldDef] | None = None,
) -> dict[str, Any]:
    """The REST JSON of a record (``fields`` limits and orders the result)."""
    chosen = fields if fields is not None else list(sobj.fields)
    body: dict[str, Any] = {
        "attributes": {"type": sobj.name, "url": record_url(version, sobj.name, record["Id"])}
    }
    for field in chosen:
        if field.type == "address":
            body[field.name] = compound_address(sobj, field, record)
        else:
            body[field.name] = api_value(field, record.get(field.name))
    return body
