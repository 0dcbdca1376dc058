"""The SOQL test table: queries and the records they return on the fixed data set.

Data set: tests/emulator/soql_dataset.py (today is Wednesday 2024-05-15 UTC). Records
are shown without ``attributes`` and with ids replaced by record names; ``{name}`` in
a query is replaced by that record's 18-character id (``{name:15}`` by its 15-character
form). An ``int`` expectation is the ``totalSize`` of a ``COUNT()`` query.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from soql_dataset import SoqlOrg, build_org

from crmbridge.emulator.soql.records import RecordRenderer

Q = pytest.param

CONTACTS = ["Doe", "Smith", "Lee", "Brown", "Zero", "Per%cent_Sign"]


def last_names(*names: str) -> list[dict[str, Any]]:
    """Records that only carry LastName."""
    return [{"LastName": name} for name in names]


def names(*values: str) -> list[dict[str, Any]]:
    """Records that only carry Name."""
    return [{"Name": value} for value in values]


def subjects(*values: str) -> list[dict[str, Any]]:
    """Records that only carry Subject."""
    return [{"Subject": value} for value in values]


# fmt: off
TABLE = [
    # --- field lists, ORDER BY, LIMIT, OFFSET -----------------------------------------
    Q(
        "SELECT Id, LastName FROM Contact",
        [{"Id": f"contact:{n}", "LastName": ln} for n, ln in zip(
            ["jane", "john", "ann", "bob", "zed", "percent"], CONTACTS, strict=True)],
        id="plain-fields-in-creation-order",
    ),
    Q("select lastname from contact order by lastname",
      last_names("Brown", "Doe", "Lee", "Per%cent_Sign", "Smith", "Zero"),
      id="keywords-and-names-case-insensitive"),
    Q("SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 2", last_names("Zero", "Smith"),
      id="order-desc-limit"),
    Q("SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 2",
      last_names("Lee", "Per%cent_Sign"), id="limit-offset"),
    Q("SELECT LastName FROM Contact ORDER BY Email NULLS LAST, LastName",
      last_names("Lee", "Doe", "Smith", "Zero", "Brown", "Per%cent_Sign"), id="nulls-last"),
    Q("SELECT LastName FROM Contact ORDER BY Email, LastName",
      last_names("Brown", "Per%cent_Sign", "Lee", "Doe", "Smith", "Zero"),
      id="asc-defaults-to-nulls-first"),
    Q("SELECT LastName FROM Contact ORDER BY Birthdate DESC, LastName",
      last_names("Lee", "Doe", "Smith", "Brown", "Per%cent_Sign", "Zero"),
      id="desc-defaults-to-nulls-last"),
    Q("SELECT LastName FROM Contact ORDER BY Birthdate DESC NULLS FIRST, LastName",
      last_names("Brown", "Per%cent_Sign", "Zero", "Lee", "Doe", "Smith"), id="desc-nulls-first"),
    Q("SELECT LastName FROM Contact ORDER BY Account.Name, LastName",
      last_names("Zero", "Doe", "Smith", "Lee", "Brown", "Per%cent_Sign"),
      id="order-by-parent-field-keeps-orphans"),
    Q("SELECT Name FROM Opportunity ORDER BY IsClosed DESC, Amount DESC",
      names("Acme Big Deal", "Globex Pilot", "Acme Renewal", "O'Brien Order"),
      id="order-by-boolean-and-currency"),
    Q("SELECT Name FROM Account ORDER BY Name",
      names("Acme", "Acme West", "Globex", "O'Brien & Sons"), id="deleted-rows-hidden-from-query"),
    # --- parent relationships ---------------------------------------------------------
    Q("SELECT Name, Account.Name FROM Contact WHERE Account.Industry = 'media' ORDER BY Name",
      [{"Name": "Ann Lee", "Account": {"Name": "Acme West"}},
       {"Name": "Jane Doe", "Account": {"Name": "Acme"}},
       {"Name": "John Smith", "Account": {"Name": "Acme"}}], id="parent-field-select-and-filter"),
    Q("SELECT LastName, Account.Name FROM Contact WHERE FirstName = 'Zed'",
      [{"LastName": "Zero", "Account": None}], id="empty-lookup-renders-null"),
    Q("SELECT LastName, Account.Owner.Name, Account.Owner.IsActive FROM Contact "
      "WHERE AccountId != null ORDER BY LastName",
      [{"LastName": "Brown", "Account": {"Owner": {"Name": "Ina Inactive", "IsActive": False}}},
       {"LastName": "Doe", "Account": {"Owner": {"Name": "Bob Builder", "IsActive": True}}},
       {"LastName": "Lee", "Account": {"Owner": {"Name": "Bob Builder", "IsActive": True}}},
       {"LastName": "Per%cent_Sign", "Account": {"Owner": {"Name": "Ada Admin", "IsActive": True}}},
       {"LastName": "Smith", "Account": {"Owner": {"Name": "Bob Builder", "IsActive": True}}}],
      id="two-level-parent-path"),
    Q("SELECT Name FROM Account WHERE Owner.IsActive = false", names("Globex"),
      id="owner-isactive-filter"),
    Q("SELECT Name, Parent.Name, Parent.Parent.Name FROM Account WHERE ParentId != null",
      [{"Name": "Acme West", "Parent": {"Name": "Acme", "Parent": None}}],
      id="account-hierarchy"),
    Q("SELECT c.LastName, c.Account.Name FROM Contact c WHERE c.FirstName = 'Ann'",
      [{"LastName": "Lee", "Account": {"Name": "Acme West"}}], id="from-alias"),
    Q("SELECT Contact.LastName FROM Contact WHERE Contact.FirstName = 'Bob'", last_names("Brown"),
      id="object-name-prefix"),
    Q("select LASTNAME, account.NAME from CONTACT where FIRSTNAME = 'ann'",
      [{"LastName": "Lee", "Account": {"Name": "Acme West"}}], id="canonical-casing-in-results"),
    # --- formula and compound fields --------------------------------------------------
    Q("SELECT LastName, Account_Name__c FROM Contact WHERE Account_Name__c LIKE 'acme%' "
      "ORDER BY LastName",
      [{"LastName": "Doe", "Account_Name__c": "Acme"},
       {"LastName": "Lee", "Account_Name__c": "Acme West"},
       {"LastName": "Smith", "Account_Name__c": "Acme"}], id="formula-field-select-and-filter"),
    Q("SELECT LastName FROM Contact WHERE AccountId != null "
      "ORDER BY Account_Name__c DESC, LastName",
      last_names("Per%cent_Sign", "Brown", "Lee", "Doe", "Smith"), id="formula-field-order-by"),
    Q("SELECT Name, BillingAddress FROM Account WHERE Name = 'Acme'",
      [{"Name": "Acme", "BillingAddress": {
          "city": "Paris", "country": "France", "geocodeAccuracy": None, "latitude": None,
          "longitude": None, "postalCode": None, "state": None, "street": None}}],
      id="compound-address"),
    Q("SELECT BillingAddress FROM Account WHERE Name = 'Globex'", [{"BillingAddress": None}],
      id="empty-compound-address-is-null"),
    Q("SELECT Id, FIELDS(CUSTOM) FROM Opportunity ORDER BY Name LIMIT 1",
      [{"Id": "opp:big", "Platform_Id__c": None}], id="fields-custom"),
    # --- child subqueries -------------------------------------------------------------
    Q("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account "
      "WHERE Industry = 'Media' ORDER BY Name",
      [{"Name": "Acme", "Contacts": {"totalSize": 2, "done": True,
                                     "records": last_names("Doe", "Smith")}},
       {"Name": "Acme West", "Contacts": {"totalSize": 1, "done": True,
                                          "records": last_names("Lee")}}],
      id="child-subquery"),
    Q("SELECT Name, (SELECT Id FROM Opportunities) FROM Account WHERE Name = 'Acme West'",
      [{"Name": "Acme West", "Opportunities": None}], id="empty-child-subquery-is-null"),
    Q("SELECT Name, (SELECT Name FROM Opportunities WHERE IsClosed = false ORDER BY CloseDate "
      "DESC LIMIT 1) FROM Account WHERE Name IN ('Acme', 'Globex') ORDER BY Name",
      [{"Name": "Acme", "Opportunities": {"totalSize": 1, "done": True,
                                          "records": names("Acme Renewal")}},
       {"Name": "Globex", "Opportunities": None}], id="child-subquery-where-order-limit"),
    Q("SELECT Account.Name, (SELECT Contact.LastName FROM Account.Contacts WHERE LastName "
      "LIKE 'S%') FROM Account WHERE Name = 'Acme'",
      [{"Name": "Acme", "Contacts": {"totalSize": 1, "done": True,
                                     "records": last_names("Smith")}}],
      id="child-subquery-prefixed-names"),
    Q("SELECT Name, (SELECT Subject, Who.Name FROM Tasks) FROM Account WHERE Name = 'Acme'",
      [{"Name": "Acme", "Tasks": {"totalSize": 1, "done": True,
                                  "records": [{"Subject": "Call", "Who": {"Name": "Jane Doe"}}]}}],
      id="child-subquery-with-parent-path"),
    Q("SELECT Name, (SELECT LastName, (SELECT Subject FROM Tasks) FROM Contacts "
      "WHERE LastName = 'Doe') FROM Account WHERE Name = 'Acme'",
      [{"Name": "Acme", "Contacts": {"totalSize": 1, "done": True, "records": [
          {"LastName": "Doe", "Tasks": {"totalSize": 1, "done": True,
                                        "records": subjects("Call")}}]}}],
      id="nested-child-subqueries"),
    # --- WHERE: logic, null, strings ----------------------------------------------------
    Q("SELECT LastName FROM Contact WHERE (LeadSource = 'Web' OR LeadSource = 'Phone Inquiry') "
      "AND NOT Movement_Exclude__c = true ORDER BY LastName", last_names("Doe", "Smith"),
      id="and-or-not-parentheses"),
    Q("SELECT LastName FROM Contact WHERE NOT (LeadSource = 'Web' OR Email = null) "
      "ORDER BY LastName", last_names("Smith", "Zero"), id="not-of-or"),
    Q("SELECT LastName FROM Contact WHERE LastName = 'Zero' OR Account.Name = 'Globex' "
      "ORDER BY LastName", last_names("Brown", "Zero"), id="or-across-outer-join"),
    Q("SELECT LastName FROM Contact WHERE LeadSource != 'Web' ORDER BY LastName",
      last_names("Brown", "Per%cent_Sign", "Smith", "Zero"), id="not-equal-includes-nulls"),
    Q("SELECT LastName FROM Contact WHERE Membership_Status__c <> 'Active' ORDER BY LastName",
      last_names("Brown", "Lee", "Per%cent_Sign", "Smith", "Zero"), id="angle-not-equal"),
    Q("SELECT LastName FROM Contact WHERE Email = null ORDER BY LastName",
      last_names("Brown", "Per%cent_Sign"), id="equals-null"),
    Q("SELECT LastName FROM Contact WHERE Birthdate != null ORDER BY Birthdate",
      last_names("Smith", "Doe", "Lee"), id="not-equals-null"),
    Q("SELECT LastName FROM Contact WHERE Email = 'zed@example.com'", last_names("Zero"),
      id="text-equality-case-insensitive"),
    Q("SELECT Name FROM Account WHERE Name = 'O\\'Brien & Sons'", names("O'Brien & Sons"),
      id="escaped-quote"),
    Q("SELECT COUNT() FROM Account WHERE Name = 'Acme\\u0020West'", 1, id="unicode-escape"),
    Q("SELECT LastName FROM Contact WHERE FirstName IN ('jane', 'JOHN', 'nobody') "
      "ORDER BY LastName", last_names("Doe", "Smith"), id="in-list"),
    Q("SELECT LastName FROM Contact WHERE LeadSource NOT IN ('Web') ORDER BY LastName",
      last_names("Brown", "Per%cent_Sign", "Smith", "Zero"), id="not-in-includes-nulls"),
    Q("SELECT LastName FROM Contact WHERE AccountId = '{account:acme:15}' ORDER BY LastName",
      last_names("Doe", "Smith"), id="fifteen-character-id"),
    Q("SELECT LastName FROM Contact WHERE Id IN ('{contact:jane}', '{contact:zed}')",
      last_names("Doe", "Zero"), id="id-in-list"),
    Q("SELECT LastName FROM Contact WHERE LastName LIKE '_e%' ORDER BY LastName",
      last_names("Lee", "Per%cent_Sign", "Zero"), id="like-wildcards"),
    Q("SELECT LastName FROM Contact WHERE LastName LIKE '%\\%cent\\_%'",
      last_names("Per%cent_Sign"), id="like-escaped-wildcards"),
    Q("SELECT COUNT() FROM Contact WHERE LastName LIKE 'Per\\_%'", 0,
      id="like-escaped-underscore-is-literal"),
    # --- numbers, booleans -------------------------------------------------------------
    Q("SELECT Name FROM Account WHERE NumberOfEmployees >= 100 ORDER BY NumberOfEmployees DESC",
      names("Globex", "Acme"), id="int-comparison"),
    Q("SELECT Name FROM Opportunity WHERE Amount > 12000 AND Amount <= 50000 ORDER BY Amount",
      names("Acme Renewal", "Acme Big Deal"), id="currency-range"),
    Q("SELECT Name FROM Opportunity WHERE Amount > -1.5 AND Amount < 3000.01",
      names("Globex Pilot"), id="negative-and-decimal-literals"),
    Q("SELECT Name FROM Opportunity WHERE Probability = 100", names("Acme Big Deal"),
      id="percent-field"),
    Q("SELECT Name, Lead_Score__c FROM Lead WHERE Lead_Score__c > 40.5",
      [{"Name": "Larry Lead", "Lead_Score__c": 42.0}], id="double-field"),
    Q("SELECT LastName FROM Contact WHERE Movement_Exclude__c = TRUE", last_names("Lee"),
      id="boolean-true"),
    Q("SELECT COUNT() FROM Contact WHERE Movement_Exclude__c = null", 5,
      id="boolean-null-means-false"),
    Q("SELECT Name FROM User WHERE IsActive = true ORDER BY LastName",
      names("Ada Admin", "Bob Builder"), id="user-isactive"),
    # --- multi-select picklists -------------------------------------------------------
    Q("SELECT LastName FROM Contact WHERE Member_Tags__c INCLUDES ('Event Attended', "
      "'Course Enrolled') ORDER BY LastName", last_names("Doe", "Lee"), id="includes-any"),
    Q("SELECT LastName FROM Contact WHERE Member_Tags__c INCLUDES "
      "('membership active;event attended')", last_names("Doe"), id="includes-and-set"),
    Q("SELECT COUNT() FROM Contact WHERE Member_Tags__c INCLUDES "
      "('Membership Active;Course Enrolled')", 0, id="includes-and-set-needs-all"),
    Q("SELECT LastName FROM Contact WHERE Member_Tags__c EXCLUDES ('Event Attended') "
      "ORDER BY LastName", last_names("Brown", "Lee", "Per%cent_Sign", "Smith", "Zero"),
      id="excludes"),
    Q("SELECT LastName FROM Contact WHERE Member_Tags__c = 'Course Enrolled;Event Registered'",
      last_names("Lee"), id="multipicklist-equals-exact-set"),
    # --- dates, datetimes and date literals ---------------------------------------------
    Q("SELECT LastName FROM Contact WHERE Birthdate < 1990-01-01", last_names("Smith"),
      id="date-literal"),
    Q("SELECT LastName FROM Contact WHERE Birthdate >= 1990-04-01 AND Birthdate <= 2000-02-29 "
      "ORDER BY Birthdate", last_names("Doe", "Lee"), id="date-range"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate >= 2024-05-14T00:00:00Z "
      "ORDER BY CreatedDate", last_names("Smith", "Doe"), id="datetime-literal"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate > 2024-05-15T10:00:00+02:00",
      last_names("Doe"), id="datetime-with-offset"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = 2024-05-14T23:59:59.999Z",
      last_names("Smith"), id="datetime-fractional-seconds"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = TODAY", last_names("Doe"), id="today"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = YESTERDAY", last_names("Smith"),
      id="yesterday"),
    Q("SELECT COUNT() FROM Contact WHERE CreatedDate < TODAY", 5, id="before-today"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate > YESTERDAY", last_names("Doe"),
      id="after-yesterday"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = LAST_WEEK", last_names("Lee"),
      id="last-week"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = THIS_WEEK ORDER BY LastName",
      last_names("Doe", "Smith"), id="this-week"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = LAST_MONTH", last_names("Brown"),
      id="last-month"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = THIS_MONTH ORDER BY LastName",
      last_names("Doe", "Lee", "Smith"), id="this-month"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = LAST_N_DAYS:7 ORDER BY LastName",
      last_names("Doe", "Lee", "Smith"), id="last-n-days"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = LAST_90_DAYS ORDER BY LastName",
      last_names("Brown", "Doe", "Lee", "Per%cent_Sign", "Smith"), id="last-90-days"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = LAST_YEAR", last_names("Zero"),
      id="last-year"),
    Q("SELECT COUNT() FROM Contact WHERE CreatedDate = THIS_YEAR", 5, id="this-year"),
    Q("SELECT LastName FROM Contact WHERE CreatedDate = N_DAYS_AGO:25", last_names("Brown"),
      id="n-days-ago"),
    Q("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:7", names("O'Brien Order"),
      id="next-n-days-on-date-field"),
    Q("SELECT Name FROM Opportunity WHERE CloseDate = TOMORROW", names("O'Brien Order"),
      id="tomorrow"),
    Q("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_MONTH", names("Acme Renewal"),
      id="next-month"),
    Q("SELECT Name FROM Opportunity WHERE CloseDate > TODAY",
      names("Acme Renewal", "O'Brien Order"), id="date-after-today"),
    Q("SELECT Name FROM Opportunity WHERE CloseDate = THIS_QUARTER",
      names("Acme Big Deal", "Acme Renewal", "O'Brien Order"), id="this-quarter"),
    Q("SELECT LastName FROM Contact WHERE CALENDAR_MONTH(Birthdate) = 12", last_names("Smith"),
      id="date-function-in-where"),
    # --- aggregates -------------------------------------------------------------------
    Q("SELECT COUNT() FROM Contact", 6, id="count"),
    Q("SELECT COUNT() FROM Contact LIMIT 3", 3, id="count-with-limit"),
    Q("SELECT COUNT(Id) FROM Contact WHERE AccountId != null", [{"expr0": 5}], id="count-id"),
    Q("SELECT COUNT(Id) total, COUNT(Email) withEmail FROM Contact",
      [{"total": 6, "withEmail": 4}], id="count-field-skips-nulls-and-aliases"),
    Q("SELECT LeadSource, COUNT(Id) FROM Contact GROUP BY LeadSource ORDER BY LeadSource",
      [{"LeadSource": None, "expr0": 3}, {"LeadSource": "Phone Inquiry", "expr0": 1},
       {"LeadSource": "Web", "expr0": 2}], id="group-by"),
    Q("SELECT SUM(Amount), MAX(Amount), MIN(CloseDate), AVG(Amount) FROM Opportunity",
      [{"expr0": 65000.5, "expr1": 50000.0, "expr2": "2023-12-01",
        "expr3": 65000.5 / 3}], id="sum-max-min-avg"),
    Q("SELECT Account.Name, COUNT(Id) FROM Contact WHERE AccountId != null "
      "GROUP BY Account.Name HAVING COUNT(Id) > 1", [{"Name": "Acme", "expr0": 2}],
      id="group-by-parent-field-having"),
    Q("SELECT COUNT_DISTINCT(AccountId) FROM Contact", [{"expr0": 4}], id="count-distinct"),
    Q("SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Contact "
      "GROUP BY CALENDAR_YEAR(CreatedDate) ORDER BY CALENDAR_YEAR(CreatedDate)",
      [{"expr0": 2023, "expr1": 1}, {"expr0": 2024, "expr1": 5}], id="group-by-date-function"),
    # --- semi-joins and anti-joins ------------------------------------------------------
    Q("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE "
      "IsWon = true)", names("Acme"), id="semi-join"),
    Q("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity)",
      names("Acme West"), id="anti-join"),
    Q("SELECT Subject FROM Task WHERE WhoId IN (SELECT Id FROM Contact WHERE Email LIKE "
      "'%acme.example')", subjects("Call"), id="reference-semi-join"),
    # --- polymorphic relationships ------------------------------------------------------
    Q("SELECT Subject, Who.Name, Who.Type, What.Type FROM Task ORDER BY Subject",
      [{"Subject": "Call", "Who": {"Name": "Jane Doe", "Type": "Contact"},
        "What": {"Type": "Account"}},
       {"Subject": "Email Larry", "Who": {"Name": "Larry Lead", "Type": "Lead"}, "What": None},
       {"Subject": "Prep pilot", "Who": None, "What": {"Type": "Opportunity"}}],
      id="polymorphic-name-fields"),
    Q("SELECT Subject FROM Task WHERE Who.Type = 'Lead'", subjects("Email Larry"),
      id="polymorphic-type-filter"),
    Q("SELECT Subject FROM Task WHERE What.Type IN ('Account', 'Opportunity') ORDER BY Subject",
      subjects("Call", "Prep pilot"), id="polymorphic-type-in"),
    Q("SELECT Subject, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN "
      "Name, StageName ELSE Name END FROM Task ORDER BY Subject",
      [{"Subject": "Call", "What": {"Name": "Acme", "Industry": "Media"}},
       {"Subject": "Email Larry", "What": None},
       {"Subject": "Prep pilot", "What": {"Name": "Globex Pilot", "StageName": "Closed Lost"}}],
      id="typeof"),
    # --- clauses that are parsed and ignored ----------------------------------------------
    Q("SELECT LastName FROM Contact WHERE FirstName = 'Jane' LIMIT 1 FOR VIEW",
      last_names("Doe"), id="for-view"),
    Q("SELECT LastName FROM Contact WHERE FirstName = 'Jane' FOR REFERENCE UPDATE TRACKING",
      last_names("Doe"), id="for-reference-update-tracking"),
    Q("SELECT COUNT() FROM Contact USING SCOPE everything", 6, id="using-scope"),
]

QUERY_ALL_TABLE = [
    Q("SELECT LastName, IsDeleted FROM Contact WHERE IsDeleted = true",
      [{"LastName": "Ghost", "IsDeleted": True}], id="deleted-rows"),
    Q("SELECT COUNT() FROM Account", 5, id="count-includes-deleted"),
    Q("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account "
      "WHERE Name = 'Acme'",
      [{"Name": "Acme", "Contacts": {"totalSize": 3, "done": True,
                                     "records": last_names("Doe", "Ghost", "Smith")}}],
      id="child-subquery-includes-deleted"),
]
# fmt: on


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> SoqlOrg:
    return build_org(Path(tmp_path_factory.mktemp("soql-org")))


def _with_ids(org: SoqlOrg, soql: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, short = match.group(1), match.group(2)
        return org.ids[name][:15] if short else org.ids[name]

    return re.sub(r"\{([a-z]+:[a-z-]+)(:15)?\}", replace, soql)


def _run(org: SoqlOrg, soql: str, expected: Any, *, include_deleted: bool) -> None:
    page = org.engine.start(_with_ids(org, soql), include_deleted=include_deleted)
    assert page.done
    assert page.locator is None
    if isinstance(expected, int):
        assert page.records == []
        assert page.total_size == expected
        return
    assert org.readable(page.records) == expected
    assert page.total_size == len(expected)


@pytest.mark.parametrize(("soql", "expected"), TABLE)
def test_query(org: SoqlOrg, soql: str, expected: Any) -> None:
    _run(org, soql, expected, include_deleted=False)


@pytest.mark.parametrize(("soql", "expected"), QUERY_ALL_TABLE)
def test_query_all(org: SoqlOrg, soql: str, expected: Any) -> None:
    _run(org, soql, expected, include_deleted=True)


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) + len(QUERY_ALL_TABLE) >= 60


def test_records_carry_attributes_with_type_and_url(org: SoqlOrg) -> None:
    page = org.engine.start(
        "SELECT Id, Account.Name FROM Contact LIMIT 1", include_deleted=False, api_version="61.0"
    )
    record = page.records[0]
    jane, acme = org.ids["contact:jane"], org.ids["account:acme"]
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v61.0/sobjects/Contact/{jane}",
    }
    assert record["Account"]["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v61.0/sobjects/Account/{acme}",
    }
    assert list(record) == ["attributes", "Id", "Account"]


def test_polymorphic_parents_are_typed_name_and_point_at_their_object(org: SoqlOrg) -> None:
    page = org.engine.start(
        "SELECT Who.Name FROM Task WHERE Subject = 'Call'", include_deleted=False
    )
    who = page.records[0]["Who"]
    assert who["attributes"] == {
        "type": "Name",
        "url": f"/services/data/v59.0/sobjects/Contact/{org.ids['contact:jane']}",
    }


def test_values_use_salesforce_json_types(org: SoqlOrg) -> None:
    page = org.engine.start(
        "SELECT CreatedDate, Birthdate, Movement_Exclude__c, Account.NumberOfEmployees, "
        "Account.AnnualRevenue FROM Contact WHERE LastName = 'Smith'",
        include_deleted=False,
    )
    record = page.records[0]
    assert record["CreatedDate"] == "2024-05-14T23:59:59.999+0000"
    assert record["Birthdate"] == "1985-12-24"
    assert record["Movement_Exclude__c"] is False
    assert record["Account"]["NumberOfEmployees"] == 120
    assert record["Account"]["AnnualRevenue"] == 5_000_000.0
    assert isinstance(record["Account"]["AnnualRevenue"], float)


def test_fields_standard_lists_standard_fields_in_describe_order(org: SoqlOrg) -> None:
    page = org.engine.start(
        "SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'", include_deleted=False
    )
    record = page.records[0]
    standard = [
        f.name
        for f in org.store.schema.get("Account").fields
        if not f.custom  # type: ignore[union-attr]
    ]
    assert list(record)[1:] == standard
    assert "Platform_Id__c" not in record
    assert record["BillingAddress"]["city"] == "Paris"


def test_compiled_records_match_the_entry_by_entry_renderer(
    org: SoqlOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages are rendered by a function compiled from the record shape; it must build
    # exactly what walking the shape builds, key order included, for every query above.
    queries = [
        (p.values[0], include_deleted)
        for table, include_deleted in ((TABLE, False), (QUERY_ALL_TABLE, True))
        for p in table
        if not isinstance(p.values[1], int)
    ]

    def run() -> str:
        records = [
            org.engine.start(_with_ids(org, str(soql)), include_deleted=deleted).records
            for soql, deleted in queries
        ]
        return json.dumps(records)

    compiled = run()
    monkeypatch.setattr(
        RecordRenderer,
        "records",
        lambda self, shape, rows, children: [self.record(shape, row, children) for row in rows],
    )
    assert run() == compiled
    assert '"Who": {"attributes": {"type": "Name"' in compiled
    assert '"BillingAddress": {' in compiled
