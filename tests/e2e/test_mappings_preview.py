"""Preview: what a record becomes on the other side, field by field, creating nothing."""

from __future__ import annotations

import uuid
from typing import Any

from crmbridge.mappings.testing import MappingWorld, emulator_client
from crmbridge.salesforce import soql

MAPPINGS = "/api/v1/mappings"


def _install(world: MappingWorld, entity: str, sobject: str) -> str:
    response = world.api.client.post(
        f"{MAPPINGS}/defaults/install",
        json={"pairs": [{"platform_entity": entity, "salesforce_object": sobject}]},
        headers=world.headers(),
    )
    assert response.status_code == 200, response.text
    return str(response.json()[0]["mapping"]["id"])


def _field(preview: dict[str, Any], target: str) -> dict[str, Any]:
    return next(f for f in preview["fields"] if target in f["target_fields"])


def test_a_stored_lead_previews_with_the_seed_004_status_mapping(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    mapping_id = _install(mapping_api, "lead", "Lead")
    lead = client.post(
        "/api/v1/leads",
        json={
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@example.org",
            "status": "PROPOSAL_SENT",
            "source": "web",
        },
        headers=admin,
    )
    assert lead.status_code == 201, lead.text
    preview = client.post(
        f"{MAPPINGS}/{mapping_id}/preview", json={"record_id": lead.json()["id"]}, headers=admin
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["direction"] == "to_salesforce"
    assert body["source"] == {"kind": "platform_record", "id": lead.json()["id"]}
    assert body["errors"] == {}
    assert body["values"]["Status"] == "Proposal Sent"
    assert body["values"]["LeadSource"] == "Web"  # value maps ignore case here
    assert body["values"]["Company"] == "[not provided]"  # Lead.Company is required
    status = _field(body, "Status")
    assert status["input"] == "PROPOSAL_SENT"
    assert [(s["kind"], s["input"], s["output"]) for s in status["steps"]] == [
        ("value_map", "PROPOSAL_SENT", "Proposal Sent")
    ]
    assert body["salesforce_body"]["Status"] == "Proposal Sent"
    assert body["would_create"] == []


def test_every_seed_004_status_previews_inline(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    mapping_id = _install(mapping_api, "lead", "Lead")
    seed_table = {
        "NEW": "New",
        "CONTACTED": "Contacted",
        "QUALIFIED": "Qualified",
        "PROPOSAL_SENT": "Proposal Sent",
        "NEGOTIATION": "Negotiating",
        "CONVERTED": "Closed Won",
        "LOST": "Closed Lost",
    }
    for platform, salesforce in seed_table.items():
        record = {"last_name": "Lovelace", "company": "Analytical", "status": platform}
        body = client.post(
            f"{MAPPINGS}/{mapping_id}/preview", json={"record": record}, headers=admin
        ).json()
        assert body["source"] == {"kind": "inline"}
        assert body["values"]["Status"] == salesforce, platform


def test_a_salesforce_lead_previews_back_to_a_platform_lead(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    mapping_id = _install(mapping_api, "lead", "Lead")
    with emulator_client(mapping_api.info) as sf:
        won = sf.create(
            "Lead",
            {
                "LastName": "Turing",
                "Company": "Bletchley",
                "Status": "Closed Won",
                "LeadSource": "Phone Inquiry",
            },
        )
        standard = sf.create(
            "Lead", {"LastName": "Babbage", "Company": "Engines", "Status": "Open - Not Contacted"}
        )
    body = client.post(
        f"{MAPPINGS}/{mapping_id}/preview", json={"salesforce_id": won}, headers=admin
    ).json()
    assert body["direction"] == "to_platform"
    assert body["source"] == {"kind": "salesforce_record", "id": won}
    assert body["record"]["Status"] == "Closed Won"
    assert body["values"]["status"] == "CONVERTED"
    assert body["values"]["source"] == "PHONE"
    assert body["values"]["last_name"] == "Turing"
    assert _field(body, "status")["steps"][0]["output"] == "CONVERTED"
    back = client.post(
        f"{MAPPINGS}/{mapping_id}/preview", json={"salesforce_id": standard[:15]}, headers=admin
    ).json()
    assert back["values"]["status"] == "NEW"  # Salesforce's standard status comes back too


def test_a_lookup_in_a_preview_says_what_it_would_create_and_creates_nothing(
    mapping_api: MappingWorld,
) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    mapping_id = _install(mapping_api, "member", "Contact")
    company = f"Previewco {uuid.uuid4().hex[:8]}"
    record = {"first_name": "Ada", "last_name": "Lovelace", "company": company}
    body = client.post(
        f"{MAPPINGS}/{mapping_id}/preview", json={"record": record}, headers=admin
    ).json()
    assert body["would_create"] == [f"Account with Name {company!r}"]
    account = _field(body, "AccountId")
    assert account["steps"][0]["notes"] == [
        f"no Account with Name {company!r} yet: it would be created"
    ]
    assert account["error"] is None
    with emulator_client(mapping_api.info) as sf:
        select = soql.Select(
            sobject="Account",
            fields=("Name",),
            where=soql.Comparison(field="Name", operator="=", value=company),
        )
        assert list(sf.query(select.to_soql())) == []
        existing = sf.create("Account", {"Name": company})
    found = client.post(
        f"{MAPPINGS}/{mapping_id}/preview", json={"record": record}, headers=admin
    ).json()
    assert found["values"]["AccountId"] == existing
    assert found["would_create"] == []


def test_a_draft_previews_before_it_is_saved(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    draft = {
        "platform_entity": "member",
        "salesforce_object": "Contact",
        "fields": [
            {"platform_field": "last_name", "salesforce_field": "LastName"},
            {
                "salesforce_field": "Description",
                "kind": "formula",
                "direction": "to_salesforce",
                "formula": 'UPPER(first_name) & " " & last_name',
            },
        ],
    }
    body = client.post(
        f"{MAPPINGS}/preview",
        json={"mapping": draft, "record": {"first_name": "ada", "last_name": "Lovelace"}},
        headers=admin,
    )
    assert body.status_code == 200, body.text
    assert body.json()["values"] == {"LastName": "Lovelace", "Description": "ADA Lovelace"}
    assert client.get(MAPPINGS, headers=admin).json() == []


def test_previews_that_cannot_run_say_why(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    mapping_id = _install(mapping_api, "lead", "Lead")
    url = f"{MAPPINGS}/{mapping_id}/preview"
    both = client.post(url, json={"record": {}, "salesforce_id": "00Q000000000001"}, headers=admin)
    assert both.status_code == 422
    none = client.post(url, json={}, headers=admin)
    assert none.status_code == 422
    missing = client.post(url, json={"record_id": str(uuid.uuid4())}, headers=admin)
    assert missing.status_code == 404
    absent = client.post(url, json={"salesforce_id": "00Q000000000001AAA"}, headers=admin)
    assert absent.status_code == 404
    malformed = client.post(url, json={"salesforce_id": "x'; DROP"}, headers=admin)
    assert malformed.status_code == 422
    outbound_only = _install(mapping_api, "referral", "Lead")
    inbound = client.post(
        f"{MAPPINGS}/{outbound_only}/preview",
        json={"salesforce_id": "00Q000000000001AAA"},
        headers=admin,
    )
    assert inbound.status_code == 422
    assert inbound.json()["type"] == "urn:crmbridge:problem:preview-not-possible"
