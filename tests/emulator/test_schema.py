"""The default schema and schema files (custom fields, objects, validation and duplicate rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.emulator.schema import default_schema, load_schema
from crmbridge.emulator.schema_file import SchemaFileError, extend_schema

KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "User": "005",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Task": "00T",
    "Event": "00U",
    "Note": "002",
    "EmailMessage": "02s",
    "RecordType": "012",
    "Organization": "00D",
    "OpportunityStage": "01J",
}


def test_default_schema_has_the_standard_objects_with_real_key_prefixes() -> None:
    schema = default_schema()
    assert {name: schema.get(name).key_prefix for name in KEY_PREFIXES} == KEY_PREFIXES  # type: ignore[union-attr]
    assert schema.get("contact") is schema.get("CONTACT")
    assert schema.by_key_prefix("003") is schema.get("Contact")


def test_platform_id_is_a_unique_external_id_on_every_synced_object() -> None:
    schema = default_schema()
    for name in ("Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember", "Task"):
        field = schema.get(name).field("platform_id__c")  # type: ignore[union-attr]
        assert field is not None
        assert field.external_id
        assert field.unique
        assert field.type == "string"


def test_seed_custom_fields_exist_with_their_types() -> None:
    schema = default_schema()
    contact, lead = schema.get("Contact"), schema.get("Lead")
    campaign, member = schema.get("Campaign"), schema.get("CampaignMember")
    assert contact
    assert lead
    assert campaign
    assert member
    assert contact.field("Membership_Status__c").type == "picklist"  # type: ignore[union-attr]
    assert contact.field("Movement_Exclude__c").type == "boolean"  # type: ignore[union-attr]
    tags = contact.field("Member_Tags__c")
    assert tags is not None
    assert tags.type == "multipicklist"
    assert "Event No-Show" in tags.picklist_values
    assert lead.field("Lead_Score__c").type == "double"  # type: ignore[union-attr]
    assert lead.field("Insurance_Type__c").type == "picklist"  # type: ignore[union-attr]
    status = lead.field("Status")
    assert status is not None
    assert status.restricted_picklist
    assert {
        "New",
        "Contacted",
        "Qualified",
        "Proposal Sent",
        "Negotiating",
        "Closed Won",
        "Closed Lost",
        "Open - Not Contacted",
    } <= set(status.picklist_values)
    for obj in (contact, lead):
        for name in (
            "Referral_ID__c",
            "Referral_Source__c",
            "Member_URL__c",
            "Referral_URL__c",
            "Referring_Member_Email__c",
        ):
            assert obj.field(name) is not None, (obj.name, name)
    assert campaign.field("Movement_Include__c").type == "boolean"  # type: ignore[union-attr]
    assert member.field("Voted__c").type == member.field("Contacted__c").type == "boolean"  # type: ignore[union-attr]


def test_formula_encrypted_address_and_polymorphic_fields_are_described() -> None:
    schema = default_schema()
    contact, task, account = schema.get("Contact"), schema.get("Task"), schema.get("Account")
    assert contact
    assert task
    assert account
    formula = contact.field("Account_Name__c")
    assert formula is not None
    assert formula.calculated
    assert formula.formula == "Account.Name"
    assert not formula.stored
    assert not formula.createable
    encrypted = contact.field("Member_SSN__c")
    assert encrypted is not None
    assert encrypted.type == "encryptedstring"
    assert encrypted.encrypted
    assert account.field("BillingAddress").type == "address"  # type: ignore[union-attr]
    assert account.field("BillingCity").compound_field_name == "BillingAddress"  # type: ignore[union-attr]
    assert task.field("WhoId").reference_to == ("Contact", "Lead")  # type: ignore[union-attr]
    assert task.relationship("who") is task.field("WhoId")


def test_child_relationships_come_from_the_children_lookups() -> None:
    account = default_schema().get("Account")
    assert account is not None
    contacts = account.child_relationship("contacts")
    assert contacts is not None
    assert (contacts.child_sobject, contacts.field, contacts.cascade_delete) == (
        "Contact",
        "AccountId",
        True,
    )
    assert account.child_relationship("ChildAccounts").field == "ParentId"  # type: ignore[union-attr]
    assert account.child_relationship("Opportunities") is not None
    assert account.child_relationship("Tasks") is not None


SCHEMA_FILE = """
objects:
  Contact:
    fields:
      - {name: Favorite_Color__c, type: picklist, values: [Red, Blue], restricted: true}
      - {name: Loyalty_Points__c, type: int}
    validation_rules:
      - name: Email_Required_For_Members
        require: Email
        when: {Membership_Status__c: Active}
        error_message: Active members need an email address.
        error_field: Email
    duplicate_rules:
      - {name: Contact_Email, match_fields: [Email]}
  Membership__c:
    label: Membership
    fields:
      - {name: Contact__c, type: reference, reference_to: Contact,
         child_relationship_name: Memberships__r, cascade_delete: true}
      - {name: Level__c, type: string, length: 20, required: true}
      - {name: Contact_Email__c, type: email, formula: Contact__r.Email}
"""


def test_schema_file_adds_fields_objects_and_rules(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA_FILE)
    schema = load_schema(path)
    contact, membership = schema.get("Contact"), schema.get("Membership__c")
    assert contact
    assert membership
    assert contact.field("Favorite_Color__c").restricted_picklist  # type: ignore[union-attr]
    assert contact.field("Loyalty_Points__c").custom  # type: ignore[union-attr]
    assert [r.name for r in contact.validation_rules] == ["Email_Required_For_Members"]
    assert contact.duplicate_rules[0].match_fields == ("Email",)
    assert membership.custom
    assert membership.key_prefix.startswith("a0")
    assert membership.field("Name") is not None
    assert membership.has_owner
    assert membership.relationship("Contact__r") is membership.field("Contact__c")
    assert contact.child_relationship("Memberships__r").child_sobject == "Membership__c"  # type: ignore[union-attr]
    assert not membership.field("Level__c").nillable  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"objects": {"Foo": {}}}, "must be custom"),
        ({"objects": {"Contact": {"fields": [{"name": "Bar", "type": "string"}]}}}, "__c"),
        ({"objects": {"Contact": {"fields": [{"name": "X__c", "type": "blob"}]}}}, "unsupported"),
        ({"objects": {"Contact": {"fields": [{"name": "X__c", "type": "picklist"}]}}}, "values"),
        ({"objects": {"Contact": {"color": 1}}}, "unknown keys"),
        (
            {"objects": {"Contact": {"validation_rules": [{"name": "r", "error_message": "m"}]}}},
            "require",
        ),
        (
            {
                "objects": {
                    "X__c": {
                        "fields": [{"name": "P__c", "type": "reference", "reference_to": "Nope"}]
                    }
                }
            },
            "unknown object",
        ),
        ({"things": {}}, "top level"),
        (
            {
                "objects": {
                    "Contact": {"duplicate_rules": [{"name": "d", "match_fields": ["Nope"]}]}
                }
            },
            "no field Nope",
        ),
        (
            {
                "objects": {
                    "Contact": {
                        "validation_rules": [
                            {
                                "name": "r",
                                "error_message": "m",
                                "require": "Email",
                                "when": {"Nope": 1},
                            }
                        ]
                    }
                }
            },
            "no field Nope",
        ),
    ],
)
def test_bad_schema_files_are_refused_with_a_clear_message(document: dict, complaint: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(SchemaFileError, match=complaint):
        extend_schema(default_schema(), document)
