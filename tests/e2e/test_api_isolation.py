"""Tenant isolation (R-P1): another tenant's ids answer 404 and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from crmbridge.domain.entities import ENTITY_TYPES
from crmbridge.services import custom_fields, factories
from crmbridge.services.access import CLI_PRINCIPAL
from crmbridge.store.repositories.change_log import count_changes
from crmbridge.store.repositories.records import count_records
from crmbridge.web.testing import ApiWorld


def _state(api: ApiWorld, tenant: str) -> tuple[Any, ...]:
    """Everything of ``tenant`` an API call could change, as comparable values."""
    headers = api.headers_for("SUPER_ADMIN", tenant)
    with api.session() as session:
        counts = (count_records(session, tenant), count_changes(session, tenant))
    return (
        counts,
        api.client.get("/api/v1/users", headers=headers).json(),
        api.client.get("/api/v1/api-keys", headers=headers).json(),
        api.client.get("/api/v1/custom-fields", headers=headers).json(),
        [
            api.client.get(f"/api/v1/{e.plural}", headers=headers).json()
            for e in ENTITY_TYPES.values()
        ],
    )


@pytest.fixture
def two_tenants(api: ApiWorld) -> dict[str, Any]:
    with api.session_factory.begin() as session:
        mine = factories.create_tenant(session, name="Mine")
        theirs = factories.create_tenant(session, name="Theirs")
        records = {
            name: factories.create_record(session, tenant_id=theirs.id, entity_type=name).id
            for name in ENTITY_TYPES
        }
        user = factories.create_user(session, tenant_id=theirs.id)
        key = factories.create_api_key(session, tenant_id=theirs.id)
        field = custom_fields.create_definition(
            session,
            CLI_PRINCIPAL,
            tenant_id=theirs.id,
            attributes={"entity_type": "member", "name": "votes", "type": "integer"},
        )
        return {
            "mine": mine.id,
            "theirs": theirs.id,
            "records": records,
            "user": user.id,
            "key": key.record.id,
            "field": field.id,
        }


def _foreign_calls(ids: dict[str, Any], *, admin: bool) -> list[tuple[str, str, Any]]:
    calls: list[tuple[str, str, Any]] = []
    for name, record_id in ids["records"].items():
        plural = ENTITY_TYPES[name].plural
        calls += [
            ("GET", f"/api/v1/{plural}/{record_id}", None),
            ("PATCH", f"/api/v1/{plural}/{record_id}", {}),
            ("DELETE", f"/api/v1/{plural}/{record_id}", None),
        ]
    if not admin:
        # Staff may not manage users, keys or fields at all (403 before any lookup).
        return calls
    calls += [
        ("GET", f"/api/v1/users/{ids['user']}", None),
        ("PATCH", f"/api/v1/users/{ids['user']}", {"name": "pwned"}),
        ("DELETE", f"/api/v1/users/{ids['user']}", None),
        ("DELETE", f"/api/v1/api-keys/{ids['key']}", None),
        ("GET", f"/api/v1/custom-fields/{ids['field']}", None),
        ("PATCH", f"/api/v1/custom-fields/{ids['field']}", {"label": "pwned"}),
        ("DELETE", f"/api/v1/custom-fields/{ids['field']}", None),
    ]
    return calls


@pytest.mark.parametrize("role", ["CLIENT_ADMIN", "CLIENT_STAFF", "SUPER_ADMIN"])
def test_other_tenants_ids_answer_404_and_change_nothing(
    api: ApiWorld, two_tenants: dict[str, Any], role: str
) -> None:
    before = _state(api, two_tenants["theirs"])
    headers = api.headers_for(role, two_tenants["mine"])
    for method, path, body in _foreign_calls(two_tenants, admin=role != "CLIENT_STAFF"):
        response = api.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert _state(api, two_tenants["theirs"]) == before


def test_lists_show_only_the_callers_tenant(api: ApiWorld, two_tenants: dict[str, Any]) -> None:
    headers = api.headers_for("CLIENT_ADMIN", two_tenants["mine"])
    for entity in ENTITY_TYPES.values():
        assert api.client.get(f"/api/v1/{entity.plural}", headers=headers).json()["items"] == []
    assert api.client.get("/api/v1/users", headers=headers).json() == []
    assert api.client.get("/api/v1/custom-fields", headers=headers).json() == []
    audit = api.client.get("/api/v1/audit-log", headers=headers).json()
    assert all(e["tenant_id"] == two_tenants["mine"] for e in audit)


def test_references_to_another_tenants_records_are_rejected_like_unknown_ids(
    api: ApiWorld, two_tenants: dict[str, Any]
) -> None:
    headers = api.headers_for("CLIENT_STAFF", two_tenants["mine"])
    foreign_org = two_tenants["records"]["organization"]
    response = api.client.post(
        "/api/v1/members",
        json={"first_name": "A", "last_name": "B", "organization_id": foreign_org},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "organization_id", "message": "no organization with this id"}
    ]


def test_naming_another_tenant_in_the_header_answers_404(
    api: ApiWorld, two_tenants: dict[str, Any]
) -> None:
    headers = {
        **api.headers_for("CLIENT_ADMIN", two_tenants["mine"]),
        "X-Crmbridge-Tenant": two_tenants["theirs"],
    }
    assert api.client.get("/api/v1/members", headers=headers).status_code == 404
