"""Shared helpers for push tests: a tenant whose connection holds an org, and messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crmbridge.store.db import utcnow
from crmbridge.store.repositories import salesforce_connections
from crmbridge.web.testing import ApiWorld

ORG_ID = "00DHs0000000001AAA"
OTHER_ORG_ID = "00DHs0000000002AAA"


def hold_org(api: ApiWorld, tenant_id: str, org_id: str = ORG_ID) -> None:
    """Mark the tenant's connection as connected to ``org_id`` (no Salesforce needed)."""
    with api.session_factory.begin() as session:
        connection = salesforce_connections.get_or_add_connection(session, tenant_id)
        connection.status = "connected"
        connection.org_id = org_id
        connection.held_org_id = org_id
        connection.status_changed_at = utcnow()


def issue_secrets(api: ApiWorld, tenant_id: str) -> dict[str, Any]:
    """Issue both receiver secrets as the tenant's admin; returns the API's answer."""
    response = api.client.post(
        "/api/v1/inbound/secrets", json={}, headers=api.headers_for("CLIENT_ADMIN", tenant_id)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def envelope(
    notes: Sequence[tuple[str, str, dict[str, str | None]]],
    *,
    org_id: str = ORG_ID,
    action_id: str = "04kHs0000000001AAA",
) -> bytes:
    """A ``notifications`` envelope written by hand (id, object, fields per notification)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>{action_id}</ActionId>"
        '<SessionId xsi:nil="true"/><EnterpriseUrl>https://x/c</EnterpriseUrl>'
        "<PartnerUrl>https://x/u</PartnerUrl>"
    ]
    for note_id, sobject, fields in notes:
        parts.append(
            f"<Notification><Id>{note_id}</Id>"
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        )
        for name, value in fields.items():
            if value is None:
                parts.append(f'<sf:{name} xsi:nil="true"/>')
            else:
                parts.append(f"<sf:{name}>{value}</sf:{name}>")
        parts.append("</sObject></Notification>")
    parts.append("</notifications></soapenv:Body></soapenv:Envelope>")
    return "".join(parts).encode()


def path_of(url: str) -> str:
    """The path part of a receiver URL."""
    return "/" + url.split("/", 3)[3]


def new_org_id() -> str:
    """A fresh 18-character org id (an org connects to one tenant at a time)."""
    import secrets

    return "00DHs" + "".join(secrets.choice("0123456789") for _ in range(10)) + "AAA"
