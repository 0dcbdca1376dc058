"""The API answers the basic record life cycle end to end."""

from __future__ import annotations

from crmbridge.web.testing import ApiWorld


def test_member_life_cycle(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    headers = api.headers_for("CLIENT_STAFF", tenant)
    created = api.client.post(
        "/api/v1/members", json={"first_name": "Ada", "last_name": "Lovelace"}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["sync_status"] == "pending"
    assert body["salesforce_id"] is None
    assert created.headers["etag"] == '"1"'
    rid = body["id"]
    got = api.client.get(f"/api/v1/members/{rid}", headers=headers)
    assert got.json()["first_name"] == "Ada"
    patched = api.client.patch(
        f"/api/v1/members/{rid}", json={"phone": "+1 555 0100", "version": 1}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    stale = api.client.patch(
        f"/api/v1/members/{rid}",
        json={"phone": "+1 555 0101"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert stale.status_code == 409
    listed = api.client.get("/api/v1/members", headers=headers)
    assert [r["id"] for r in listed.json()["items"]] == [rid]
    assert api.client.delete(f"/api/v1/members/{rid}", headers=headers).status_code == 204
    assert api.client.get(f"/api/v1/members/{rid}", headers=headers).status_code == 404
