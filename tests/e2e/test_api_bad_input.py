"""Bad input gets a clear 4xx problem and writes nothing (SPEC section 13)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from crmbridge.store.repositories.audit import list_audit_entries
from crmbridge.store.repositories.change_log import count_changes
from crmbridge.store.repositories.records import count_records
from crmbridge.web.testing import ApiWorld


@pytest.fixture
def world(api: ApiWorld) -> Iterator[tuple[ApiWorld, str, dict[str, str]]]:
    tenant = api.new_tenant()
    return api, tenant, api.headers_for("CLIENT_ADMIN", tenant)


def _counts(api: ApiWorld, tenant: str) -> tuple[int, int, int]:
    with api.session() as session:
        return (
            count_records(session, tenant),
            count_changes(session, tenant),
            len(list_audit_entries(session, tenant_id=tenant)),
        )


def _assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:crmbridge:problem:")
    assert body["title"]
    assert body["detail"]
    return body


MEMBER = {"first_name": "Ada", "last_name": "Lovelace"}

BAD_MEMBER_BODIES = [
    ({**MEMBER, "email_opt_in": "yes"}, {"email_opt_in"}),
    ({**MEMBER, "member_since": "31/01/2024"}, {"member_since"}),
    ({**MEMBER, "shoe_size": 42}, {"shoe_size"}),
    ({**MEMBER, "id": "chosen-by-me"}, {"id"}),
    ({**MEMBER, "salesforce_id": "003000000000001AAA"}, {"salesforce_id"}),
    ({**MEMBER, "membership_status": "GOLD"}, {"membership_status"}),
    ({**MEMBER, "last_name": "x" * 81}, {"last_name"}),
    ({**MEMBER, "tags": ["vip"]}, {"tags"}),
    ({**MEMBER, "organization_id": "00000000-0000-0000-0000-000000000000"}, {"organization_id"}),
    ({"first_name": 5}, {"first_name", "last_name"}),
]


@pytest.mark.parametrize(("body", "fields"), BAD_MEMBER_BODIES)
def test_invalid_record_bodies_get_422_with_every_field_named(
    world: tuple[ApiWorld, str, dict[str, str]], body: dict[str, Any], fields: set[str]
) -> None:
    api, tenant, headers = world
    before = _counts(api, tenant)
    problem = _assert_problem(api.client.post("/api/v1/members", json=body, headers=headers), 422)
    assert {e["field"] for e in problem["errors"]} == fields
    assert all(e["message"] for e in problem["errors"])
    assert _counts(api, tenant) == before


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"first_name": "Ada",', 400),
        (b"not json at all", 400),
        (b"\xff\xfe", 400),
        (b"[1, 2, 3]", 422),
        (b'"a string"', 422),
        (b"", 422),
    ],
)
def test_malformed_bodies_are_refused(
    world: tuple[ApiWorld, str, dict[str, str]], raw: bytes, status: int
) -> None:
    api, tenant, headers = world
    before = _counts(api, tenant)
    response = api.client.post(
        "/api/v1/members", content=raw, headers={**headers, "Content-Type": "application/json"}
    )
    _assert_problem(response, status)
    assert _counts(api, tenant) == before


def test_invalid_json_on_pydantic_endpoints_is_400(
    world: tuple[ApiWorld, str, dict[str, str]],
) -> None:
    api, _tenant, headers = world
    response = api.client.post(
        "/api/v1/users", content=b"{oops", headers={**headers, "Content-Type": "application/json"}
    )
    assert _assert_problem(response, 400)["type"].endswith("invalid-json")


def test_oversize_payloads_get_413_and_write_nothing(
    world: tuple[ApiWorld, str, dict[str, str]],
) -> None:
    api, tenant, headers = world
    before = _counts(api, tenant)
    huge = {**MEMBER, "title": "x" * (70 * 1024)}  # test limit: 64 KiB
    problem = _assert_problem(api.client.post("/api/v1/members", json=huge, headers=headers), 413)
    assert problem["type"] == "urn:crmbridge:problem:payload-too-large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream is counted
        yield b'{"first_name": "A", "last_name": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}'

    response = api.client.post(
        "/api/v1/members", content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert _assert_problem(response, 413)["type"].endswith("payload-too-large")
    users = api.client.post(
        "/api/v1/users",
        json={"email": "a@example.com", "role": "CLIENT_STAFF", "name": "n" * 70_000},
        headers=headers,
    )
    _assert_problem(users, 413)
    assert _counts(api, tenant) == before


def test_user_endpoint_validation(world: tuple[ApiWorld, str, dict[str, str]]) -> None:
    api, tenant, headers = world
    before = _counts(api, tenant)
    cases = [
        ({"email": "a@example.com", "role": "CLIENT_STAFF", "admin": True}, "admin"),
        ({"email": "not-an-email", "role": "CLIENT_STAFF"}, "email"),
        ({"email": "a@example.com", "role": "GOD"}, "role"),
        ({"email": "a@example.com", "role": "CLIENT_STAFF", "password": "short"}, "password"),
        ({"email": ["a@example.com"], "role": "CLIENT_STAFF"}, "email"),
    ]
    for body, field in cases:
        problem = _assert_problem(api.client.post("/api/v1/users", json=body, headers=headers), 422)
        assert field in {e["field"] for e in problem["errors"]}, body
    assert _counts(api, tenant) == before


def test_duplicates_are_409_and_write_nothing(world: tuple[ApiWorld, str, dict[str, str]]) -> None:
    api, tenant, headers = world
    body = {"email": "dup@example.com", "role": "CLIENT_STAFF"}
    assert api.client.post("/api/v1/users", json=body, headers=headers).status_code == 201
    before = _counts(api, tenant)
    upper = {**body, "email": "DUP@example.com"}
    _assert_problem(api.client.post("/api/v1/users", json=upper, headers=headers), 409)
    field = {"entity_type": "member", "name": "votes", "type": "integer"}
    assert api.client.post("/api/v1/custom-fields", json=field, headers=headers).status_code == 201
    before = _counts(api, tenant)
    _assert_problem(api.client.post("/api/v1/custom-fields", json=field, headers=headers), 422)
    assert _counts(api, tenant) == before


def test_stale_versions_are_409_and_write_nothing(
    world: tuple[ApiWorld, str, dict[str, str]],
) -> None:
    api, tenant, headers = world
    record = api.client.post("/api/v1/members", json=MEMBER, headers=headers).json()
    path = f"/api/v1/members/{record['id']}"
    api.client.patch(path, json={"title": "Dr"}, headers=headers)
    before = _counts(api, tenant)
    body = _assert_problem(
        api.client.patch(path, json={"title": "Prof", "version": 1}, headers=headers), 409
    )
    assert "version 2" in body["detail"]
    _assert_problem(api.client.delete(path, headers={**headers, "If-Match": '"1"'}), 409)
    _assert_problem(api.client.patch(path, json={"version": "2"}, headers=headers), 422)
    _assert_problem(api.client.patch(path, json={}, headers={**headers, "If-Match": "abc"}), 422)
    assert _counts(api, tenant) == before
    assert api.client.get(path, headers=headers).json()["title"] == "Dr"


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=eyJzIjoieCJ9.AAAA",
        "limit=0",
        "limit=100000",
        "limit=ten",
        "updated_since=yesterday",
        "updated_since=2025-01-01T00:00:00",
        "include_deleted=maybe",
    ],
)
def test_bad_list_parameters_are_422(
    world: tuple[ApiWorld, str, dict[str, str]], query: str
) -> None:
    api, _tenant, headers = world
    problem = _assert_problem(api.client.get(f"/api/v1/members?{query}", headers=headers), 422)
    assert problem["errors"]


def test_tampered_or_foreign_cursors_are_rejected(
    world: tuple[ApiWorld, str, dict[str, str]],
) -> None:
    api, _tenant, headers = world
    for _ in range(3):
        api.client.post("/api/v1/members", json=MEMBER, headers=headers)
        api.client.post("/api/v1/leads", json={"last_name": "L"}, headers=headers)
    cursor = api.client.get("/api/v1/members?limit=1", headers=headers).json()["next_cursor"]
    assert cursor
    assert api.client.get(f"/api/v1/members?cursor={cursor}", headers=headers).status_code == 200
    body, _, sig = cursor.partition(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + sig
    for bad in (tampered, cursor + "x"):
        problem = _assert_problem(
            api.client.get(f"/api/v1/members?cursor={bad}", headers=headers), 422
        )
        assert problem["errors"][0]["field"] == "cursor"
    # A members cursor is not valid for leads, nor with other filters.
    _assert_problem(api.client.get(f"/api/v1/leads?cursor={cursor}", headers=headers), 422)
    _assert_problem(
        api.client.get(f"/api/v1/members?cursor={cursor}&include_deleted=true", headers=headers),
        422,
    )


def test_unknown_routes_and_methods_are_problems(
    world: tuple[ApiWorld, str, dict[str, str]],
) -> None:
    api, _tenant, headers = world
    _assert_problem(api.client.get("/api/v1/unicorns", headers=headers), 404)
    response = api.client.put("/api/v1/members", json={}, headers=headers)
    _assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_problem_bodies_are_json_serialisable_examples(
    world: tuple[ApiWorld, str, dict[str, str]],
) -> None:
    api, _tenant, headers = world
    body = api.client.post("/api/v1/members", json={}, headers=headers).json()
    assert json.loads(json.dumps(body)) == body
    assert body["instance"] == "/api/v1/members"
