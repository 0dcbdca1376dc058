"""Lookups find or create related records on a live (emulated) org, once per batch."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from crmbridge.domain.mapping import (
    LookupKey,
    LookupRequest,
    MappingContext,
    RelatedValueKey,
    default_object_mapping,
    map_records_to_salesforce,
)
from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.testing import emulator_client
from crmbridge.salesforce import soql
from crmbridge.salesforce.auth import tls_context
from crmbridge.salesforce.client import SalesforceClient
from crmbridge.salesforce.related import SalesforceRelatedRecords

# Salesforce only: the PostgreSQL pass of ./dev test skips these.
pytestmark = pytest.mark.storeless


def _accounts_named(client: SalesforceClient, name: str) -> list[dict[str, Any]]:
    select = soql.Select(
        sobject="Account",
        fields=("Name",),
        where=soql.Comparison(field="Name", operator="=", value=name),
    )
    return list(client.query(select.to_soql()))


def _members(company: str) -> list[dict[str, Any]]:
    # Two members of one batch name the same company, spelled differently.
    return [
        {"id": str(uuid.uuid4()), "last_name": "Lovelace", "company": company},
        {"id": str(uuid.uuid4()), "last_name": "Hopper", "company": f"  {company.upper()} "},
    ]


def test_two_records_needing_the_same_missing_account_create_it_exactly_once(
    mapping_org: EmulatorServer,
) -> None:
    member = default_object_mapping("member", "Contact")
    assert member is not None
    company = f"Acme {uuid.uuid4().hex[:8]}"
    with emulator_client(mapping_org.info) as client:
        resolver = SalesforceRelatedRecords(client)
        first = map_records_to_salesforce(
            _members(company), member, context=MappingContext(), resolver=resolver
        )
        assert all(m.ok for m in first), [m.errors for m in first]
        account_ids = {m.values["AccountId"] for m in first}
        assert len(account_ids) == 1
        assert [a["Id"] for a in _accounts_named(client, company)] == list(account_ids)
        assert list(resolver.report.created.values()) == list(account_ids)
        assert client.usage.calls_by_resource["composite"] == 1  # one collection create

        # A rerun finds the Account and creates nothing.
        rerun = SalesforceRelatedRecords(client)
        second = map_records_to_salesforce(
            _members(company), member, context=MappingContext(), resolver=rerun
        )
        assert {m.values["AccountId"] for m in second} == account_ids
        assert rerun.report.created == {}
        assert client.usage.calls_by_resource["composite"] == 1
        assert len(_accounts_named(client, company)) == 1


class LosesTheFirstCreateAnswer(httpx.HTTPTransport):
    """Sends every request for real, but drops the answer of the first collection create.

    The org does create the records; the client only sees a timeout, as when a
    connection breaks after the request left.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if (
            request.method == "POST"
            and request.url.path.endswith("/composite/sobjects")
            and not self.lost
        ):
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_a_create_whose_answer_was_lost_is_found_again_not_duplicated(
    mapping_org: EmulatorServer,
) -> None:
    info = mapping_org.info
    transport = LosesTheFirstCreateAnswer(verify=tls_context(info["ca_cert"]))
    company = f"Lost Answer {uuid.uuid4().hex[:8]}"
    key = LookupKey(object_name="Account", match_field="Name", value=company)
    with emulator_client(info, transport=transport) as client:
        resolver = SalesforceRelatedRecords(client)
        result = resolver.resolve_related([LookupRequest(key=key, create_missing=True)])
        assert transport.lost == 1
        accounts = _accounts_named(client, company)
        assert [a["Id"] for a in accounts] == [result[key]]
        assert client.usage.calls_by_resource["composite"] == 1  # no second create
        assert resolver.report.created == {}  # found again, not created by a retry


def test_a_preview_resolver_creates_nothing_and_says_what_it_would_create(
    mapping_org: EmulatorServer,
) -> None:
    member = default_object_mapping("member", "Contact")
    assert member is not None
    company = f"Newco {uuid.uuid4().hex[:8]}"
    with emulator_client(mapping_org.info) as client:
        resolver = SalesforceRelatedRecords(client, allow_create=False)
        (mapped,) = map_records_to_salesforce(
            _members(company)[:1],
            member,
            context=MappingContext(),
            resolver=resolver,
            allow_create=False,
        )
        assert mapped.values["AccountId"] is None
        company_field = next(f for f in mapped.fields if f.target_fields == ("AccountId",))
        notes = [note for step in company_field.steps for note in step.notes]
        assert notes == [f"no Account with Name {company!r} yet: it would be created"]
        assert _accounts_named(client, company) == []
        assert "composite" not in client.usage.calls_by_resource
        assert [k.value for k in resolver.report.not_found] == [company]


def test_an_existing_account_is_found_whatever_the_case_of_the_name(
    mapping_org: EmulatorServer,
) -> None:
    company = f"Globex {uuid.uuid4().hex[:8]}"
    with emulator_client(mapping_org.info) as client:
        account_id = client.create("Account", {"Name": company})
        key = LookupKey(object_name="account", match_field="name", value=company.lower() + " ")
        resolver = SalesforceRelatedRecords(client)
        assert resolver.resolve_related([LookupRequest(key=key, create_missing=True)]) == {
            key: account_id
        }
        assert resolver.report.found == [key]
        assert len(_accounts_named(client, company)) == 1


def test_related_values_are_read_in_one_query_for_15_and_18_character_ids(
    mapping_org: EmulatorServer,
) -> None:
    names = [f"Initech {uuid.uuid4().hex[:8]}" for _ in range(3)]
    with emulator_client(mapping_org.info) as client:
        ids = [client.create("Account", {"Name": name}) for name in names]
        keys = [
            RelatedValueKey(object_name="Account", field_name="Name", record_id=ids[0]),
            RelatedValueKey(object_name="Account", field_name="Name", record_id=ids[1][:15]),
            RelatedValueKey(object_name="Account", field_name="Name", record_id=ids[2]),
        ]
        client.delete("Account", ids[2])
        before = client.usage.calls_by_resource.get("query", 0)
        values = SalesforceRelatedRecords(client).read_related_values(keys)
        assert client.usage.calls_by_resource["query"] == before + 1
    assert values == {keys[0]: names[0], keys[1]: names[1]}  # the deleted one is absent
