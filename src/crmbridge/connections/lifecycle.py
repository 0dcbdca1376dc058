"""The life of a tenant's connection: connected, needs re-authorization, disconnected.

One org connects to one tenant at a time (R-A7, seed 003); a failed renewal pauses the
tenant's sync and tells the admins what to do (R-A5); disconnecting revokes the token
at Salesforce and keeps every record, mapping and log (R-A9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session

from crmbridge.config import Settings
from crmbridge.connections import events
from crmbridge.connections.errors import NotConnected, OrgAlreadyConnected
from crmbridge.connections.org_access import salesforce_auth, salesforce_http
from crmbridge.crypto import SecretBox
from crmbridge.domain.errors import CrmError, ReauthorizationRequired
from crmbridge.salesforce import soql
from crmbridge.salesforce.auth import Identity, SalesforceAuth, TokenSet
from crmbridge.salesforce.client import SalesforceClient
from crmbridge.salesforce.endpoints import Environment, choose_api_version
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import salesforce_connections as repo

log = structlog.get_logger(__name__)

#: Statuses in which the connection holds its org (no other tenant may connect it).
HOLDING_STATUSES = frozenset({"connected", "needs_reauthorization"})


@dataclass(frozen=True, kw_only=True)
class OrgDetails:
    """What crmbridge learns about an org right after a login."""

    #: The user and org behind the session (identity URL).
    identity: Identity
    #: ``Organization.Name``.
    org_name: str
    #: The newest API version both the org and crmbridge support.
    api_version: str


def read_org_details(auth: SalesforceAuth, tokens: TokenSet, settings: Settings) -> OrgDetails:
    """Ask the org who the session belongs to, its name and its API versions.

    Raises:
        CrmError: a subclass saying what went wrong (e.g. the user is inactive).
    """
    identity = auth.identity(tokens)
    if not identity.active:
        raise ReauthorizationRequired(
            f"The Salesforce user {identity.username} is inactive: activate it or connect "
            "as another user.",
            code="USER_INACTIVE",
        )
    with salesforce_http(settings) as http:
        client = SalesforceClient(tokens=tokens, http=http)
        client.api_version = choose_api_version(client.versions())
        statement = soql.Select(sobject="Organization", fields=("Name",), limit=1)
        rows = list(client.query(statement.to_soql()))
    return OrgDetails(
        identity=identity,
        org_name=str(rows[0].get("Name") or "") if rows else "",
        api_version=client.api_version,
    )


def save_connected(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    flow: str,
    tokens: TokenSet,
    details: OrgDetails,
    login_url: str,
    box: SecretBox,
    environment: Environment | None = None,
    custom_login_url: str | None = None,
    password: str | None = None,
    security_token: str | None = None,
) -> SalesforceConnection:
    """Store a successful connection (new, re-authorized or replacing another org).

    Args:
        environment: stored as the tenant's environment setting when given (the password
            flow chooses Live/Sandbox with the login, seed 002).

    Raises:
        OrgAlreadyConnected: another tenant holds this org; nothing is changed.
    """
    org_id = details.identity.org_id
    holder = repo.tenant_holding_org(session, org_id)
    if holder is not None and holder != tenant_id:
        raise OrgAlreadyConnected(
            f"The Salesforce org {details.org_name or org_id} ({org_id}) is already connected "
            "to another crmbridge tenant. An org connects to one tenant at a time: disconnect "
            "it there first, or connect a different org."
        )
    connection = repo.get_or_add_connection(session, tenant_id)
    was_waiting = connection.status == "needs_reauthorization"
    previous_org = connection.org_id if connection.status in HOLDING_STATUSES else None
    now = utcnow()
    if environment is not None:
        connection.environment = environment.value
        connection.custom_login_url = (
            custom_login_url if environment is Environment.CUSTOM else (connection.custom_login_url)
        )
    connection.auth_flow = flow
    connection.login_url = login_url
    connection.org_id = org_id
    connection.held_org_id = org_id
    connection.org_name = details.org_name[:255]
    connection.instance_url = tokens.instance_url
    connection.api_version = details.api_version
    connection.identity_url = tokens.identity_url
    connection.sf_user_id = details.identity.user_id
    connection.username = details.identity.username[:255]
    connection.user_display_name = details.identity.display_name[:255]
    connection.access_token_sealed = box.seal(tokens.access_token)
    connection.refresh_token_sealed = (
        box.seal(tokens.refresh_token) if tokens.refresh_token else None
    )
    connection.password_sealed = box.seal(password) if password is not None else None
    connection.security_token_sealed = (
        box.seal(security_token) if security_token is not None else None
    )
    connection.token_issued_at = now
    connection.status = "connected"
    connection.status_reason = ""
    connection.status_changed_at = now
    if connection.sync_paused_reason == REAUTHORIZATION_PAUSE_REASON:
        # Only the pause the failed renewal set ends here; an admin's pause stays.
        connection.sync_paused = False
        connection.sync_paused_reason = ""
    connection.connected_at = now
    connection.connected_by = principal.label[:254]
    connection.last_success_at = now
    repo.touch(connection, session)
    summary = {
        "org_id": org_id,
        "org_name": connection.org_name,
        "username": connection.username,
        "instance_url": connection.instance_url,
        "api_version": connection.api_version,
        "flow": flow,
    }
    detail = f"Connected to {connection.org_name or org_id} as {connection.username}."
    if was_waiting:
        detail += " The connection works again; sync resumes where it paused."
    if previous_org and previous_org != org_id:
        detail += f" This replaces the previously connected org {previous_org}."
    events.record_tenant_event(
        session,
        tenant_id=tenant_id,
        kind=events.CONNECTED,
        severity="info",
        title="Salesforce re-authorized" if was_waiting else "Salesforce connected",
        detail=detail,
        data=summary,
    )
    record_audit(
        session,
        principal,
        action="salesforce.reauthorize" if was_waiting else "salesforce.connect",
        target_type="salesforce_connection",
        target_id=tenant_id,
        tenant_id=tenant_id,
        after=summary,
    )
    return connection


def reauthorization_advice(flow: str | None) -> str:
    """What an admin does to bring a connection back, for the connection's login flow."""
    if flow == "password":
        return (
            "Enter the integration user's current password and security token again "
            "(Settings > Integrations > Salesforce > Authentication, or "
            "POST /api/v1/salesforce/password-login). A password reset in Salesforce also "
            "sends a new security token by e-mail."
        )
    return (
        "Re-authorize the connection: Settings > Integrations > Salesforce > Re-authorize "
        "(POST /api/v1/salesforce/connect, or `crmbridge connect --tenant T`), and log in as "
        "an active Salesforce user."
    )


