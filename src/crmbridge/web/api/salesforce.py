"""Salesforce settings, connection (OAuth and password), health, test and tenant events.

Endpoints (under /api/v1) and who may call them:

| endpoint | role |
|---|---|
| ``GET/PATCH /salesforce/settings`` | CLIENT_ADMIN, SUPER_ADMIN |
| ``POST /salesforce/connect``, ``GET /salesforce/connect/{id}`` | CLIENT_ADMIN, SUPER_ADMIN |
| ``GET /salesforce/oauth/callback`` | whoever holds the state (see oauth_flow) |
| ``POST /salesforce/password-login``, ``/disconnect``, ``/test`` | CLIENT_ADMIN, SUPER_ADMIN |
| ``GET /salesforce/health`` | every role of the tenant |
| ``GET /events`` | CLIENT_ADMIN, SUPER_ADMIN |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from crmbridge.connections import health as health_service
from crmbridge.connections import lifecycle, oauth_flow, password_flow
from crmbridge.connections import settings as settings_service
from crmbridge.connections.errors import (
    IncompleteSettings,
    NotConnected,
    OAuthStateRejected,
    OrgAlreadyConnected,
)
from crmbridge.connections.events import event_view, list_events
from crmbridge.crypto import SecretBox, SecretUnreadable, secret_box_for
from crmbridge.domain.errors import (
    ConfigurationError,
    CrmError,
    PermissionDenied,
    ReauthorizationRequired,
    RetryableError,
)
from crmbridge.store.repositories import salesforce_connections as repo
from crmbridge.web.deps import Configurer, DbSession, Viewer, get_settings
from crmbridge.web.problems import ProblemError, problem_response

router = APIRouter(tags=["salesforce"])
pages = APIRouter(include_in_schema=False)

#: Where a browser lands after the OAuth callback.
RESULT_PAGE = "/integrations/salesforce/result/{state_id}"


# --- schemas -----------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SalesforceSettingsOut(BaseModel):
    environment: Literal["production", "sandbox", "custom"]
    login_url: str
    custom_login_url: str | None
    consumer_key: str
    #: Masked; the secret itself is never returned.
    consumer_secret: str
    consumer_secret_set: bool
    auto_sync: bool
    #: Which of environment, login_url, consumer_key, consumer_secret come from the
    #: operator's SALESFORCE_* environment variables.
    from_operator: list[str]
    #: Register this URL as the connected app's callback URL.
    callback_url: str
    updated_at: datetime | None


class SalesforceSettingsPatch(_In):
    """Send only what changes; ``null`` returns a value to the operator's default."""

    environment: Literal["production", "sandbox", "custom"] | None = None
    custom_login_url: str | None = Field(default=None, max_length=2048)
    consumer_key: str | None = Field(default=None, max_length=255)
    #: Write-only.
    consumer_secret: str | None = Field(default=None, max_length=255)
    auto_sync: bool | None = None


class ConnectStarted(BaseModel):
    state_id: str
    #: Send the admin's browser here to log in to Salesforce and click Allow.
    authorize_url: str
    expires_at: datetime
    callback_url: str


class ConnectFlowOut(BaseModel):
    id: str
    outcome: Literal["pending", "connected", "failed", "expired"]
    detail: str
    started_by: str
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None


class PasswordLoginIn(_In):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=255)
    #: Empty when the org trusts crmbridge's IP range.
    security_token: str = Field(default="", max_length=255)
    #: Live (production) or Sandbox for this login; default: the settings' environment.
    environment: Literal["production", "sandbox", "custom"] | None = None
    custom_login_url: str | None = Field(default=None, max_length=2048)


class ApiUsageOut(BaseModel):
    used: int | None
    limit: int | None
    share: float | None
    as_of: datetime | None


class ObjectStatusOut(BaseModel):
    object: str
    light: Literal["green", "amber", "red"]
    synced_up_to: datetime | None
    detail: str


class HealthOut(BaseModel):
    status: Literal["not_connected", "connected", "needs_reauthorization", "disconnected"]
    status_reason: str
    #: What to do now, when anything.
    action: str
    status_changed_at: datetime | None
    sync_paused: bool
    sync_paused_reason: str
    auth_flow: Literal["oauth", "password"] | None
    environment: str
    login_url: str
    org_id: str | None
    org_name: str
    user_id: str | None
    username: str
    user_display_name: str
    instance_url: str | None
    api_version: str | None
    connected_at: datetime | None
    connected_by: str
    last_successful_call_at: datetime | None
    last_inbound_entry_at: datetime | None
    api_usage: ApiUsageOut
    #: Per-object status lights, filled by the sync engine.
    objects: list[ObjectStatusOut]


class DisconnectOut(BaseModel):
    revoked: bool
    detail: str
    health: HealthOut


class CheckOut(BaseModel):
    name: str
    ok: bool | None
    detail: str
    fix: str


class ConnectionTestOut(BaseModel):
    ok: bool
    checks: list[CheckOut]


