"""Platform fields the defaults send to Salesforce are no longer than the Salesforce fields.

Over-long values are refused at the platform API with a 422 naming the field, instead
of failing when the record syncs (Email holds 80 characters, URL fields 255,
Referral_Source_Note__c 1,000).
"""

from __future__ import annotations

from typing import Any

import pytest

from crmbridge.store.repositories.records import count_records
from crmbridge.web.testing import ApiWorld


def _program(api: ApiWorld, headers: dict[str, str]) -> str:
    response = api.client.post("/api/v1/programs", json={"name": "Friends"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _count(api: ApiWorld, tenant: str) -> int:
    with api.session() as session:
        return count_records(session, tenant)


EMAIL_80 = "a" * 68 + "@example.org"
URL_255 = "https://example.org/" + "p" * 235
NOTE_1000 = "n" * 1000


@pytest.mark.parametrize(
    ("collection", "base", "field", "fitting", "limit"),
    [
        ("members", {"first_name": "A", "last_name": "B"}, "email", EMAIL_80, 80),
        ("leads", {"last_name": "B"}, "email", EMAIL_80, 80),
        ("organizations", {"name": "Acme"}, "website", URL_255, 255),
        ("referrals", {"last_name": "B"}, "email", EMAIL_80, 80),
        ("referrals", {"last_name": "B"}, "member_url", URL_255, 255),
        ("referrals", {"last_name": "B"}, "referral_url", URL_255, 255),
        ("referrals", {"last_name": "B"}, "source_note", NOTE_1000, 1000),
    ],
)
def test_values_longer_than_the_salesforce_field_are_refused_with_a_422(
    api: ApiWorld, collection: str, base: dict[str, Any], field: str, fitting: str, limit: int
) -> None:
    assert len(fitting) == limit
    tenant = api.new_tenant()
    headers = api.headers_for("CLIENT_ADMIN", tenant)
    if collection == "referrals":
        base = {**base, "program_id": _program(api, headers)}
    before = _count(api, tenant)
    # One character more, still well formed (an e-mail grows before its "@").
    too_long = fitting.replace("@", "a@", 1) if "@" in fitting else fitting + "x"
    response = api.client.post(
        f"/api/v1/{collection}", json={**base, field: too_long}, headers=headers
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert str(limit) in errors[0]["message"]
    assert _count(api, tenant) == before

    accepted = api.client.post(
        f"/api/v1/{collection}", json={**base, field: fitting}, headers=headers
    )
    assert accepted.status_code == 201, accepted.text
