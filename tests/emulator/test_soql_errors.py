"""Queries Salesforce rejects get its error codes and messages, and nothing else escapes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soql_dataset import SoqlOrg, build_org

from crmbridge.emulator.soql import SoqlError

_WSDL = "Please reference your WSDL or the describe call for the appropriate names."


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> SoqlOrg:
    return build_org(Path(tmp_path_factory.mktemp("soql-errors")))


def _error(org: SoqlOrg, soql: str, *, include_deleted: bool = False) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        org.engine.start(soql, include_deleted=include_deleted)
    return caught.value


def test_unknown_field_is_invalid_field_with_salesforce_wording(org: SoqlOrg) -> None:
    error = _error(org, "SELECT Id, Foo FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. " + _WSDL
    )


def test_unknown_object_is_invalid_type(org: SoqlOrg) -> None:
    error = _error(org, "SELECT Id FROM Foo")
    assert error.error_code == "INVALID_TYPE"
    assert error.message == (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. " + _WSDL
    )


def test_malformed_query_points_at_the_token(org: SoqlOrg) -> None:
    error = _error(org, "SELECT Id FORM Contact")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == (
        "\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    )


@pytest.mark.parametrize(
    ("soql", "code", "ending"),
    [
        ("SELECT Foo.Name FROM Contact", "INVALID_FIELD",
         "Didn't understand relationship 'Foo' in field path. If you are attempting to use a "
         "custom relationship, be sure to append the '__r' after the custom relationship name. "
         + _WSDL),
        ("SELECT AccountId.Name FROM Contact", "INVALID_FIELD",
         "Didn't understand relationship 'AccountId' in field path."),
        ("SELECT Account.Foo FROM Contact", "INVALID_FIELD",
         "No such column 'Foo' on entity 'Account'."),
        ("SELECT Who.Industry FROM Task", "INVALID_FIELD",
         "No such column 'Industry' on entity 'Name'."),
        ("SELECT Who.Account.Name FROM Task", "INVALID_FIELD",
         "Didn't understand relationship 'Account' in field path."),
        ("SELECT Id, (SELECT Id FROM Foos) FROM Account", "INVALID_TYPE",
         "Didn't understand relationship 'Foos' in FROM part of query call. If you are "
         "attempting to use a custom relationship, be sure to append the '__r' after the custom "
         "relationship name. " + _WSDL),
        ("SELECT Id FROM Contact WHERE Birthdate > '2020-01-01'", "INVALID_FIELD",
         "value of filter criterion for field 'Birthdate' must be of type date and should not "
         "be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2020-01-01T00:00:00Z'", "INVALID_FIELD",
         "value of filter criterion for field 'CreatedDate' must be of type dateTime and should "
         "not be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE CreatedDate > 2020-01-01", "INVALID_FIELD",
         "field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD",
         "value of filter criterion for field 'LastName' must be of type string and should be "
         "enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE Movement_Exclude__c = 'true'", "INVALID_FIELD",
         "field 'Movement_Exclude__c' must be of type boolean and should not be enclosed in "
         "quotes"),
        ("SELECT Id FROM Account WHERE NumberOfEmployees = '5'", "INVALID_FIELD",
         "field 'NumberOfEmployees' must be of type int and should not be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE LastName = TODAY", "INVALID_FIELD",
         "field 'LastName' must be of type string and should be enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE Id = 'abc'", "MALFORMED_QUERY", "invalid ID field: abc"),
        ("SELECT Id FROM Contact WHERE AccountId IN ('001000000000000AAA', 'nope')",
         "MALFORMED_QUERY", "invalid ID field: nope"),
        ("SELECT Id FROM Contact ORDER BY LastName LIMIT 10 OFFSET 2001",
         "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000"),
        ("SELECT Id, id FROM Contact", "INVALID_FIELD", "duplicate field selected: Id"),
        ("SELECT Account.Name, account.name FROM Contact", "INVALID_FIELD",
         "duplicate field selected: Account.Name"),
        ("SELECT Id, FIELDS(ALL) FROM Contact LIMIT 5", "INVALID_FIELD",
         "duplicate field selected: Id"),
        ("SELECT FIELDS(ALL) FROM Contact", "MALFORMED_QUERY",
         "The SOQL FIELDS function must have a LIMIT of at most 200"),
        ("SELECT FIELDS(CUSTOM) FROM Organization LIMIT 1", "MALFORMED_QUERY",
         "'FIELDS(...)' expansion function must result in at least one field being selected."),
        ("SELECT Id FROM Contact WHERE Description = 'x'", "INVALID_FIELD",
         "field 'Description' can not be filtered in a query call"),
        ("SELECT Id FROM Account WHERE BillingAddress = 'x'", "INVALID_FIELD",
         "field 'BillingAddress' can not be filtered in a query call"),
        ("SELECT Id FROM Contact ORDER BY Member_Tags__c", "INVALID_FIELD",
         "field 'Member_Tags__c' can not be sorted in a query call"),
        ("SELECT LastName, COUNT(Id) FROM Contact", "MALFORMED_QUERY",
         "Field must be grouped or aggregated: LastName"),
        ("SELECT Id FROM Contact WHERE LastName INCLUDES ('a')", "MALFORMED_QUERY",
         "includes or excludes operator only valid on multipicklist field"),
        ("SELECT COUNT() FROM Contact ORDER BY LastName", "MALFORMED_QUERY",
         "COUNT() and ORDER BY may not be used together"),
        ("SELECT Id, COUNT() FROM Contact", "MALFORMED_QUERY",
         "COUNT() must be the only element in the SELECT list"),
        ("SELECT Id FROM Account WHERE Id IN (SELECT ParentId FROM Account)", "MALFORMED_QUERY",
         "The inner and outer selects should not be on the same object type"),
        ("SELECT Id FROM Account WHERE Id IN (SELECT Name FROM Contact)", "MALFORMED_QUERY",
         "The selected field in a subquery must be an ID or a reference field"),
        ("SELECT Id FROM Contact WHERE Name = 'a' OR Name = 'b' AND Name = 'c'",
         "MALFORMED_QUERY", "unexpected token: 'AND'"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
        ("SELECT TYPEOF Account WHEN Account THEN Name END FROM Contact", "MALFORMED_QUERY",
         "TYPEOF can only be used with a polymorphic relationship: Account"),
        ("SELECT Id FROM Contact WHERE LastName LIKE 5", "MALFORMED_QUERY",
         "unexpected token: '5'"),
        ("SELECT Id FROM Opportunity WHERE Amount LIKE '5%'", "INVALID_FIELD",
         "LIKE is only valid on text fields"),
        ("SELECT CALENDAR_YEAR(LastName) FROM Contact GROUP BY CALENDAR_YEAR(LastName)",
         "MALFORMED_QUERY", "CALENDAR_YEAR only works on date or datetime fields: LastName"),
    ],
)  # fmt: skip
def test_rejected_queries(org: SoqlOrg, soql: str, code: str, ending: str) -> None:
    error = _error(org, soql)
    assert error.error_code == code
    assert ending in error.message


def test_locator_errors(org: SoqlOrg) -> None:
    for locator in ("", "nonsense", "01g5g0000000001AAA-2000", "01gXYZ-abc"):
        with pytest.raises(SoqlError) as caught:
            org.engine.more(locator)
        assert caught.value.error_code == "INVALID_QUERY_LOCATOR"
        assert caught.value.message == "invalid query locator"


def test_bulk_rejects_what_bulk_query_cannot_return(org: SoqlOrg) -> None:
    cases = {
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account": "Aggregate Relationships",
        "SELECT Id, BillingAddress FROM Account": "Selecting compound data not supported",
        "SELECT COUNT() FROM Account": "Aggregate queries",
    }
    for soql, words in cases.items():
        with pytest.raises(SoqlError) as caught:
            org.engine.iter_flat(soql, include_deleted=False)
        assert caught.value.error_code == "FUNCTIONALITY_NOT_ENABLED"
        assert words in caught.value.message


_FIELDS = ["Id", "Name", "LastName", "Email", "Birthdate", "CreatedDate", "AccountId",
           "Account.Name", "Account.Owner.Name", "Owner.IsActive", "Who.Name", "What.Type",
           "Member_Tags__c", "BillingAddress", "Amount", "IsDeleted", "Foo", "Account_Name__c",
           "CALENDAR_YEAR(CreatedDate)", "COUNT(Id)", "toLabel(LeadSource)",
           "(SELECT Id FROM Contacts)", "FIELDS(STANDARD)"]  # fmt: skip
_OBJECTS = ["Contact", "Contact", "Contact", "Account", "Task", "Opportunity"]
_VALUES = ["'x'", "'a;b'", "5", "-2.5", "null", "true", "TODAY", "LAST_N_DAYS:3",
           "2024-01-01", "2024-01-01T00:00:00Z", "'001000000000000AAA'"]  # fmt: skip
_LISTS = ["('x', 'y')", "('a;b', 'c')", "(5, 6)", "(null, 'x')", "(TODAY, 2024-01-01)",
          "('001000000000000AAA')", "(SELECT AccountId FROM Contact)",
          "(SELECT Id FROM Account WHERE Name LIKE 'A%')"]  # fmt: skip
_OPERATORS = ["=", "!=", "<", ">=", "LIKE"]
_LIST_OPERATORS = ["IN", "NOT IN", "INCLUDES", "EXCLUDES"]


@st.composite
def _condition(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(_FIELDS[:18]))
    if draw(st.booleans()):
        return f"{field} {draw(st.sampled_from(_OPERATORS))} {draw(st.sampled_from(_VALUES))}"
    return f"{field} {draw(st.sampled_from(_LIST_OPERATORS))} {draw(st.sampled_from(_LISTS))}"


@st.composite
def _queries(draw: st.DrawFn) -> str:
    fields = draw(st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=4))
    sobject = draw(st.sampled_from(_OBJECTS))
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"
    conditions = draw(st.lists(_condition(), max_size=3))
    if conditions:
        joiner = draw(st.sampled_from([" AND ", " OR "]))
        negate = draw(st.sampled_from(["", "NOT "]))
        soql += " WHERE " + joiner.join(f"({negate}{c})" for c in conditions)
    if draw(st.integers(0, 3)) == 0:
        soql += f" GROUP BY {draw(st.sampled_from(_FIELDS[:18]))}"
    if draw(st.booleans()):
        soql += f" ORDER BY {draw(st.sampled_from(_FIELDS[:18]))}"
        soql += draw(st.sampled_from(["", " DESC", " NULLS LAST", " DESC NULLS FIRST"]))
    if draw(st.booleans()):
        soql += f" LIMIT {draw(st.integers(0, 300))}"
    return soql


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(_queries(), st.booleans())
def test_generated_queries_either_run_or_raise_soql_errors(
    org: SoqlOrg, soql: str, include_deleted: bool
) -> None:
    # Whatever the combination, SQLite never sees SQL it rejects: only SoqlError escapes.
    try:
        page = org.engine.start(soql, include_deleted=include_deleted)
    except SoqlError as error:
        code = error.error_code
    else:
        code = "OK"
        assert page.total_size >= len(page.records)
    assert code in {"OK", "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"}


def test_date_literals_follow_the_org_clock(org: SoqlOrg) -> None:
    before = org.engine.start(
        "SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY", include_deleted=False
    )
    org.clock.now = org.clock.now + dt.timedelta(days=1)
    try:
        after = org.engine.start(
            "SELECT COUNT() FROM Contact WHERE CreatedDate = YESTERDAY", include_deleted=False
        )
    finally:
        org.clock.now = org.clock.now - dt.timedelta(days=1)
    assert before.total_size == after.total_size == 1
