"""Fault injection and the operator's admin endpoints.

Faults (set at start through :class:`~crmbridge.emulator.context.EmulatorOptions` or at
run time through ``POST /__emulator/faults``): added latency, a share of 503s, a share
of UNABLE_TO_LOCK_ROW on writes, expiring every token, exhausting or setting the API
usage, resetting a user's password, (de)activating a user and moving the org's clock.
``GET /__emulator/calls`` reports API calls per resource so tests and benchmarks can
count them. The admin endpoints answer only loopback clients that present the admin
token from the info file.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.emulator.errors import SalesforceApiError

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext

_LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


class Faults:
    """The org's current fault settings and the dice that apply them."""

    def __init__(self, ctx: EmulatorContext) -> None:
        options = ctx.options
        self.ctx = ctx
        self._lock = threading.Lock()
        self.latency_ms = int(options.latency_ms)
        self.error_503_rate = float(options.error_503_rate)
        self.lock_error_rate = float(options.lock_error_rate)
        self._random = random.Random(options.fault_seed)

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    async def before_call(self, *, write: bool) -> None:
        """Apply latency, then maybe raise a 503 or (for writes) UNABLE_TO_LOCK_ROW."""
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        if self._roll(self.error_503_rate):
            raise SalesforceApiError(503, "SERVER_UNAVAILABLE", "Service Unavailable")
        if write and self.lock_fails():
            raise lock_error()

    def lock_fails(self) -> bool:
        """True when this write (or this record of a collection) should hit a row lock."""
        return self._roll(self.lock_error_rate)

    def settings(self) -> dict[str, Any]:
        """The current fault settings."""
        return {
            "latency_ms": self.latency_ms,
            "error_503_rate": self.error_503_rate,
            "lock_error_rate": self.lock_error_rate,
            "clock_offset_seconds": self.ctx.clock.offset.total_seconds(),
            "api_usage": self.ctx.limits.used(),
            "api_quota": self.ctx.limits.quota(),
        }

    def apply(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a ``POST /__emulator/faults`` body; return what the caller must know."""
        result: dict[str, Any] = {}
        unknown = set(changes) - _FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if "latency_ms" in changes:
            self.latency_ms = max(0, int(changes["latency_ms"]))
        for key in ("error_503_rate", "lock_error_rate"):
            if key in changes:
                rate = float(changes[key])
                if not 0 <= rate <= 1:
                    raise ValueError(f"{key} must be between 0 and 1")
                setattr(self, key, rate)
        if "seed" in changes:
            with self._lock:
                self._random = random.Random(changes["seed"])
        if changes.get("expire_tokens"):
            result["expired_tokens"] = self.ctx.auth.expire_all()
        if "api_quota" in changes or "api_usage" in changes:
            limits = self.ctx.limits
            limits.set_usage(
                int(changes.get("api_usage", limits.used())),
                int(changes["api_quota"]) if "api_quota" in changes else None,
            )
        if changes.get("exhaust_quota"):
            self.ctx.limits.exhaust()
        if "clock_offset_seconds" in changes:
            self.ctx.clock.set_offset(timedelta(seconds=float(changes["clock_offset_seconds"])))
        if "reset_password" in changes:
            user_id = self._user_id(changes["reset_password"])
            password, token = self.ctx.auth.reset_password(user_id)
            result["password"], result["security_token"] = password, token
        for key, active in (("deactivate_user", False), ("activate_user", True)):
            if key in changes:
                self.ctx.auth.set_user_active(self._user_id(changes[key]), active)
        result["faults"] = self.settings()
        return result

    def _user_id(self, who: Any) -> str:
        """A user id from a username, a user id, or ``true`` (the admin user)."""
        if who is True or who in (None, ""):
            return self.ctx.identity.admin_user_id
        with self.ctx.store.connection() as conn:
            row = conn.execute(
                'SELECT "Id" FROM "User" WHERE "Username" = ? OR "Id" = ?', (str(who), str(who))
            ).fetchone()
        if row is None:
            raise ValueError(f"no user {who}")
        return str(row[0])


_FAULT_KEYS = {
    "latency_ms",
    "error_503_rate",
    "lock_error_rate",
    "seed",
    "expire_tokens",
    "api_usage",
    "api_quota",
    "exhaust_quota",
    "clock_offset_seconds",
    "reset_password",
    "deactivate_user",
    "activate_user",
}


def lock_error(record_id: str | None = None) -> SalesforceApiError:
    """UNABLE_TO_LOCK_ROW as Salesforce words it (SOAP API StatusCode)."""
    suffix = f" or 1 records: {record_id}" if record_id else ""
    return SalesforceApiError(
        400, "UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to this record{suffix}"
    )


def _admin_guard(request: Request) -> Response | None:
    """403 unless the client is on loopback and presents the admin token."""
    ctx = request.app.state.emulator
    host = request.client.host if request.client else ""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = token or request.headers.get("x-emulator-admin-token", "")
    if host not in _LOOPBACK or not secrets.compare_digest(token, ctx.admin_token):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    return None


async def faults_endpoint(request: Request) -> Response:
    """GET: current fault settings. POST: change them (JSON body)."""
    denied = _admin_guard(request)
    if denied:
        return denied
    faults: Faults = request.app.state.emulator.faults
    if request.method == "GET":
        return JSONResponse(faults.settings())
    try:
        changes = json.loads(await request.body() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("the body must be a JSON object")
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(faults.apply, changes)
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(result)


async def calls_endpoint(request: Request) -> Response:
    """GET: API calls per resource and today's usage. DELETE: reset the per-resource counts."""
    denied = _admin_guard(request)
    if denied:
        return denied
    limits = request.app.state.emulator.limits
    if request.method == "DELETE":
        limits.reset_call_counts()
    by_resource = limits.calls_by_resource()
    return JSONResponse(
        {
            "total": sum(by_resource.values()),
            "by_resource": by_resource,
            "api_usage": limits.used(),
            "api_quota": limits.quota(),
        }
    )


routes = [
    Route("/__emulator/faults", faults_endpoint, methods=["GET", "POST"]),
    Route("/__emulator/calls", calls_endpoint, methods=["GET", "DELETE"]),
]
