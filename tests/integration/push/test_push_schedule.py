"""When scheduled runs are due (pure arithmetic over a given clock)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmbridge.worker.schedule import (
    Frequency,
    Schedule,
    is_run_due,
    next_daily_slot,
    next_run_at,
)

pytestmark = pytest.mark.storeless

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_real_time_runs_every_minute_and_at_once_when_new() -> None:
    schedule = Schedule(frequency=Frequency.REAL_TIME)
    assert is_run_due(schedule, last_started_at=None, first_seen_at=T0, now=T0)
    assert not is_run_due(
        schedule, last_started_at=T0, first_seen_at=T0, now=T0 + timedelta(seconds=59)
    )
    assert is_run_due(schedule, last_started_at=T0, first_seen_at=T0, now=T0 + timedelta(minutes=1))


def test_hourly_runs_an_hour_after_the_last_start() -> None:
    schedule = Schedule(frequency=Frequency.HOURLY)
    assert next_run_at(schedule, last_started_at=T0, first_seen_at=T0) == T0 + timedelta(hours=1)
    assert not is_run_due(
        schedule, last_started_at=T0, first_seen_at=T0, now=T0 + timedelta(minutes=59)
    )


def test_manual_never_runs_on_a_schedule() -> None:
    schedule = Schedule(frequency=Frequency.MANUAL)
    assert next_run_at(schedule, last_started_at=None, first_seen_at=T0) is None
    assert not is_run_due(
        schedule, last_started_at=None, first_seen_at=T0, now=T0 + timedelta(days=9)
    )


def test_daily_waits_for_its_first_slot_then_runs_once_a_day() -> None:
    schedule = Schedule(frequency=Frequency.DAILY, daily_at=time(2, 0))
    # Seen at noon: the first run is at 02:00 the next day, not now.
    first = next_run_at(schedule, last_started_at=None, first_seen_at=T0)
    assert first == datetime(2025, 3, 2, 2, 0, tzinfo=UTC)
    assert not is_run_due(
        schedule, last_started_at=None, first_seen_at=T0, now=T0 + timedelta(hours=13)
    )
    assert is_run_due(schedule, last_started_at=None, first_seen_at=T0, now=first)
    # After the 02:00 run (which took a few seconds to start), the next is tomorrow's.
    started = first + timedelta(seconds=5)
    assert next_run_at(schedule, last_started_at=started, first_seen_at=T0) == first + timedelta(
        days=1
    )


def test_a_worker_that_was_down_runs_once_then_keeps_the_cadence() -> None:
    schedule = Schedule(frequency=Frequency.DAILY, daily_at=time(2, 0))
    last = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    now = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)  # four slots missed
    assert is_run_due(schedule, last_started_at=last, first_seen_at=last, now=now)
    assert next_run_at(schedule, last_started_at=now, first_seen_at=last) == datetime(
        2025, 3, 6, 2, 0, tzinfo=UTC
    )


def test_daily_slots_follow_the_tenants_time_zone_across_dst() -> None:
    schedule = Schedule(frequency=Frequency.DAILY, daily_at=time(2, 30), timezone="Europe/Berlin")
    # Winter: 02:30 CET is 01:30 UTC.
    winter = next_daily_slot(schedule, after=datetime(2025, 1, 10, 0, 0, tzinfo=UTC))
    assert winter == datetime(2025, 1, 10, 1, 30, tzinfo=UTC)
    # Summer: 02:30 CEST is 00:30 UTC.
    summer = next_daily_slot(schedule, after=datetime(2025, 7, 10, 0, 0, tzinfo=UTC))
    assert summer == datetime(2025, 7, 10, 0, 30, tzinfo=UTC)
    # 30 March 2025: clocks skip 02:00-03:00 in Berlin; the slot still happens once.
    skipped_day = next_daily_slot(schedule, after=datetime(2025, 3, 29, 23, 0, tzinfo=UTC))
    assert skipped_day.date().isoformat() == "2025-03-30"
    after_it = next_daily_slot(schedule, after=skipped_day)
    assert after_it.date().isoformat() == "2025-03-31"


@given(
    after=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    at=st.times(),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
)
def test_the_next_daily_slot_is_always_after_and_within_a_day_or_so(
    after: datetime, at: time, zone: str
) -> None:
    slot = next_daily_slot(
        Schedule(frequency=Frequency.DAILY, daily_at=at, timezone=zone), after=after
    )
    assert after < slot <= after + timedelta(hours=25, minutes=1)
