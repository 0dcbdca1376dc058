"""Date format: platform dates and datetimes ↔ Salesforce ``date`` / ``dateTime`` fields.

Salesforce stores a ``dateTime`` as an instant in UTC and a ``date`` as a calendar day
with no time zone (REST API Developer Guide, "Valid Date and DateTime Formats":
"Specifying an offset for date is not supported"). So:

- a platform *date* always stays the same calendar day, whatever the time zone;
- a platform *datetime* sent to a Salesforce *date* field takes the day it is in the
  tenant's time zone (23:30 in Los Angeles on 10 March is still 10 March there, even
  though it is 11 March in UTC);
- a day sent to a ``dateTime`` field becomes midnight in the tenant's time zone, which
  maps back to the same day.

Platform text without an offset is read in the tenant's time zone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Self

from crmbridge.domain.mapping.errors import TransformError
from crmbridge.domain.mapping.reading import DefinitionReader
from crmbridge.domain.mapping.transforms.base import StepContext, TransformStep
from crmbridge.domain.mapping.values import (
    is_blank,
    parse_salesforce_date,
    parse_salesforce_datetime,
    render_salesforce_date,
    render_salesforce_datetime,
    time_zone,
)


class DateKind(enum.StrEnum):
    """Whether a value is a calendar day or an instant."""

    DATE = "date"
    DATETIME = "datetime"


def _check_format(reader: DefinitionReader, pattern: str | None) -> None:
    if pattern is None:
        return
    if "%" not in pattern:
        reader.problem("must be a strftime pattern such as '%m/%d/%Y'", "platform_format")
        return
    sample = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)
    try:
        datetime.strptime(sample.strftime(pattern), pattern)
    except ValueError as exc:
        reader.problem(f"is not a usable date pattern ({exc})", "platform_format")


@dataclass(frozen=True, kw_only=True)
class DateFormat(TransformStep):
    """Convert between a platform date/datetime and a Salesforce date or dateTime."""

    kind = "date_format"

    #: What the platform value denotes: a calendar day or an instant.
    platform_kind: DateKind = DateKind.DATE
    #: strftime pattern of platform text (e.g. ``%m/%d/%Y``); ``None``: ISO 8601.
    platform_format: str | None = None
    #: The Salesforce field's type.
    salesforce_type: DateKind = DateKind.DATE

    def _read_platform(self, value: Any, zone_name: str) -> date | datetime:
        zone = time_zone(zone_name)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=zone)
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise TransformError(f"{value!r} is not a date")
        text = value.strip()
        try:
            if self.platform_format is not None:
                parsed = datetime.strptime(text, self.platform_format)
            elif self.platform_kind is DateKind.DATE and len(text) == 10:
                return date.fromisoformat(text)
            else:
                parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            expected = self.platform_format or "ISO 8601"
            raise TransformError(f"{value!r} does not match the date format {expected}") from exc
        if self.platform_kind is DateKind.DATE and parsed.tzinfo is None:
            return parsed.date()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        if is_blank(value):
            return None
        moment = self._read_platform(value, ctx.context.time_zone)
        zone = time_zone(ctx.context.time_zone)
        if self.salesforce_type is DateKind.DATE:
            if isinstance(moment, datetime):
                # The day it is for the tenant, not in UTC.
                return render_salesforce_date(moment.astimezone(zone).date())
            return render_salesforce_date(moment)
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time(0, 0), tzinfo=zone)
        return render_salesforce_datetime(moment)

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        if is_blank(value):
            return None
        zone = time_zone(ctx.context.time_zone)
        incoming: date | datetime
        if self.salesforce_type is DateKind.DATE:
            incoming = parse_salesforce_date(value)
        else:
            incoming = parse_salesforce_datetime(value)
        if self.platform_kind is DateKind.DATE:
            day = incoming.astimezone(zone).date() if isinstance(incoming, datetime) else incoming
            if self.platform_format is None:
                return day.isoformat()
            return day.strftime(self.platform_format)
        if not isinstance(incoming, datetime):
            incoming = datetime.combine(incoming, time(0, 0), tzinfo=zone)
        if self.platform_format is None:
            return incoming.astimezone(UTC).isoformat()
        return incoming.astimezone(zone).strftime(self.platform_format)

    def params(self) -> dict[str, Any]:
        return {
            "platform_kind": self.platform_kind.value,
            "platform_format": self.platform_format,
            "salesforce_type": self.salesforce_type.value,
        }

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"platform_kind", "platform_format", "salesforce_type"})
        pattern = reader.optional_string("platform_format")
        _check_format(reader, pattern)
        return cls(
            platform_kind=reader.choice("platform_kind", DateKind, DateKind.DATE),
            platform_format=pattern,
            salesforce_type=reader.choice("salesforce_type", DateKind, DateKind.DATE),
        )

    def salesforce_value_type(self) -> str | None:
        return self.salesforce_type.value

    def describe(self) -> str:
        source = self.platform_format or f"ISO {self.platform_kind.value}"
        return f"{source} → Salesforce {self.salesforce_type.value}"
