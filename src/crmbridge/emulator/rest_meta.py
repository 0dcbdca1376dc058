"""``GET /services/data/`` (the versions list) and ``GET /services/data/vXX.X/`` (the
resources of a version), REST API Developer Guide, "Versions" and "Resources by Version".
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmbridge.emulator.context import API_VERSIONS
from crmbridge.emulator.http import ApiRequest, api_routes, json_response
from crmbridge.emulator.oauth import identity_url

_SEASONS = ("Summer", "Winter", "Spring")


def release_label(version: str) -> str:
    """The release name of an API version: 59.0 → "Winter '24"."""
    steps = int(float(version)) - 40  # 40.0 was Summer '17
    season = _SEASONS[steps % 3]
    year = 17 + (steps + 2) // 3
    return f"{season} '{year:02d}"


async def versions(request: Request) -> Response:
    """Every supported version; unauthenticated and without Sforce-Limit-Info."""
    return JSONResponse(
        [
            {"label": release_label(v), "url": f"/services/data/v{v}", "version": v}
            for v in API_VERSIONS
        ]
    )


def resources(api: ApiRequest) -> Response:
    """The resources available in a version."""
    base = api.base_path()
    names = (
        "sobjects",
        "query",
        "queryAll",
        "limits",
        "composite",
        "jobs",
        "search",
        "recent",
        "tooling",
        "metadata",
    )
    body = {name: f"{base}/{name}" for name in names}
    body["identity"] = identity_url(api.ctx, api.session.user_id)
    return json_response(api.request, dict(sorted(body.items())))


def _routes() -> list:  # type: ignore[type-arg]
    from starlette.routing import Route

    return [
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/", versions, methods=["GET"]),
        *api_routes("/services/data/v{version}", resources, methods=["GET"], resource="resources"),
    ]


routes = _routes()
