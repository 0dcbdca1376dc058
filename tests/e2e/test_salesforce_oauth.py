"""Connecting a tenant with the OAuth web-server flow, driven over HTTP against the
emulator: authorize page, consent, callback; state and PKCE; errors in words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from crmbridge.connections.testing import (
    approve_consent,
    callback_params,
    callback_path,
    org_settings,
)
from crmbridge.services import factories
from crmbridge.store.connection_models import SalesforceConnection, SalesforceOAuthState
from crmbridge.store.db import utcnow
from crmbridge.web.testing import ApiWorld

CALLBACK = "/api/v1/salesforce/oauth/callback"
JSON = {"Accept": "application/json"}


def _admin(api: ApiWorld, tenant: str) -> dict[str, str]:
    return api.headers_for("CLIENT_ADMIN", tenant)


def _configure(api: ApiWorld, tenant: str, org: dict[str, Any], **extra: Any) -> None:
    response = api.client.patch(
        "/api/v1/salesforce/settings", json=org_settings(org, **extra), headers=_admin(api, tenant)
    )
    assert response.status_code == 200, response.text


def _consent(api: ApiWorld, tenant: str, org: dict[str, Any], *, allow: bool = True) -> str:
    started = api.client.post("/api/v1/salesforce/connect", headers=_admin(api, tenant))
    assert started.status_code == 201, started.text
    return approve_consent(
        started.json()["authorize_url"],
        username=org["username"],
        password=org["password"],
        verify=org["ca_cert"],
        allow=allow,
    )


def connect_with_oauth(api: ApiWorld, tenant: str, org: dict[str, Any]) -> Any:
    """Settings, Connect, consent at the org, callback: the callback's response."""
    _configure(api, tenant, org)
    redirect = _consent(api, tenant, org)
    return api.client.get(callback_path(redirect), headers=JSON)


