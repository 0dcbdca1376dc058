"""The API budget: routine work stops at its share and resumes by itself (R-S7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_support import T0, at

from crmbridge.domain.sync.budget import (
    ApiBudget,
    ApiUsageReading,
    CallCount,
    Urgency,
)

BUDGET = ApiBudget(routine_share=0.8, urgent_share=1.0, fallback_pause=timedelta(hours=1))


def reading(used: int, limit: int = 1000) -> ApiUsageReading:
    return ApiUsageReading(used=used, limit=limit, observed_at=T0)


def test_routine_work_proceeds_below_its_share() -> None:
    decision = BUDGET.decide(usage=reading(700), urgency=Urgency.ROUTINE, now=T0, calls_needed=10)
    assert decision.proceed
    assert decision.remaining == 100


def test_routine_work_stops_at_its_share() -> None:
    decision = BUDGET.decide(usage=reading(800), urgency=Urgency.ROUTINE, now=T0)
    assert not decision.proceed
    assert decision.remaining == 0
    assert "80%" in decision.reason


def test_urgent_work_may_use_the_whole_allowance() -> None:
    assert BUDGET.decide(usage=reading(900), urgency=Urgency.URGENT, now=T0).proceed
    assert not BUDGET.decide(usage=reading(1000), urgency=Urgency.URGENT, now=T0).proceed


def test_unknown_usage_lets_work_proceed_until_a_reading_arrives() -> None:
    decision = BUDGET.decide(usage=None, urgency=Urgency.ROUTINE, now=T0)
    assert decision.proceed
    assert decision.remaining is None


def test_the_pause_ends_when_our_own_calls_leave_the_24_hour_window() -> None:
    own = [
        CallCount(at=T0 - timedelta(hours=23), calls=5),
        CallCount(at=T0 - timedelta(hours=20), calls=30),
        CallCount(at=T0 - timedelta(hours=30), calls=500),  # already outside the window
    ]
    decision = BUDGET.decide(
        usage=reading(820), urgency=Urgency.ROUTINE, now=T0, calls_needed=10, own_calls=own
    )
    # 30 calls over the share: the first bucket frees 5 (not enough), the second 30.
    assert decision.resume_at == T0 + timedelta(hours=4)


def test_a_fixed_pause_when_our_calls_cannot_free_enough() -> None:
    own = [CallCount(at=T0 - timedelta(hours=1), calls=3)]
    decision = BUDGET.decide(usage=reading(990), urgency=Urgency.ROUTINE, now=T0, own_calls=own)
    assert decision.resume_at == T0 + timedelta(hours=1)


def test_a_resume_time_is_never_in_the_past() -> None:
    stale = ApiUsageReading(used=900, limit=1000, observed_at=T0 - timedelta(hours=2))
    own = [CallCount(at=T0 - timedelta(hours=25), calls=200)]
    decision = BUDGET.decide(usage=stale, urgency=Urgency.ROUTINE, now=T0, own_calls=own)
    assert decision.resume_at == T0


def test_shares_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        ApiBudget(routine_share=0.9, urgent_share=0.5)


@given(
    st.integers(0, 2000),
    st.integers(1, 2000),
    st.integers(1, 50),
    st.sampled_from(Urgency),
    st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(0, 100)), max_size=10),
)
def test_work_never_runs_past_its_share_and_a_pause_always_ends(
    used: int, limit: int, needed: int, urgency: Urgency, buckets: list[tuple[int, int]]
) -> None:
    own = [CallCount(at=at(-minutes), calls=calls) for minutes, calls in buckets]
    decision = BUDGET.decide(
        usage=reading(used, limit), urgency=urgency, now=T0, calls_needed=needed, own_calls=own
    )
    share = BUDGET.urgent_share if urgency is Urgency.URGENT else BUDGET.routine_share
    if decision.proceed:
        assert used + needed <= limit * share
        assert decision.resume_at is None
    else:
        assert decision.resume_at is not None
        assert T0 <= decision.resume_at <= T0 + max(timedelta(hours=24), BUDGET.fallback_pause)
