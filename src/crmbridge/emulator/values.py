"""Field values: from what clients send, to what the store keeps, to what the API shows.

Stored forms (the contract with the SOQL engine): text as ``str``; multipicklist as
``a;b``; boolean as 0/1; int as ``int``; double/currency/percent as ``float``; date as
``YYYY-MM-DD``; datetime as ``YYYY-MM-DDTHH:MM:SS.fffZ`` in UTC (so text order is time
order); time as ``HH:MM:SS.fffZ``. The REST layer shows datetimes in Salesforce's
``2024-01-31T12:00:00.000+0000`` form (REST API Developer Guide, "Valid Date and
DateTime Formats").
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.ids import normalize_id
from crmbridge.emulator.schema import FieldDef

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?Z?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INT = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def type_error(field: FieldDef, value: Any) -> SalesforceApiError:
    """A value of the wrong type (SOAP API StatusCode INVALID_TYPE_ON_FIELD_IN_RECORD)."""
    return SalesforceApiError(
        400,
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.label}: value not of required type: {value}",
        [field.name],
    )


def format_datetime(moment: datetime) -> str:
    """The stored form of an aware datetime: ``YYYY-MM-DDTHH:MM:SS.fffZ`` in UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> datetime | None:
    """An aware datetime from ISO 8601 text (no offset means UTC), or None."""
    match = _DATETIME.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        tz = UTC
        if offset and offset != "Z":
            digits = offset.replace(":", "")
            delta = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
            tz = timezone(-delta if digits[0] == "-" else delta)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError:
        return None


def api_datetime(stored: str | None) -> str | None:
    """Salesforce's JSON form of a stored datetime: ``…000+0000``."""
    if stored is None:
        return None
    return stored[:-1] + "+0000" if stored.endswith("Z") else stored


def coerce(field: FieldDef, value: Any) -> Any:
    """The stored form of ``value`` for ``field``, or raise a Salesforce-shaped error.

    Accepts JSON-native values and the strings CSV (Bulk API) carries. Empty strings
    become null, as Salesforce stores them.
    """
    if value is None or (isinstance(value, str) and value == "" and field.type != "boolean"):
        return None
    kind = field.type
    if kind in {
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "combobox",
        "encryptedstring",
        "multipicklist",
    }:
        return _coerce_text(field, value)
    if kind in {"reference", "id"}:
        normalized = normalize_id(value)
        if normalized is None:
            raise SalesforceApiError(
                400,
                "MALFORMED_ID",
                f"{field.label}: id value of incorrect type: {value}",
                [field.name],
            )
        return normalized
    if kind == "boolean":
        return _coerce_boolean(field, value)
    if kind == "int":
        return _coerce_int(field, value)
    if kind in {"double", "currency", "percent"}:
        return _coerce_decimal(field, value)
    if kind == "date":
        return _coerce_date(field, value)
    if kind == "datetime":
        if isinstance(value, datetime):
            return format_datetime(value if value.tzinfo else value.replace(tzinfo=UTC))
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise type_error(field, value)
        return format_datetime(parsed)
    if kind == "time":
        match = _TIME.match(value) if isinstance(value, str) else None
        if not match:
            raise type_error(field, value)
        hour, minute, second, fraction = match.groups()
        millis = (fraction or "0")[:3].ljust(3, "0")
        return f"{hour}:{minute}:{second or '00'}.{millis}Z"
    raise type_error(field, value)


def _coerce_text(field: FieldDef, value: Any) -> str | None:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int | float):
        value = format(value, "g") if isinstance(value, float) else str(value)
    elif not isinstance(value, str):
        raise type_error(field, value)
    if field.type == "multipicklist":
        items: list[str] = []
        for item in value.split(";"):
            item = item.strip()
            if item and item.lower() not in {i.lower() for i in items}:
                items.append(item)
        value = ";".join(items)
        if not value:
            return None
    if field.type == "email" and not _EMAIL.match(value):
        raise SalesforceApiError(
            400,
            "INVALID_EMAIL_ADDRESS",
            f"{field.label}: invalid email address: {value}",
            [field.name],
        )
    return str(value)


def _coerce_boolean(field: FieldDef, value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0"}:
        return int(value.strip().lower() in {"true", "1"})
    raise type_error(field, value)


def _coerce_int(field: FieldDef, value: Any) -> int:
    if isinstance(value, bool):
        raise type_error(field, value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _INT.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise type_error(field, value)
    if field.digits and abs(value) >= 10**field.digits:
        raise _out_of_range(field, value)
    return value


def _coerce_decimal(field: FieldDef, value: Any) -> float:
    if isinstance(value, bool):
        raise type_error(field, value)
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        value = float(value.strip())
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise type_error(field, value)
    rounded = round(float(value), field.scale)
    if field.precision and abs(rounded) >= 10 ** (field.precision - field.scale):
        raise _out_of_range(field, value)
    return rounded


def _out_of_range(field: FieldDef, value: Any) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        "NUMBER_OUTSIDE_VALID_RANGE",
        f"{field.label}: value outside of valid range on numeric field: {value}",
        [field.name],
    )


def _coerce_date(field: FieldDef, value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text_value = value.strip()
        if _DATE.match(text_value):
            try:
                return date.fromisoformat(text_value).isoformat()
            except ValueError:
                raise type_error(field, value) from None
        parsed = parse_datetime(text_value)
        if parsed is not None:
            return parsed.date().isoformat()
    raise type_error(field, value)


def api_value(field: FieldDef, stored: Any) -> Any:
    """The JSON value Salesforce shows for a stored value."""
    if stored is None:
        return None
    kind = field.type
    if kind == "boolean":
        return bool(stored)
    if kind == "datetime":
        return api_datetime(stored)
    if kind in {"double", "currency", "percent"}:
        return float(stored)
    return stored