#: Why a failed renewal paused the sync; re-authorizing lifts only this pause.
REAUTHORIZATION_PAUSE_REASON = "The Salesforce connection needs re-authorization."


def mark_needs_reauthorization(session: Session, *, tenant_id: str, error: CrmError) -> bool:
    """Turn a connected tenant to "needs re-authorization" and pause its sync (R-A5).

    Returns:
        Whether the state changed (an already-waiting connection is left alone, so a
        failure seen by several workers records one event).
    """
    connection = repo.get_connection(session, tenant_id)
    if connection is None or connection.status != "connected":
        return False
    advice = reauthorization_advice(connection.auth_flow)
    now = utcnow()
    connection.status = "needs_reauthorization"
    connection.status_reason = f"Salesforce refused to renew the session: {error}"
    connection.status_changed_at = now
    if not connection.sync_paused:
        connection.sync_paused = True
        connection.sync_paused_reason = REAUTHORIZATION_PAUSE_REASON
    # The session and refresh token are dead; keep nothing that cannot work.
    connection.access_token_sealed = None
    connection.refresh_token_sealed = None
    repo.touch(connection, session)
    events.record_tenant_event(
        session,
        tenant_id=tenant_id,
        kind=events.NEEDS_REAUTHORIZATION,
        severity="error",
        title="Salesforce connection needs re-authorization; sync is paused",
        detail=connection.status_reason,
        action=advice,
        data={"org_id": connection.org_id, "username": connection.username, "code": error.code},
    )
    log.warning(
        "salesforce.needs_reauthorization",
        tenant_id=tenant_id,
        code=error.code,
        org=connection.org_id,
    )
    return True


