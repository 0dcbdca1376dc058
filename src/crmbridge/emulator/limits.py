"""The org's daily API allowance and the ``limits`` resource.

Salesforce counts every authenticated API call (REST, SOAP, Bulk) against the org's
DailyApiRequests; past the limit calls fail with 403 REQUEST_LIMIT_EXCEEDED
"TotalRequests Limit exceeded." (REST API Developer Guide, "API Request Limits and
Allocations"). The emulator counts per UTC day of the org's clock and keeps the count
in the org's file, so a restart does not reset it.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from crmbridge.emulator.errors import SalesforceApiError

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext
    from crmbridge.emulator.http import ApiRequest

#: The limits resource's other entries: (name, Max). Values of a Developer Edition-like org.
_FIXED_LIMITS: tuple[tuple[str, int], ...] = (
    ("ConcurrentAsyncGetReportInstances", 200),
    ("ConcurrentSyncReportRuns", 20),
    ("DailyAsyncApexExecutions", 250000),
    ("DailyBulkApiBatches", 15000),
    ("DailyBulkV2QueryFileStorageMB", 976562),
    ("DailyBulkV2QueryJobs", 10000),
    ("DailyDurableStreamingApiEvents", 10000),
    ("DailyStreamingApiEvents", 10000),
    ("DataStorageMB", 5),
    ("FileStorageMB", 20),
    ("HourlyTimeBasedWorkflow", 1000),
    ("MassEmail", 10),
    ("SingleEmail", 15),
    ("StreamingApiConcurrentClients", 20),
)


class ApiLimits:
    """Counts API calls per org and day, and by resource for tests and benchmarks."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        saved = ctx.store.meta_get("api_usage") or {}
        self._day: str = saved.get("day", self._today())
        self._used: int = int(saved.get("used", 0))
        self._quota: int = int(ctx.options.api_quota)
        self._by_resource: Counter[str] = Counter()
        self._other_usage: Counter[str] = Counter(saved.get("other", {}))
        self._unsaved = 0

    def _today(self) -> str:
        return self.ctx.clock.now().date().isoformat()

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self._used = today, 0
            self._other_usage.clear()

    def quota(self) -> int:
        """The daily allowance (DailyApiRequests.Max)."""
        return self._quota

    def used(self) -> int:
        """Calls counted today."""
        with self._lock:
            self._roll_day()
            return self._used

    def count_call(self, resource: str) -> None:
        """Count one call, or raise 403 REQUEST_LIMIT_EXCEEDED when the allowance is used up."""
        with self._lock:
            self._roll_day()
            if self._used >= self._quota:
                raise SalesforceApiError(
                    403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                )
            self._used += 1
            self._by_resource[resource] += 1
            self._unsaved += 1
            if self._unsaved >= 50:
                self._save()

    def count_other(self, limit_name: str, amount: int = 1) -> None:
        """Count usage of another daily limit (e.g. DailyBulkApiBatches)."""
        with self._lock:
            self._roll_day()
            self._other_usage[limit_name] += amount
            self._save()

    def set_usage(self, used: int, quota: int | None = None) -> None:
        """Set today's count (and the allowance): fault injection and tests."""
        with self._lock:
            self._roll_day()
            self._used = max(0, int(used))
            if quota is not None:
                self._quota = max(0, int(quota))
            self._save()

    def exhaust(self) -> None:
        """Use up the allowance, so the next call gets REQUEST_LIMIT_EXCEEDED."""
        self.set_usage(self._quota)

    def calls_by_resource(self) -> dict[str, int]:
        """Calls counted per resource since start (or the last reset)."""
        with self._lock:
            return dict(self._by_resource)

    def reset_call_counts(self) -> None:
        """Forget the per-resource counts (not the daily usage)."""
        with self._lock:
            self._by_resource.clear()

    def flush(self) -> None:
        """Persist today's usage."""
        with self._lock:
            self._save()

    def _save(self) -> None:
        self._unsaved = 0
        self.ctx.store.meta_set(
            "api_usage", {"day": self._day, "used": self._used, "other": dict(self._other_usage)}
        )

    def resource(self) -> dict[str, Any]:
        """The body of the REST ``limits`` resource: ``{Name: {Max, Remaining}}``."""
        with self._lock:
            self._roll_day()
            body: dict[str, Any] = {
                "DailyApiRequests": {
                    "Max": self._quota,
                    "Remaining": max(0, self._quota - self._used),
                }
            }
            for name, maximum in _FIXED_LIMITS:
                body[name] = {
                    "Max": maximum,
                    "Remaining": max(0, maximum - self._other_usage[name]),
                }
        return dict(sorted(body.items()))


def limits_handler(api: ApiRequest) -> Response:
    """GET /services/data/vXX.X/limits (REST API Developer Guide, "Limits")."""
    from crmbridge.emulator.http import json_response

    return json_response(api.request, api.ctx.limits.resource())


def _routes() -> list[Any]:
    from crmbridge.emulator.http import api_routes

    return api_routes(
        "/services/data/v{version}/limits", limits_handler, methods=["GET"], resource="limits"
    )


routes = _routes()
