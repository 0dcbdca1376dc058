"""Connection health (R-A8) and the "test connection" action (R-A10, seed 004
"Troubleshooting").

:func:`health_view` reads what is stored (no Salesforce call): status and what to do,
org and user, last successful call, last inbound entry, API usage against the daily
limit, and per-object status lights. The lights come from providers the sync engine
registers with :func:`register_object_status_provider` (until then the list is empty).

:func:`run_connection_test` runs the checks in order and explains each failure in
words: network, certificate, credentials, API enabled, limits, then for each object
crmbridge maps whether the integration user may query, create and update it and
whether it has the external id crmbridge upserts by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections.client_factory import open_salesforce_client
from crmbridge.connections.errors import NotConnected
from crmbridge.connections.lifecycle import reauthorization_advice
from crmbridge.connections.org_access import salesforce_auth, salesforce_http
from crmbridge.connections.settings import resolve_login, resolve_settings
from crmbridge.crypto import SecretBox, secret_box_for
from crmbridge.domain.errors import (
    CrmError,
    PermissionDenied,
    RateLimitError,
    ReauthorizationRequired,
)
from crmbridge.domain.sync import DEFAULT_EXTERNAL_ID_FIELD
from crmbridge.salesforce import endpoints
from crmbridge.salesforce.client import SalesforceClient
from crmbridge.salesforce.transport import TlsCertificateError, send
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.repositories import salesforce_connections as repo

#: The objects crmbridge's default mappings use (seed 000, 002, 004 object pairs).
DEFAULT_MAPPED_OBJECTS = (
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Campaign",
    "CampaignMember",
    "Task",
)
_API_DISABLED_CODES = frozenset({"API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED"})


# --- per-object status lights (filled by the sync engine) ------------------------------


@dataclass(frozen=True, kw_only=True)
class ObjectStatus:
    """One status light of the Status tab (seed 002): how far one object is synced."""

    #: Salesforce object API name, e.g. ``Opportunity``.
    object: str
    #: ``green`` (caught up), ``amber`` (behind or retrying), ``red`` (failing or paused).
    light: Literal["green", "amber", "red"]
    #: The time the object is synced up to (the committed watermark).
    synced_up_to: datetime | None
    #: A sentence for the admin (e.g. "3 records failed validation").
    detail: str = ""


#: ``provider(session, tenant_id) -> statuses``; the sync engine registers one.
ObjectStatusProvider = Callable[[Session, str], Sequence[ObjectStatus]]
_object_status_providers: list[ObjectStatusProvider] = []


def register_object_status_provider(provider: ObjectStatusProvider) -> None:
    """Let the sync engine fill the health's per-object lights (called once at import)."""
    if provider not in _object_status_providers:
        _object_status_providers.append(provider)


# --- health ----------------------------------------------------------------------------


def _usage_view(connection: SalesforceConnection | None) -> dict[str, Any]:
    used = connection.api_usage_used if connection else None
    limit = connection.api_usage_limit if connection else None
    share = round(used / limit, 4) if used is not None and limit else None
    return {
        "used": used,
        "limit": limit,
        "share": share,
        "as_of": connection.api_usage_at if connection else None,
    }


def _action(connection: SalesforceConnection | None) -> str:
    if connection is None or connection.status in {"not_connected", "disconnected"}:
        return "Connect Salesforce: Settings > Integrations > Salesforce > Connect."
    if connection.status == "needs_reauthorization":
        return reauthorization_advice(connection.auth_flow)
    return ""


def health_view(session: Session, tenant_id: str, settings: Settings) -> dict[str, Any]:
    """The connection's health as stored (every role of the tenant may see it)."""
    connection = repo.get_connection(session, tenant_id)
    # The health opens no secret: a viewer's page must not depend on the key.
    environment, login_url, _ = resolve_login(connection, settings)
    objects = [
        {
            "object": status.object,
            "light": status.light,
            "synced_up_to": status.synced_up_to,
            "detail": status.detail,
        }
        for provider in _object_status_providers
        for status in provider(session, tenant_id)
    ]
    return {
        "status": connection.status if connection else "not_connected",
        "status_reason": connection.status_reason if connection else "",
        "action": _action(connection),
        "status_changed_at": connection.status_changed_at if connection else None,
        "sync_paused": bool(connection.sync_paused) if connection else False,
        "sync_paused_reason": connection.sync_paused_reason if connection else "",
        "auth_flow": connection.auth_flow if connection else None,
        "environment": environment.value,
        "login_url": (connection.login_url if connection else None) or login_url,
        "org_id": connection.org_id if connection else None,
        "org_name": connection.org_name if connection else "",
        "user_id": connection.sf_user_id if connection else None,
        "username": connection.username if connection else "",
        "user_display_name": connection.user_display_name if connection else "",
        "instance_url": connection.instance_url if connection else None,
        "api_version": connection.api_version if connection else None,
        "connected_at": connection.connected_at if connection else None,
        "connected_by": connection.connected_by if connection else "",
        "last_successful_call_at": connection.last_success_at if connection else None,
        "last_inbound_entry_at": connection.last_inbound_at if connection else None,
        "api_usage": _usage_view(connection),
        "objects": objects,
    }


