"""Sign-in page, session cookie, CSRF protection and the home page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crmbridge.services import factories
from crmbridge.web.testing import ApiWorld


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _setup_user(api: ApiWorld, role: str = "CLIENT_ADMIN") -> tuple[str, str]:
    with api.session_factory.begin() as session:
        tenant = factories.create_tenant(session, name="Acme Members")
        user = factories.create_user(
            session, tenant_id=tenant.id, role=role, email="ada@acme.example.com"
        )
        return tenant.id, user.email


def _login(client: TestClient, email: str, password: str) -> int:
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code


def test_home_redirects_to_login_when_signed_out(api: ApiWorld) -> None:
    response = api.client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_sign_in_shows_the_tenant_and_the_user(api: ApiWorld) -> None:
    _tenant, email = _setup_user(api)
    assert _login(api.client, email, factories.TEST_PASSWORD) == 303
    home = api.client.get("/")
    assert home.status_code == 200
    assert "Acme Members" in home.text
    assert email in home.text
    assert "CLIENT_ADMIN" in home.text
    cookie = api.client.cookies.get("crmbridge_session")
    assert cookie


def test_wrong_password_and_missing_csrf_are_refused(api: ApiWorld) -> None:
    _tenant, email = _setup_user(api)
    assert _login(api.client, email, "not the password") == 401
    assert _login(api.client, "nobody@acme.example.com", "whatever") == 401
    no_token = api.client.post(
        "/login", data={"email": email, "password": factories.TEST_PASSWORD}, follow_redirects=False
    )
    assert no_token.status_code == 403
    assert api.client.get("/", follow_redirects=False).status_code == 303


def test_session_calls_to_the_api_need_the_csrf_header_for_writes(api: ApiWorld) -> None:
    _tenant, email = _setup_user(api, role="CLIENT_STAFF")
    _login(api.client, email, factories.TEST_PASSWORD)
    token = _csrf(api.client.get("/").text)
    assert api.client.get("/api/v1/me").json()["label"] == email
    body = {"first_name": "A", "last_name": "B"}
    assert api.client.post("/api/v1/members", json=body).status_code == 403
    created = api.client.post("/api/v1/members", json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201
    # Changes made in a browser session are marked as coming from the UI.
    from crmbridge.store.repositories.change_log import read_changes

    with api.session() as session:
        entry = read_changes(session, tenant_id=_tenant, after_seq=0, limit=1)[0]
    assert entry.source == "ui"
    assert entry.actor.startswith("user:")


def test_sign_out_ends_the_session(api: ApiWorld) -> None:
    _tenant, email = _setup_user(api)
    _login(api.client, email, factories.TEST_PASSWORD)
    token = _csrf(api.client.get("/").text)
    api.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert api.client.get("/api/v1/me").status_code == 401


def test_users_of_suspended_tenants_cannot_sign_in(api: ApiWorld) -> None:
    tenant, email = _setup_user(api)
    api.client.post(
        f"/api/v1/operator/tenants/{tenant}/suspend", headers=api.headers_for("SUPER_ADMIN", None)
    )
    assert _login(api.client, email, factories.TEST_PASSWORD) == 403