class TenantEventOut(BaseModel):
    id: int
    kind: str
    severity: Literal["info", "warning", "error"]
    title: str
    detail: str
    action: str
    data: dict[str, Any]
    created_at: datetime


# --- errors ------------------------------------------------------------------------------


def crm_problem(exc: CrmError) -> ProblemError:
    """A Salesforce failure as a problem: its message and what to do."""
    detail = f"{exc.message} {exc.advice}".strip() if exc.advice not in exc.message else exc.message
    if isinstance(exc, RetryableError):
        return ProblemError(502, detail, slug="salesforce-unavailable")
    if isinstance(exc, ReauthorizationRequired):
        return ProblemError(400, detail, slug="salesforce-login-failed")
    if isinstance(exc, PermissionDenied):
        return ProblemError(400, detail, slug="salesforce-permission-denied")
    if isinstance(exc, ConfigurationError):
        return ProblemError(400, detail, slug="salesforce-configuration-error")
    return ProblemError(400, detail, slug="salesforce-error")


@contextmanager
def _as_problems() -> Iterator[None]:
    try:
        yield
    except OrgAlreadyConnected as exc:
        raise ProblemError(409, exc.message, slug="salesforce-org-already-connected") from None
    except NotConnected as exc:
        raise ProblemError(409, exc.message, slug="salesforce-not-connected") from None
    except IncompleteSettings as exc:
        raise ProblemError(409, exc.message, slug="salesforce-settings-incomplete") from None
    except OAuthStateRejected as exc:
        raise ProblemError(400, exc.message, slug="oauth-state-rejected") from None
    except SecretUnreadable as exc:
        raise ProblemError(500, str(exc), slug="secrets-unreadable") from None
    except CrmError as exc:
        raise crm_problem(exc) from None


def _box(request: Request) -> SecretBox:
    return secret_box_for(get_settings(request))


def _health(request: Request, session: DbSession, tenant_id: str) -> HealthOut:
    view = health_service.health_view(session, tenant_id, get_settings(request))
    return HealthOut(**view)


# --- settings ----------------------------------------------------------------------------


@router.get("/salesforce/settings", response_model=SalesforceSettingsOut)
def get_salesforce_settings(
    request: Request, context: Configurer, session: DbSession
) -> SalesforceSettingsOut:
    """The tenant's settings, with the operator's defaults filled in and named."""
    with _as_problems():
        connection = repo.get_connection(session, context.tenant_id)
        view = settings_service.settings_view(connection, get_settings(request), _box(request))
    return SalesforceSettingsOut(**view)


@router.patch("/salesforce/settings", response_model=SalesforceSettingsOut)
def update_salesforce_settings(
    request: Request, body: SalesforceSettingsPatch, context: Configurer, session: DbSession
) -> SalesforceSettingsOut:
    """Change settings; every change is audited (never with the secret's value)."""
    settings, box = get_settings(request), _box(request)
    with _as_problems():
        connection = settings_service.update_settings(
            session,
            context.principal,
            tenant_id=context.tenant_id,
            changes=body.model_dump(exclude_unset=True),
            settings=settings,
            box=box,
        )
        view = settings_service.settings_view(connection, settings, box)
    return SalesforceSettingsOut(**view)


# --- OAuth web-server flow -----------------------------------------------------------------


@router.post("/salesforce/connect", status_code=201, response_model=ConnectStarted)
def start_connect(request: Request, context: Configurer, session: DbSession) -> ConnectStarted:
    """Start connecting (or re-authorizing): send the browser to ``authorize_url``."""
    settings = get_settings(request)
    with _as_problems():
        started = oauth_flow.start_oauth(
            session,
            context.principal,
            tenant_id=context.tenant_id,
            settings=settings,
            box=_box(request),
        )
    return ConnectStarted(
        state_id=started.state_id,
        authorize_url=started.authorize_url,
        expires_at=started.expires_at,
        callback_url=settings.oauth_callback_url(),
    )


@router.get("/salesforce/connect/{state_id}", response_model=ConnectFlowOut)
def get_connect_flow(state_id: str, context: Configurer, session: DbSession) -> ConnectFlowOut:
    """How a started connection went: pending, connected, failed or expired."""
    flow = repo.get_oauth_state(session, tenant_id=context.tenant_id, state_id=state_id)
    if flow is None:
        raise ProblemError(404, "No connection attempt with this id.", slug="not-found")
    return ConnectFlowOut(**oauth_flow.flow_view(flow))


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


