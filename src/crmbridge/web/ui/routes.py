"""Server-rendered pages: sign in, sign out, and a home page showing who you are."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from crmbridge.services import tenants, users
from crmbridge.services.errors import AuthenticationFailed, TenantSuspended
from crmbridge.web.deps import DbSession

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (forms and X-CSRF-Token use it)."""
    token = request.session.get("csrf_token")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf_token"] = token
    return str(token)


def _csrf_ok(request: Request, sent: str) -> bool:
    expected = str(request.session.get("csrf_token", ""))
    return bool(expected) and hmac.compare_digest(expected, sent)


def _login_page(
    request: Request, *, error: str = "", email: str = "", status: int = 200
) -> Response:
    return templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": csrf_token(request), "error": error, "email": email},
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
) -> Response:
    if not _csrf_ok(request, csrf):
        return _login_page(
            request, error="The form expired; please try again.", email=email, status=403
        )
    try:
        user = users.authenticate_password(session, email, password)
    except TenantSuspended:
        return _login_page(
            request, error="Your organisation's account is suspended.", email=email, status=403
        )
    except AuthenticationFailed:
        return _login_page(request, error="Wrong e-mail or password.", email=email, status=401)
    # A new session on sign-in, so a token planted before it cannot be reused.
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["csrf_token"] = secrets.token_urlsafe(32)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(
    request: Request, csrf: Annotated[str, Form(alias="csrf_token", max_length=200)] = ""
) -> Response:
    if _csrf_ok(request, csrf):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> Response:
    user_id = request.session.get("user_id")
    user = users.repo.get_user(session, str(user_id)) if user_id else None
    if user is None or not user.is_active:
        request.session.pop("user_id", None)
        return RedirectResponse("/login", status_code=303)
    tenant = tenants.get_tenant(session, user.tenant_id) if user.tenant_id else None
    return templates.TemplateResponse(
        request,
        "home.html",
        {"user": user, "tenant": tenant, "csrf_token": csrf_token(request)},
    )
