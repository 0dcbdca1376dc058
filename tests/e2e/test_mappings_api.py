"""The mapping API end to end: a tenant connected to an emulated org over HTTPS."""

from __future__ import annotations

from typing import Any

import pytest

from crmbridge.domain.mapping import default_object_mapping, default_object_mappings
from crmbridge.mappings.testing import MappingWorld
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import describes as describe_cache

MAPPINGS = "/api/v1/mappings"


def _lead() -> dict[str, Any]:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    return mapping.to_dict()


def test_a_mapping_lives_through_versions_and_every_change_is_audited(
    mapping_api: MappingWorld,
) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    created = client.post(MAPPINGS, json=_lead(), headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    body = created.json()
    mapping_id = body["id"]
    assert (body["version"], body["issues"], body["changed"]) == (1, [], True)
    me = client.get("/api/v1/me", headers=admin).json()
    assert body["created_by"] == body["updated_by"] == me["label"]  # the API key's name

    got = client.get(f"{MAPPINGS}/{mapping_id}", headers=admin)
    assert got.headers["ETag"] == '"1"'
    assert got.json()["definition"] == body["definition"]

    # PATCH with the version read: a new version.
    patched = client.patch(
        f"{MAPPINGS}/{mapping_id}", json={"enabled": False}, headers={**admin, "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["version"], patched.json()["enabled"]) == (2, False)

    # A writer that read version 1 loses: 409, nothing changes.
    stale = client.put(f"{MAPPINGS}/{mapping_id}", json={**_lead(), "version": 1}, headers=admin)
    assert stale.status_code == 409
    assert stale.json()["type"].endswith(":stale-version")

    # PUT replaces the definition.
    replaced = client.put(
        f"{MAPPINGS}/{mapping_id}",
        json={**_lead(), "delete_policy": "propagate", "version": 2},
        headers=admin,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 3
    assert replaced.json()["definition"]["enabled"] is True

    # The same PUT again changes nothing: no version.
    same = client.put(
        f"{MAPPINGS}/{mapping_id}", json=_lead() | {"delete_policy": "propagate"}, headers=admin
    )
    assert (same.json()["version"], same.json()["changed"]) == (3, False)

    versions = client.get(f"{MAPPINGS}/{mapping_id}/versions", headers=admin).json()
    assert [(v["version"], v["action"], v["changes"]) for v in versions] == [
        (3, "update", ['delete_policy: "archive" → "propagate"', "enabled: false → true"]),
        (2, "update", ["enabled: true → false"]),
        (1, "create", ["created lead ↔ Lead with 17 field mappings"]),
    ]
    first = client.get(f"{MAPPINGS}/{mapping_id}/versions/1", headers=admin).json()
    assert first["definition"] == body["definition"]

    deleted = client.delete(f"{MAPPINGS}/{mapping_id}", headers={**admin, "If-Match": '"3"'})
    assert deleted.status_code == 204
    assert client.get(f"{MAPPINGS}/{mapping_id}", headers=admin).status_code == 404
    history = client.get(f"{MAPPINGS}/{mapping_id}/versions", headers=admin).json()
    assert [v["action"] for v in history] == ["delete", "update", "update", "create"]

    audit = client.get("/api/v1/audit-log", headers=admin).json()
    mapping_entries = [e for e in audit if e["target_type"] == "mapping"]
    assert [e["action"] for e in mapping_entries] == [
        "mapping.delete",
        "mapping.update",
        "mapping.update",
        "mapping.create",
    ]
    assert {e["target_id"] for e in mapping_entries} == {mapping_id}
    assert mapping_entries[2]["after"]["changes"] == ["enabled: true → false"]
    assert mapping_entries[2]["before"]["version"] == 1


def test_a_second_mapping_of_one_pair_is_409_unless_it_has_its_own_filter_name(
    mapping_api: MappingWorld,
) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    assert client.post(MAPPINGS, json=_lead(), headers=admin).status_code == 201
    again = client.post(MAPPINGS, json=_lead(), headers=admin)
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    named = client.post(MAPPINGS, json={**_lead(), "filter_name": "web-leads"}, headers=admin)
    assert named.status_code == 201
    listed = client.get(MAPPINGS, params={"platform_entity": "lead"}, headers=admin).json()
    assert [m["filter_name"] for m in listed] == ["", "web-leads"]


def test_validate_reports_issues_without_saving(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    draft = {
        **_lead(),
        "fields": [
            *_lead()["fields"],
            {
                "platform_field": "first_name",
                "salesforce_field": "Titel",
                "direction": "to_salesforce",
            },
        ],
    }
    checked = client.post(f"{MAPPINGS}/validate", json=draft, headers=admin)
    assert checked.status_code == 200
    body = checked.json()
    assert body["valid"] is False
    assert [(i["code"], i["field"], i["suggestions"]) for i in body["issues"]] == [
        ("unknown_field", "Titel", ["Title"])
    ]
    assert client.get(MAPPINGS, headers=admin).json() == []


def test_every_default_installs_clean_against_the_org_once(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    listed = client.get(f"{MAPPINGS}/defaults", headers=admin).json()
    assert len(listed) == len(default_object_mappings()) == 10
    assert {d["installed_mapping_id"] for d in listed} == {None}

    installed = client.post(f"{MAPPINGS}/defaults/install", json={}, headers=admin)
    assert installed.status_code == 200, installed.text
    outcomes = installed.json()
    assert [o["status"] for o in outcomes] == ["installed"] * 10
    assert [o["issues"] for o in outcomes] == [[]] * 10
    assert {o["mapping"]["version"] for o in outcomes} == {1}

    again = client.post(
        f"{MAPPINGS}/defaults/install",
        json={"pairs": [{"platform_entity": "lead", "salesforce_object": "lead"}]},
        headers=admin,
    )
    assert [o["status"] for o in again.json()] == ["already_installed"]
    assert len(client.get(MAPPINGS, headers=admin).json()) == 10
    assert None not in {
        d["installed_mapping_id"] for d in client.get(f"{MAPPINGS}/defaults", headers=admin).json()
    }


def _org_without_lead_score(world: MappingWorld) -> None:
    """Cache a Lead describe without Lead_Score__c, as an org lacking that field has."""
    from crmbridge.mappings.testing import emulator_client

    with emulator_client(world.info) as client:
        describe = client.describe("Lead")
        org_id = client.tokens.org_id
    describe["fields"] = [f for f in describe["fields"] if f["name"] != "Lead_Score__c"]
    with world.api.session_factory.begin() as session:
        describe_cache.save_describe(
            session,
            tenant_id=world.tenant_id,
            org_id=org_id,
            sobject_name="Lead",
            describe=describe,
            schema_modified_at=None,
            fetched_at=utcnow(),
        )


def test_defaults_with_errors_install_only_as_disabled_drafts(mapping_api: MappingWorld) -> None:
    _org_without_lead_score(mapping_api)
    client, admin = mapping_api.api.client, mapping_api.headers()
    pairs = [
        {"platform_entity": "lead", "salesforce_object": "Lead"},
        {"platform_entity": "organization", "salesforce_object": "Account"},
    ]
    refused = client.post(f"{MAPPINGS}/defaults/install", json={"pairs": pairs}, headers=admin)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"] == "urn:crmbridge:problem:invalid-mapping"
    assert [(e["pair"], e["code"], e["field"]) for e in problem["errors"]] == [
        ("lead ↔ Lead", "unknown_field", "Lead_Score__c")
    ]
    assert client.get(MAPPINGS, headers=admin).json() == []  # nothing installed

    drafts = client.post(
        f"{MAPPINGS}/defaults/install", json={"pairs": pairs, "enabled": False}, headers=admin
    )
    assert drafts.status_code == 200, drafts.text
    by_pair = {o["pair"]: o for o in drafts.json()}
    assert by_pair["lead ↔ Lead"]["mapping"]["enabled"] is False
    assert [i["code"] for i in by_pair["lead ↔ Lead"]["issues"]] == ["unknown_field"]
    assert by_pair["organization ↔ Account"]["issues"] == []
    enable = client.patch(
        f"{MAPPINGS}/{by_pair['lead ↔ Lead']['mapping']['id']}",
        json={"enabled": True},
        headers=admin,
    )
    assert enable.status_code == 422  # cannot be enabled until fixed


@pytest.mark.parametrize(
    ("entity", "sobject", "counts"),
    [
        ("member", "Contact", (8, 6, 5)),
        ("lead", "Lead", (13, 3, 0)),
        ("organization", "Account", (15, 0, 1)),
        ("opportunity", "Opportunity", (6, 0, 3)),
    ],
)
def test_auto_match_counts_on_the_default_schema(
    mapping_api: MappingWorld, entity: str, sobject: str, counts: tuple[int, int, int]
) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    response = client.post(
        f"{MAPPINGS}/auto-match",
        json={"platform_entity": entity, "salesforce_object": sobject},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    matching, partial, unmatched = counts
    assert (
        body["counts"]["matching"],
        body["counts"]["partial"],
        body["counts"]["unmatched"],
    ) == counts
    plural = {1: ""}
    assert body["summary"] == (
        f"Found {matching} matching fields, {partial} partially matching "
        f"field{plural.get(partial, 's')} and {unmatched} unmatched "
        f"field{plural.get(unmatched, 's')}"
    )


def test_auto_match_suggestions_are_the_seed_field_pairs_and_accepted_in_one_call(
    mapping_api: MappingWorld,
) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    minimal = {
        "platform_entity": "member",
        "salesforce_object": "Contact",
        "fields": [{"platform_field": "last_name", "salesforce_field": "LastName"}],
    }
    mapping_id = client.post(MAPPINGS, json=minimal, headers=admin).json()["id"]
    suggested = client.post(
        f"{MAPPINGS}/auto-match",
        json={
            "platform_entity": "member",
            "salesforce_object": "Contact",
            "mapping_id": mapping_id,
        },
        headers=admin,
    ).json()
    pairs = {(s["platform_field"], s["salesforce_field"]) for s in suggested["matching"]}
    assert pairs == {
        ("first_name", "FirstName"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("mobile_phone", "MobilePhone"),
        ("title", "Title"),
        ("membership_status", "Membership_Status__c"),
        ("birthdate", "Birthdate"),
    }  # last_name is mapped already
    status = next(s for s in suggested["matching"] if s["platform_field"] == "membership_status")
    assert status["field_mapping"]["steps"][0]["kind"] == "value_map"

    accepted = client.post(
        f"{MAPPINGS}/{mapping_id}/suggestions/accept", json={"version": 1}, headers=admin
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["version"] == 2
    mapped = {tuple(f["platform_fields"]) for f in body["definition"]["fields"]}
    assert mapped == {("last_name",)} | {(p,) for p, _ in pairs}
    (version,) = [
        v
        for v in client.get(f"{MAPPINGS}/{mapping_id}/versions", headers=admin).json()
        if v["version"] == 2
    ]
    assert sorted(version["changes"]) == sorted(f"added field mapping {p} → {s}" for p, s in pairs)

    # Chosen (edited) suggestions are added as given.
    edited = client.post(
        f"{MAPPINGS}/{mapping_id}/suggestions/accept",
        json={"fields": [{"platform_field": "city", "salesforce_field": "MailingCity"}]},
        headers=admin,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 3


def test_the_editor_sees_each_fields_flags_from_the_describe(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    contact = client.get(f"{MAPPINGS}/salesforce-objects/Contact", headers=admin)
    assert contact.status_code == 200, contact.text
    body = contact.json()
    assert body["source"] == "downloaded"
    fields = {f["name"]: f for f in body["fields"]}
    assert "encrypted" in fields["Member_SSN__c"]["flags"]
    assert fields["Member_SSN__c"]["writable"] is False
    assert "calculated" in fields["Account_Name__c"]["flags"]
    assert fields["Account_Name__c"]["writable"] is False
    assert "relational" in fields["AccountId"]["flags"]
    assert fields["AccountId"]["relationship_name"] == "Account"
    assert "required_on_create" in fields["LastName"]["flags"]
    assert "external_id" in fields["Platform_Id__c"]["flags"]
    tags = fields["Member_Tags__c"]
    assert tags["type"] == "multipicklist"
    assert {v["value"] for v in tags["picklist_values"]} >= {"Membership Active"}

    card = client.get(f"{MAPPINGS}/salesforce-objects/membership_card__c", headers=admin).json()
    card_fields = {f["name"]: f for f in card["fields"]}
    assert card["name"] == "Membership_Card__c"
    assert "create_only" in card_fields["Issued_On__c"]["flags"]
    assert card_fields["Tier__c"]["restricted_picklist"] is True

    again = client.get(f"{MAPPINGS}/salesforce-objects/Contact", headers=admin).json()
    assert again["source"] == "cache"
    refreshed = client.post(f"{MAPPINGS}/salesforce-objects/Contact/refresh", headers=admin)
    assert refreshed.json()["source"] == "downloaded"

    objects = client.get(f"{MAPPINGS}/salesforce-objects", headers=admin).json()
    assert {"Contact", "Lead", "Membership_Card__c"} <= {o["name"] for o in objects}
    assert client.get(f"{MAPPINGS}/salesforce-objects/Nope__c", headers=admin).status_code == 404


def test_a_tenant_without_a_connection_gets_409(mapping_api: MappingWorld) -> None:
    other = mapping_api.api.new_tenant()
    admin = mapping_api.headers(tenant_id=other)
    response = mapping_api.api.client.post(f"{MAPPINGS}/validate", json=_lead(), headers=admin)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:crmbridge:problem:salesforce-not-connected"
    # Reading needs no connection.
    assert mapping_api.api.client.get(MAPPINGS, headers=admin).json() == []
