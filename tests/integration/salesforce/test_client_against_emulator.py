"""crmbridge's one Salesforce client against the emulated org over real HTTPS.

Logins (OAuth password grant, SOAP), query paging, CRUD, upserts, collections with
per-record errors, Bulk API 2.0, API usage from ``Sforce-Limit-Info``, and the failure
paths: 503 and UNABLE_TO_LOCK_ROW retried, an expired token renewed once and the call
replayed, REQUEST_LIMIT_EXCEEDED, and an untrusted certificate.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sf_helpers import ClientFactory, admin, auth_for, password_tokens

from crmbridge.domain.errors import (
    ConfigurationError,
    RateLimitError,
    ReauthorizationRequired,
    RecordError,
    RecordLockedError,
    SessionExpired,
)
from crmbridge.emulator.server import EmulatorServer
from crmbridge.salesforce import soql
from crmbridge.salesforce.auth import TokenSet
from crmbridge.salesforce.bulk import BulkClient
from crmbridge.salesforce.transport import TlsCertificateError

# These tests never touch crmbridge's store: the PostgreSQL pass can skip them.
pytestmark = pytest.mark.storeless


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --- logins ---------------------------------------------------------------------------


def test_password_grant_yields_a_session_naming_the_org_and_user(
    emulator_info: dict[str, Any], sf_client: ClientFactory
) -> None:
    tokens = password_tokens(emulator_info)
    assert tokens.instance_url == emulator_info["instance_url"]
    assert tokens.org_id == emulator_info["org_id"]
    assert tokens.user_id == emulator_info["user_id"]
    assert tokens.refresh_token is None  # the password flow never issues one
    identity = auth_for(emulator_info).identity(tokens)
    assert identity.username == emulator_info["username"]
    assert identity.org_id == emulator_info["org_id"]
    assert identity.active
    client = sf_client(tokens=tokens)
    assert emulator_info["api_version"] in client.versions()


def test_soap_login_yields_a_session_the_rest_api_accepts(
    emulator_info: dict[str, Any], sf_client: ClientFactory
) -> None:
    tokens = auth_for(emulator_info).soap_login(
        username=emulator_info["username"],
        password=emulator_info["password"],
        security_token=emulator_info["security_token"],
        api_version=emulator_info["api_version"],
    )
    assert tokens.instance_url == emulator_info["instance_url"]
    assert tokens.org_id == emulator_info["org_id"]
    client = sf_client(tokens=tokens)
    rows = list(client.query("SELECT Id, Name FROM Organization"))
    assert rows[0]["Id"] == emulator_info["org_id"]


def test_soap_login_with_a_wrong_password_asks_to_reauthorize(
    emulator_info: dict[str, Any],
) -> None:
    with pytest.raises(ReauthorizationRequired) as info:
        auth_for(emulator_info).soap_login(
            username=emulator_info["username"],
            password="not-the-password",
            security_token=emulator_info["security_token"],
            api_version=emulator_info["api_version"],
        )
    assert info.value.code == "INVALID_LOGIN"


def test_password_grant_with_a_wrong_consumer_secret_names_the_secret(
    emulator_info: dict[str, Any],
) -> None:
    wrong = {**emulator_info, "client_secret": "0" * 64}
    with pytest.raises(ConfigurationError, match="Consumer Secret") as info:
        password_tokens(wrong)
    assert info.value.code == "invalid_client"


# --- queries --------------------------------------------------------------------------


def test_query_follows_next_records_url_across_pages(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path, port=0, seed_contacts=450, seed=11) as server:
        factory = ClientFactory(server.info)
        try:
            client = factory()
            statement = soql.Select(
                sobject="Contact", fields=("LastName",), order_by=(soql.OrderBy(field="Id"),)
            )
            assert client.count("SELECT COUNT() FROM Contact") == 450
            pages = list(client.query_pages(statement.to_soql(), batch_size=200))
            assert [len(page["records"]) for page in pages] == [200, 200, 50]
            assert [page["done"] for page in pages] == [False, False, True]
            assert all(page["totalSize"] == 450 for page in pages)
            ids = [r["Id"] for r in client.query(statement.to_soql(), batch_size=200)]
            assert len(ids) == len(set(ids)) == 450
            assert ids == sorted(ids)
            assert client.usage.calls_by_resource == {"query": 7}
        finally:
            factory.close()


def test_query_all_sees_deleted_records(sf_client: ClientFactory) -> None:
    client = sf_client()
    name = _unique("Deleted")
    record_id = client.create("Account", {"Name": name})
    client.delete("Account", record_id)
    where = soql.Comparison(field="Name", operator="=", value=name)
    statement = soql.Select(sobject="Account", fields=("IsDeleted",), where=where).to_soql()
    assert list(client.query(statement)) == []
    rows = list(client.query(statement, include_deleted=True))
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(record_id, True)]


def test_query_each_reads_five_queries_per_composite_call(tmp_path: Path) -> None:
    with EmulatorServer(tmp_path, port=0, seed_contacts=2_600, seed=12) as server:
        factory = ClientFactory(server.info)
        try:
            client = factory()
            ids = [r["Id"] for r in client.query("SELECT Id FROM Contact ORDER BY Id")]
            client.delete("Contact", ids[0])
            client.usage.calls_by_resource.clear()
            chunks = [ids[i : i + 200] for i in range(0, 1_400, 200)]  # seven queries
            queries = [
                soql.Select(
                    sobject="Contact",
                    fields=("LastName", "IsDeleted"),
                    where=soql.Comparison(field="Id", operator="IN", value=tuple(chunk)),
                ).to_soql()
                for chunk in chunks
            ]
            queries.append("SELECT Id FROM Contact")  # 2,599 live records: two pages
            answers = client.query_each(queries)
            assert [len(a) for a in answers] == [199, 200, 200, 200, 200, 200, 200, 2_599]
            assert [{r["Id"] for r in a} for a in answers[1:7]] == [set(c) for c in chunks[1:]]
            # Two composite calls for eight queries, one call for the second page.
            assert client.usage.calls_by_resource == {"composite": 2, "query": 1}
            with_deleted = client.query_each(queries[:1], include_deleted=True)
            assert {(r["Id"], r["IsDeleted"]) for r in with_deleted[0]} >= {(ids[0], True)}
            assert len(with_deleted[0]) == 200
            assert client.query_each([]) == []
        finally:
            factory.close()


def test_a_failed_query_in_a_composite_call_raises_its_classified_error(
    sf_client: ClientFactory,
) -> None:
    client = sf_client()
    with pytest.raises(ConfigurationError) as info:
        client.query_each(["SELECT Id FROM Account", "SELECT No_Such_Field__c FROM Account"])
    assert info.value.code == "INVALID_FIELD"


# --- single records -------------------------------------------------------------------


def test_create_read_update_delete_one_record(sf_client: ClientFactory) -> None:
    client = sf_client()
    name = _unique("Acme")
    record_id = client.create("Account", {"Name": name, "Phone": "+1 555 0100"})
    assert len(record_id) == 18
    assert record_id.startswith("001")
    assert client.get_record("Account", record_id, ["Name", "Phone"])["Phone"] == "+1 555 0100"
    client.update("Account", record_id, {"Phone": "+1 555 0199"})
    assert client.get_record("Account", record_id)["Phone"] == "+1 555 0199"
    client.delete("Account", record_id)
    with pytest.raises(RecordError) as info:
        client.get_record("Account", record_id)
    assert info.value.code in {"NOT_FOUND", "ENTITY_IS_DELETED"}


def test_upsert_by_external_id_creates_then_updates_the_same_record(
    sf_client: ClientFactory,
) -> None:
    client = sf_client()
    platform_id = _unique("member")
    first = client.upsert(
        "Contact", "Platform_Id__c", platform_id, {"LastName": "Lovelace", "FirstName": "Ada"}
    )
    assert first.success
    assert first.created is True
    assert first.id
    again = client.upsert("Contact", "Platform_Id__c", platform_id, {"Title": "Countess"})
    assert again.created is False
    assert again.id in (None, first.id)
    assert client.get_record("Contact", str(first.id))["Title"] == "Countess"


def test_a_missing_required_field_is_a_record_error_naming_the_field(
    sf_client: ClientFactory,
) -> None:
    client = sf_client()
    with pytest.raises(RecordError) as info:
        client.create("Contact", {"FirstName": "No last name"})
    assert info.value.code == "REQUIRED_FIELD_MISSING"
    assert "LastName" in info.value.fields


def test_an_unknown_field_is_a_configuration_error(sf_client: ClientFactory) -> None:
    client = sf_client()
    with pytest.raises(ConfigurationError) as info:
        client.create("Account", {"Name": "x", "No_Such_Field__c": 1})
    assert info.value.code == "INVALID_FIELD"


# --- collections ----------------------------------------------------------------------


def test_collections_report_each_record_and_classify_its_errors(
    sf_client: ClientFactory,
) -> None:
    client = sf_client()
    records = [
        {"Platform_Id__c": _unique("ok"), "LastName": "Hopper"},
        {"Platform_Id__c": _unique("bad"), "FirstName": "Missing last name"},
        {"Platform_Id__c": _unique("ok"), "LastName": "Lovelace"},
        {"Platform_Id__c": _unique("ok"), "LastName": "Turing"},
    ]
    results = client.upsert_collection("Contact", "Platform_Id__c", records)
    assert [r.success for r in results] == [True, False, True, True]
    assert [r.created for r in results if r.success] == [True, True, True]
    (error,) = results[1].errors
    assert isinstance(error, RecordError)
    assert error.code == "REQUIRED_FIELD_MISSING"


def test_collections_split_into_requests_of_200(sf_client: ClientFactory) -> None:
    client = sf_client()
    before = client.usage.calls_by_resource.get("composite", 0)
    records = [{"Name": _unique("Bulkish")} for _ in range(201)]
    results = client.create_collection("Account", records)
    assert len(results) == 201
    assert all(r.success for r in results)
    assert client.usage.calls_by_resource["composite"] - before == 2
    deleted = client.delete_collection([str(r.id) for r in results])
    assert all(r.success for r in deleted)


# --- Bulk API 2.0 ---------------------------------------------------------------------


def test_bulk_ingest_upserts_rows_and_reports_failures(sf_client: ClientFactory) -> None:
    client = sf_client()
    bulk = BulkClient(client, poll_initial=0.01, poll_max=0.2, timeout=60)
    marker = _unique("bulk")
    rows = [{"Platform_Id__c": f"{marker}-{i}", "LastName": f"Row {i}"} for i in range(30)]
    rows.append({"Platform_Id__c": f"{marker}-bad", "LastName": None})
    result = bulk.ingest("Contact", "upsert", rows, external_id_field="Platform_Id__c")
    assert result.state == "JobComplete"
    successes = [r for r in result.rows if r.success]
    failures = [r for r in result.rows if not r.success]
    assert len(successes) == 30
    assert all(r.created for r in successes)
    assert len(failures) == 1
    assert isinstance(failures[0].error, RecordError)
    assert failures[0].error.code == "REQUIRED_FIELD_MISSING"

    where = soql.Comparison(field="Platform_Id__c", operator="LIKE", value=f"{marker}-%")
    query = soql.Select(sobject="Contact", fields=("Platform_Id__c", "LastName"), where=where)
    found = list(bulk.query(query.to_soql(), page_size=7))
    assert sorted(r["Platform_Id__c"] for r in found) == sorted(
        str(r["Platform_Id__c"]) for r in rows[:30]
    )


# --- usage accounting -----------------------------------------------------------------


def test_usage_is_counted_from_the_limit_info_header(sf_client: ClientFactory) -> None:
    client = sf_client()
    assert client.usage.used is None
    limits = client.limits()
    daily = limits["DailyApiRequests"]
    assert client.usage.limit == daily["Max"]
    # The header counts the call that carried it; the body was computed the same way.
    assert client.usage.used is not None
    assert client.usage.used >= daily["Max"] - daily["Remaining"]
    used_before = client.usage.used
    client.describe("Account")
    assert client.usage.used == used_before + 1
    assert client.usage.calls == 2
    assert client.usage.calls_by_resource == {"limits": 1, "sobjects": 1}
    assert client.usage.last_success_at is not None


# --- failures -------------------------------------------------------------------------


def test_a_503_is_retried_until_it_succeeds(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the org recovers after two failed tries
            admin(own_org, error_503_rate=0)

    client = own_client(sleep=sleep)
    admin(own_org, error_503_rate=1)
    assert "Account" in client.describe("Account")["name"]
    assert len(waits) == 2
    assert client.usage.calls == 3


def test_a_503_that_never_ends_gives_up_with_a_network_error(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    client = own_client()
    admin(own_org, error_503_rate=1)
    from crmbridge.domain.errors import NetworkError

    with pytest.raises(NetworkError) as info:
        client.limits()
    assert info.value.status == 503
    assert client.usage.calls == 4  # every attempt of FAST_RETRY


def test_unable_to_lock_row_on_a_write_is_retried_until_it_succeeds(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        admin(own_org, lock_error_rate=0)

    client = own_client(sleep=sleep)
    admin(own_org, lock_error_rate=1)
    # A create is not idempotent, but a lock error means Salesforce did nothing.
    record_id = client.create("Account", {"Name": "Locked once"})
    assert len(waits) == 1
    rows = list(client.query("SELECT Id FROM Account WHERE Name = 'Locked once'"))
    assert [r["Id"] for r in rows] == [record_id]


def test_lock_errors_that_persist_surface_as_record_locked(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    client = own_client()
    admin(own_org, lock_error_rate=1)
    with pytest.raises(RecordLockedError) as info:
        client.update("Account", "001000000000000AAA", {"Name": "x"})
    assert info.value.code == "UNABLE_TO_LOCK_ROW"


def test_an_expired_token_is_renewed_once_and_the_call_replayed(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    renewals: list[TokenSet] = []
    stored: list[TokenSet] = []

    def renew(stale: TokenSet) -> TokenSet:
        renewals.append(stale)
        return password_tokens(own_org)

    client = own_client(renew=renew, on_renewed=stored.append)
    first_token = client.tokens.access_token
    client.limits()
    expired = admin(own_org, expire_tokens=True)
    assert expired["expired_tokens"] >= 1
    assert client.limits()["DailyApiRequests"]["Max"] > 0
    assert len(renewals) == 1
    assert renewals[0].access_token == first_token
    assert len(stored) == 1
    assert stored[0].access_token == client.tokens.access_token
    assert client.tokens.access_token != first_token
    # One 401 plus the replay, after the first call.
    assert client.usage.calls == 3


def test_without_a_way_to_renew_an_expired_token_asks_to_reauthorize(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    client = own_client()
    admin(own_org, expire_tokens=True)
    with pytest.raises(ReauthorizationRequired):
        client.limits()


def test_a_renewed_session_that_is_refused_again_asks_to_reauthorize(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    def renew(stale: TokenSet) -> TokenSet:
        # A "renewal" that hands back a dead session.
        return TokenSet(access_token="00Dxx!dead", instance_url=stale.instance_url)

    client = own_client(renew=renew)
    admin(own_org, expire_tokens=True)
    with pytest.raises(ReauthorizationRequired):
        client.limits()


def test_a_used_up_daily_allowance_is_a_rate_limit_error(
    own_org: dict[str, Any], own_client: ClientFactory
) -> None:
    client = own_client()
    admin(own_org, exhaust_quota=True)
    with pytest.raises(RateLimitError) as info:
        client.query("SELECT Id FROM Account").__next__()
    assert info.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert client.usage.calls == 1  # not retried: waiting seconds cannot help


def test_an_untrusted_certificate_is_a_tls_error_not_retried(
    emulator_info: dict[str, Any], sf_client: ClientFactory
) -> None:
    tokens = password_tokens(emulator_info)
    client = sf_client(tokens=tokens, ca=None)
    with pytest.raises(TlsCertificateError, match="not trusted"):
        client.limits()
    assert client.usage.calls == 1
    with pytest.raises(TlsCertificateError):
        auth_for(emulator_info, ca=None).password_grant(
            username=emulator_info["username"],
            password=emulator_info["password"],
            security_token=emulator_info["security_token"],
        )


def test_a_stale_session_error_from_the_api_is_classified(
    emulator_info: dict[str, Any], sf_client: ClientFactory
) -> None:
    tokens = TokenSet(access_token="00Dxx!bogus", instance_url=emulator_info["instance_url"])
    client = sf_client(tokens=tokens, renew=None)
    with pytest.raises(ReauthorizationRequired):
        client.limits()
    # The raw classification of the 401 itself is SessionExpired.
    import httpx

    from crmbridge.salesforce.client import error_from_response

    response = httpx.Response(
        401, json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    )
    assert isinstance(error_from_response(response), SessionExpired)
