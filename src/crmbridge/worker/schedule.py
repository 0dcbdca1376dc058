"""When a tenant's next scheduled sync is due (R-O1): pure arithmetic over the clock.

Frequencies (seed 004 "Sync Settings"):

- ``realtime``: poll every minute, and drain pushed changes (Outbound Messages, the
  Flow webhook) as they arrive;
- ``hourly``: one run an hour;
- ``daily``: one run a day at a set local time in the tenant's time zone;
- ``manual``: never on a schedule (runs start from the API or the CLI).

A run is due ``interval`` after the start of the previous scheduled run. A worker that
was down starts one catch-up run, not one per missed slot, and the cadence continues
from that run. A daily schedule that has never run waits for its first slot after it
was first seen, so switching a tenant to "daily at 02:00" at noon does not start a run
at noon.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Frequency(enum.StrEnum):
    """How often scheduled runs start."""

    REAL_TIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"
    MANUAL = "manual"


#: The polling interval of each repeating frequency.
INTERVALS: dict[Frequency, timedelta] = {
    Frequency.REAL_TIME: timedelta(minutes=1),
    Frequency.HOURLY: timedelta(hours=1),
}


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """A tenant's schedule, as its sync settings say."""

    #: How often scheduled runs start.
    frequency: Frequency = Frequency.REAL_TIME
    #: Local time of the daily run.
    daily_at: time = time(2, 0)
    #: IANA time zone of ``daily_at``.
    timezone: str = "UTC"

    @property
    def drains_push_continuously(self) -> bool:
        """Whether pushed changes are applied as they arrive (real-time only).

        With the other frequencies pushed entries wait for the next scheduled run (or an
        admin's "process now"), as the tenant asked for batched syncing.
        """
        return self.frequency is Frequency.REAL_TIME


def next_run_at(
    schedule: Schedule, *, last_started_at: datetime | None, first_seen_at: datetime
) -> datetime | None:
    """When the next scheduled run is due, or ``None`` for a manual schedule.

    Args:
        schedule: the tenant's schedule.
        last_started_at: start of the previous scheduled run, if any.
        first_seen_at: when the scheduler first saw this tenant (anchors a daily
            schedule that never ran).

    Returns:
        A timezone-aware UTC time; a time in the past means "due now".
    """
    if schedule.frequency is Frequency.MANUAL:
        return None
    interval = INTERVALS.get(schedule.frequency)
    if interval is not None:
        return first_seen_at if last_started_at is None else last_started_at + interval
    return next_daily_slot(schedule, after=last_started_at or first_seen_at)


def next_daily_slot(schedule: Schedule, *, after: datetime) -> datetime:
    """The first ``daily_at`` in the schedule's time zone strictly after ``after`` (UTC)."""
    zone = ZoneInfo(schedule.timezone)
    local_after = after.astimezone(zone)
    day = local_after.date()
    for offset in range(3):
        # Combining in the zone and converting handles DST: a 02:30 slot on a day
        # the clocks skip 02:00-03:00 lands an hour later, never twice.
        candidate = datetime.combine(day + timedelta(days=offset), schedule.daily_at, zone)
        candidate_utc = candidate.astimezone(UTC)
        if candidate_utc > after:
            return candidate_utc
    raise AssertionError("a daily slot exists within three days")  # pragma: no cover


def is_run_due(
    schedule: Schedule,
    *,
    last_started_at: datetime | None,
    first_seen_at: datetime,
    now: datetime,
) -> bool:
    """Whether a scheduled run should start now."""
    due = next_run_at(schedule, last_started_at=last_started_at, first_seen_at=first_seen_at)
    return due is not None and due <= now
