"""Connecting with username + password + security token (R-A4, seed 002 "Authentication").

With a connected app configured, crmbridge uses the OAuth username-password flow;
without one, the partner SOAP ``login()`` call (as simple-salesforce does). Either way
the password and security token are sealed and kept, because renewing the session
later means logging in again. Nothing is stored unless the login works.

Salesforce recommends the web-server flow instead: orgs may block the
username-password flow, and SOAP ``login()`` is being retired (API 64.0 and earlier).

Sources: Salesforce Help, "OAuth 2.0 Username-Password Flow for Special Scenarios";
SOAP API Developer Guide, "login()".
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmbridge.config import Settings
from crmbridge.connections.lifecycle import read_org_details, save_connected
from crmbridge.connections.org_access import salesforce_auth
from crmbridge.connections.settings import resolve_settings
from crmbridge.crypto import SecretBox
from crmbridge.domain.errors import ReauthorizationRequired
from crmbridge.salesforce.endpoints import DEFAULT_API_VERSION
from crmbridge.services.access import Principal
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.repositories import salesforce_connections as repo


def password_login(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    username: str,
    password: str,
    security_token: str,
    settings: Settings,
    box: SecretBox,
    environment: str | None = None,
    custom_login_url: str | None = None,
) -> SalesforceConnection:
    """Log in as the integration user and store the connection.

    Args:
        environment: Live/Sandbox/custom for this login (saved with it); default: the
            tenant's setting.
        custom_login_url: the login URL of a custom environment.

    Raises:
        RecordValidationError: the environment or login URL cannot be used.
        CrmError: Salesforce refused the login (the message says why and what to do).
        OrgAlreadyConnected: another tenant holds the org.
    """
    connection = repo.get_connection(session, tenant_id)
    effective = resolve_settings(
        connection, settings, box, environment=environment, custom_login_url=custom_login_url
    )
    auth = salesforce_auth(
        settings,
        login_url=effective.login_url,
        consumer_key=effective.consumer_key,
        consumer_secret=effective.consumer_secret,
    )
    try:
        if effective.has_connected_app:
            tokens = auth.password_grant(
                username=username, password=password, security_token=security_token
            )
        else:
            tokens = auth.soap_login(
                username=username,
                password=password,
                security_token=security_token,
                api_version=DEFAULT_API_VERSION,
            )
    except ReauthorizationRequired as exc:
        # At the first login "re-authorize" means: these credentials are wrong.
        refused = ReauthorizationRequired(
            f"Salesforce refused the login: {exc.message}", code=exc.code
        )
        refused.advice = (
            "Check the username, the password and the security token (Salesforce e-mails "
            "a new one after each password reset), and that the environment "
            f"({effective.environment.value}, {effective.login_url}) is the org's."
        )
        raise refused from None
    details = read_org_details(auth, tokens, settings)
    return save_connected(
        session,
        principal,
        tenant_id=tenant_id,
        flow="password",
        tokens=tokens,
        details=details,
        login_url=effective.login_url,
        box=box,
        environment=effective.environment if environment else None,
        custom_login_url=effective.login_url,
        password=password,
        security_token=security_token,
    )
