"""Health (R-A8), the connection test with its explanations (R-A10, seed 004
"Troubleshooting"), and disconnecting (R-A9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from crmbridge.connections import ObjectStatus, health, record_inbound_entry
from crmbridge.connections.health import run_connection_test
from crmbridge.connections.testing import (
    api_trusting,
    approve_consent,
    callback_path,
    emulator_admin,
    org_settings,
)
from crmbridge.crypto import secret_box_for
from crmbridge.salesforce.auth import tls_context
from crmbridge.services import factories
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.web.testing import ApiWorld

JSON = {"Accept": "application/json"}
EXPECTED_CHECKS = [
    "network",
    "certificate",
    "credentials",
    "api_enabled",
    "limits",
    "object:Account",
    "object:Contact",
    "object:Lead",
    "object:Opportunity",
    "object:Campaign",
    "object:CampaignMember",
    "object:Task",
]


def _admin(api: ApiWorld, tenant: str) -> dict[str, str]:
    return api.headers_for("CLIENT_ADMIN", tenant)


def connect(api: ApiWorld, tenant: str, org: dict[str, Any]) -> None:
    headers = _admin(api, tenant)
    api.client.patch("/api/v1/salesforce/settings", json=org_settings(org), headers=headers)
    started = api.client.post("/api/v1/salesforce/connect", headers=headers).json()
    redirect = approve_consent(
        started["authorize_url"],
        username=org["username"],
        password=org["password"],
        verify=org["ca_cert"],
    )
    response = api.client.get(callback_path(redirect), headers=JSON)
    assert response.status_code == 200, response.text


def run_test(api: ApiWorld, tenant: str) -> dict[str, Any]:
    response = api.client.post("/api/v1/salesforce/test", headers=_admin(api, tenant))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in result["checks"]}


def test_the_connection_test_passes_every_check_on_a_healthy_org(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    connect(salesforce_api, tenant, emulator_info)
    result = run_test(salesforce_api, tenant)
    assert [c["name"] for c in result["checks"]] == EXPECTED_CHECKS
    assert result["ok"] is True, result
    checks = _by_name(result)
    assert emulator_info["username"] in checks["credentials"]["detail"]
    assert "of 100000 daily API requests used" in checks["limits"]["detail"]
    assert "Platform_Id__c is a unique external id" in checks["object:Contact"]["detail"]
    # The test leaves the usage behind for the health.
    body = salesforce_api.client.get(
        "/api/v1/salesforce/health", headers=salesforce_api.headers_for("CLIENT_VIEWER", tenant)
    ).json()
    assert body["api_usage"]["limit"] == 100_000
    assert body["api_usage"]["used"] > 0
    assert 0 < body["api_usage"]["share"] < 1
    assert body["last_successful_call_at"] is not None


def test_an_untrusted_certificate_is_named_and_the_fix_given(
    salesforce_api: ApiWorld,
    emulator_info: dict[str, Any],
    clean_db: Engine,
    database_url: str,
) -> None:
    tenant = salesforce_api.new_tenant()
    connect(salesforce_api, tenant, emulator_info)
    # The same store, served by a crmbridge that does not trust the emulator's CA.
    with api_trusting(
        {**emulator_info, "ca_cert": ""}, engine=clean_db, database_url=database_url
    ) as untrusting:
        result = run_test(untrusting, tenant)
    checks = _by_name(result)
    assert checks["network"]["ok"] is True
    assert checks["certificate"]["ok"] is False
    assert "not trusted" in checks["certificate"]["detail"]
    assert "SALESFORCE_CA_BUNDLE" in checks["certificate"]["fix"]
    assert checks["credentials"]["ok"] is None
    assert result["ok"] is False


def test_an_unreachable_login_host_is_a_network_failure(salesforce_api: ApiWorld) -> None:
    tenant = salesforce_api.new_tenant()
    salesforce_api.client.patch(
        "/api/v1/salesforce/settings",
        json={"environment": "custom", "custom_login_url": "https://127.0.0.1:9"},
        headers=_admin(salesforce_api, tenant),
    )
    checks = _by_name(run_test(salesforce_api, tenant))
    assert checks["network"]["ok"] is False
    assert "could not be reached" in checks["network"]["detail"]
    assert "firewalls" in checks["network"]["fix"]
    assert checks["certificate"]["ok"] is None
    assert checks["object:Account"]["ok"] is None


def test_before_connecting_the_test_says_to_connect(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    salesforce_api.client.patch(
        "/api/v1/salesforce/settings",
        json=org_settings(emulator_info),
        headers=_admin(salesforce_api, tenant),
    )
    checks = _by_name(run_test(salesforce_api, tenant))
    assert checks["certificate"]["ok"] is True
    assert checks["credentials"]["ok"] is False
    assert "not connected" in checks["credentials"]["detail"]
    assert "Connect" in checks["credentials"]["fix"]


def test_missing_objects_and_external_ids_are_listed_with_the_fix(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    connect(salesforce_api, tenant, emulator_info)
    checks = run_connection_test(
        salesforce_api.session_factory,
        salesforce_api.app.state.settings,
        tenant,
        objects=("Contact", "Note", "Missing_Object__c"),
    )
    by_name = {c.name: c for c in checks}
    assert by_name["object:Contact"].ok is True
    assert by_name["object:Note"].ok is False
    assert "Note has no Platform_Id__c field" in by_name["object:Note"].detail
    assert "External ID, Unique" in by_name["object:Note"].fix
    assert by_name["object:Missing_Object__c"].ok is False
    assert "not available to the integration user" in by_name["object:Missing_Object__c"].detail


def test_a_used_up_daily_allowance_shows_in_the_limits_check(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    tenant = private_salesforce_api.new_tenant()
    connect(private_salesforce_api, tenant, private_org)
    emulator_admin(private_org, exhaust_quota=True)
    checks = _by_name(run_test(private_salesforce_api, tenant))
    assert checks["limits"]["ok"] is False
    assert "TotalRequests Limit exceeded" in checks["limits"]["detail"]
    assert "resumes by itself" in checks["limits"]["fix"]


def test_the_test_renews_an_expired_session_and_reports_a_revoked_one(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect(api, tenant, private_org)
    emulator_admin(private_org, expire_tokens=True)
    assert run_test(api, tenant)["ok"] is True
    emulator_admin(private_org, reset_password=True)  # ends every session and token
    checks = _by_name(run_test(api, tenant))
    assert checks["credentials"]["ok"] is False
    assert "refused" in checks["credentials"]["detail"]
    assert "Re-authorize" in checks["credentials"]["fix"]
    assert "Sandbox" in checks["credentials"]["fix"]
    health_body = api.client.get("/api/v1/salesforce/health", headers=_admin(api, tenant)).json()
    assert health_body["status"] == "needs_reauthorization"


def test_health_shows_inbound_entries_and_object_lights_from_the_engine(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = salesforce_api.new_tenant()
    connect(salesforce_api, tenant, emulator_info)
    synced_up_to = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def lights(_session: object, tenant_id: str) -> list[ObjectStatus]:
        assert tenant_id == tenant
        return [ObjectStatus(object="Contact", light="green", synced_up_to=synced_up_to)]

    monkeypatch.setattr(health, "_object_status_providers", [])
    health.register_object_status_provider(lights)
    with salesforce_api.session_factory.begin() as session:
        record_inbound_entry(session, tenant_id=tenant, at=synced_up_to)
    body = salesforce_api.client.get(
        "/api/v1/salesforce/health", headers=_admin(salesforce_api, tenant)
    ).json()
    assert body["last_inbound_entry_at"] == "2025-03-01T08:00:00Z"
    assert body["objects"] == [
        {
            "object": "Contact",
            "light": "green",
            "synced_up_to": "2025-03-01T08:00:00Z",
            "detail": "",
        }
    ]


def test_disconnect_revokes_the_token_keeps_the_data_and_frees_the_org(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect(api, tenant, private_org)
    with api.session_factory.begin() as session:
        member = factories.create_record(session, tenant_id=tenant)
        connection = session.get(SalesforceConnection, tenant)
        assert connection is not None
        refresh = secret_box_for(api.app.state.settings).open(connection.refresh_token_sealed or "")
    response = api.client.post("/api/v1/salesforce/disconnect", headers=_admin(api, tenant))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revoked"] is True
    assert body["health"]["status"] == "disconnected"
    assert body["health"]["org_id"] == private_org["org_id"]  # kept for the record
    # Salesforce no longer honours the refresh token.
    with httpx.Client(verify=tls_context(private_org["ca_cert"]), timeout=30) as http:
        refused = http.post(
            private_org["token_url"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": private_org["client_id"],
                "client_secret": private_org["client_secret"],
            },
        )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    with api.session_factory() as session:
        stored = session.get(SalesforceConnection, tenant)
        assert stored is not None
        assert stored.access_token_sealed is None
        assert stored.refresh_token_sealed is None
    # Data and logs are kept.
    assert (
        api.client.get(f"/api/v1/members/{member.id}", headers=_admin(api, tenant)).status_code
        == 200
    )
    actions = [
        e["action"] for e in api.client.get("/api/v1/audit-log", headers=_admin(api, tenant)).json()
    ]
    assert actions[0] == "salesforce.disconnect"
    assert "salesforce.connect" in actions
    # The org may now be connected to another tenant.
    other = api.new_tenant()
    connect(api, other, private_org)
    again = api.client.post("/api/v1/salesforce/disconnect", headers=_admin(api, tenant))
    assert again.status_code == 409
    assert again.json()["type"] == "urn:crmbridge:problem:salesforce-not-connected"
