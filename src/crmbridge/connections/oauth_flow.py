"""Connecting with the OAuth 2.0 web-server flow, ``state`` and PKCE (R-A3, seed 004).

1. :func:`start_oauth` creates a single-use state (random; stored as a SHA-256 hash;
   10 minutes; bound to the tenant and to whoever started it; the PKCE verifier
   sealed) and answers the authorize URL the browser goes to.
2. Salesforce sends the browser back to ``/api/v1/salesforce/oauth/callback`` with
   ``code`` and ``state`` (or ``error``); :func:`complete_oauth` checks the state,
   exchanges the code with the verifier, reads who and which org, and stores the
   connection. A state started in a browser session must come back in that same
   user's session; a state started with an API key or the CLI is authorized by the
   state itself (whoever holds it got it from the starter).

Sources: Salesforce Help, "OAuth 2.0 Web Server Flow for Web App Integration" and
"Flow for Proof Key for Code Exchange (PKCE)"; RFC 6749 section 10.12 (CSRF via state).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from crmbridge.config import Settings
from crmbridge.connections.errors import IncompleteSettings, OAuthStateRejected, OrgAlreadyConnected
from crmbridge.connections.lifecycle import read_org_details, save_connected
from crmbridge.connections.org_access import salesforce_auth
from crmbridge.connections.settings import resolve_settings
from crmbridge.crypto import SecretBox
from crmbridge.domain.errors import CrmError
from crmbridge.salesforce.auth import SalesforceAuth, new_pkce_verifier
from crmbridge.services.access import Principal, Role
from crmbridge.services.audit import record_audit
from crmbridge.store.connection_models import SalesforceConnection, SalesforceOAuthState
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import salesforce_connections as repo

log = structlog.get_logger(__name__)

#: How long an admin has to log in and click Allow.
STATE_TTL = timedelta(minutes=10)
#: Longest ``state`` / ``code`` accepted on the callback (Salesforce codes are ~100 chars).
MAX_CALLBACK_VALUE = 2048

#: OAuth ``error`` values of the authorize redirect, in words (Salesforce Help, "OAuth
#: 2.0 Authorization Errors").
_AUTHORIZE_ERRORS = {
    "access_denied": (
        "Access was denied in Salesforce: the person who logged in clicked Deny (or is "
        "not allowed to use this connected app). Connect again and click Allow."
    ),
    "invalid_client_id": (
        "Salesforce does not know the Consumer Key: check it against the connected app."
    ),
    "redirect_uri_mismatch": (
        "The callback URL is not registered on the connected app: add the callback URL "
        "shown in the Salesforce settings to the connected app."
    ),
    "invalid_scope": "The connected app does not allow the 'api refresh_token' scopes.",
    "immediate_unsuccessful": "Salesforce could not approve access without asking.",
    "unsupported_response_type": "The connected app does not allow the web-server flow.",
}


def hash_state(state: str) -> str:
    """How a state is stored and looked up (the value itself is never stored)."""
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class StartedFlow:
    """A flow waiting for the admin's consent."""

    #: Id of the stored state (``GET /api/v1/salesforce/connect/{id}`` reports its outcome).
    state_id: str
    #: Where to send the browser.
    authorize_url: str
    #: The consent must happen before this.
    expires_at: datetime


def start_oauth(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    settings: Settings,
    box: SecretBox,
) -> StartedFlow:
    """Begin connecting (or re-authorizing) with the web-server flow.

    Raises:
        IncompleteSettings: no Consumer Key / Consumer Secret is configured.
    """
    connection = repo.get_connection(session, tenant_id)
    effective = resolve_settings(connection, settings, box)
    if not effective.has_connected_app:
        raise IncompleteSettings(
            "Connecting with OAuth needs the connected app's Consumer Key and Consumer Secret: "
            "set them in the Salesforce settings (or ask the operator to set "
            "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET), or use the username and "
            "password login."
        )
    assert effective.consumer_key is not None
    state = secrets.token_urlsafe(32)
    verifier = new_pkce_verifier()
    now = utcnow()
    flow = SalesforceOAuthState(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        state_hash=hash_state(state),
        code_verifier_sealed=box.seal(verifier),
        login_url=effective.login_url,
        consumer_key=effective.consumer_key,
        redirect_uri=settings.oauth_callback_url(),
        environment=effective.environment.value,
        started_by_kind=principal.kind,
        started_by_id=principal.id,
        started_by_label=principal.label[:254],
        started_by_role=principal.role.value,
        created_at=now,
        expires_at=now + STATE_TTL,
        used_at=None,
        outcome="pending",
        outcome_detail="",
    )
    repo.delete_expired_oauth_states(session, now - timedelta(days=1))
    repo.add_oauth_state(session, flow)
    auth = salesforce_auth(
        settings,
        login_url=effective.login_url,
        consumer_key=effective.consumer_key,
        consumer_secret=effective.consumer_secret,
    )
    record_audit(
        session,
        principal,
        action="salesforce.connect.start",
        target_type="salesforce_connection",
        target_id=tenant_id,
        tenant_id=tenant_id,
        after={"flow": "oauth", "login_url": effective.login_url, "state_id": flow.id},
    )
    return StartedFlow(
        state_id=flow.id,
        authorize_url=auth.authorization_url(state=state, code_verifier=verifier),
        expires_at=flow.expires_at,
    )


