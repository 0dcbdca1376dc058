"""Sessions over time: password logins, renewal in the middle of a run, refresh-token
rotation, and what happens when Salesforce stops accepting crmbridge (revoked token,
password reset, deactivated user): needs re-authorization, sync paused, an event, and
re-authorizing resumes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmbridge.config import Settings
from crmbridge.connections import open_salesforce_client, sync_gate
from crmbridge.connections.testing import (
    ConsentFailed,
    api_trusting,
    approve_consent,
    callback_path,
    emulator_admin,
    org_settings,
)
from crmbridge.crypto import secret_box_for
from crmbridge.domain.errors import ReauthorizationRequired
from crmbridge.emulator.server import EmulatorServer
from crmbridge.salesforce.auth import tls_context
from crmbridge.salesforce.client import RetryConfig
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.db import utcnow
from crmbridge.web.testing import ApiWorld

JSON = {"Accept": "application/json"}
NO_WAIT = RetryConfig(attempts=3, initial_delay=0.001, max_delay=0.01)


def _admin(api: ApiWorld, tenant: str) -> dict[str, str]:
    return api.headers_for("CLIENT_ADMIN", tenant)


def _settings(api: ApiWorld) -> Settings:
    settings: Settings = api.app.state.settings
    return settings


def connect_oauth(api: ApiWorld, tenant: str, org: dict[str, Any]) -> None:
    headers = _admin(api, tenant)
    assert (
        api.client.patch(
            "/api/v1/salesforce/settings", json=org_settings(org), headers=headers
        ).status_code
        == 200
    )
    started = api.client.post("/api/v1/salesforce/connect", headers=headers).json()
    redirect = approve_consent(
        started["authorize_url"],
        username=org["username"],
        password=org["password"],
        verify=org["ca_cert"],
    )
    response = api.client.get(callback_path(redirect), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "connected"


def password_login(
    api: ApiWorld, tenant: str, org: dict[str, Any], *, password: str | None = None, **extra: Any
) -> httpx.Response:
    body = {
        "username": org["username"],
        "password": password or org["password"],
        "security_token": extra.pop("security_token", org["security_token"]),
        "environment": "custom",
        "custom_login_url": org["login_url"],
        **extra,
    }
    return api.client.post(
        "/api/v1/salesforce/password-login", json=body, headers=_admin(api, tenant)
    )


def _connection(api: ApiWorld, tenant: str) -> SalesforceConnection:
    with api.session_factory() as session:
        connection = session.get(SalesforceConnection, tenant)
        assert connection is not None
        return connection


def _health(api: ApiWorld, tenant: str) -> dict[str, Any]:
    response = api.client.get("/api/v1/salesforce/health", headers=_admin(api, tenant))
    return dict(response.json())


# --- password flow -------------------------------------------------------------------------


def test_password_login_uses_the_oauth_password_grant_when_a_connected_app_is_set(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    salesforce_api.client.patch(
        "/api/v1/salesforce/settings",
        json=org_settings(emulator_info),
        headers=_admin(salesforce_api, tenant),
    )
    response = password_login(salesforce_api, tenant, emulator_info)
    assert response.status_code == 200, response.text
    health = response.json()
    assert health["status"] == "connected"
    assert health["auth_flow"] == "password"
    assert health["org_id"] == emulator_info["org_id"]
    assert health["username"] == emulator_info["username"]
    connection = _connection(salesforce_api, tenant)
    assert connection.refresh_token_sealed is None  # the password grant issues none
    box = secret_box_for(_settings(salesforce_api))
    assert box.open(connection.password_sealed or "") == emulator_info["password"]
    assert box.open(connection.security_token_sealed or "") == emulator_info["security_token"]


def test_password_login_without_a_connected_app_uses_the_soap_login(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    response = password_login(salesforce_api, tenant, emulator_info)
    assert response.status_code == 200, response.text
    assert response.json()["org_name"] == "crmbridge Emulated Org"
    settings = salesforce_api.client.get(
        "/api/v1/salesforce/settings", headers=_admin(salesforce_api, tenant)
    ).json()
    # The environment chosen with the login is saved with it (seed 002 Live/Sandbox).
    assert settings["environment"] == "custom"
    assert settings["login_url"] == emulator_info["login_url"]
    with open_salesforce_client(
        salesforce_api.session_factory, _settings(salesforce_api), tenant
    ) as client:
        assert client.count("SELECT COUNT() FROM Account") > 0


def test_a_wrong_password_is_explained_and_nothing_is_saved(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    response = password_login(salesforce_api, tenant, emulator_info, password="wrong-password")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:crmbridge:problem:salesforce-login-failed"
    assert "security token" in body["detail"]
    assert "wrong-password" not in response.text
    assert _health(salesforce_api, tenant)["status"] == "not_connected"
    settings = salesforce_api.client.get(
        "/api/v1/salesforce/settings", headers=_admin(salesforce_api, tenant)
    ).json()
    assert settings["custom_login_url"] is None  # the environment was not saved either


def test_password_login_with_a_wrong_consumer_secret_names_it_and_saves_nothing(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    salesforce_api.client.patch(
        "/api/v1/salesforce/settings",
        json=org_settings(emulator_info, consumer_secret="0" * 64),
        headers=_admin(salesforce_api, tenant),
    )
    response = password_login(salesforce_api, tenant, emulator_info)
    assert response.status_code == 400
    assert response.json()["type"] == "urn:crmbridge:problem:salesforce-configuration-error"
    assert "Consumer Secret" in response.json()["detail"]
    connection = _connection(salesforce_api, tenant)
    assert connection.status == "not_connected"
    assert connection.password_sealed is None


# --- renewal -----------------------------------------------------------------------------------


def test_an_expired_token_mid_run_is_refreshed_stored_and_the_call_replayed(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect_oauth(api, tenant, private_org)
    before = _connection(api, tenant)
    with open_salesforce_client(
        api.session_factory, _settings(api), tenant, retry=NO_WAIT
    ) as client:
        first_page = list(client.query("SELECT Id FROM User"))
        assert first_page
        assert emulator_admin(private_org, expire_tokens=True)["expired_tokens"] >= 1
        # The same run goes on: the 401 is answered by a refresh and a replay.
        assert client.limits()["DailyApiRequests"]["Max"] > 0
        renewed_token = client.tokens.access_token
    after = _connection(api, tenant)
    box = secret_box_for(_settings(api))
    assert after.access_token_sealed != before.access_token_sealed
    assert box.open(after.access_token_sealed or "") == renewed_token
    # Not rotated: the refresh token is the same one.
    assert after.refresh_token_sealed == before.refresh_token_sealed
    assert after.status == "connected"
    assert after.api_usage_limit == 100_000
    assert after.api_usage_used is not None
    assert after.last_success_at is not None
    assert before.last_success_at is not None
    assert after.last_success_at > before.last_success_at


def test_rotated_refresh_tokens_are_stored_and_two_workers_do_not_both_refresh(
    tmp_path: Path, clean_db: Engine, database_url: str
) -> None:
    with EmulatorServer(tmp_path / "org", port=0, rotate_refresh_tokens=True) as server:
        org = server.info
        with api_trusting(org, engine=clean_db, database_url=database_url) as api:
            tenant = api.new_tenant()
            connect_oauth(api, tenant, org)
            settings = _settings(api)
            box = secret_box_for(settings)
            original_refresh = box.open(_connection(api, tenant).refresh_token_sealed or "")
            with (
                open_salesforce_client(api.session_factory, settings, tenant) as worker_a,
                open_salesforce_client(api.session_factory, settings, tenant) as worker_b,
            ):
                emulator_admin(org, expire_tokens=True)
                worker_a.limits()  # refreshes: the old refresh token dies (rotation)
                worker_b.limits()  # finds A's session stored and uses it
                assert worker_b.tokens.access_token == worker_a.tokens.access_token
            rotated = box.open(_connection(api, tenant).refresh_token_sealed or "")
            assert rotated != original_refresh
            assert _connection(api, tenant).status == "connected"
            # The stored (rotated) refresh token is the one that works next time.
            emulator_admin(org, expire_tokens=True)
            with open_salesforce_client(api.session_factory, settings, tenant) as client:
                assert client.limits()


# --- when Salesforce stops accepting crmbridge ------------------------------------------------


def _revoke_at_salesforce(org: dict[str, Any], token: str) -> None:
    with httpx.Client(verify=tls_context(org["ca_cert"]), timeout=30) as http:
        response = http.post(f"{org['login_url']}/services/oauth2/revoke", data={"token": token})
    assert response.status_code == 200, response.text


def test_a_revoked_token_needs_reauthorization_then_reauthorizing_resumes(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect_oauth(api, tenant, private_org)
    settings = _settings(api)
    refresh = secret_box_for(settings).open(_connection(api, tenant).refresh_token_sealed or "")
    _revoke_at_salesforce(private_org, refresh)  # e.g. an admin revoked it in Setup

    with (
        pytest.raises(ReauthorizationRequired),
        open_salesforce_client(api.session_factory, settings, tenant) as client,
    ):
        client.limits()

    health = _health(api, tenant)
    assert health["status"] == "needs_reauthorization"
    assert "expired access/refresh token" in health["status_reason"]
    assert "Re-authorize" in health["action"]
    assert health["sync_paused"] is True
    with api.session_factory() as session:
        gate = sync_gate(session, tenant)
    assert not gate.may_sync
    assert "re-authorization" in gate.reason
    events = api.client.get("/api/v1/events", headers=_admin(api, tenant)).json()
    assert events[0]["kind"] == "salesforce.needs_reauthorization"
    assert events[0]["severity"] == "error"
    assert "Re-authorize" in events[0]["action"]
    # Later clients refuse at once, with what to do.
    with (
        pytest.raises(ReauthorizationRequired, match="Re-authorize"),
        open_salesforce_client(api.session_factory, settings, tenant),
    ):
        pass

    connect_oauth(api, tenant, private_org)
    health = _health(api, tenant)
    assert health["status"] == "connected"
    assert health["sync_paused"] is False
    with api.session_factory() as session:
        assert sync_gate(session, tenant).may_sync
    events = api.client.get("/api/v1/events", headers=_admin(api, tenant)).json()
    assert events[0]["title"] == "Salesforce re-authorized"
    assert "resumes" in events[0]["detail"]
    with open_salesforce_client(api.session_factory, settings, tenant) as client:
        assert client.limits()


def test_reauthorizing_keeps_a_pause_an_admin_set(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect_oauth(api, tenant, private_org)
    paused = api.client.post(
        "/api/v1/scheduler/pause", json={"reason": "data migration"}, headers=_admin(api, tenant)
    )
    assert paused.status_code in (200, 204), paused.text
    settings = _settings(api)
    refresh = secret_box_for(settings).open(_connection(api, tenant).refresh_token_sealed or "")
    _revoke_at_salesforce(private_org, refresh)
    with (
        pytest.raises(ReauthorizationRequired),
        open_salesforce_client(api.session_factory, settings, tenant) as client,
    ):
        client.limits()
    connect_oauth(api, tenant, private_org)
    health = _health(api, tenant)
    assert health["status"] == "connected"
    assert health["sync_paused"] is True
    assert "data migration" in health["sync_paused_reason"]
    with api.session_factory() as session:
        assert not sync_gate(session, tenant).may_sync


def test_a_password_reset_at_salesforce_pauses_sync_and_asks_for_the_new_password(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    assert password_login(api, tenant, private_org).status_code == 200
    settings = _settings(api)
    reset = emulator_admin(private_org, reset_password=True)

    with (
        pytest.raises(ReauthorizationRequired),
        open_salesforce_client(api.session_factory, settings, tenant) as client,
    ):
        client.query("SELECT Id FROM Account").__next__()

    health = _health(api, tenant)
    assert health["status"] == "needs_reauthorization"
    assert health["sync_paused"] is True
    assert "password" in health["action"]
    assert "security token" in health["action"]
    events = api.client.get(
        "/api/v1/events?kind=salesforce.needs", headers=_admin(api, tenant)
    ).json()
    assert len(events) == 1
    assert reset["password"] not in str(events)

    response = password_login(
        api, tenant, private_org, password=reset["password"], security_token=reset["security_token"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "connected"
    assert response.json()["sync_paused"] is False


def test_a_deactivated_user_needs_reauthorization_as_an_active_user(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect_oauth(api, tenant, private_org)
    emulator_admin(private_org, deactivate_user=True)
    with (
        pytest.raises(ReauthorizationRequired),
        open_salesforce_client(api.session_factory, _settings(api), tenant) as client,
    ):
        client.limits()
    health = _health(api, tenant)
    assert health["status"] == "needs_reauthorization"
    assert health["sync_paused"] is True
    # Re-authorizing as the inactive user is refused at the login page, in words.
    started = api.client.post("/api/v1/salesforce/connect", headers=_admin(api, tenant)).json()
    with pytest.raises(ConsentFailed, match="inactive"):
        approve_consent(
            started["authorize_url"],
            username=private_org["username"],
            password=private_org["password"],
            verify=private_org["ca_cert"],
        )
    emulator_admin(private_org, activate_user=True)
    connect_oauth(api, tenant, private_org)
    assert _health(api, tenant)["status"] == "connected"


def test_a_password_login_to_an_org_held_by_another_tenant_is_a_409(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    holder, latecomer = salesforce_api.new_tenant(), salesforce_api.new_tenant()
    assert password_login(salesforce_api, holder, emulator_info).status_code == 200
    response = password_login(salesforce_api, latecomer, emulator_info)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:crmbridge:problem:salesforce-org-already-connected"
    assert "already connected to another crmbridge tenant" in response.json()["detail"]
    assert _connection_or_none(salesforce_api, latecomer) is None
    # The holder may log in again (re-authorization of its own org).
    assert password_login(salesforce_api, holder, emulator_info).status_code == 200


def _connection_or_none(api: ApiWorld, tenant: str) -> SalesforceConnection | None:
    with api.session_factory() as session:
        return session.get(SalesforceConnection, tenant)


def test_a_worker_holding_an_old_session_renews_instead_of_adopting_an_expired_one(
    private_salesforce_api: ApiWorld, private_org: dict[str, Any]
) -> None:
    api = private_salesforce_api
    tenant = api.new_tenant()
    connect_oauth(api, tenant, private_org)
    settings = _settings(api)
    with (
        open_salesforce_client(api.session_factory, settings, tenant) as long_running,
        open_salesforce_client(api.session_factory, settings, tenant) as other,
    ):
        emulator_admin(private_org, expire_tokens=True)
        other.limits()  # renews and stores a session
        # An hour later that session has expired as well.
        with api.session_factory.begin() as session:
            session.execute(
                sa.update(SalesforceConnection).values(
                    token_issued_at=utcnow() - timedelta(hours=1)
                )
            )
        emulator_admin(private_org, expire_tokens=True)
        assert long_running.limits()  # renews itself, does not give up
        assert long_running.tokens.access_token != other.tokens.access_token
    assert _health(api, tenant)["status"] == "connected"
