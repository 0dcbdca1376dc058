"""Mapping filters rendered as SOQL select on a live (emulated) org what they evaluate to."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crmbridge.domain.mapping import ObjectMapping, default_object_mapping
from crmbridge.domain.mapping.conditions import Negation as Not
from crmbridge.domain.mapping.conditions import all_of, any_of, where
from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.testing import emulator_client
from crmbridge.salesforce import soql
from crmbridge.salesforce.filters import salesforce_condition

pytestmark = pytest.mark.storeless

# Names with every character SOQL escapes, and LIKE wildcards taken literally by "eq".
TRICKY = ("O'Brien", 'Say "hi"', "back\\slash", "100%_sure", "line\nbreak")


@pytest.fixture(scope="module")
def contacts(mapping_org: EmulatorServer) -> dict[str, Any]:
    """Contacts of one batch (tagged by a unique Department) with tricky names."""
    batch = f"filters-{uuid.uuid4().hex[:8]}"
    with emulator_client(mapping_org.info) as client:
        rows = [
            {"LastName": name, "Department": batch, "Movement_Exclude__c": index % 2 == 1}
            for index, name in enumerate(TRICKY)
        ]
        rows.append({"LastName": "Dated", "Department": batch, "Birthdate": "1990-05-17"})
        results = client.create_collection("Contact", rows)
        assert all(r.success for r in results)
    return {"batch": batch, "info": mapping_org.info}


def _names(contacts: dict[str, Any], condition: Any, types: dict[str, str] | None = None) -> set:
    where_batch = soql.Comparison(field="Department", operator="=", value=contacts["batch"])
    select = soql.Select(
        sobject="Contact",
        fields=("LastName",),
        where=soql.AllOf(
            conditions=(where_batch, salesforce_condition(condition, field_types=types))
        ),
    )
    with emulator_client(contacts["info"]) as client:
        return {r["LastName"] for r in client.query(select.to_soql())}


def test_the_default_member_filter_leaves_excluded_contacts_out(contacts: dict[str, Any]) -> None:
    member = default_object_mapping("member", "Contact")
    assert isinstance(member, ObjectMapping)
    assert member.salesforce_filter is not None
    assert _names(contacts, member.salesforce_filter) == {
        "O'Brien",
        "back\\slash",
        "line\nbreak",
        "Dated",
    }


@pytest.mark.parametrize("name", TRICKY)
def test_text_with_quotes_backslashes_and_wildcards_matches_itself_only(
    contacts: dict[str, Any], name: str
) -> None:
    assert _names(contacts, where("LastName", "eq", name)) == {name}


def test_like_in_not_in_negation_and_or_groups(contacts: dict[str, Any]) -> None:
    assert _names(contacts, where("LastName", "like", "o'%")) == {"O'Brien"}  # ignores case
    assert _names(contacts, where("LastName", "in", ["O'Brien", "Dated", "nobody"])) == {
        "O'Brien",
        "Dated",
    }
    everyone = set(TRICKY) | {"Dated"}
    assert _names(contacts, where("LastName", "not_in", ["Dated"])) == everyone - {"Dated"}
    assert _names(contacts, where("LastName", "in", [])) == set()
    assert _names(contacts, where("LastName", "not_in", [])) == everyone
    assert _names(
        contacts,
        any_of(
            where("LastName", "eq", "Dated"),
            Not(condition=where("Movement_Exclude__c", "eq", False)),
        ),
    ) == {"Dated", 'Say "hi"', "100%_sure"}
    assert _names(
        contacts, all_of(where("Birthdate", "eq", None), where("LastName", "like", "%sure"))
    ) == {"100%_sure"}


def test_dates_are_compared_as_date_literals_when_the_field_type_is_known(
    contacts: dict[str, Any],
) -> None:
    types = {"birthdate": "date"}
    assert _names(contacts, where("Birthdate", "gt", "1990-01-01"), types) == {"Dated"}
    assert _names(contacts, where("Birthdate", "lt", "1990-01-01"), types) == set()
    assert _names(contacts, where("Birthdate", "ge", None), types) == set()