@router.get("/salesforce/oauth/callback", response_model=HealthOut)
def oauth_callback(
    request: Request,
    session: DbSession,
    state: Annotated[str | None, Query(max_length=2048)] = None,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=255)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Salesforce redirects the browser here with ``code`` and ``state`` (or ``error``).

    Browsers are redirected to a result page; API clients get JSON: the health on
    success, a problem otherwise.
    """
    browser_user = request.session.get("user_id")
    try:
        outcome = oauth_flow.complete_oauth(
            session,
            state=state,
            code=code,
            error=error,
            error_description=error_description,
            browser_user_id=str(browser_user) if browser_user else None,
            settings=get_settings(request),
            box=_box(request),
        )
    except OAuthStateRejected as exc:
        if _wants_html(request):
            return HTMLResponse(_result_html(connected=False, detail=exc.message), 400)
        return problem_response(
            400, exc.message, slug="oauth-state-rejected", instance=request.url.path
        )
    if _wants_html(request):
        return RedirectResponse(RESULT_PAGE.format(state_id=outcome.flow.id), status_code=303)
    if outcome.connected:
        return Response(
            _health(request, session, outcome.flow.tenant_id).model_dump_json(),
            media_type="application/json",
        )
    if outcome.conflict:
        status, slug = 409, "salesforce-org-already-connected"
    elif outcome.error is not None:
        problem = crm_problem(outcome.error)
        status, slug = problem.status, problem.slug or "salesforce-error"
    elif outcome.authorize_error == "access_denied":
        status, slug = 400, "salesforce-access-denied"
    else:
        status, slug = 400, "salesforce-authorization-failed"
    # Returned, not raised: the state's "used" mark commits, so it cannot be replayed.
    return problem_response(status, outcome.detail, slug=slug, instance=request.url.path)


def _result_html(*, connected: bool, detail: str) -> str:
    from html import escape

    title = "Salesforce connected" if connected else "Salesforce was not connected"
    colour = "#2e7d32" if connected else "#a4161a"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} · crmbridge</title>"
        "<style>body{font-family:system-ui,sans-serif;background:#f5f6f8;margin:0}"
        "main{max-width:36rem;margin:3rem auto;background:#fff;padding:2rem;"
        "border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.1)}</style></head><body><main>"
        f"<h1 id='outcome' style='color:{colour}'>{escape(title)}</h1>"
        f"<p id='detail'>{escape(detail)}</p>"
        "<p><a href='/'>Back to crmbridge</a></p></main></body></html>"
    )


@pages.get(RESULT_PAGE, response_class=HTMLResponse)
def connection_result_page(state_id: str, session: DbSession) -> HTMLResponse:
    """The page a browser lands on after the callback (the id is random and unguessable)."""
    from crmbridge.store.connection_models import SalesforceOAuthState

    flow = session.get(SalesforceOAuthState, state_id[:36])
    if flow is None:
        return HTMLResponse(_result_html(connected=False, detail="Unknown connection."), 404)
    return HTMLResponse(
        _result_html(connected=flow.outcome == "connected", detail=flow.outcome_detail)
    )


# --- password flow, disconnect, health, test -------------------------------------------------


@router.post("/salesforce/password-login", response_model=HealthOut)
def password_login(
    request: Request, body: PasswordLoginIn, context: Configurer, session: DbSession
) -> HealthOut:
    """Connect with username, password and security token (seed 002); nothing is stored
    unless Salesforce accepts the login."""
    with _as_problems():
        password_flow.password_login(
            session,
            context.principal,
            tenant_id=context.tenant_id,
            username=body.username.strip(),
            password=body.password,
            security_token=body.security_token.strip(),
            environment=body.environment,
            custom_login_url=body.custom_login_url,
            settings=get_settings(request),
            box=_box(request),
        )
    return _health(request, session, context.tenant_id)


@router.post("/salesforce/disconnect", response_model=DisconnectOut)
def disconnect(request: Request, context: Configurer, session: DbSession) -> DisconnectOut:
    """Revoke crmbridge's token at Salesforce; records, mappings and logs are kept."""
    with _as_problems():
        result = lifecycle.disconnect(
            session,
            context.principal,
            tenant_id=context.tenant_id,
            settings=get_settings(request),
            box=_box(request),
        )
    return DisconnectOut(**result, health=_health(request, session, context.tenant_id))


@router.get("/salesforce/health", response_model=HealthOut)
def salesforce_health(request: Request, context: Viewer, session: DbSession) -> HealthOut:
    """Connection status, org, last successful call, last inbound entry, API usage."""
    with _as_problems():
        return _health(request, session, context.tenant_id)


@router.post("/salesforce/test", response_model=ConnectionTestOut)
def test_connection(request: Request, context: Configurer) -> ConnectionTestOut:
    """Run the connection checks in order; each failure says what to do."""
    with _as_problems():
        checks = health_service.run_connection_test(
            request.app.state.session_factory, get_settings(request), context.tenant_id
        )
    return ConnectionTestOut(
        ok=all(check.ok for check in checks),
        checks=[CheckOut(**health_service.check_view(check)) for check in checks],
    )


# --- tenant events -------------------------------------------------------------------------


@router.get("/events", response_model=list[TenantEventOut], tags=["events"])
def tenant_events(
    context: Configurer,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    kind: Annotated[str | None, Query(max_length=100)] = None,
) -> list[TenantEventOut]:
    """Events for the tenant's admins, newest first (``kind`` filters by prefix)."""
    found = list_events(
        session, tenant_id=context.tenant_id, before_id=before_id, kind_prefix=kind, limit=limit
    )
    return [TenantEventOut(**event_view(event)) for event in found]
