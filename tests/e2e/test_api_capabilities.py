"""The capabilities matrix of SPEC section 2, cell by cell: role x endpoint → status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from crmbridge.domain.entities import ENTITY_TYPES
from crmbridge.services import factories
from crmbridge.web.testing import ApiWorld

ROLES = ("SUPER_ADMIN", "CLIENT_ADMIN", "CLIENT_STAFF", "CLIENT_VIEWER")
ALL = set(ROLES)
ADMINS = {"SUPER_ADMIN", "CLIENT_ADMIN"}
WRITERS = ADMINS | {"CLIENT_STAFF"}
OPERATOR = {"SUPER_ADMIN"}


@dataclass
class Ids:
    tenant: str
    other_tenant: str
    member: str
    user: str
    api_key: str
    custom_field: str


def _setup(api: ApiWorld) -> Ids:
    with api.session_factory.begin() as session:
        tenant = factories.create_tenant(session)
        other = factories.create_tenant(session)
        member = factories.create_record(session, tenant_id=tenant.id)
        user = factories.create_user(session, tenant_id=tenant.id)
        key = factories.create_api_key(session, tenant_id=tenant.id, role="CLIENT_VIEWER")
        from crmbridge.services import custom_fields
        from crmbridge.services.access import CLI_PRINCIPAL

        field = custom_fields.create_definition(
            session,
            CLI_PRINCIPAL,
            tenant_id=tenant.id,
            attributes={"entity_type": "member", "name": "votes", "type": "integer"},
        )
        return Ids(tenant.id, other.id, member.id, user.id, key.record.id, field.id)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[str]
    success: int
    body: Callable[[Ids], Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def E(method: str, path: str, allowed: set[str], success: int, body: Any = None) -> Endpoint:
    return Endpoint(method, path, frozenset(allowed), success, body)


ENDPOINTS = [
    E("GET", "/api/v1/me", ALL, 200),
    E("GET", "/api/v1/operator/tenants", OPERATOR, 200),
    E("POST", "/api/v1/operator/tenants", OPERATOR, 201, lambda ids: {"name": "New"}),
    E("GET", "/api/v1/operator/tenants/{other_tenant}", OPERATOR, 200),
    E("POST", "/api/v1/operator/tenants/{other_tenant}/suspend", OPERATOR, 200),
    E("POST", "/api/v1/operator/tenants/{other_tenant}/resume", OPERATOR, 200),
    E("GET", "/api/v1/users", ADMINS, 200),
    E(
        "POST",
        "/api/v1/users",
        ADMINS,
        201,
        lambda ids: {"email": "new@example.com", "role": "CLIENT_STAFF"},
    ),
    E("GET", "/api/v1/users/{user}", ADMINS, 200),
    E("PATCH", "/api/v1/users/{user}", ADMINS, 200, lambda ids: {"name": "Renamed"}),
    E("DELETE", "/api/v1/users/{user}", ADMINS, 204),
    E("GET", "/api/v1/api-keys", ADMINS, 200),
    E("POST", "/api/v1/api-keys", ADMINS, 201, lambda ids: {"name": "k", "role": "CLIENT_STAFF"}),
    E("DELETE", "/api/v1/api-keys/{api_key}", ADMINS, 204),
    E("GET", "/api/v1/audit-log", ADMINS, 200),
    E("GET", "/api/v1/entity-types", ALL, 200),
    E("GET", "/api/v1/entity-types/member", ALL, 200),
    E("GET", "/api/v1/custom-fields", ALL, 200),
    E("GET", "/api/v1/custom-fields/{custom_field}", ALL, 200),
    E(
        "POST",
        "/api/v1/custom-fields",
        ADMINS,
        201,
        lambda ids: {"entity_type": "lead", "name": "shoe_size", "type": "integer"},
    ),
    E("PATCH", "/api/v1/custom-fields/{custom_field}", ADMINS, 200, lambda ids: {"label": "V"}),
    E("DELETE", "/api/v1/custom-fields/{custom_field}", ADMINS, 204),
    E("GET", "/api/v1/members", ALL, 200),
    E("GET", "/api/v1/members/{member}", ALL, 200),
    E("POST", "/api/v1/members", WRITERS, 201, lambda ids: {"first_name": "A", "last_name": "B"}),
    E("PATCH", "/api/v1/members/{member}", WRITERS, 200, lambda ids: {"title": "Dr"}),
    E("DELETE", "/api/v1/members/{member}", WRITERS, 204),
]


def _call(api: ApiWorld, endpoint: Endpoint, ids: Ids, headers: dict[str, str]) -> Any:
    path = endpoint.path.format(**ids.__dict__)
    body = endpoint.body(ids) if endpoint.body else None
    return api.client.request(endpoint.method, path, json=body, headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_role_may_or_may_not_use_endpoint(api: ApiWorld, endpoint: Endpoint, role: str) -> None:
    ids = _setup(api)
    response = _call(api, endpoint, ids, api.headers_for(role, ids.tenant))
    expected = endpoint.success if role in endpoint.allowed else 403
    assert response.status_code == expected, response.text
    if expected == 403:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_no_credentials_answer_401(api: ApiWorld, endpoint: Endpoint) -> None:
    ids = _setup(api)
    response = _call(api, endpoint, ids, {})
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer crmb_not-a-real-key-000000000000", "Bearer", "Basic dXNlcjpwYXNz", "x"]
)
def test_invalid_credentials_answer_401(api: ApiWorld, header: str) -> None:
    assert api.client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


@pytest.mark.parametrize("entity_type", sorted(ENTITY_TYPES))
@pytest.mark.parametrize(("role", "expected"), [("CLIENT_STAFF", 201), ("CLIENT_VIEWER", 403)])
def test_staff_create_and_viewers_cannot_for_every_entity_type(
    api: ApiWorld, entity_type: str, role: str, expected: int
) -> None:
    tenant = api.new_tenant()
    with api.session_factory.begin() as session:
        # A valid payload: build one record through the factory and reuse its data.
        template = factories.create_record(session, tenant_id=tenant, entity_type=entity_type)
        payload = dict(template.data)
    plural = ENTITY_TYPES[entity_type].plural
    response = api.client.post(
        f"/api/v1/{plural}", json=payload, headers=api.headers_for(role, tenant)
    )
    assert response.status_code == expected, response.text


def test_operator_must_name_the_tenant(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    headers = api.headers_for("SUPER_ADMIN", None)
    response = api.client.get("/api/v1/members", headers=headers)
    assert response.status_code == 400
    assert "X-Crmbridge-Tenant" in response.json()["detail"]
    ok = api.client.get("/api/v1/members", headers={**headers, "X-Crmbridge-Tenant": tenant})
    assert ok.status_code == 200


def test_suspended_tenant_gets_403_everywhere_until_resumed(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    operator = api.headers_for("SUPER_ADMIN", None)
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    member = api.client.post(
        "/api/v1/members", json={"first_name": "A", "last_name": "B"}, headers=admin
    ).json()
    suspend = api.client.post(f"/api/v1/operator/tenants/{tenant}/suspend", headers=operator)
    assert suspend.json()["status"] == "suspended"
    for method, path in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/members"),
        ("GET", f"/api/v1/members/{member['id']}"),
        ("DELETE", f"/api/v1/members/{member['id']}"),
        ("GET", "/api/v1/users"),
    ]:
        response = api.client.request(method, path, headers=admin)
        assert response.status_code == 403, (method, path)
        assert response.json()["type"].endswith("tenant-suspended")
    api.client.post(f"/api/v1/operator/tenants/{tenant}/resume", headers=operator)
    assert api.client.get(f"/api/v1/members/{member['id']}", headers=admin).status_code == 200


def test_revoked_key_stops_working_at_once(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    created = api.client.post(
        "/api/v1/api-keys", json={"name": "host app", "role": "CLIENT_STAFF"}, headers=admin
    ).json()
    key_headers = {"Authorization": f"Bearer {created['key']}"}
    assert api.client.get("/api/v1/me", headers=key_headers).json()["role"] == "CLIENT_STAFF"
    listed = api.client.get("/api/v1/api-keys", headers=admin).json()
    # The list shows the prefix, never the key.
    assert all("key" not in k for k in listed)
    assert created["key"].startswith(created["prefix"])
    assert api.client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin).status_code == 204
    assert api.client.get("/api/v1/me", headers=key_headers).status_code == 401


def test_using_a_key_records_when_it_was_last_used(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    created = api.client.post(
        "/api/v1/api-keys", json={"name": "host app", "role": "CLIENT_VIEWER"}, headers=admin
    ).json()
    [before] = [
        k
        for k in api.client.get("/api/v1/api-keys", headers=admin).json()
        if k["id"] == created["id"]
    ]
    assert before["last_used_at"] is None
    key_headers = {"Authorization": f"Bearer {created['key']}"}
    assert api.client.get("/api/v1/me", headers=key_headers).status_code == 200
    [after] = [
        k
        for k in api.client.get("/api/v1/api-keys", headers=admin).json()
        if k["id"] == created["id"]
    ]
    assert after["last_used_at"] is not None


def test_ip_allow_list_limits_where_a_key_works(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    inside = api.key_for("CLIENT_STAFF", tenant, allowed_ips=["127.0.0.0/8"])
    outside = api.key_for("CLIENT_STAFF", tenant, allowed_ips=["10.0.0.0/8", "2001:db8::/32"])
    # The test client connects from 127.0.0.1.
    assert (
        api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {inside}"}).status_code
        == 200
    )
    response = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {outside}"})
    assert response.status_code == 403
    assert "IP" in response.json()["detail"]


def test_user_and_key_management_is_audited(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    user = api.client.post(
        "/api/v1/users",
        json={"email": "Staff@Example.com", "role": "CLIENT_STAFF", "password": "a long password!"},
        headers=admin,
    ).json()
    assert user["email"] == "staff@example.com"
    api.client.patch(f"/api/v1/users/{user['id']}", json={"role": "CLIENT_VIEWER"}, headers=admin)
    key = api.client.post(
        "/api/v1/api-keys", json={"name": "k", "role": "CLIENT_VIEWER"}, headers=admin
    ).json()
    api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)
    entries = api.client.get("/api/v1/audit-log", headers=admin).json()
    actions = [e["action"] for e in entries]
    assert actions[:4] == ["api_key.revoke", "api_key.create", "user.update", "user.create"]
    update = entries[2]
    assert update["before"]["role"] == "CLIENT_STAFF"
    assert update["after"]["role"] == "CLIENT_VIEWER"
    assert update["actor_type"] == "api_key"
    assert all("password" not in str(e).lower() or "***" in str(e) for e in entries)
    assert all(key["key"] not in str(e) for e in entries)


def test_client_admin_cannot_create_operators(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    response = api.client.post(
        "/api/v1/users",
        json={"email": "op@example.com", "role": "SUPER_ADMIN"},
        headers=api.headers_for("CLIENT_ADMIN", tenant),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
