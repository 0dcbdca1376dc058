"""OAuth 2.0 endpoints of the emulated org (Salesforce Help, "OAuth Authorization Flows").

- ``/services/oauth2/authorize``: the web-server flow with a real login and consent page,
  PKCE (S256 and plain), redirecting with ``code`` and ``state`` or
  ``error=access_denied``.
- ``/services/oauth2/token``: grant types ``authorization_code``, ``refresh_token`` and
  ``password`` (password + security token); the client authenticates with
  ``client_id``/``client_secret`` in the body or HTTP Basic.
- ``/services/oauth2/revoke`` (POST form or GET). userinfo and the identity URL are in
  :mod:`crmbridge.emulator.identity`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from crmbridge.emulator.http import emulator
from crmbridge.emulator.oauth_pages import consent_page, error_page, login_page
from crmbridge.emulator.sessions import AuthFailure, Session

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext

#: Authorization codes live 15 minutes (Salesforce Help, "OAuth 2.0 Web Server Flow").
CODE_TTL_SECONDS = 15 * 60
_WEB_COOKIE = "emu_sid"
_FLOW_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "nonce",
)
_APP_NAME = "crmbridge"


@dataclass(frozen=True)
class _CodeGrant:
    client_id: str
    user_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str
    expires_at: float
    nonce: str | None = None


class OAuthState:
    """Authorization codes and browser login sessions (in memory, like a web session)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, _CodeGrant] = {}
        self._web_sessions: dict[str, str] = {}

    def new_code(self, grant: _CodeGrant) -> str:
        code = "aPrx" + secrets.token_urlsafe(48)
        with self._lock:
            now = time.time()
            self._codes = {c: g for c, g in self._codes.items() if g.expires_at > now}
            self._codes[code] = grant
        return code

    def take_code(self, code: str) -> _CodeGrant | None:
        """The grant of a code, which can be used only once."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at <= time.time():
            return None
        return grant

    def web_user(self, cookie: str | None) -> str | None:
        with self._lock:
            return self._web_sessions.get(cookie or "")

    def web_login(self, user_id: str) -> str:
        cookie = secrets.token_urlsafe(32)
        with self._lock:
            self._web_sessions[cookie] = user_id
        return cookie


def oauth_state(ctx: EmulatorContext) -> OAuthState:
    """The org's OAuth flow state."""
    state = ctx.services.get("oauth")
    if state is None:
        state = ctx.services.setdefault("oauth", OAuthState())
    return state  # type: ignore[no-any-return]


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def identity_url(ctx: EmulatorContext, user_id: str) -> str:
    """The identity URL of a user (the token response's ``id``)."""
    return f"{ctx.base_url}/id/{ctx.org_id}/{user_id}"


def token_signature(identity: str, issued_at: str, client_secret: str) -> str:
    """Base64(HMAC-SHA256(id + issued_at, consumer secret)), as the token response carries."""
    digest = hmac.new(
        client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def token_response(
    ctx: EmulatorContext, session: Session, *, refresh_token: str | None, nonce: str | None = None
) -> dict[str, Any]:
    """The JSON body of a successful token request."""
    identity = identity_url(ctx, session.user_id)
    issued_at = str(session.issued_at_ms)
    body: dict[str, Any] = {"access_token": session.token}
    if refresh_token:
        body["refresh_token"] = refresh_token
    body.update(
        signature=token_signature(identity, issued_at, ctx.auth.client_secret),
        scope=session.scope,
        instance_url=ctx.base_url,
        id=identity,
        token_type="Bearer",
        issued_at=issued_at,
    )
    if "openid" in session.scope.split():
        from crmbridge.emulator.oidc import id_token

        body["id_token"] = id_token(ctx, session, nonce=nonce)
    return body


# --- /services/oauth2/authorize ------------------------------------------------------


def _redirect_with(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)


async def authorize(request: Request) -> Response:
    """The web-server flow's authorization page: log in, then Allow or Deny."""
    ctx = emulator(request)
    form = dict(await request.form()) if request.method == "POST" else {}
    params = {k: str(v) for k, v in {**request.query_params, **form}.items() if k in _FLOW_PARAMS}
    if params.get("client_id") != ctx.auth.client_id:
        return HTMLResponse(
            error_page(error="invalid_client_id", description="client identifier invalid"), 400
        )
    redirect_uri = params.get("redirect_uri", "")
    allowed = ctx.options.callback_urls
    if urlsplit(redirect_uri).scheme not in {"http", "https"} or (
        allowed and redirect_uri not in allowed
    ):
        return HTMLResponse(
            error_page(
                error="redirect_uri_mismatch", description="redirect_uri must match configuration"
            ),
            400,
        )
    state = {"state": params["state"]} if "state" in params else {}
    if params.get("response_type") != "code":
        return _redirect_with(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
                **state,
            },
        )
    method = params.get("code_challenge_method") or "plain"
    if params.get("code_challenge") and method not in {"S256", "plain"}:
        return _redirect_with(
            redirect_uri,
            {
                "error": "invalid_request",
                "error_description": "invalid code challenge method",
                **state,
            },
        )
    flows = oauth_state(ctx)
    action = str(form.get("action", ""))
    user_id = None
    if params.get("prompt") != "login":
        user_id = flows.web_user(request.cookies.get(_WEB_COOKIE))
    cookie = None
    if action == "login":
        username = str(form.get("username", ""))
        try:
            user = await run_in_threadpool(
                ctx.auth.verify_login, username, str(form.get("pw", "")), with_token=False
            )
        except AuthFailure as failure:
            message = (
                "Your account is inactive. Contact your administrator."
                if failure.error == "inactive_user"
                else "Please check your username and password. If you still can't log in, "
                "contact your Salesforce administrator."
            )
            html = login_page(
                org_name=ctx.options.org_name, params=params, error=message, username=username
            )
            return HTMLResponse(html)
        user_id = user.user_id
        cookie = flows.web_login(user_id)
        params.pop("prompt", None)
    if user_id is None:
        return HTMLResponse(login_page(org_name=ctx.options.org_name, params=params, error=None))
    if action in {"allow", "deny"}:
        if action == "deny":
            return _redirect_with(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "end-user denied authorization",
                    **state,
                },
            )
        code = flows.new_code(
            _CodeGrant(
                client_id=params["client_id"],
                user_id=user_id,
                redirect_uri=redirect_uri,
                scope=params.get("scope") or "api refresh_token",
                code_challenge=params.get("code_challenge") or None,
                code_challenge_method=method,
                expires_at=time.time() + CODE_TTL_SECONDS,
                nonce=params.get("nonce") or None,
            )
        )
        return _redirect_with(redirect_uri, {"code": code, **state})
    consenting = await run_in_threadpool(lambda: ctx.auth.user_by_id(user_id))
    html = consent_page(
        org_name=ctx.options.org_name,
        app_name=_APP_NAME,
        username=consenting.username if consenting else "",
        scopes=(params.get("scope") or "api refresh_token").split(),
        params=params,
    )
    response = HTMLResponse(html)
    if cookie:
        response.set_cookie(_WEB_COOKIE, cookie, httponly=True, secure=True, samesite="lax")
    return response


