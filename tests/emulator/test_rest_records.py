"""sObject rows over REST: create, read, update, delete, upsert, and every write error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_http import API, RestClient, error_codes

from crmbridge.emulator.ids import make_id
from crmbridge.emulator.server import EmulatorServer

SCHEMA = """
objects:
  Contact:
    validation_rules:
      - name: Email_Required_For_Members
        require: Email
        when: {Membership_Status__c: Active}
        error_message: Active members need an email address.
        error_field: Email
    duplicate_rules:
      - {name: Contact_Email, match_fields: [Email]}
  Account:
    fields:
      - {name: Legacy_Code__c, type: string, external_id: true}
  Membership__c:
    label: Membership
    fields:
      - {name: Contact__c, type: reference, reference_to: Contact,
         child_relationship_name: Memberships__r, cascade_delete: true}
      - {name: Level__c, type: picklist, values: [Gold, Silver], restricted: true, required: true}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("records-org")
    schema = Path(directory) / "schema.yaml"
    schema.write_text(SCHEMA)
    server = EmulatorServer(directory / "org", port=0, schema_file=schema)
    server.start()
    yield RestClient(server.info)
    server.stop()


def count(api: RestClient, sobject: str) -> int:
    return int(
        api.get(f"{API}/query", params={"q": f"SELECT COUNT() FROM {sobject}"}).json()["totalSize"]
    )