def test_full_oauth_flow_connects_and_shows_the_org(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    headers = _admin(salesforce_api, tenant)
    _configure(salesforce_api, tenant, emulator_info)
    started = salesforce_api.client.post("/api/v1/salesforce/connect", headers=headers).json()
    authorize = started["authorize_url"]
    assert authorize.startswith(emulator_info["login_url"] + "/services/oauth2/authorize?")
    assert "code_challenge_method=S256" in authorize
    assert started["callback_url"] == "https://crmbridge.test/api/v1/salesforce/oauth/callback"

    redirect = approve_consent(
        authorize,
        username=emulator_info["username"],
        password=emulator_info["password"],
        verify=emulator_info["ca_cert"],
    )
    assert redirect.startswith(started["callback_url"] + "?")
    assert set(callback_params(redirect)) == {"code", "state"}
    response = salesforce_api.client.get(callback_path(redirect), headers=JSON)
    assert response.status_code == 200, response.text
    health = response.json()
    assert health["status"] == "connected"
    assert health["auth_flow"] == "oauth"
    assert health["org_id"] == emulator_info["org_id"]
    assert health["org_name"] == "crmbridge Emulated Org"
    assert health["username"] == emulator_info["username"]
    assert health["user_id"] == emulator_info["user_id"]
    assert health["instance_url"] == emulator_info["instance_url"]
    assert health["api_version"] == "64.0"  # the newest both sides support
    assert health["environment"] == "custom"

    flow = salesforce_api.client.get(
        f"/api/v1/salesforce/connect/{started['state_id']}", headers=headers
    ).json()
    assert flow["outcome"] == "connected"
    assert emulator_info["org_id"] in flow["detail"] or "Emulated" in flow["detail"]
    # The same health for every role of the tenant.
    viewer = salesforce_api.client.get(
        "/api/v1/salesforce/health", headers=salesforce_api.headers_for("CLIENT_VIEWER", tenant)
    )
    assert viewer.json()["org_id"] == emulator_info["org_id"]
    events = salesforce_api.client.get("/api/v1/events", headers=headers).json()
    assert [e["kind"] for e in events] == ["salesforce.connected"]


def test_a_state_can_be_used_only_once(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    _configure(salesforce_api, tenant, emulator_info)
    redirect = _consent(salesforce_api, tenant, emulator_info)
    first = salesforce_api.client.get(callback_path(redirect), headers=JSON)
    assert first.status_code == 200
    again = salesforce_api.client.get(callback_path(redirect), headers=JSON)
    assert again.status_code == 400
    assert again.json()["type"] == "urn:crmbridge:problem:oauth-state-rejected"
    assert "already used" in again.json()["detail"]


def test_missing_or_unknown_state_is_rejected_in_words(salesforce_api: ApiWorld) -> None:
    missing = salesforce_api.client.get(CALLBACK + "?code=abc", headers=JSON)
    assert missing.status_code == 400
    assert "no state" in missing.json()["detail"]
    unknown = salesforce_api.client.get(CALLBACK + "?code=abc&state=forged", headers=JSON)
    assert unknown.status_code == 400
    assert "not one crmbridge issued" in unknown.json()["detail"]


def test_an_expired_state_is_rejected(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    _configure(salesforce_api, tenant, emulator_info)
    redirect = _consent(salesforce_api, tenant, emulator_info)
    with salesforce_api.session_factory.begin() as session:
        session.execute(
            sa.update(SalesforceOAuthState).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = salesforce_api.client.get(callback_path(redirect), headers=JSON)
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


def test_denied_consent_is_explained_and_nothing_is_connected(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    _configure(salesforce_api, tenant, emulator_info)
    redirect = _consent(salesforce_api, tenant, emulator_info, allow=False)
    assert callback_params(redirect)["error"] == "access_denied"
    response = salesforce_api.client.get(callback_path(redirect), headers=JSON)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:crmbridge:problem:salesforce-access-denied"
    assert "clicked Deny" in body["detail"]
    assert "end-user denied authorization" in body["detail"]
    health = salesforce_api.client.get(
        "/api/v1/salesforce/health", headers=_admin(salesforce_api, tenant)
    ).json()
    assert health["status"] == "not_connected"


def test_a_wrong_consumer_secret_is_named_and_nothing_is_saved(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    _configure(salesforce_api, tenant, emulator_info, consumer_secret="F" * 64)
    redirect = _consent(salesforce_api, tenant, emulator_info)
    response = salesforce_api.client.get(callback_path(redirect), headers=JSON)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:crmbridge:problem:salesforce-configuration-error"
    assert "Consumer Secret" in body["detail"]
    with salesforce_api.session_factory() as session:
        connection = session.get(SalesforceConnection, tenant)
        assert connection is not None
        assert connection.status == "not_connected"
        assert connection.access_token_sealed is None
        assert connection.org_id is None


def test_an_org_held_by_another_tenant_cannot_be_connected_again(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    first = salesforce_api.new_tenant("First")
    second = salesforce_api.new_tenant("Second")
    assert connect_with_oauth(salesforce_api, first, emulator_info).status_code == 200
    response = connect_with_oauth(salesforce_api, second, emulator_info)
    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "urn:crmbridge:problem:salesforce-org-already-connected"
    assert emulator_info["org_id"] in body["detail"]
    assert "another crmbridge tenant" in body["detail"]
    health = salesforce_api.client.get(
        "/api/v1/salesforce/health", headers=_admin(salesforce_api, second)
    ).json()
    assert health["status"] == "not_connected"
    # Reconnecting the same org to the same tenant is fine (re-authorization).
    assert connect_with_oauth(salesforce_api, first, emulator_info).status_code == 200


def test_a_flow_started_in_a_browser_must_return_to_the_same_person(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    _configure(salesforce_api, tenant, emulator_info)
    with salesforce_api.session_factory.begin() as session:
        admin = factories.create_user(session, tenant_id=tenant, role="CLIENT_ADMIN")
        other = factories.create_user(session, tenant_id=tenant, role="CLIENT_ADMIN")
    client = salesforce_api.client

    def sign_in(email: str) -> str:
        client.cookies.clear()
        page = client.get("/login")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"email": email, "password": factories.TEST_PASSWORD, "csrf_token": csrf},
        )
        home = client.get("/")
        return home.text.split('name="csrf-token" content="')[1].split('"')[0]

    csrf = sign_in(admin.email)
    started = client.post("/api/v1/salesforce/connect", headers={"X-CSRF-Token": csrf})
    assert started.status_code == 201, started.text
    redirect = approve_consent(
        started.json()["authorize_url"],
        username=emulator_info["username"],
        password=emulator_info["password"],
        verify=emulator_info["ca_cert"],
    )
    sign_in(other.email)
    foreign = client.get(callback_path(redirect), headers=JSON)
    assert foreign.status_code == 400
    assert "another person" in foreign.json()["detail"]
    client.cookies.clear()
    anonymous = client.get(callback_path(redirect), headers=JSON)
    assert anonymous.status_code == 400
    # Back in the starter's session, the browser lands on the result page.
    sign_in(admin.email)
    landing = client.get(
        callback_path(redirect), headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert landing.status_code == 303
    page = client.get(landing.headers["location"])
    assert page.status_code == 200
    assert "Salesforce connected" in page.text
    client.cookies.clear()


def test_connect_without_a_connected_app_says_what_to_set(salesforce_api: ApiWorld) -> None:
    tenant = salesforce_api.new_tenant()
    response = salesforce_api.client.post(
        "/api/v1/salesforce/connect", headers=_admin(salesforce_api, tenant)
    )
    assert response.status_code == 409
    assert response.json()["type"] == "urn:crmbridge:problem:salesforce-settings-incomplete"
    assert "Consumer Key" in response.json()["detail"]
