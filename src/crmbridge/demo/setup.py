"""The demo's set-up steps, each one idempotent: running the demo again finds what the
previous run made and keeps it.

The tenant, its admin and its API key are made through the services (there is no API
for bootstrapping a tenant); everything else goes through crmbridge's own REST API,
as a tenant admin would do it: Salesforce settings, the OAuth connection (the real
web-server flow, a script clicking Allow on the emulator's authorize page), the
default mappings, and the push receiver registered as an Outbound Message at the org.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.connections.consent import approve_consent
from crmbridge.demo.state import DemoState
from crmbridge.push.secrets import SecretKind
from crmbridge.salesforce.auth import tls_context
from crmbridge.services import api_keys, tenants, users
from crmbridge.services.access import Principal, Role
from crmbridge.store.repositories import users as users_repo

#: Who the demo's own actions are recorded as in the audit log.
DEMO_PRINCIPAL = Principal(
    kind="cli", id="demo", label="crmbridge demo", role=Role.SUPER_ADMIN, tenant_id=None
)
DEMO_TENANT_NAME = "Demo Members"
DEMO_ADMIN_EMAIL = "admin@demo.example.com"
#: The default mappings the demo switches on (R-F1, R-F2), parents first.
DEMO_PAIRS = (
    {"platform_entity": "organization", "salesforce_object": "Account"},
    {"platform_entity": "member", "salesforce_object": "Contact"},
)
#: Outbound Message rules registered at the emulated org: edits there arrive by push.
OUTBOUND_RULES = (
    ("crmbridge_demo_contacts", "Contact", ("FirstName", "LastName", "Email", "Phone", "Title")),
    ("crmbridge_demo_accounts", "Account", ("Name", "Phone", "Website")),
)


class DemoSetupFailed(RuntimeError):
    """A step of the set-up failed; the message says which and why."""


def ensure_tenant_admin_and_key(
    session_factory: sessionmaker[Session], state: DemoState
) -> tuple[str, bool]:
    """The demo tenant, its CLIENT_ADMIN (password kept in the state) and an API key.

    Returns:
        The tenant id, and whether anything was created.
    """
    created = False
    with session_factory.begin() as session:
        tenant = next(
            (t for t in tenants.list_tenants(session) if t.id == state.tenant_id), None
        ) or next((t for t in tenants.list_tenants(session) if t.name == DEMO_TENANT_NAME), None)
        if tenant is None:
            tenant = tenants.create_tenant(session, DEMO_PRINCIPAL, name=DEMO_TENANT_NAME)
            created = True
        state.tenant_id = tenant.id
        user = users_repo.get_user_by_email(session, DEMO_ADMIN_EMAIL)
        if user is None:
            state.admin_password = secrets.token_urlsafe(12)
            users.create_user(
                session,
                DEMO_PRINCIPAL,
                tenant_id=tenant.id,
                email=DEMO_ADMIN_EMAIL,
                role=Role.CLIENT_ADMIN,
                name="Demo Admin",
                password=state.admin_password,
            )
            created = True
        elif not state.admin_password:
            # The state file was lost: give the admin a new password to print.
            state.admin_password = secrets.token_urlsafe(12)
            users.update_user(
                session,
                DEMO_PRINCIPAL,
                tenant_id=tenant.id,
                user_id=user.id,
                changes={"password": state.admin_password},
            )
        if not state.api_key or not _key_works(session, state.api_key):
            key = api_keys.create_api_key(
                session, DEMO_PRINCIPAL, tenant_id=tenant.id, name="demo", role=Role.CLIENT_ADMIN
            )
            state.api_key = key.secret
            created = True
    return state.tenant_id, created


def _key_works(session: Session, secret: str) -> bool:
    try:
        api_keys.authenticate_api_key(session, secret, client_ip=None)
    except Exception:
        return False
    return True


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise DemoSetupFailed(f"{what}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def configure_salesforce(api: httpx.Client, org: dict[str, Any]) -> None:
    """Point the tenant's Salesforce settings at the emulated org, Auto-sync on."""
    _ok(
        api.patch(
            "/api/v1/salesforce/settings",
            json={
                "environment": "custom",
                "custom_login_url": org["login_url"],
                "consumer_key": org["client_id"],
                "consumer_secret": org["client_secret"],
                "auto_sync": True,
            },
        ),
        "saving the Salesforce settings",
    )


def connect(api: httpx.Client, org: dict[str, Any]) -> bool:
    """Connect through the OAuth web-server flow unless connected to this org already.

    Returns:
        Whether a new connection was made.
    """
    health = _ok(api.get("/api/v1/salesforce/health"), "reading the connection's health")
    if (
        health["status"] == "connected"
        and health["org_id"] == org["org_id"]
        and health["instance_url"] == org["instance_url"]
    ):
        return False
    started = _ok(api.post("/api/v1/salesforce/connect"), "starting the OAuth flow")
    # The browser's part of the flow (log in, click Allow), done by a script.
    redirect = approve_consent(
        started["authorize_url"],
        username=org["username"],
        password=org["password"],
        verify=org["ca_cert"],
    )
    _ok(api.get(redirect, headers={"Accept": "application/json"}), "completing the OAuth flow")
    return True


def install_mappings(api: httpx.Client) -> list[str]:
    """Install and enable the default member/Contact and organization/Account mappings."""
    outcomes = _ok(
        api.post(
            "/api/v1/mappings/defaults/install", json={"pairs": list(DEMO_PAIRS), "enabled": True}
        ),
        "installing the default mappings",
    )
    return [f"{o['pair']}: {o['status'].replace('_', ' ')}" for o in outcomes]


def register_push(
    api: httpx.Client, org: dict[str, Any], state: DemoState, *, base_url: str
) -> None:
    """Issue the receiver secret (unless the remembered URL still works) and register
    Outbound Message rules at the emulated org pointing to it."""
    receiver = _ok(api.get("/api/v1/inbound/settings"), "reading the receiver settings")
    url = state.outbound_message_url
    if not (url.startswith(base_url + "/") and receiver["outbound_message_secret_set"]):
        issued = _ok(
            api.post("/api/v1/inbound/secrets", json={"rotate": SecretKind.OUTBOUND_MESSAGE}),
            "issuing the receiver secret",
        )
        state.outbound_message_url = url = issued["outbound_message_url"]
    with httpx.Client(verify=tls_context(org["ca_cert"]), timeout=30) as http:
        for name, sobject, fields in OUTBOUND_RULES:
            rule = {
                "name": name,
                "object": sobject,
                "trigger": "created_or_edited",
                "fields": list(fields),
                "endpoint_url": url,
                "send_session_id": False,
            }
            response = http.post(
                f"{org['admin_url']}/outbound/rules",
                json=rule,
                headers={"Authorization": f"Bearer {org['admin_token']}"},
            )
            if response.status_code != 201:
                raise DemoSetupFailed(f"registering the Outbound Message: {response.text}")