def test_create_read_update_delete(api: RestClient) -> None:
    created = api.post(
        f"{API}/sobjects/Contact",
        json={"FirstName": "Ada", "LastName": "Lovelace", "MailingCity": "London"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    record_id = body["id"]
    assert created.headers["location"] == f"{API}/sobjects/Contact/{record_id}"
    assert created.headers["sforce-limit-info"].startswith("api-usage=")
    record = api.get(f"{API}/sobjects/Contact/{record_id}").json()
    assert record["attributes"] == {"type": "Contact", "url": f"{API}/sobjects/Contact/{record_id}"}
    assert record["Name"] == "Ada Lovelace"
    assert record["IsDeleted"] is False
    assert record["MailingAddress"]["city"] == "London"
    assert record["OtherAddress"] is None
    assert record["CreatedDate"].endswith("+0000")
    few = api.get(f"{API}/sobjects/Contact/{record_id}", params={"fields": "LastName,Email"}).json()
    assert set(few) == {"attributes", "LastName", "Email"}
    updated = api.patch(f"{API}/sobjects/Contact/{record_id}", json={"Title": "Countess"})
    assert updated.status_code == 204
    assert updated.content == b""
    assert api.get(f"{API}/sobjects/Contact/{record_id[:15]}").json()["Title"] == "Countess"
    assert api.delete(f"{API}/sobjects/Contact/{record_id}").status_code == 204
    gone = api.get(f"{API}/sobjects/Contact/{record_id}")
    assert gone.status_code == 404
    assert error_codes(gone) == ["NOT_FOUND"]
    again = api.delete(f"{API}/sobjects/Contact/{record_id}")
    assert again.status_code == 404
    assert error_codes(again) == ["ENTITY_IS_DELETED"]
    assert error_codes(api.patch(f"{API}/sobjects/Contact/{record_id}", json={"Title": "x"})) == [
        "ENTITY_IS_DELETED"
    ]


def test_upsert_by_external_id_answers_by_version(api: RestClient) -> None:
    url = f"{API}/sobjects/Account/Platform_Id__c/org-42"
    first = api.patch(url, json={"Name": "Forty Two"})
    assert first.status_code == 201
    assert first.json() == {
        "id": first.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    second = api.patch(url, json={"Name": "Forty Two Ltd"})
    assert second.status_code == 200
    assert second.json() == {
        "id": first.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    old = api.patch(
        "/services/data/v45.0/sobjects/Account/Platform_Id__c/org-42", json={"Name": "Old"}
    )
    assert old.status_code == 204
    created_old = api.patch(
        "/services/data/v45.0/sobjects/Account/Platform_Id__c/org-43", json={"Name": "N"}
    )
    assert created_old.status_code == 201
    assert "created" not in created_old.json()
    by_ext = api.get(url).json()
    assert by_ext["Id"] == first.json()["id"]
    assert by_ext["Name"] == "Old"


def test_upsert_with_several_matches_answers_300_with_their_urls(api: RestClient) -> None:
    ids = [
        api.post(f"{API}/sobjects/Account", json={"Name": n, "Legacy_Code__c": "DUP"}).json()["id"]
        for n in ("One", "Two")
    ]
    response = api.patch(f"{API}/sobjects/Account/Legacy_Code__c/DUP", json={"Name": "Three"})
    assert response.status_code == 300
    assert response.json() == [f"{API}/sobjects/Account/{i}" for i in sorted(ids)]


def test_upsert_by_an_unknown_field_is_not_found(api: RestClient) -> None:
    response = api.patch(f"{API}/sobjects/Account/Nope__c/1", json={"Name": "x"})
    assert response.status_code == 404
    assert response.json() == [
        {
            "errorCode": "NOT_FOUND",
            "message": "Provided external ID field does not exist or is not accessible: Nope__c",
        }
    ]


def test_upsert_by_id_updates_and_post_by_id_creates(api: RestClient) -> None:
    record_id = api.post(f"{API}/sobjects/Account", json={"Name": "ById"}).json()["id"]
    updated = api.patch(f"{API}/sobjects/Account/Id/{record_id}", json={"Name": "ById 2"})
    assert updated.status_code == 200
    assert updated.json()["created"] is False
    created = api.post(f"{API}/sobjects/Account/Id", json={"Name": "New by Id"})
    assert created.status_code == 201


def test_relationship_traversal_reads_parent_and_children(api: RestClient) -> None:
    account = api.post(f"{API}/sobjects/Account", json={"Name": "Family"}).json()["id"]
    contact = api.post(
        f"{API}/sobjects/Contact", json={"LastName": "Kid", "AccountId": account}
    ).json()["id"]
    children = api.get(f"{API}/sobjects/Account/{account}/Contacts").json()
    assert children["totalSize"] == 1
    assert children["records"][0]["Id"] == contact
    parent = api.get(f"{API}/sobjects/Contact/{contact}/Account").json()
    assert parent["Id"] == account


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({"FirstName": "No last name"}, 400, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": "x", "Bogus__c": 1}, 400, "INVALID_FIELD", ["Bogus__c"]),
        (
            {"LastName": "x", "CreatedDate": "2020-01-01T00:00:00Z"},
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["CreatedDate"],
        ),
        ({"LastName": "x" * 81}, 400, "STRING_TOO_LONG", ["LastName"]),
        ({"LastName": "x", "AccountId": "001xyz"}, 400, "MALFORMED_ID", ["AccountId"]),
        (
            {"LastName": "x", "AccountId": make_id("001", 99_999_999)},
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
        (
            {"LastName": "x", "Membership_Status__c": "Active"},
            400,
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            ["Email"],
        ),
        ({"LastName": "x", "Birthdate": "not a date"}, 400, "JSON_PARSER_ERROR", None),
    ],
)
def test_rejected_creates_answer_salesforce_errors_and_change_nothing(
    api: RestClient, body: dict[str, Any], status: int, code: str, fields: list[str] | None
) -> None:
    before = count(api, "Contact")
    response = api.post(f"{API}/sobjects/Contact", json=body)
    assert response.status_code == status
    entry = response.json()[0]
    assert entry["errorCode"] == code
    assert entry["message"]
    if fields is not None:
        assert entry["fields"] == fields
    assert count(api, "Contact") == before


def test_restricted_picklist_and_duplicate_rule_errors(api: RestClient) -> None:
    lead = api.post(
        f"{API}/sobjects/Lead", json={"LastName": "L", "Company": "C", "Status": "Bogus"}
    )
    assert lead.json() == [
        {
            "message": "Lead Status: bad value for restricted picklist field: Bogus",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Status"],
        }
    ]
    first = api.post(
        f"{API}/sobjects/Contact", json={"LastName": "A", "Email": "dup@example.org"}
    ).json()
    duplicate = api.post(
        f"{API}/sobjects/Contact", json={"LastName": "B", "Email": "DUP@example.org"}
    )
    assert duplicate.status_code == 400
    entry = duplicate.json()[0]
    assert entry["errorCode"] == "DUPLICATES_DETECTED"
    matches = entry["duplicateResult"]["matchResults"][0]["matchRecords"]
    assert [m["record"]["Id"] for m in matches] == [first["id"]]


@pytest.mark.parametrize("payload", [b"{not json", b"", b"[1, 2]", b'{"LastName": "x"'])
def test_malformed_json_is_a_parser_error_and_changes_nothing(
    api: RestClient, payload: bytes
) -> None:
    record_id = api.post(f"{API}/sobjects/Contact", json={"LastName": "Stable"}).json()["id"]
    before = count(api, "Contact")
    headers = {"Content-Type": "application/json"}
    created = api.post(f"{API}/sobjects/Contact", data=payload, headers=headers)
    updated = api.patch(f"{API}/sobjects/Contact/{record_id}", data=payload, headers=headers)
    for response in (created, updated):
        assert response.status_code == 400
        assert error_codes(response) == ["JSON_PARSER_ERROR"]
    assert count(api, "Contact") == before
    assert api.get(f"{API}/sobjects/Contact/{record_id}").json()["LastName"] == "Stable"


def test_rejected_update_leaves_the_record_as_it_was(api: RestClient) -> None:
    record_id = api.post(f"{API}/sobjects/Contact", json={"LastName": "Keep", "Title": "T"}).json()[
        "id"
    ]
    before = api.get(f"{API}/sobjects/Contact/{record_id}").json()
    response = api.patch(
        f"{API}/sobjects/Contact/{record_id}", json={"Title": "New", "LastName": None}
    )
    assert error_codes(response) == ["REQUIRED_FIELD_MISSING"]
    assert api.get(f"{API}/sobjects/Contact/{record_id}").json() == before


def test_ids_of_other_objects_and_missing_rows(api: RestClient) -> None:
    account = api.post(f"{API}/sobjects/Account", json={"Name": "A"}).json()["id"]
    wrong_type = api.patch(f"{API}/sobjects/Contact/{account}", json={"Title": "x"})
    assert wrong_type.status_code == 400
    assert error_codes(wrong_type) == ["MALFORMED_ID"]
    missing = api.get(f"{API}/sobjects/Contact/{make_id('003', 99_999_999)}")
    assert missing.status_code == 404
    assert error_codes(missing) == ["NOT_FOUND"]
    not_an_id = api.get(f"{API}/sobjects/Contact/hello")
    assert not_an_id.status_code == 404
    assert "Provided external ID field does not exist" in not_an_id.json()[0]["message"]
    read_only = api.post(f"{API}/sobjects/Organization", json={"Name": "x"})
    assert read_only.status_code == 400
    assert error_codes(read_only) == ["INVALID_TYPE_FOR_OPERATION"]


def test_custom_objects_from_the_schema_file_work_over_rest(api: RestClient) -> None:
    describe = api.get(f"{API}/sobjects/Membership__c/describe").json()
    assert describe["custom"] is True
    assert describe["keyPrefix"].startswith("a0")
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["Contact__c"]["relationshipName"] == "Contact__r"
    contact = api.post(f"{API}/sobjects/Contact", json={"LastName": "Member"}).json()["id"]
    created = api.post(
        f"{API}/sobjects/Membership__c",
        json={"Name": "M-1", "Contact__c": contact, "Level__c": "gold"},
    )
    assert created.status_code == 201
    assert created.json()["id"][:3] == describe["keyPrefix"]
    bad = api.post(f"{API}/sobjects/Membership__c", json={"Name": "M-2", "Contact__c": contact})
    assert error_codes(bad) == ["REQUIRED_FIELD_MISSING"]
    rows = api.get(
        f"{API}/query",
        params={
            "q": f"SELECT Id, (SELECT Level__c FROM Memberships__r) FROM Contact "
            f"WHERE Id = '{contact}'"
        },
    ).json()["records"]
    assert rows[0]["Memberships__r"]["records"][0]["Level__c"] == "Gold"
    api.delete(f"{API}/sobjects/Contact/{contact}")
    gone = api.get(f"{API}/sobjects/Membership__c/{created.json()['id']}")
    assert gone.status_code == 404
