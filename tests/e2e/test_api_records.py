"""Records: pagination, updated-since, custom fields, hierarchy, OpenAPI and health."""

from __future__ import annotations

import time

from crmbridge.domain.entities import ENTITY_TYPES
from crmbridge.web.testing import ApiWorld


def test_cursor_pagination_visits_every_record_once_in_change_order(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    headers = api.headers_for("CLIENT_STAFF", tenant)
    ids = [
        api.client.post("/api/v1/teams", json={"name": f"T{i}"}, headers=headers).json()["id"]
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(f"/api/v1/teams?{query}", headers=headers).json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3


def test_updated_since_returns_records_changed_at_or_after(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    headers = api.headers_for("CLIENT_STAFF", tenant)
    old = api.client.post("/api/v1/teams", json={"name": "old"}, headers=headers).json()
    time.sleep(0.01)
    new = api.client.post("/api/v1/teams", json={"name": "new"}, headers=headers).json()
    since = new["updated_at"]
    page = api.client.get("/api/v1/teams", params={"updated_since": since}, headers=headers)
    assert [r["id"] for r in page.json()["items"]] == [new["id"]]
    api.client.patch(f"/api/v1/teams/{old['id']}", json={"name": "old!"}, headers=headers)
    page = api.client.get("/api/v1/teams", params={"updated_since": since}, headers=headers)
    assert [r["id"] for r in page.json()["items"]] == [new["id"], old["id"]]


def test_deleted_records_are_listed_only_on_request(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    headers = api.headers_for("CLIENT_STAFF", tenant)
    team = api.client.post("/api/v1/teams", json={"name": "gone"}, headers=headers).json()
    api.client.delete(f"/api/v1/teams/{team['id']}", headers=headers)
    assert api.client.get("/api/v1/teams", headers=headers).json()["items"] == []
    listed = api.client.get("/api/v1/teams?include_deleted=true", headers=headers).json()
    assert listed["items"][0]["deleted_at"] is not None


def test_custom_fields_are_ordinary_fields_of_the_record(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    field = api.client.post(
        "/api/v1/custom-fields",
        json={
            "entity_type": "member",
            "name": "shirt_size",
            "type": "picklist",
            "values": ["S", "M", "L"],
            "label": "Shirt size",
        },
        headers=admin,
    )
    assert field.status_code == 201, field.text
    member = api.client.post(
        "/api/v1/members",
        json={"first_name": "A", "last_name": "B", "shirt_size": "M"},
        headers=admin,
    ).json()
    assert member["shirt_size"] == "M"
    bad = api.client.post(
        "/api/v1/members",
        json={"first_name": "A", "last_name": "B", "shirt_size": "XXL"},
        headers=admin,
    )
    assert bad.status_code == 422
    described = api.client.get("/api/v1/entity-types/member", headers=admin).json()
    custom = [f for f in described["fields"] if f["custom"]]
    assert [(f["name"], f["values"]) for f in custom] == [("shirt_size", ["S", "M", "L"])]
    api.client.patch(
        f"/api/v1/custom-fields/{field.json()['id']}",
        json={"values": ["S", "M", "L", "XXL"]},
        headers=admin,
    )
    again = api.client.post(
        "/api/v1/members",
        json={"first_name": "A", "last_name": "B", "shirt_size": "XXL"},
        headers=admin,
    )
    assert again.status_code == 201
    renamed_type = api.client.patch(
        f"/api/v1/custom-fields/{field.json()['id']}", json={"type": "string"}, headers=admin
    )
    assert renamed_type.status_code == 422  # name and type are fixed once created


def test_organization_hierarchy_refuses_cycles(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    headers = api.headers_for("CLIENT_STAFF", tenant)
    root = api.client.post("/api/v1/organizations", json={"name": "HQ"}, headers=headers).json()
    child = api.client.post(
        "/api/v1/organizations", json={"name": "Branch", "parent_id": root["id"]}, headers=headers
    ).json()
    assert child["parent_id"] == root["id"]
    cycle = api.client.patch(
        f"/api/v1/organizations/{root['id']}", json={"parent_id": child["id"]}, headers=headers
    )
    assert cycle.status_code == 422
    assert cycle.json()["errors"][0]["field"] == "parent_id"
    member = api.client.post(
        "/api/v1/members",
        json={"first_name": "A", "last_name": "B", "organization_id": child["id"]},
        headers=headers,
    )
    assert member.status_code == 201


def test_openapi_has_a_schema_per_entity_type(api: ApiWorld) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name in ("Member", "MemberCreate", "MemberUpdate", "MemberPage", "EventRegistration"):
        assert name in schemas
    assert schemas["LeadCreate"]["properties"]["status"]["enum"][0] == "NEW"
    assert "last_name" in schemas["LeadCreate"]["required"]
    for entity in ENTITY_TYPES.values():
        assert f"/api/v1/{entity.plural}" in document["paths"]
        assert f"/api/v1/{entity.plural}/{{record_id}}" in document["paths"]


def test_health_and_readiness(api: ApiWorld) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json()["database"] == "ok"
