"""The retry policy: backoff with jitter, dead letters, pauses (R-S8)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_support import T0

from crmbridge.domain.errors import (
    ConfigurationError,
    DuplicateRecordError,
    ErrorCategory,
    NetworkError,
    PermissionDenied,
    RateLimitError,
    ReauthorizationRequired,
    RecordError,
    RecordLockedError,
    SessionExpired,
)
from crmbridge.domain.sync.retry import RetryAction, RetryScope, RetryStrategy

STRATEGY = RetryStrategy(
    max_attempts=5, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=1)
)


def decide(error: BaseException, attempts: int = 1, seed: int = 0):  # type: ignore[no-untyped-def]
    return STRATEGY.get_retry_decision(error, attempts, now=T0, rng=random.Random(seed))


def test_a_lock_error_is_retried_after_a_jittered_delay() -> None:
    decision = decide(
        RecordLockedError("unable to obtain exclusive access", code="UNABLE_TO_LOCK_ROW")
    )
    assert decision.action is RetryAction.RETRY
    assert decision.scope is RetryScope.RECORD
    assert decision.retry_at is not None
    assert T0 <= decision.retry_at <= T0 + timedelta(seconds=2)
    assert decision.category is ErrorCategory.RECORD_LOCKING


def test_a_transient_error_dead_letters_after_max_attempts() -> None:
    assert decide(NetworkError("503"), attempts=4).action is RetryAction.RETRY
    last = decide(NetworkError("503"), attempts=5)
    assert last.dead_letter
    assert last.retry_at is None


def test_a_record_error_dead_letters_at_once_with_salesforces_message() -> None:
    error = RecordError(
        "Required fields are missing: [LastName]",
        code="REQUIRED_FIELD_MISSING",
        fields=["LastName"],
    )
    decision = decide(error)
    assert decision.dead_letter
    assert (
        decision.message
        == "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)"
    )
    assert decision.advice == RecordError.advice
    assert decide(DuplicateRecordError("dupe", code="DUPLICATES_DETECTED")).dead_letter


def test_a_rate_limit_honours_retry_after_and_holds_the_whole_connection() -> None:
    decision = decide(RateLimitError("limit", retry_after_seconds=120), attempts=50)
    assert decision.action is RetryAction.RETRY
    assert decision.scope is RetryScope.CONNECTION
    assert decision.retry_at == T0 + timedelta(seconds=120)


def test_a_rate_limit_without_retry_after_waits_the_configured_pause() -> None:
    decision = decide(RateLimitError("REQUEST_LIMIT_EXCEEDED"))
    assert decision.retry_at == T0 + STRATEGY.rate_limit_delay


def test_a_revoked_connection_pauses_the_tenants_sync() -> None:
    decision = decide(ReauthorizationRequired("expired access/refresh token", code="invalid_grant"))
    assert (decision.action, decision.scope) == (RetryAction.PAUSE, RetryScope.CONNECTION)
    assert "Re-authorize" in decision.advice


@pytest.mark.parametrize("error", [ConfigurationError("No such column"), PermissionDenied("no")])
def test_a_configuration_error_pauses_the_object_mapping(error: Exception) -> None:
    decision = decide(error)
    assert (decision.action, decision.scope) == (RetryAction.PAUSE, RetryScope.MAPPING)


def test_an_expired_session_retries_after_a_refresh_then_pauses() -> None:
    first = decide(SessionExpired("Session expired or invalid"))
    assert first.action is RetryAction.RETRY
    assert first.refresh_session
    assert decide(SessionExpired("again"), attempts=5).action is RetryAction.PAUSE


def test_an_unexpected_exception_is_retried_then_dead_lettered() -> None:
    assert decide(KeyError("x")).action is RetryAction.RETRY
    decision = decide(KeyError("x"), attempts=5)
    assert decision.dead_letter
    assert decision.message.startswith("KeyError")


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        decide(NetworkError(), attempts=0)


def test_invalid_strategies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryStrategy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryStrategy(base_delay=timedelta(minutes=5), max_delay=timedelta(minutes=1))


def test_the_same_seed_gives_the_same_decision() -> None:
    assert decide(NetworkError(), attempts=3, seed=7) == decide(NetworkError(), attempts=3, seed=7)


@given(st.integers(1, 10_000), st.integers(0, 2**32 - 1))
def test_delays_are_bounded_by_the_cap_and_the_maximum(attempts: int, seed: int) -> None:
    strategy = RetryStrategy(max_attempts=10_001)
    decision = strategy.get_retry_decision(
        NetworkError(), attempts, now=T0, rng=random.Random(seed)
    )
    assert decision.retry_at is not None
    delay = decision.retry_at - T0
    assert timedelta(0) <= delay <= strategy.backoff_cap(attempts) <= strategy.max_delay


@given(st.integers(1, 200))
def test_the_expected_delay_never_decreases_with_attempts(attempts: int) -> None:
    strategy = RetryStrategy(max_attempts=1000)
    assert strategy.expected_delay(attempts) <= strategy.expected_delay(attempts + 1)
    assert strategy.backoff_cap(attempts) <= strategy.backoff_cap(attempts + 1)


def test_sampled_delays_grow_on_average_until_the_cap() -> None:
    strategy = RetryStrategy(max_attempts=100, max_delay=timedelta(seconds=30))
    rng = random.Random(1)

    def mean_delay(attempts: int) -> float:
        total = 0.0
        for _ in range(2000):
            retry_at = strategy.get_retry_decision(
                NetworkError(), attempts, now=T0, rng=rng
            ).retry_at
            assert retry_at is not None
            total += (retry_at - T0).total_seconds()
        return total / 2000

    means = [mean_delay(a) for a in (1, 2, 3, 4, 5)]
    assert means == sorted(means)
    for attempts, mean in zip((1, 2, 3, 4, 5), means, strict=True):
        assert mean == pytest.approx(strategy.expected_delay(attempts).total_seconds(), rel=0.1)


@given(st.integers(1, 30), st.integers(1, 10))
def test_max_attempts_is_respected(attempts: int, max_attempts: int) -> None:
    strategy = RetryStrategy(max_attempts=max_attempts)
    decision = strategy.get_retry_decision(
        RecordLockedError(), attempts, now=T0, rng=random.Random(0)
    )
    assert decision.dead_letter is (attempts >= max_attempts)
