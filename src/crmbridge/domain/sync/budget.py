"""The API budget: stop routine work at a share of the org's daily limit (R-S7).

Salesforce counts API requests against an org-wide allowance over a rolling 24-hour
window (Salesforce Developer Limits and Allocations Quick Reference, "API Request
Limits and Allocations"); every REST response reports the usage in its
``Sforce-Limit-Info: api-usage=used/limit`` header (REST API Developer Guide, "Limit
Info Header") and the ``limits`` resource reports it on demand. Other integrations
share that allowance, so crmbridge keeps a configurable part of it free: scheduled
(routine) work stops at, say, 80 %, while work a person is waiting for (a manual sync of
specific records) may go on to the full limit.

When routine work must stop, the budget says when to look again: the moment enough of
crmbridge's own calls have left the 24-hour window, or after a fixed back-off when its
own calls cannot free enough (the rest of the usage belongs to someone else).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Salesforce's API allowance is counted over a rolling 24 hours.
USAGE_WINDOW = timedelta(hours=24)


class Urgency(enum.StrEnum):
    """Whether a person is waiting for the work."""

    #: Manual sync of specific records, test runs: may use the whole allowance.
    URGENT = "urgent"
    #: Scheduled polls and bulk syncs: stop at the routine share.
    ROUTINE = "routine"


@dataclass(frozen=True, kw_only=True)
class ApiUsageReading:
    """The org's API usage as Salesforce last reported it."""

    #: Requests counted in the current 24-hour window.
    used: int
    #: The org's allowance for the window.
    limit: int
    #: When Salesforce reported it.
    observed_at: datetime


@dataclass(frozen=True, kw_only=True)
class CallCount:
    """crmbridge's own calls to the org in one time bucket (e.g. one minute)."""

    #: Start of the bucket.
    at: datetime
    #: Calls made in it.
    calls: int


@dataclass(frozen=True, kw_only=True)
class BudgetDecision:
    """The answer of :meth:`ApiBudget.decide`."""

    #: Whether the work may go ahead now.
    proceed: bool
    #: When to ask again, if not.
    resume_at: datetime | None
    #: Calls left before the share is reached (``None`` when usage is unknown).
    remaining: int | None
    #: Why, in words for the status page.
    reason: str


@dataclass(frozen=True, kw_only=True)
class ApiBudget:
    """How much of the org's allowance crmbridge may use (configurable per tenant)."""

    #: Share of the limit routine work may bring usage up to.
    routine_share: float = 0.8
    #: Share of the limit urgent work may bring usage up to.
    urgent_share: float = 1.0
    #: Pause when the budget cannot tell when the window frees up.
    fallback_pause: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if not 0 < self.routine_share <= self.urgent_share <= 1:
            raise ValueError("need 0 < routine_share <= urgent_share <= 1")

    def decide(
        self,
        *,
        usage: ApiUsageReading | None,
        urgency: Urgency,
        now: datetime,
        calls_needed: int = 1,
        own_calls: Sequence[CallCount] = (),
    ) -> BudgetDecision:
        """Whether work needing ``calls_needed`` calls may run now.

        Args:
            usage: the latest usage reading, or ``None`` when none is known yet (the
                work proceeds; its first response brings a reading).
            urgency: urgent work may use the whole allowance, routine work its share.
            now: the current time.
            calls_needed: calls the next step makes (a batch, a page).
            own_calls: crmbridge's calls to this org over the last 24 hours, bucketed,
                used to predict when the window frees up.

        Returns:
            Proceed, or pause until a predicted time.
        """
        if usage is None:
            return BudgetDecision(
                proceed=True, resume_at=None, remaining=None, reason="API usage not known yet"
            )
        share = self.urgent_share if urgency is Urgency.URGENT else self.routine_share
        ceiling = math.floor(usage.limit * share)
        remaining = max(ceiling - usage.used, 0)
        if usage.used + calls_needed <= ceiling:
            return BudgetDecision(
                proceed=True,
                resume_at=None,
                remaining=remaining,
                reason=f"{usage.used} of {usage.limit} API calls used; {remaining} left",
            )
        excess = usage.used + calls_needed - ceiling
        resume_at = _when_freed(excess, own_calls, after=usage.observed_at, now=now)
        if resume_at is None:
            resume_at = now + self.fallback_pause
        return BudgetDecision(
            proceed=False,
            resume_at=resume_at,
            remaining=remaining,
            reason=(
                f"{usage.used} of {usage.limit} API calls used, at the "
                f"{share:.0%} share for {urgency} work; resuming when the 24-hour window frees up"
            ),
        )


def _when_freed(
    excess: int, own_calls: Sequence[CallCount], *, after: datetime, now: datetime
) -> datetime | None:
    """When ``excess`` of our counted calls will have left the window, if they can."""
    freed = 0
    for bucket in sorted(own_calls, key=lambda b: b.at):
        leaves_at = bucket.at + USAGE_WINDOW
        if leaves_at <= after:
            continue  # already out of the window when the reading was taken
        freed += bucket.calls
        if freed >= excess:
            return max(leaves_at, now)
    return None