# --- test connection --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Check:
    """One step of the connection test."""

    #: ``network``, ``certificate``, ``credentials``, ``api_enabled``, ``limits`` or
    #: ``object:<Name>``.
    name: str
    #: True passed, False failed, None not run (an earlier step failed).
    ok: bool | None
    #: What was found, in words.
    detail: str
    #: What to do when it failed.
    fix: str = ""


def _skipped(name: str, because: str) -> Check:
    return Check(name=name, ok=None, detail=f"Not checked: {because}")


def _reach(settings: Settings, urls: Sequence[str]) -> list[Check]:
    """The network and certificate checks against each host crmbridge talks to."""
    problems_network: list[str] = []
    problems_tls: list[str] = []
    with salesforce_http(settings) as http:
        for base in urls:
            try:
                # The versions resource needs no session (REST API Developer Guide, "Versions").
                send(http, "GET", endpoints.versions_url(base))
            except TlsCertificateError as exc:
                problems_tls.append(f"{base}: {exc.message}")
            except CrmError as exc:
                problems_network.append(f"{base}: {exc.message}")
    hosts = ", ".join(urls)
    if problems_network:
        return [
            Check(
                name="network",
                ok=False,
                detail="Salesforce could not be reached. " + " ".join(problems_network),
                fix=(
                    "Check the environment and login URL (a My Domain URL must exist), DNS, "
                    "and that firewalls or proxies let crmbridge reach it over HTTPS (443)."
                ),
            ),
            _skipped("certificate", "Salesforce could not be reached."),
        ]
    network = Check(name="network", ok=True, detail=f"Reached {hosts}.")
    if problems_tls:
        return [
            network,
            Check(
                name="certificate",
                ok=False,
                detail=" ".join(problems_tls),
                fix=TlsCertificateError.advice,
            ),
        ]
    return [network, Check(name="certificate", ok=True, detail="The TLS certificate is trusted.")]


def _object_check(client: SalesforceClient, sobject: str) -> Check:
    name = f"object:{sobject}"
    try:
        describe = client.describe(sobject)
    except CrmError as exc:
        return Check(
            name=name,
            ok=False,
            detail=f"{sobject} is not available to the integration user ({exc}).",
            fix=f"Give the integration user access to {sobject} (profile or permission set).",
        )
    missing = [
        verb
        for verb, flag in (("query", "queryable"), ("create", "createable"), ("edit", "updateable"))
        if not describe.get(flag)
    ]
    field = next(
        (f for f in describe.get("fields", []) if f.get("name") == DEFAULT_EXTERNAL_ID_FIELD), None
    )
    problems, fixes = [], []
    if missing:
        problems.append(f"the integration user may not {', '.join(missing)} {sobject} records")
        fixes.append(
            f"Grant Read, Create and Edit on {sobject} to the integration user's profile or "
            "a permission set."
        )
    if field is None:
        problems.append(f"{sobject} has no {DEFAULT_EXTERNAL_ID_FIELD} field")
    elif not (field.get("externalId") and field.get("unique")):
        problems.append(f"{sobject}.{DEFAULT_EXTERNAL_ID_FIELD} is not a unique external id")
    if field is None or not (field.get("externalId") and field.get("unique")):
        fixes.append(
            f"Create (or edit) the custom field {DEFAULT_EXTERNAL_ID_FIELD} on {sobject}: "
            "Text(255), External ID, Unique; crmbridge upserts by it so retries never "
            "duplicate records."
        )
    if problems:
        return Check(name=name, ok=False, detail="; ".join(problems) + ".", fix=" ".join(fixes))
    return Check(
        name=name,
        ok=True,
        detail=f"{sobject}: query, create and edit allowed; {DEFAULT_EXTERNAL_ID_FIELD} is a "
        "unique external id.",
    )


