"""simple-salesforce, unmodified, against the emulator over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_http import https_session, password_token
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from crmbridge.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    server = EmulatorServer(tmp_path_factory.mktemp("simple-salesforce-org"), port=0)
    server.start()
    assert server.ctx is not None
    server.ctx.store.insert_many(
        "Lead",
        [{"LastName": f"Lead {i:04d}", "Company": "Co"} for i in range(2_500)],
        validate=False,
    )
    yield server
    server.stop()


@pytest.fixture
def sf(org: EmulatorServer) -> Iterator[Salesforce]:
    session = https_session(org.info)
    token = password_token(org.info, session)
    yield Salesforce(
        instance_url=token["instance_url"],
        session_id=token["access_token"],
        session=session,
        version="59.0",
    )
    session.close()


def test_query_all_reads_every_page(sf: Salesforce) -> None:
    result = sf.query_all("SELECT Id, LastName FROM Lead ORDER BY LastName")
    assert result["totalSize"] == 2_500
    assert result["done"] is True
    assert len(result["records"]) == 2_500
    assert result["records"][-1]["LastName"] == "Lead 2499"
    first = sf.query("SELECT Id FROM Lead")
    assert first["done"] is False
    assert len(first["records"]) == 2_000
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True
    assert len(rest["records"]) == 500


def test_crud_and_upsert_by_external_id(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Simple Co", "BillingCity": "Lyon"})
    assert created["success"] is True
    account = sf.Account.get(created["id"])
    assert account["Name"] == "Simple Co"
    assert account["BillingAddress"]["city"] == "Lyon"
    assert sf.Account.update(created["id"], {"Phone": "+33 1 23 45 67 89"}) == 204
    assert sf.Account.upsert("Platform_Id__c/acct-77", {"Name": "Upserted"}) == 201
    assert sf.Account.upsert("Platform_Id__c/acct-77", {"Name": "Upserted again"}) == 200
    by_ext = sf.Account.get_by_custom_id("Platform_Id__c", "acct-77")
    assert by_ext["Name"] == "Upserted again"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(created["id"])


def test_describe_metadata_and_limits(sf: Salesforce) -> None:
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Contact", "Lead", "CampaignMember"} <= names
    describe = sf.Lead.describe()
    assert any(f["name"] == "Lead_Score__c" for f in describe["fields"])
    assert sf.Lead.metadata()["objectDescribe"]["keyPrefix"] == "00Q"
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert sf.api_usage["api-usage"].used >= 1


def test_salesforce_errors_map_to_simple_salesforce_exceptions(
    sf: Salesforce, org: EmulatorServer
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Contact.create({"FirstName": "Missing last name"})
    assert bad.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Nope FROM Contact")
    admin = https_session(org.info)
    admin.post(
        org.info["admin_url"] + "/faults",
        json={"expire_tokens": True},
        headers={"Authorization": f"Bearer {org.info['admin_token']}"},
        timeout=30,
    )
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()


def test_restful_calls_reach_any_resource(sf: Salesforce) -> None:
    versions = sf.restful("", method="GET")
    assert versions["sobjects"].endswith("/sobjects")
    stage_rows = sf.query("SELECT MasterLabel, IsClosed, IsWon FROM OpportunityStage")["records"]
    closed = {r["MasterLabel"]: r["IsWon"] for r in stage_rows if r["IsClosed"]}
    assert closed == {"Closed Won": True, "Closed Lost": False}
