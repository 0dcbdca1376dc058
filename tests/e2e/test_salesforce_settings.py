"""Salesforce settings (R-A1, R-A2): operator defaults, tenant overrides, a write-only
secret, validation that changes nothing, audit, and who may do what."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from crmbridge.connections.testing import api_trusting, org_settings
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.web.testing import ApiWorld

SETTINGS = "/api/v1/salesforce/settings"
OPERATOR_SECRET = "operator-consumer-secret-0123456789"
TENANT_SECRET = "tenant-consumer-secret-9876543210"


def _admin(api: ApiWorld, tenant: str) -> dict[str, str]:
    return api.headers_for("CLIENT_ADMIN", tenant)


@pytest.fixture
def operator_api(clean_db: Engine, database_url: str, emulator_info: dict[str, Any]) -> Any:
    with api_trusting(
        emulator_info,
        engine=clean_db,
        database_url=database_url,
        SALESFORCE_CLIENT_ID="3MVGoperatorKey",
        SALESFORCE_CLIENT_SECRET=OPERATOR_SECRET,
        SALESFORCE_LOGIN_URL="https://test.salesforce.com",
    ) as world:
        yield world


def test_without_tenant_values_the_operator_defaults_apply_and_are_named(
    operator_api: ApiWorld,
) -> None:
    tenant = operator_api.new_tenant()
    body = operator_api.client.get(SETTINGS, headers=_admin(operator_api, tenant)).json()
    assert body["environment"] == "sandbox"
    assert body["login_url"] == "https://test.salesforce.com"
    assert body["consumer_key"] == "3MVGoperatorKey"
    assert body["consumer_secret_set"] is True
    assert body["consumer_secret"].endswith(OPERATOR_SECRET[-4:])
    assert OPERATOR_SECRET not in json.dumps(body)
    assert body["from_operator"] == ["consumer_key", "consumer_secret", "environment", "login_url"]
    assert body["auto_sync"] is False
    assert body["callback_url"] == "https://crmbridge.test/api/v1/salesforce/oauth/callback"


def test_tenant_values_override_the_operator_and_the_secret_is_write_only(
    operator_api: ApiWorld,
) -> None:
    tenant = operator_api.new_tenant()
    headers = _admin(operator_api, tenant)
    response = operator_api.client.patch(
        SETTINGS,
        json={
            "environment": "production",
            "consumer_key": "3MVGtenantKey",
            "consumer_secret": TENANT_SECRET,
            "auto_sync": True,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["environment"] == "production"
    assert body["login_url"] == "https://login.salesforce.com"
    assert body["consumer_key"] == "3MVGtenantKey"
    assert body["consumer_secret"] == "••••••••" + TENANT_SECRET[-4:]
    assert TENANT_SECRET not in response.text
    assert body["from_operator"] == []
    assert body["auto_sync"] is True
    # null returns a value to the operator's default.
    back = operator_api.client.patch(
        SETTINGS, json={"consumer_secret": None, "environment": None}, headers=headers
    ).json()
    assert back["from_operator"] == ["consumer_secret", "environment", "login_url"]
    assert back["consumer_key"] == "3MVGtenantKey"

    audit = operator_api.client.get("/api/v1/audit-log", headers=headers).json()
    updates = [e for e in audit if e["action"] == "salesforce.settings.update"]
    assert len(updates) == 2
    assert updates[-1]["after"]["changed"] == [
        "auto_sync",
        "consumer_key",
        "consumer_secret",
        "environment",
    ]
    assert TENANT_SECRET not in json.dumps(audit)


def test_a_custom_login_url_is_normalized(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    response = salesforce_api.client.patch(
        SETTINGS,
        json={"environment": "custom", "custom_login_url": " https://acme.my.salesforce.com/ "},
        headers=_admin(salesforce_api, tenant),
    )
    assert response.status_code == 200, response.text
    assert response.json()["login_url"] == "https://acme.my.salesforce.com"


BAD_SETTINGS = [
    pytest.param(
        {"environment": "custom", "custom_login_url": "not a url"},
        "custom_login_url",
        id="malformed-login-url",
    ),
    pytest.param(
        {"environment": "custom", "custom_login_url": "https://x.example.com/path"},
        "custom_login_url",
        id="login-url-with-a-path",
    ),
    pytest.param(
        {"environment": "custom", "custom_login_url": None},
        "custom_login_url",
        id="custom-without-url",
    ),
    pytest.param({"environment": "staging"}, "environment", id="unknown-environment"),
    pytest.param({"consumer_key": "k" * 256}, "consumer_key", id="oversized-key"),
    pytest.param({"consumer_secret": "s" * 256}, "consumer_secret", id="oversized-secret"),
    pytest.param(
        {"custom_login_url": "https://" + "a" * 2050 + ".com"},
        "custom_login_url",
        id="oversized-url",
    ),
    pytest.param({"consumer_key": "has spaces"}, "consumer_key", id="key-with-spaces"),
    pytest.param({"auto_sync": "sometimes"}, "auto_sync", id="auto-sync-not-boolean"),
    pytest.param({"org_id": "00D000000000001"}, "org_id", id="unknown-field"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SETTINGS)
def test_bad_settings_answer_422_naming_the_field_and_change_nothing(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    tenant = salesforce_api.new_tenant()
    headers = _admin(salesforce_api, tenant)
    good = salesforce_api.client.patch(SETTINGS, json=org_settings(emulator_info), headers=headers)
    assert good.status_code == 200
    before = salesforce_api.client.get(SETTINGS, headers=headers).json()
    response = salesforce_api.client.patch(SETTINGS, json=body, headers=headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:crmbridge:problem:validation-error"
    assert field in [e["field"] for e in problem["errors"]]
    assert salesforce_api.client.get(SETTINGS, headers=headers).json() == before
    audit = salesforce_api.client.get("/api/v1/audit-log", headers=headers).json()
    assert [e["action"] for e in audit].count("salesforce.settings.update") == 1


def test_production_mode_refuses_a_non_https_login_url(
    clean_db: Engine, database_url: str, emulator_info: dict[str, Any]
) -> None:
    with api_trusting(
        emulator_info, engine=clean_db, database_url=database_url, CRMBRIDGE_ENV="production"
    ) as api:
        tenant = api.new_tenant()
        headers = _admin(api, tenant)
        response = api.client.patch(
            SETTINGS,
            json={"environment": "custom", "custom_login_url": "http://acme.my.salesforce.com"},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "The login URL must use https."
        password = api.client.post(
            "/api/v1/salesforce/password-login",
            json={
                "username": "u@example.com",
                "password": "p",
                "environment": "custom",
                "custom_login_url": "http://acme.my.salesforce.com",
            },
            headers=headers,
        )
        assert password.status_code == 422
        with api.session_factory() as session:
            connection = session.get(SalesforceConnection, tenant)
            assert connection is None or connection.custom_login_url is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"username": "u" * 256, "password": "p"}, id="oversized-username"),
        pytest.param({"username": "u@example.com", "password": "p" * 256}, id="oversized-password"),
        pytest.param(
            {"username": "u@example.com", "password": "p", "security_token": "t" * 256},
            id="oversized-token",
        ),
        pytest.param({"username": "", "password": "p"}, id="empty-username"),
        pytest.param({"username": "u@example.com"}, id="missing-password"),
        pytest.param({"username": "u", "password": "p", "instance": "x"}, id="unknown-field"),
    ],
)
def test_bad_password_logins_answer_422_and_connect_nothing(
    salesforce_api: ApiWorld, body: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    headers = _admin(salesforce_api, tenant)
    response = salesforce_api.client.post(
        "/api/v1/salesforce/password-login", json=body, headers=headers
    )
    assert response.status_code == 422
    health = salesforce_api.client.get("/api/v1/salesforce/health", headers=headers).json()
    assert health["status"] == "not_connected"


# --- who may do what ---------------------------------------------------------------------------

ADMIN_ONLY = [
    ("GET", SETTINGS, None),
    ("PATCH", SETTINGS, {"auto_sync": True}),
    ("POST", "/api/v1/salesforce/connect", None),
    ("GET", "/api/v1/salesforce/connect/{flow}", None),
    ("POST", "/api/v1/salesforce/password-login", {"username": "u@x.org", "password": "p"}),
    ("POST", "/api/v1/salesforce/disconnect", None),
    ("POST", "/api/v1/salesforce/test", None),
    ("GET", "/api/v1/events", None),
]


def _flow_of(api: ApiWorld, tenant: str, org: dict[str, Any]) -> str:
    headers = _admin(api, tenant)
    api.client.patch(SETTINGS, json=org_settings(org), headers=headers)
    started = api.client.post("/api/v1/salesforce/connect", headers=headers)
    assert started.status_code == 201
    return str(started.json()["state_id"])


@pytest.mark.parametrize("role", ["CLIENT_STAFF", "CLIENT_VIEWER"])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY, ids=lambda v: str(v))
def test_staff_and_viewers_may_not_touch_the_connection(
    salesforce_api: ApiWorld,
    emulator_info: dict[str, Any],
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    tenant = salesforce_api.new_tenant()
    flow = _flow_of(salesforce_api, tenant, emulator_info)
    before = salesforce_api.client.get(SETTINGS, headers=_admin(salesforce_api, tenant)).json()
    response = salesforce_api.client.request(
        method,
        path.format(flow=flow),
        json=body,
        headers=salesforce_api.headers_for(role, tenant),
    )
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:crmbridge:problem:forbidden"
    after = salesforce_api.client.get(SETTINGS, headers=_admin(salesforce_api, tenant)).json()
    assert after == before


@pytest.mark.parametrize("role", ["SUPER_ADMIN", "CLIENT_ADMIN", "CLIENT_STAFF", "CLIENT_VIEWER"])
def test_every_role_of_the_tenant_may_view_the_health(salesforce_api: ApiWorld, role: str) -> None:
    tenant = salesforce_api.new_tenant()
    response = salesforce_api.client.get(
        "/api/v1/salesforce/health", headers=salesforce_api.headers_for(role, tenant)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "not_connected"
    assert "Connect Salesforce" in response.json()["action"]


def test_the_operator_may_configure_a_tenant_it_names(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    tenant = salesforce_api.new_tenant()
    response = salesforce_api.client.patch(
        SETTINGS,
        json=org_settings(emulator_info),
        headers=salesforce_api.headers_for("SUPER_ADMIN", tenant),
    )
    assert response.status_code == 200
    assert response.json()["consumer_key"] == emulator_info["client_id"]


def test_another_tenant_sees_neither_the_flow_nor_the_settings(
    salesforce_api: ApiWorld, emulator_info: dict[str, Any]
) -> None:
    mine = salesforce_api.new_tenant()
    theirs = salesforce_api.new_tenant()
    flow = _flow_of(salesforce_api, mine, emulator_info)
    other_admin = _admin(salesforce_api, theirs)
    response = salesforce_api.client.get(f"/api/v1/salesforce/connect/{flow}", headers=other_admin)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:crmbridge:problem:not-found"
    named = salesforce_api.client.get(SETTINGS, headers={**other_admin, "X-Crmbridge-Tenant": mine})
    assert named.status_code == 404
    own = salesforce_api.client.get(SETTINGS, headers=other_admin).json()
    assert own["consumer_key"] == ""
    assert salesforce_api.client.get("/api/v1/events", headers=other_admin).json() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [*ADMIN_ONLY, ("GET", "/api/v1/salesforce/health", None)],
    ids=lambda v: str(v),
)
def test_without_credentials_every_connection_endpoint_answers_401(
    salesforce_api: ApiWorld, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = salesforce_api.client.request(
        method, path.format(flow="00000000-0000-0000-0000-000000000000"), json=body
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
