"""The emulator's Starlette application: every module's ``routes`` mounted in one app.

Each API area lives in its own module exposing a ``routes`` list; this file mounts
them (one line each) and answers unknown paths and methods the way Salesforce does.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from crmbridge.emulator.context import EmulatorContext
from crmbridge.emulator.http import NOT_FOUND_MESSAGE

#: Modules whose ``routes`` make up the emulated org, in matching order.
ROUTE_MODULES = (
    "crmbridge.emulator.oauth",
    "crmbridge.emulator.oidc",
    "crmbridge.emulator.identity",
    "crmbridge.emulator.soap",
    "crmbridge.emulator.rest_meta",
    "crmbridge.emulator.rest_describe",
    "crmbridge.emulator.rest_query",
    "crmbridge.emulator.rest_changes",
    "crmbridge.emulator.limits",
    "crmbridge.emulator.faults",
    # Composite resources, Bulk API 2.0 / 1.0, Outbound Messages and lead conversion
    # (built alongside; mounted as soon as their module exists).
    "crmbridge.emulator.composite",
    "crmbridge.emulator.bulk2",
    "crmbridge.emulator.bulk1",
    "crmbridge.emulator.outbound",
    "crmbridge.emulator.convert",
    # sObject rows last: its ``sobjects/{Type}/{id}`` pattern would shadow the others.
    "crmbridge.emulator.rest_records",
)


def collect_routes(module_names: tuple[str, ...] = ROUTE_MODULES) -> list[BaseRoute]:
    """The ``routes`` of every listed module that exists (a missing module is skipped)."""
    routes: list[BaseRoute] = []
    for name in module_names:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        routes.extend(getattr(module, "routes", []))
    return routes


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse([{"errorCode": "NOT_FOUND", "message": NOT_FOUND_MESSAGE}], status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    allowed = getattr(exc, "headers", {}) or {}
    allow = allowed.get("Allow", "")
    return JSONResponse(
        [
            {
                "errorCode": "METHOD_NOT_ALLOWED",
                "message": f"HTTP Method '{request.method}' not allowed. Allowed are {allow}",
            }
        ],
        status_code=405,
        headers={"Allow": allow} if allow else None,
    )


def build_app(ctx: EmulatorContext, *, extra_routes: list[Any] | None = None) -> Starlette:
    """The ASGI app serving the org ``ctx``."""
    app = Starlette(
        routes=[*(extra_routes or []), *collect_routes()],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    app.state.emulator = ctx
    # A module may also attach services to the org (store listeners, workers started
    # through ctx.on_start): it exposes ``setup(ctx)``.
    for name in ROUTE_MODULES:
        if importlib.util.find_spec(name) is not None:
            setup = getattr(importlib.import_module(name), "setup", None)
            if setup is not None:
                setup(ctx)
    return app
