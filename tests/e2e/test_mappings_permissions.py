"""Who may do what with mappings: role and endpoint → status; other tenants get 404.

CLIENT_ADMIN and the operator change mappings; CLIENT_STAFF and CLIENT_VIEWER read
them, and may check, auto-match and preview (which change nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest

from crmbridge.domain.mapping import default_object_mapping
from crmbridge.mappings.testing import MappingWorld

ROLES = ("SUPER_ADMIN", "CLIENT_ADMIN", "CLIENT_STAFF", "CLIENT_VIEWER")
ALL = frozenset(ROLES)
ADMINS = frozenset({"SUPER_ADMIN", "CLIENT_ADMIN"})
M = "/api/v1/mappings"
_names = count()


def _lead(filter_name: str = "") -> dict[str, Any]:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    return {**mapping.to_dict(), "filter_name": filter_name}


def _fresh_mapping(world: MappingWorld) -> str:
    """A new lead mapping (its own filter name), created by the tenant's admin."""
    response = world.api.client.post(
        M, json=_lead(f"n{next(_names)}"), headers=world.headers("CLIENT_ADMIN")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[str]
    success: int
    body: Callable[[], Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


MEMBER_DRAFT = {
    "platform_entity": "member",
    "salesforce_object": "Contact",
    "fields": [{"platform_field": "last_name", "salesforce_field": "LastName"}],
}

ENDPOINTS = [
    Endpoint("GET", M, ALL, 200),
    Endpoint("GET", f"{M}/{{id}}", ALL, 200),
    Endpoint("GET", f"{M}/{{id}}/versions", ALL, 200),
    Endpoint("GET", f"{M}/{{id}}/versions/1", ALL, 200),
    Endpoint("GET", f"{M}/defaults", ALL, 200),
    Endpoint("POST", f"{M}/validate", ALL, 200, lambda: MEMBER_DRAFT),
    Endpoint(
        "POST",
        f"{M}/auto-match",
        ALL,
        200,
        lambda: {"platform_entity": "lead", "salesforce_object": "Lead"},
    ),
    Endpoint("POST", f"{M}/preview", ALL, 200, lambda: {"mapping": MEMBER_DRAFT, "record": {}}),
    Endpoint("POST", f"{M}/{{id}}/preview", ALL, 200, lambda: {"record": {"last_name": "X"}}),
    Endpoint("GET", f"{M}/salesforce-objects", ALL, 200),
    Endpoint("GET", f"{M}/salesforce-objects/Contact", ALL, 200),
    Endpoint("POST", M, ADMINS, 201, lambda: _lead(f"n{next(_names)}")),
    Endpoint(
        "PUT",
        f"{M}/{{id}}",
        ADMINS,
        200,
        lambda: {k: v for k, v in _lead().items() if k != "filter_name"} | {"version": 1},
    ),
    Endpoint("PATCH", f"{M}/{{id}}", ADMINS, 200, lambda: {"enabled": False}),
    Endpoint("DELETE", f"{M}/{{id}}", ADMINS, 204),
    Endpoint(
        "POST",
        f"{M}/defaults/install",
        ADMINS,
        200,
        lambda: {"pairs": [{"platform_entity": "campaign", "salesforce_object": "Campaign"}]},
    ),
    Endpoint(
        "POST",
        f"{M}/{{id}}/suggestions/accept",
        ADMINS,
        200,
        lambda: {
            "fields": [
                {
                    "platform_field": "first_name",
                    "salesforce_field": "Title",
                    "direction": "to_salesforce",
                }
            ]
        },
    ),
    Endpoint("POST", f"{M}/salesforce-objects/Contact/refresh", ADMINS, 200),
]


def _call(
    world: MappingWorld, endpoint: Endpoint, role: str, tenant_id: str, mapping_id: str
) -> Any:
    body = endpoint.body() if endpoint.body else None
    if endpoint.method in {"PUT", "PATCH", "POST"} and body is None:
        body = {}
    return world.api.client.request(
        endpoint.method,
        endpoint.path.replace("{id}", mapping_id),
        json=body,
        headers=world.headers(role, tenant_id),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_each_role_gets_what_the_capability_matrix_says(
    mapping_api: MappingWorld, endpoint: Endpoint
) -> None:
    for role in ROLES:
        mapping_id = _fresh_mapping(mapping_api)
        before = mapping_api.api.client.get(
            f"{M}/{mapping_id}", headers=mapping_api.headers()
        ).json()
        response = _call(mapping_api, endpoint, role, mapping_api.tenant_id, mapping_id)
        expected = endpoint.success if role in endpoint.allowed else 403
        assert response.status_code == expected, (role, response.text)
        if expected == 403:
            after = mapping_api.api.client.get(f"{M}/{mapping_id}", headers=mapping_api.headers())
            assert after.json() == before  # a refused call changes nothing


CROSS_TENANT = [e for e in ENDPOINTS if "{id}" in e.path]


@pytest.mark.parametrize("role", ["CLIENT_ADMIN", "CLIENT_VIEWER", "SUPER_ADMIN"])
def test_another_tenants_mappings_answer_404(mapping_api: MappingWorld, role: str) -> None:
    mapping_id = _fresh_mapping(mapping_api)
    other = mapping_api.api.new_tenant()
    for endpoint in CROSS_TENANT:
        response = _call(mapping_api, endpoint, role, other, mapping_id)
        # The role is checked first; whoever may act sees no such mapping.
        expected = 404 if role in endpoint.allowed else 403
        assert response.status_code == expected, (str(endpoint), response.text)
    listed = mapping_api.api.client.get(M, headers=mapping_api.headers(role, other)).json()
    assert listed == []
    still = mapping_api.api.client.get(f"{M}/{mapping_id}", headers=mapping_api.headers())
    assert still.json()["version"] == 1


def test_a_tenant_key_naming_another_tenant_gets_404(mapping_api: MappingWorld) -> None:
    mapping_id = _fresh_mapping(mapping_api)
    other = mapping_api.api.new_tenant()
    headers = {
        **mapping_api.headers("CLIENT_ADMIN", other),
        "X-Crmbridge-Tenant": mapping_api.tenant_id,
    }
    response = mapping_api.api.client.get(f"{M}/{mapping_id}", headers=headers)
    assert response.status_code == 404
