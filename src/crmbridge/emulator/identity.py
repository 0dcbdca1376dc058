"""Who a token belongs to: ``/services/oauth2/userinfo`` (OpenID Connect claims) and the
identity URL ``/id/{orgId}/{userId}`` that token responses return as ``id``
(Salesforce Help, "Identity URLs" and "UserInfo Endpoint").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from crmbridge.emulator.http import bearer_token, emulator
from crmbridge.emulator.oauth import identity_url
from crmbridge.emulator.sessions import Session

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext


def _user_record(ctx: EmulatorContext, user_id: str) -> dict[str, Any] | None:
    return ctx.store.get("User", user_id)


def _session_or_none(request: Request) -> Session | None:
    value = bearer_token(request)
    return emulator(request).auth.session_for_token(value) if value else None


def _urls(ctx: EmulatorContext, user_id: str) -> dict[str, str]:
    base = ctx.base_url
    org = ctx.org_id
    return {
        "enterprise": f"{base}/services/Soap/c/{{version}}/{org}",
        "metadata": f"{base}/services/Soap/m/{{version}}/{org}",
        "partner": f"{base}/services/Soap/u/{{version}}/{org}",
        "rest": f"{base}/services/data/v{{version}}/",
        "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
        "search": f"{base}/services/data/v{{version}}/search/",
        "query": f"{base}/services/data/v{{version}}/query/",
        "recent": f"{base}/services/data/v{{version}}/recent/",
        "profile": f"{base}/{user_id}",
        "custom_domain": base,
    }


async def userinfo(request: Request) -> Response:
    """OpenID Connect userinfo of the token's user."""
    ctx = emulator(request)
    session = _session_or_none(request)
    if session is None:
        return PlainTextResponse("Bad_OAuth_Token", status_code=403)
    user = await run_in_threadpool(_user_record, ctx, session.user_id)
    if user is None:
        return PlainTextResponse("Bad_OAuth_Token", status_code=403)
    return JSONResponse(
        {
            "sub": identity_url(ctx, session.user_id),
            "user_id": session.user_id,
            "organization_id": ctx.org_id,
            "preferred_username": user["Username"],
            "nickname": user.get("Alias"),
            "name": user.get("Name"),
            "email": user.get("Email"),
            "email_verified": True,
            "given_name": user.get("FirstName"),
            "family_name": user.get("LastName"),
            "zoneinfo": user.get("TimeZoneSidKey"),
            "active": bool(user.get("IsActive")),
            "user_type": "STANDARD",
            "language": user.get("LanguageLocaleKey"),
            "locale": user.get("LocaleSidKey"),
            "urls": _urls(ctx, session.user_id),
            "updated_at": user.get("LastModifiedDate"),
        }
    )


async def identity(request: Request) -> Response:
    """The identity URL's document (Salesforce Help, "Identity URLs")."""
    ctx = emulator(request)
    session = _session_or_none(request)
    if session is None or request.path_params["org_id"][:15] != ctx.org_id_15:
        return PlainTextResponse("Bad_OAuth_Token", status_code=403)
    user_id = request.path_params["user_id"]
    user = await run_in_threadpool(_user_record, ctx, user_id)
    if user is None:
        return PlainTextResponse("Bad_Id", status_code=404)
    return JSONResponse(
        {
            "id": identity_url(ctx, user["Id"]),
            "asserted_user": user["Id"] == session.user_id,
            "user_id": user["Id"],
            "organization_id": ctx.org_id,
            "username": user["Username"],
            "nick_name": user.get("Alias"),
            "display_name": user.get("Name"),
            "email": user.get("Email"),
            "email_verified": True,
            "first_name": user.get("FirstName"),
            "last_name": user.get("LastName"),
            "timezone": user.get("TimeZoneSidKey"),
            "mobile_phone": user.get("MobilePhone"),
            "active": bool(user.get("IsActive")),
            "user_type": "STANDARD",
            "language": user.get("LanguageLocaleKey"),
            "locale": user.get("LocaleSidKey"),
            "utcOffset": 0,
            "last_modified_date": user.get("LastModifiedDate"),
            "is_app_installed": True,
            "urls": _urls(ctx, user["Id"]),
        }
    )


routes = [
    Route("/services/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/id/{org_id}/{user_id}", identity, methods=["GET", "POST"]),
]
