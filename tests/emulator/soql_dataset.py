"""A small, fixed org for the SOQL tests, written through the store like any client would.

Every record gets a readable name (``contact:jane``); :func:`readable` swaps ids in
query results for those names so expected results read like the data below. The org's
clock is fixed at Wednesday 2024-05-15 12:00 UTC and moved to each record's creation
time while it is written, so CreatedDate and the date literals are deterministic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmbridge.emulator.bootstrap import bootstrap_org
from crmbridge.emulator.schema import default_schema
from crmbridge.emulator.soql import QueryEngine
from crmbridge.emulator.store import OrgStore

NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def at(text: str) -> dt.datetime:
    """An aware UTC datetime from ``2024-05-15T09:00``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass
class SoqlOrg:
    """The org, its engine and the names of its records."""

    store: OrgStore
    engine: QueryEngine
    clock: FixedClock
    ids: dict[str, str] = field(default_factory=dict)

    def create(self, name: str, sobject: str, created: str, values: dict[str, Any]) -> str:
        """Create a record at ``created`` and remember it as ``name``."""
        self.clock.now = at(created)
        resolved = {k: self.ids.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
        record_id = self.store.create(sobject, resolved)
        self.ids[name] = record_id
        return record_id

    def readable(self, value: Any) -> Any:
        """Query results without ``attributes`` and with ids replaced by record names."""
        names = {record_id: name for name, record_id in self.ids.items()}
        return _readable(value, names)


def _readable(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_readable(item, names) for item in value]
    if isinstance(value, dict):
        return {k: _readable(v, names) for k, v in value.items() if k != "attributes"}
    if isinstance(value, str):
        return names.get(value, value)
    return value


def build_org(data_dir: Path) -> SoqlOrg:
    """Write the fixed data set into a new org in ``data_dir``."""
    clock = FixedClock(at("2023-01-01T00:00"))
    schema = default_schema()
    store = OrgStore.open(data_dir, schema, clock=clock)
    identity = bootstrap_org(store)
    org = SoqlOrg(store, QueryEngine(store, schema, clock=clock), clock)
    org.ids["user:admin"] = identity.admin_user_id
    _people(org)
    _accounts(org)
    _contacts(org)
    _deals_and_activities(org)
    clock.now = NOW
    return org


def _people(org: SoqlOrg) -> None:
    org.create("user:bob", "User", "2023-02-01T00:00", {
        "Username": "bob@example.com", "LastName": "Builder", "FirstName": "Bob",
        "Alias": "bbuil", "Email": "bob@example.com", "IsActive": True,
    })  # fmt: skip
    org.create("user:ina", "User", "2023-02-01T00:00", {
        "Username": "ina@example.com", "LastName": "Inactive", "FirstName": "Ina",
        "Alias": "iinac", "Email": "ina@example.com", "IsActive": False,
    })  # fmt: skip
    org.create("lead:larry", "Lead", "2024-05-01T10:00", {
        "LastName": "Lead", "FirstName": "Larry", "Company": "LeadCo", "Lead_Score__c": 42,
    })  # fmt: skip


def _accounts(org: SoqlOrg) -> None:
    org.create("account:acme", "Account", "2024-01-10T09:00", {
        "Name": "Acme", "Industry": "Media", "Type": "Customer - Direct",
        "BillingCity": "Paris", "BillingCountry": "France", "AnnualRevenue": 5_000_000,
        "NumberOfEmployees": 120, "OwnerId": "user:bob",
    })  # fmt: skip
    org.create("account:acme-west", "Account", "2024-03-01T09:00", {
        "Name": "Acme West", "Industry": "Media", "ParentId": "account:acme",
        "BillingCity": "Lyon", "AnnualRevenue": 1_000_000, "NumberOfEmployees": 30,
        "OwnerId": "user:bob",
    })  # fmt: skip
    org.create("account:globex", "Account", "2024-05-14T08:00", {
        "Name": "Globex", "Industry": "Technology", "NumberOfEmployees": 500,
        "OwnerId": "user:ina",
    })  # fmt: skip
    org.create("account:obrien", "Account", "2024-05-15T10:00", {
        "Name": "O'Brien & Sons", "Industry": "Retail",
    })  # fmt: skip
    org.create("account:initech", "Account", "2023-06-01T00:00", {"Name": "Initech"})
    org.clock.now = at("2024-05-15T11:00")
    org.store.delete("Account", org.ids["account:initech"])


def _contacts(org: SoqlOrg) -> None:
    org.create("contact:jane", "Contact", "2024-05-15T09:00", {
        "FirstName": "Jane", "LastName": "Doe", "AccountId": "account:acme",
        "Email": "jane@acme.example", "Member_Tags__c": "Membership Active;Event Attended",
        "Membership_Status__c": "Active", "Birthdate": "1990-04-01", "LeadSource": "Web",
    })  # fmt: skip
    org.create("contact:john", "Contact", "2024-05-14T23:59:59.999", {
        "FirstName": "John", "LastName": "Smith", "AccountId": "account:acme",
        "Email": "john@acme.example", "Member_Tags__c": "Membership Expiring",
        "Membership_Status__c": "Expiring", "Birthdate": "1985-12-24",
        "LeadSource": "Phone Inquiry",
    })  # fmt: skip
    org.create("contact:ann", "Contact", "2024-05-08T12:00", {
        "FirstName": "Ann", "LastName": "Lee", "AccountId": "account:acme-west",
        "Email": "ann@acmewest.example", "Member_Tags__c": "Event Registered;Course Enrolled",
        "Movement_Exclude__c": True, "Birthdate": "2000-02-29", "LeadSource": "Web",
    })  # fmt: skip
    org.create("contact:bob", "Contact", "2024-04-20T12:00", {
        "FirstName": "Bob", "LastName": "Brown", "AccountId": "account:globex",
    })  # fmt: skip
    org.create("contact:zed", "Contact", "2023-12-31T23:00", {
        "FirstName": "Zed", "LastName": "Zero", "Email": "ZED@EXAMPLE.COM",
    })  # fmt: skip
    org.create("contact:percent", "Contact", "2024-02-15T00:00", {
        "LastName": "Per%cent_Sign", "AccountId": "account:obrien",
    })  # fmt: skip
    org.create("contact:ghost", "Contact", "2024-05-01T00:00", {
        "FirstName": "Gone", "LastName": "Ghost", "AccountId": "account:acme",
    })  # fmt: skip
    org.clock.now = at("2024-05-15T11:30")
    org.store.delete("Contact", org.ids["contact:ghost"])


def _deals_and_activities(org: SoqlOrg) -> None:
    org.create("opp:big", "Opportunity", "2024-04-01T00:00", {
        "Name": "Acme Big Deal", "AccountId": "account:acme", "StageName": "Closed Won",
        "Amount": 50000, "CloseDate": "2024-05-10",
    })  # fmt: skip
    org.create("opp:renewal", "Opportunity", "2024-04-02T00:00", {
        "Name": "Acme Renewal", "AccountId": "account:acme", "StageName": "Prospecting",
        "Amount": 12000.5, "CloseDate": "2024-06-20",
    })  # fmt: skip
    org.create("opp:pilot", "Opportunity", "2023-11-01T00:00", {
        "Name": "Globex Pilot", "AccountId": "account:globex", "StageName": "Closed Lost",
        "Amount": 3000, "CloseDate": "2023-12-01",
    })  # fmt: skip
    org.create("opp:order", "Opportunity", "2024-05-15T08:00", {
        "Name": "O'Brien Order", "AccountId": "account:obrien",
        "StageName": "Negotiation/Review", "CloseDate": "2024-05-16",
    })  # fmt: skip
    org.create("task:call", "Task", "2024-05-15T09:30", {
        "Subject": "Call", "WhoId": "contact:jane", "WhatId": "account:acme",
        "ActivityDate": "2024-05-15", "Status": "Completed", "Priority": "High",
    })  # fmt: skip
    org.create("task:email", "Task", "2024-05-02T09:30", {
        "Subject": "Email Larry", "WhoId": "lead:larry", "Status": "Not Started",
    })  # fmt: skip
    org.create("task:prep", "Task", "2023-11-02T09:30", {
        "Subject": "Prep pilot", "WhatId": "opp:pilot", "Status": "Completed",
    })  # fmt: skip