# --- /services/oauth2/token ----------------------------------------------------------


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret")


def _verify_pkce(grant: _CodeGrant, verifier: str | None) -> bool:
    if grant.code_challenge is None:
        return True
    if not verifier:
        return False
    if grant.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected, grant.code_challenge)


async def token(request: Request) -> Response:
    """Exchange a code, a refresh token or a password for an access token."""
    ctx = emulator(request)
    form = {k: str(v) for k, v in {**request.query_params, **(await request.form())}.items()}
    grant_type = form.get("grant_type", "")
    if grant_type not in {"authorization_code", "refresh_token", "password"}:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    client_id, secret = _client_credentials(request, form)
    if client_id != ctx.auth.client_id:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    secret_ok = secret is not None and hmac.compare_digest(secret, ctx.auth.client_secret)
    if secret is not None and not secret_ok:
        return _oauth_error("invalid_client", "invalid client credentials")
    try:
        if grant_type == "password":
            if not secret_ok:
                return _oauth_error("invalid_client", "invalid client credentials")
            user = await run_in_threadpool(
                ctx.auth.verify_login, form.get("username", ""), form.get("password", "")
            )
            session = await run_in_threadpool(
                ctx.auth.issue, user.user_id, client_id=client_id, kind="oauth", scope="api"
            )
            return JSONResponse(token_response(ctx, session, refresh_token=None))
        if grant_type == "refresh_token":
            session = await run_in_threadpool(
                ctx.auth.refresh, form.get("refresh_token", ""), client_id
            )
            rotated = session.refresh_token if ctx.options.rotate_refresh_tokens else None
            return JSONResponse(token_response(ctx, session, refresh_token=rotated))
        grant = oauth_state(ctx).take_code(form.get("code", ""))
        if grant is None or grant.client_id != client_id:
            return _oauth_error("invalid_grant", "invalid authorization code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration")
        if not _verify_pkce(grant, form.get("code_verifier")):
            return _oauth_error("invalid_grant", "invalid code verifier")
        # Without a secret, only a PKCE-protected code is accepted.
        if not secret_ok and grant.code_challenge is None:
            return _oauth_error("invalid_client", "invalid client credentials")
        holder = await run_in_threadpool(lambda: ctx.auth.user_by_id(grant.user_id))
        if holder is None or not holder.is_active:
            return _oauth_error("inactive_user", "user is inactive")
        session = await run_in_threadpool(
            ctx.auth.issue,
            grant.user_id,
            client_id=client_id,
            kind="oauth",
            scope=grant.scope,
            with_refresh_token=True,
        )
        body = await run_in_threadpool(
            lambda: token_response(
                ctx, session, refresh_token=session.refresh_token, nonce=grant.nonce
            )
        )
        return JSONResponse(body)
    except AuthFailure as failure:
        return _oauth_error(failure.error, failure.description)


# --- revoke -------------------------------------------------------------------------


async def revoke(request: Request) -> Response:
    """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
    ctx = emulator(request)
    form = dict(await request.form()) if request.method == "POST" else {}
    value = str(form.get("token") or request.query_params.get("token") or "")
    if not value:
        return _oauth_error("unsupported_token_type", "this token type is not supported")
    revoked = await run_in_threadpool(ctx.auth.revoke, value)
    if not revoked:
        return _oauth_error("invalid_token", "invalid token")
    return Response(status_code=200)


routes = [
    Route("/services/oauth2/authorize", authorize, methods=["GET", "POST"]),
    Route("/services/oauth2/token", token, methods=["POST"]),
    Route("/services/oauth2/revoke", revoke, methods=["GET", "POST"]),
]
