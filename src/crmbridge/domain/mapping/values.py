"""Value helpers shared by transforms, formulas and the mapping applier.

Salesforce's wire formats are fixed here once: a ``date`` is ``YYYY-MM-DD`` and a
``dateTime`` is ISO 8601 with milliseconds and an offset (REST API Developer Guide,
"Valid Date and DateTime Formats"); responses carry ``+0000``, which we also send.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmbridge.domain.mapping.errors import TransformError

_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off"})


def is_blank(value: Any) -> bool:
    """Whether a value counts as empty: ``None``, a blank string or an empty list.

    Args:
        value: any field value.

    Returns:
        ``True`` for ``None``, ``""``, whitespace-only strings and empty sequences.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def time_zone(name: str) -> tzinfo:
    """The IANA time zone called ``name`` (from the pinned ``tzdata``).

    Raises:
        TransformError: when the name is not a known IANA zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TransformError(f"unknown time zone {name!r}; use an IANA name") from exc


def render_salesforce_date(value: date) -> str:
    """A date in Salesforce's ``date`` format, ``YYYY-MM-DD``."""
    return value.isoformat()


def render_salesforce_datetime(value: datetime) -> str:
    """An aware datetime in Salesforce's ``dateTime`` format, in UTC with ``+0000``.

    Args:
        value: an aware datetime (naive values are refused: their zone is unknown).

    Raises:
        TransformError: when the datetime is naive.
    """
    if value.tzinfo is None:
        raise TransformError("a datetime without a time zone cannot be sent to Salesforce")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat pads the year to four digits, which strftime's %Y does not on Linux.
    return utc.isoformat(timespec="milliseconds") + "+0000"


def parse_salesforce_date(value: Any) -> date:
    """A ``date`` field value as Salesforce returns it (``YYYY-MM-DD``).

    Raises:
        TransformError: when the value is not such a date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise TransformError(f"{value!r} is not a Salesforce date (YYYY-MM-DD)")


def parse_salesforce_datetime(value: Any) -> datetime:
    """A ``dateTime`` field value as Salesforce returns it, as an aware UTC datetime.

    Accepts ``2024-03-10T23:30:00.000+0000`` as well as ``Z`` and ``+hh:mm`` offsets.

    Raises:
        TransformError: when the value is not a datetime with an offset.
    """
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise TransformError(f"{value!r} is not a Salesforce dateTime with a time zone offset")
    return parsed.astimezone(UTC)


def to_wire_value(value: Any) -> Any:
    """A value in the JSON shape Salesforce accepts: dates and decimals rendered.

    Dates become ``YYYY-MM-DD``, aware datetimes Salesforce's ``dateTime`` form,
    decimals an ``int`` or ``float``, tuples lists; everything else is unchanged.
    """
    if isinstance(value, datetime):
        return render_salesforce_datetime(value)
    if isinstance(value, date):
        return render_salesforce_date(value)
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_to_json(value)
    if isinstance(value, tuple):
        return [to_wire_value(item) for item in value]
    return value


def decimal_to_json(value: Decimal) -> int | float:
    """A decimal as an ``int`` when it is integral, otherwise as a ``float``."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def coerce_number(value: Any) -> Decimal | None:
    """A number from an int, float, decimal or numeric string; ``None`` stays ``None``.

    Raises:
        TransformError: for booleans, non-finite floats and non-numeric strings.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise TransformError(f"{value!r} is a boolean, not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TransformError(f"{value!r} is not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TransformError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return number
    raise TransformError(f"{value!r} is not a number")


def coerce_integer(value: Any) -> int | None:
    """An integer from a number or numeric string without a fractional part.

    Raises:
        TransformError: when the value is not numeric or has a fractional part.
    """
    number = coerce_number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise TransformError(f"{value!r} is not a whole number")
    return int(number)


def coerce_boolean(value: Any) -> bool | None:
    """A boolean from a bool, 0/1, or a word such as true/false, yes/no, on/off.

    Raises:
        TransformError: for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise TransformError(f"{value!r} is not a boolean (use true/false, yes/no, 1/0)")


def coerce_string(value: Any) -> str | None:
    """Text for a value: booleans as ``true``/``false``, numbers without exponent noise.

    Dates and datetimes use Salesforce's formats so text round-trips through them.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date | time):
        rendered = to_wire_value(value)
        return str(rendered)
    if isinstance(value, list | tuple):
        return ";".join(s for s in (coerce_string(item) for item in value) if s is not None)
    return str(value)