def run_connection_test(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    *,
    objects: Sequence[str] = DEFAULT_MAPPED_OBJECTS,
) -> list[Check]:
    """Run every check in order; later checks are skipped when an earlier one fails."""
    box: SecretBox = secret_box_for(settings)
    with session_factory() as session:
        connection = repo.get_connection(session, tenant_id)
        effective = resolve_settings(connection, settings, box)
        status = connection.status if connection else "not_connected"
        login_url = (connection.login_url if connection else None) or effective.login_url
        urls = [login_url]
        if connection and connection.instance_url and connection.instance_url != login_url:
            urls.append(connection.instance_url)
        reason = connection.status_reason if connection else ""
        flow = connection.auth_flow if connection else None
    checks = _reach(settings, urls)
    later = ["credentials", "api_enabled", "limits", *(f"object:{o}" for o in objects)]
    if not all(c.ok for c in checks):
        return checks + [_skipped(n, "Salesforce could not be reached safely.") for n in later]
    if status != "connected":
        words = {
            "needs_reauthorization": f"The connection needs re-authorization. {reason}",
            "disconnected": "Salesforce was disconnected.",
        }.get(status, "Salesforce is not connected yet.")
        fix = (
            reauthorization_advice(flow)
            if status == "needs_reauthorization"
            else (NotConnected.advice)
        )
        checks.append(Check(name="credentials", ok=False, detail=words.strip(), fix=fix))
        return checks + [_skipped(n, "there is no working session.") for n in later[1:]]
    try:
        with open_salesforce_client(session_factory, settings, tenant_id) as client:
            checks.extend(_checks_with_session(client, settings, login_url, objects, later))
    except ReauthorizationRequired as exc:
        checks.append(
            Check(
                name="credentials",
                ok=False,
                detail=f"Salesforce refused crmbridge's credentials: {exc.message}",
                fix=reauthorization_advice(flow)
                + " If the org is a sandbox, check that the environment is Sandbox (and "
                "Production for a production org).",
            )
        )
        checks.extend(_skipped(n, "the credentials do not work.") for n in later[1:])
    return checks


def _checks_with_session(
    client: SalesforceClient,
    settings: Settings,
    login_url: str,
    objects: Sequence[str],
    later: list[str],
) -> list[Check]:
    checks: list[Check] = []
    api_disabled: CrmError | None = None
    try:
        # The resources of a version need a valid session (renewed here if it expired).
        client.request("GET", "")
    except PermissionDenied as exc:
        if exc.code not in _API_DISABLED_CODES:
            return _failed_at_credentials(exc, later)
        api_disabled = exc
    except RateLimitError as exc:
        return [
            _skipped("credentials", "the org's daily API allowance is used up."),
            _skipped("api_enabled", "the org's daily API allowance is used up."),
            Check(name="limits", ok=False, detail=exc.message, fix=exc.advice),
            *(_skipped(n, "the org's daily API allowance is used up.") for n in later[3:]),
        ]
    except ReauthorizationRequired:
        raise
    except CrmError as exc:
        return _failed_at_credentials(exc, later)
    auth = salesforce_auth(settings, login_url=login_url, consumer_key=None, consumer_secret=None)
    try:
        identity = auth.identity(client.tokens)
        who = f"Logged in as {identity.username} in org {identity.org_id}."
    except CrmError:
        who = "The session is valid."
    checks.append(Check(name="credentials", ok=True, detail=who))
    if api_disabled is not None:
        checks.append(
            Check(
                name="api_enabled",
                ok=False,
                detail=f"Salesforce refused API access: {api_disabled.message}",
                fix=(
                    "Use an edition with API access (Enterprise, Unlimited, Developer, "
                    "Performance) and give the integration user the 'API Enabled' permission."
                ),
            )
        )
        return checks + [_skipped(n, "API access is disabled.") for n in later[2:]]
    checks.append(
        Check(
            name="api_enabled",
            ok=True,
            detail=f"The REST API answers (API version {client.api_version}).",
        )
    )
    try:
        daily = client.limits().get("DailyApiRequests", {})
        maximum, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
        used = maximum - remaining
        share = f" ({used / maximum:.0%})" if maximum else ""
        checks.append(
            Check(
                name="limits",
                ok=remaining > 0,
                detail=f"{used} of {maximum} daily API requests used{share}.",
                fix=""
                if remaining > 0
                else "The daily allowance is used up: sync resumes when it frees up.",
            )
        )
    except CrmError as exc:
        checks.append(
            Check(
                name="limits",
                ok=False,
                detail=f"The limits resource could not be read: {exc}",
                fix=exc.advice,
            )
        )
    checks.extend(_object_check(client, sobject) for sobject in objects)
    return checks


def _failed_at_credentials(exc: CrmError, later: list[str]) -> list[Check]:
    return [
        Check(
            name="credentials",
            ok=False,
            detail=f"Salesforce answered with an error: {exc}",
            fix=exc.advice,
        ),
        *(_skipped(n, "the session could not be checked.") for n in later[1:]),
    ]


def check_view(check: Check) -> dict[str, Any]:
    return {"name": check.name, "ok": check.ok, "detail": check.detail, "fix": check.fix}
