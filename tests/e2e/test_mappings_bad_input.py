"""Bad mapping input gets a clear 422 (or 400/413) and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from crmbridge.domain.mapping import default_object_mapping
from crmbridge.mappings.testing import MappingWorld
from crmbridge.store.models import AuditLogEntry
from crmbridge.store.repositories import mappings as repo

M = "/api/v1/mappings"


def _lead() -> dict[str, Any]:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    return mapping.to_dict()


def _with_field(field: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**_lead(), "fields": [*_lead()["fields"], field], **changes}


def _rows(world: MappingWorld) -> tuple[int, int, int]:
    with world.api.session_factory() as session:
        audit = session.scalar(sa.select(sa.func.count()).select_from(AuditLogEntry))
        return (
            repo.count_mappings(session),
            repo.count_versions(session),
            int(audit or 0),
        )


BAD_DEFINITIONS = [
    pytest.param(
        _with_field({"platform_field": "first_name", "salesforce_field": "First_Name"}),
        ("unknown_field", "First_Name"),
        "Lead has no field First_Name (did you mean FirstName",
        id="unknown-salesforce-field",
    ),
    pytest.param(
        _with_field({"platform_field": "frist_name", "salesforce_field": "Title"}),
        ("unknown_platform_field", "frist_name"),
        "did you mean first_name",
        id="unknown-platform-field",
    ),
    pytest.param(
        _with_field(
            {
                "platform_field": "first_name",
                "salesforce_field": "Title",
                "direction": "to_salesforce",
                "kind": "transform",
                "steps": [{"kind": "value_map", "params": {"pairs": "NEW=New"}}],
            }
        ),
        ("invalid_definition", "fields[17].steps[0].params.pairs"),
        "",
        id="bad-transform-params",
    ),
    pytest.param(
        _with_field(
            {
                "platform_field": "first_name",
                "salesforce_field": "Title",
                "kind": "transform",
                "steps": [{"kind": "uppercase"}],
            }
        ),
        ("invalid_definition", "fields[17].steps[0].kind"),
        "must be one of",
        id="unknown-step-kind",
    ),
    pytest.param(
        _with_field(
            {
                "salesforce_field": "Title",
                "kind": "formula",
                "direction": "to_salesforce",
                "formula": "LEFT(first_name,, 3)",
            }
        ),
        ("invalid_definition", "fields[17].formula"),
        "unexpected ','",
        id="bad-formula",
    ),
    pytest.param(
        {**_lead(), "platform_entity": "customer"},
        ("invalid_definition", "platform_entity"),
        "there is no platform entity 'customer'",
        id="unknown-entity",
    ),
    pytest.param(
        {**_lead(), "salesforce_object": "Leed"},
        ("unknown_object", "salesforce_object"),
        "the org has no object 'Leed'",
        id="unknown-object",
    ),
]


@pytest.mark.parametrize(("definition", "error", "text"), BAD_DEFINITIONS)
def test_a_bad_mapping_is_a_422_naming_the_field_and_the_fix_and_nothing_is_saved(
    mapping_api: MappingWorld, definition: dict[str, Any], error: tuple[str, str], text: str
) -> None:
    before = _rows(mapping_api)
    response = mapping_api.api.client.post(M, json=definition, headers=mapping_api.headers())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:crmbridge:problem:invalid-mapping"
    assert "nothing was saved" in problem["detail"]
    assert error in [(e["code"], e["field"]) for e in problem["errors"]]
    item = next(e for e in problem["errors"] if (e["code"], e["field"]) == error)
    assert text in item["message"]
    assert item["fix"]
    assert _rows(mapping_api) == before


def test_a_bad_formula_names_the_token_and_its_position(mapping_api: MappingWorld) -> None:
    definition = _with_field(
        {
            "salesforce_field": "Title",
            "kind": "formula",
            "direction": "to_salesforce",
            "formula": 'first_name & & "x"',
        }
    )
    response = mapping_api.api.client.post(M, json=definition, headers=mapping_api.headers())
    assert response.status_code == 422
    (item,) = response.json()["errors"]
    assert item["field"] == "fields[17].formula"
    assert "unexpected '&'" in item["message"]
    assert "(line 1, column 14)" in item["message"]


def test_a_bad_update_leaves_the_stored_version_as_it_was(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    created = client.post(M, json=_lead(), headers=admin).json()
    before = _rows(mapping_api)
    bad = _with_field({"platform_field": "first_name", "salesforce_field": "Nope__c"})
    for method in ("PUT", "PATCH"):
        body = bad if method == "PUT" else {"fields": bad["fields"]}
        response = client.request(method, f"{M}/{created['id']}", json=body, headers=admin)
        assert response.status_code == 422, response.text
    after = client.get(f"{M}/{created['id']}", headers=admin).json()
    assert after["version"] == 1
    assert after["definition"] == created["definition"]
    assert _rows(mapping_api) == before


SHAPE_ERRORS = [
    pytest.param({**_lead(), "colour": "blue"}, "colour", id="unknown-attribute"),
    pytest.param(
        _with_field({"platform_field": "first_name", "salesforce_field": "Title", "colour": 1}),
        "fields.17.colour",
        id="unknown-field-attribute",
    ),
    pytest.param({**_lead(), "direction": "sideways"}, "direction", id="bad-direction"),
    pytest.param({**_lead(), "fields": "first_name"}, "fields", id="fields-not-a-list"),
    pytest.param(
        {**_lead(), "salesforce_object": "Lead; DROP"}, "salesforce_object", id="bad-name"
    ),
    pytest.param(
        _with_field({"salesforce_field": "Title", "kind": "formula", "formula": "x" * 5001}),
        "fields.17.formula",
        id="formula-too-long",
    ),
    pytest.param(
        {**_lead(), "fields": [{"platform_field": "a", "salesforce_field": "B"}] * 501},
        "fields",
        id="too-many-fields",
    ),
    pytest.param({**_lead(), "filter_name": "Not Allowed!"}, "filter_name", id="bad-filter-name"),
]


@pytest.mark.parametrize(("definition", "field"), SHAPE_ERRORS)
def test_a_body_of_the_wrong_shape_is_a_422_and_nothing_is_saved(
    mapping_api: MappingWorld, definition: dict[str, Any], field: str
) -> None:
    before = _rows(mapping_api)
    response = mapping_api.api.client.post(M, json=definition, headers=mapping_api.headers())
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert _rows(mapping_api) == before


def test_an_oversized_body_is_413_and_invalid_json_400(mapping_api: MappingWorld) -> None:
    before = _rows(mapping_api)
    huge = _with_field(
        {"salesforce_field": "Title", "kind": "formula", "direction": "to_salesforce"},
        platform_filter={"field": "company", "op": "eq", "value": "x" * (70 * 1024)},
    )
    too_big = mapping_api.api.client.post(M, json=huge, headers=mapping_api.headers())
    assert too_big.status_code == 413
    broken = mapping_api.api.client.post(
        M,
        content=b'{"platform_entity": "lead",',
        headers={**mapping_api.headers(), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["type"] == "urn:crmbridge:problem:invalid-json"
    assert _rows(mapping_api) == before


def test_a_malformed_if_match_is_a_400(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    created = client.post(M, json=_lead(), headers=admin).json()
    response = client.patch(
        f"{M}/{created['id']}", json={"enabled": False}, headers={**admin, "If-Match": "latest"}
    )
    assert response.status_code == 400
    assert client.get(f"{M}/{created['id']}", headers=admin).json()["version"] == 1


def test_suggestions_that_are_not_field_mappings_are_refused(mapping_api: MappingWorld) -> None:
    client, admin = mapping_api.api.client, mapping_api.headers()
    created = client.post(M, json=_lead(), headers=admin).json()
    before = _rows(mapping_api)
    response = client.post(
        f"{M}/{created['id']}/suggestions/accept",
        json={"fields": [{"platform_field": "first_name", "kind": "direct"}]},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("fields[0]")
    assert _rows(mapping_api) == before