def disconnect(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    settings: Settings,
    box: SecretBox,
) -> dict[str, Any]:
    """Revoke the token at Salesforce, forget the session, keep every record and log.

    Returns:
        ``{"revoked": bool, "detail": str}``: whether Salesforce confirmed the revocation.

    Raises:
        NotConnected: there is no connection to end.
    """
    connection = repo.get_connection(session, tenant_id)
    if connection is None or connection.status not in HOLDING_STATUSES:
        raise NotConnected("There is no Salesforce connection to disconnect.")
    token_sealed = connection.refresh_token_sealed or connection.access_token_sealed
    revoked, detail = False, "There was no live token to revoke."
    if token_sealed and connection.login_url:
        auth = salesforce_auth(
            settings, login_url=connection.login_url, consumer_key=None, consumer_secret=None
        )
        try:
            # Revoking the refresh token also ends its access tokens (Salesforce Help,
            # "Revoke OAuth Tokens").
            auth.revoke(box.open(token_sealed))
            revoked, detail = True, "Salesforce revoked crmbridge's token."
        except CrmError as exc:
            detail = (
                f"Salesforce could not be asked to revoke the token ({exc}); crmbridge deleted "
                "it anyway. To be sure, revoke crmbridge's access in Salesforce Setup > "
                "Connected Apps OAuth Usage."
            )
    before = {
        "org_id": connection.org_id,
        "org_name": connection.org_name,
        "status": connection.status,
    }
    now = utcnow()
    connection.status = "disconnected"
    connection.status_reason = f"Disconnected by {principal.label}."
    connection.status_changed_at = now
    connection.held_org_id = None
    connection.access_token_sealed = None
    connection.refresh_token_sealed = None
    connection.password_sealed = None
    connection.security_token_sealed = None
    connection.sync_paused = False
    connection.sync_paused_reason = ""
    repo.touch(connection, session)
    events.record_tenant_event(
        session,
        tenant_id=tenant_id,
        kind=events.DISCONNECTED,
        severity="info",
        title="Salesforce disconnected",
        detail=f"{connection.status_reason} {detail} Records, mappings and logs are kept.",
        data={"org_id": connection.org_id, "revoked": revoked},
    )
    record_audit(
        session,
        principal,
        action="salesforce.disconnect",
        target_type="salesforce_connection",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after={"status": "disconnected", "revoked": revoked},
    )
    return {"revoked": revoked, "detail": detail}


@dataclass(frozen=True, kw_only=True)
class SyncGate:
    """Whether the sync engine may work for a tenant now (the contract of R-A5)."""

    #: Any sync (manual or scheduled) may run.
    may_sync: bool
    #: Scheduled syncs may run (``may_sync`` and the Auto-sync setting is on).
    may_sync_automatically: bool
    #: Why not, in words, when ``may_sync`` is false.
    reason: str


def sync_gate(session: Session, tenant_id: str) -> SyncGate:
    """The sync engine asks this before each run; a paused tenant runs nothing.

    Re-authorizing clears the pause; the engine's watermarks are untouched, so the next
    run resumes where the last one stopped.
    """
    connection = repo.get_connection(session, tenant_id)
    if connection is None or connection.status != "connected":
        status = connection.status if connection else "not_connected"
        reason = {
            "needs_reauthorization": "The Salesforce connection needs re-authorization",
            "disconnected": "Salesforce was disconnected",
        }.get(status, "Salesforce is not connected")
        if connection is not None and connection.status_reason:
            reason += f": {connection.status_reason}"
        return SyncGate(may_sync=False, may_sync_automatically=False, reason=reason + ".")
    if connection.sync_paused:
        return SyncGate(
            may_sync=False, may_sync_automatically=False, reason=connection.sync_paused_reason
        )
    return SyncGate(may_sync=True, may_sync_automatically=connection.auto_sync, reason="")


def record_inbound_entry(session: Session, *, tenant_id: str, at: datetime) -> None:
    """The sync engine notes the arrival of an inbound entry (poll or push) for health."""
    connection = repo.get_connection(session, tenant_id)
    if connection is not None and (
        connection.last_inbound_at is None or at > connection.last_inbound_at
    ):
        connection.last_inbound_at = at
        session.flush()
