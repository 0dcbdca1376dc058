"""What to do after a failed write or call: the retry policy as a pure object (R-S8).

Modelled on procrastinate's ``RetryStrategy.get_retry_decision``: the caller passes the
error, how many attempts were made, the current time and a random source; the
strategy answers with a decision and touches nothing. The error tree of
:mod:`crmbridge.domain.errors` says what kind of failure it is:

* :class:`RetryableError` (network, 5xx, ``UNABLE_TO_LOCK_ROW``): retry with
  exponential backoff and full jitter, dead-letter after ``max_attempts``.
* :class:`RateLimitError`: wait as long as Salesforce (or the budget) said, or a fixed
  pause; the whole connection waits, and it never dead-letters a record, because the
  record is not at fault.
* :class:`SessionExpired`: retry after a token refresh; if it keeps happening the
  connection pauses.
* :class:`RecordError`: dead-letter at once with Salesforce's message; retrying the same
  data cannot succeed.
* :class:`ReauthorizationRequired`: pause the tenant's connection until an admin
  re-authorizes it (R-A5).
* :class:`ConfigurationError` (and :class:`PermissionDenied`): pause the object mapping;
  every record of it would fail the same way.

Full jitter (a uniform delay between zero and the exponential cap) spreads retries of
many workers apart; see the AWS Architecture Blog, "Exponential Backoff And Jitter".
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from crmbridge.domain.errors import (
    ConfigurationError,
    CrmError,
    ErrorCategory,
    RateLimitError,
    ReauthorizationRequired,
    RecordError,
    SessionExpired,
)

# Past this exponent the cap is max_delay for any sane settings; stops float overflow.
_MAX_EXPONENT = 64


class RetryAction(enum.StrEnum):
    """What happens to the failed work."""

    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    PAUSE = "pause"


class RetryScope(enum.StrEnum):
    """How much work the decision holds back."""

    #: Only the failed record (or batch).
    RECORD = "record"
    #: Every record of the object mapping.
    MAPPING = "mapping"
    #: Everything of the tenant's Salesforce connection.
    CONNECTION = "connection"


@dataclass(frozen=True, kw_only=True)
class RetryDecision:
    """The answer of :meth:`RetryStrategy.get_retry_decision`."""

    #: Retry, dead-letter, or pause.
    action: RetryAction
    #: What the decision holds back.
    scope: RetryScope
    #: When to try again (``RETRY`` only; a paused scope resumes by an admin's action).
    retry_at: datetime | None
    #: The classification shown to administrators.
    category: ErrorCategory
    #: The error as Salesforce reported it (code, message, fields).
    message: str
    #: What an administrator should do.
    advice: str
    #: Refresh the access token before the retry.
    refresh_session: bool = False

    @property
    def dead_letter(self) -> bool:
        """Whether the record goes to the dead-letter list."""
        return self.action is RetryAction.DEAD_LETTER


@dataclass(frozen=True, kw_only=True)
class RetryStrategy:
    """Exponential backoff with full jitter, by error class (configurable per tenant)."""

    #: Attempts in all (the first included) before a transient failure dead-letters.
    max_attempts: int = 5
    #: Cap of the first retry's delay.
    base_delay: timedelta = timedelta(seconds=2)
    #: Growth of the cap per attempt.
    multiplier: float = 2.0
    #: Upper bound of any backoff delay.
    max_delay: timedelta = timedelta(minutes=15)
    #: Pause after a rate-limit error that did not say how long to wait.
    rate_limit_delay: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if (
            self.multiplier < 1
            or self.base_delay < timedelta(0)
            or self.max_delay < self.base_delay
        ):
            raise ValueError("need multiplier >= 1 and 0 <= base_delay <= max_delay")

    def backoff_cap(self, attempts: int) -> timedelta:
        """The largest delay after ``attempts`` failed attempts (non-decreasing in them)."""
        exponent = min(max(attempts, 1) - 1, _MAX_EXPONENT)
        cap_seconds = self.base_delay.total_seconds() * self.multiplier**exponent
        # Compare in seconds: a timedelta of 2**64 seconds does not exist.
        return timedelta(seconds=min(self.max_delay.total_seconds(), cap_seconds))

    def expected_delay(self, attempts: int) -> timedelta:
        """The mean backoff delay after ``attempts`` failures (full jitter: half the cap)."""
        return self.backoff_cap(attempts) / 2

    def get_retry_decision(
        self,
        error: BaseException,
        attempts: int,
        *,
        now: datetime,
        rng: random.Random,
    ) -> RetryDecision:
        """Decide what happens after ``error`` ended attempt number ``attempts``.

        Args:
            error: the failure (normally a :class:`CrmError` from the Salesforce client).
            attempts: attempts made so far, the failed one included (1 after the first).
            now: the current time (from the caller's clock).
            rng: the random source for the jitter (seeded in tests).

        Returns:
            The decision, with Salesforce's message and the advice for administrators.

        Raises:
            ValueError: when ``attempts`` is below 1.
        """
        if attempts < 1:
            raise ValueError("attempts counts the failed attempt, so it is at least 1")
        category, message, advice = _describe(error)

        def decide(
            action: RetryAction,
            scope: RetryScope,
            retry_at: datetime | None = None,
            *,
            refresh: bool = False,
        ) -> RetryDecision:
            return RetryDecision(
                action=action,
                scope=scope,
                retry_at=retry_at,
                category=category,
                message=message,
                advice=advice,
                refresh_session=refresh,
            )

        if isinstance(error, RateLimitError):
            wait = (
                timedelta(seconds=error.retry_after_seconds)
                if error.retry_after_seconds is not None
                else self.rate_limit_delay
            )
            return decide(RetryAction.RETRY, RetryScope.CONNECTION, now + wait)
        if isinstance(error, ReauthorizationRequired):
            return decide(RetryAction.PAUSE, RetryScope.CONNECTION)
        if isinstance(error, ConfigurationError):
            return decide(RetryAction.PAUSE, RetryScope.MAPPING)
        if isinstance(error, RecordError):
            return decide(RetryAction.DEAD_LETTER, RetryScope.RECORD)
        if isinstance(error, SessionExpired):
            if attempts >= self.max_attempts:
                return decide(RetryAction.PAUSE, RetryScope.CONNECTION)
            return decide(
                RetryAction.RETRY,
                RetryScope.RECORD,
                self._backoff(attempts, now, rng),
                refresh=True,
            )
        # RetryableError, and anything unexpected (a bug is retried a few times, then
        # parked on the dead-letter list where an admin sees it).
        if attempts >= self.max_attempts:
            return decide(RetryAction.DEAD_LETTER, RetryScope.RECORD)
        return decide(RetryAction.RETRY, RetryScope.RECORD, self._backoff(attempts, now, rng))

    def _backoff(self, attempts: int, now: datetime, rng: random.Random) -> datetime:
        cap = self.backoff_cap(attempts).total_seconds()
        return now + timedelta(seconds=rng.uniform(0.0, cap))


def _describe(error: BaseException) -> tuple[ErrorCategory, str, str]:
    # Anything outside the error tree is most likely a transport failure the client did
    # not wrap; it is retried like one.
    if isinstance(error, CrmError):
        return error.category, str(error), error.advice
    return (
        ErrorCategory.NETWORK,
        f"{type(error).__name__}: {error}",
        "crmbridge retries automatically; if it keeps failing, report it with this message.",
    )