@dataclass(frozen=True, kw_only=True)
class CallbackOutcome:
    """What the callback did; the web layer renders it (JSON or a page)."""

    #: The flow's state row (its outcome is committed with the request).
    flow: SalesforceOAuthState
    #: Whether the tenant is now connected.
    connected: bool
    #: What happened, in words.
    detail: str
    #: The stored connection, when connected.
    connection: SalesforceConnection | None = None
    #: Why it failed, when Salesforce said so.
    error: CrmError | None = None
    #: The org was taken by another tenant (HTTP 409).
    conflict: bool = False
    #: Salesforce's own ``error`` code from the redirect, when there was one.
    authorize_error: str = ""


def _find_flow(
    session: Session, *, state: str | None, browser_user_id: str | None, now: datetime
) -> SalesforceOAuthState:
    if not state:
        raise OAuthStateRejected(
            "The callback has no state: start connecting again from crmbridge."
        )
    if len(state) > MAX_CALLBACK_VALUE:
        raise OAuthStateRejected("The callback's state is not one crmbridge issued.")
    flow = repo.get_oauth_state_by_hash(session, hash_state(state))
    if flow is None:
        raise OAuthStateRejected(
            "The callback's state is not one crmbridge issued (or it was cleaned up): start "
            "connecting again from crmbridge."
        )
    if flow.used_at is not None:
        raise OAuthStateRejected(
            "This authorization was already used: each Connect works once. Start connecting "
            "again from crmbridge."
        )
    if flow.expires_at <= now:
        raise OAuthStateRejected(
            "This authorization expired (10 minutes after Connect): start connecting again."
        )
    if flow.started_by_kind == "user" and browser_user_id != flow.started_by_id:
        raise OAuthStateRejected(
            "This authorization was started by another person (or before you signed out): "
            "sign in to crmbridge as the person who clicked Connect, or start again."
        )
    if not repo.claim_oauth_state(session, flow.id, now):
        raise OAuthStateRejected("This authorization was already used: start connecting again.")
    return flow


def complete_oauth(
    session: Session,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    error_description: str | None,
    browser_user_id: str | None,
    settings: Settings,
    box: SecretBox,
) -> CallbackOutcome:
    """Finish a flow from Salesforce's redirect.

    State problems raise; everything after the state was accepted (Salesforce's
    error, a refused code, an org held by another tenant) is an outcome that the
    caller commits, so the state cannot be replayed and the CLI waiting on it sees the
    result. Nothing about the connection changes unless the outcome is "connected".

    Raises:
        OAuthStateRejected: missing, unknown, expired, reused or foreign state.
    """
    now = utcnow()
    flow = _find_flow(session, state=state, browser_user_id=browser_user_id, now=now)
    verifier = box.open(flow.code_verifier_sealed)
    flow.code_verifier_sealed = ""  # used once; nothing left to keep

    def failed(detail: str, **extra: object) -> CallbackOutcome:
        flow.outcome, flow.outcome_detail = "failed", detail
        session.flush()
        log.info("salesforce.oauth_failed", tenant_id=flow.tenant_id, state_id=flow.id)
        return CallbackOutcome(flow=flow, connected=False, detail=detail, **extra)  # type: ignore[arg-type]

    if error:
        words = _AUTHORIZE_ERRORS.get(error, "Salesforce refused the authorization.")
        said = f" (Salesforce said: {error_description})" if error_description else ""
        return failed(f"{words}{said}", authorize_error=error[:100])
    if not code or len(code) > MAX_CALLBACK_VALUE:
        return failed("Salesforce sent no authorization code: start connecting again.")

    connection = repo.get_connection(session, flow.tenant_id)
    effective = resolve_settings(connection, settings, box)
    auth = salesforce_auth(
        settings,
        login_url=flow.login_url,
        consumer_key=flow.consumer_key,
        consumer_secret=effective.consumer_secret,
    )
    try:
        tokens = auth.exchange_code(code=code, code_verifier=verifier)
        details = read_org_details(auth, tokens, settings)
    except CrmError as exc:
        return failed(f"{exc.message} {exc.advice}".strip(), error=exc)
    principal = Principal(
        kind=flow.started_by_kind,
        id=flow.started_by_id,
        label=flow.started_by_label,
        role=Role(flow.started_by_role),
        tenant_id=flow.tenant_id,
    )
    try:
        # save_connected checks the org's holder before it changes anything.
        saved = save_connected(
            session,
            principal,
            tenant_id=flow.tenant_id,
            flow="oauth",
            tokens=tokens,
            details=details,
            login_url=flow.login_url,
            box=box,
        )
    except OrgAlreadyConnected as exc:
        # The tokens were never stored; tell Salesforce to forget them too.
        _revoke_quietly(auth, tokens.refresh_token or tokens.access_token)
        return failed(exc.message, conflict=True)
    detail = f"Connected to {saved.org_name or saved.org_id} as {saved.username}."
    flow.outcome, flow.outcome_detail = "connected", detail
    session.flush()
    return CallbackOutcome(flow=flow, connected=True, detail=detail, connection=saved)


def _revoke_quietly(auth: SalesforceAuth, token: str) -> None:
    try:
        auth.revoke(token)
    except CrmError:
        log.info("salesforce.revoke_failed")


def flow_view(flow: SalesforceOAuthState) -> dict[str, object]:
    """A flow's public state (never the state value or the verifier)."""
    outcome = flow.outcome
    if outcome == "pending" and flow.expires_at <= utcnow():
        outcome = "expired"
    return {
        "id": flow.id,
        "outcome": outcome,
        "detail": flow.outcome_detail,
        "started_by": flow.started_by_label,
        "created_at": flow.created_at,
        "expires_at": flow.expires_at,
        "completed_at": flow.used_at,
    }
