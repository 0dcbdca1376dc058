"""Reading and checking the two sides of a crash-campaign world (see crash_campaign).

:func:`snapshot` reads both sides of a world into key-addressed values (ids replaced by
natural keys, so two worlds compare), :func:`check_world` asserts what must hold
inside one world — no duplicates on either side, every record linked to exactly one
counterpart — and :func:`sides_agree` lists where the platform and Salesforce differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crash_campaign import MEMBER_FIELDS, ORGANIZATION_FIELDS, World, live_records

from crmbridge.store.models import Record

CONTACT_SOQL = (
    "SELECT Id, Email, AccountId, Platform_Id__c, Membership_Status__c, "
    + ", ".join(sf for _, sf in MEMBER_FIELDS)
    + " FROM Contact"
)
ACCOUNT_SOQL = (
    "SELECT Id, Name, ParentId, Platform_Id__c, "
    + ", ".join(sf for _, sf in ORGANIZATION_FIELDS)
    + " FROM Account"
)


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Both sides of a world, by natural key, with ids replaced by keys."""

    #: Contact e-mail → mapped values (AccountId as the Account's name).
    contacts: dict[str, dict[str, Any]]
    #: Account name → mapped values (ParentId as the parent's name).
    accounts: dict[str, dict[str, Any]]
    #: Member e-mail → values under the Salesforce names (company as ``Account``).
    members: dict[str, dict[str, Any]]
    #: Organization name → values under the Salesforce names.
    organizations: dict[str, dict[str, Any]]


def snapshot(world: World) -> Snapshot:
    """Read both sides and check the links inside the world (see :func:`check_world`)."""
    with world.salesforce() as sf:
        contacts = list(sf.query(CONTACT_SOQL))
        accounts = list(sf.query(ACCOUNT_SOQL))
    with world.session_factory() as session:
        members = live_records(session, world, "member")
        organizations = live_records(session, world, "organization")
    check_world(world, contacts, accounts, members, organizations)
    account_names = {a["Id"]: a["Name"] for a in accounts}
    org_names = {o.id: o.data["name"] for o in organizations}
    return Snapshot(
        contacts={
            c["Email"]: {
                **{sf: c[sf] for _, sf in MEMBER_FIELDS},
                "Account": account_names.get(c["AccountId"]),
            }
            for c in contacts
        },
        accounts={
            a["Name"]: {
                **{sf: a[sf] for _, sf in ORGANIZATION_FIELDS},
                "Parent": account_names.get(a["ParentId"]),
            }
            for a in accounts
        },
        members={
            m.data["email"]: {
                **{sf: m.data.get(p) for p, sf in MEMBER_FIELDS},
                # company ↔ AccountId is a lookup by Account name; organization_id
                # only follows Salesforce (compared between worlds, not with Contacts).
                "Account": m.data.get("company"),
                "organization": org_names.get(m.data.get("organization_id") or ""),
            }
            for m in members
        },
        organizations={
            o.data["name"]: {
                **{sf: o.data.get(p) for p, sf in ORGANIZATION_FIELDS},
                "Parent": org_names.get(o.data.get("parent_id") or ""),
            }
            for o in organizations
        },
    )


def check_world(
    world: World,
    contacts: Sequence[dict[str, Any]],
    accounts: Sequence[dict[str, Any]],
    members: Sequence[Record],
    organizations: Sequence[Record],
) -> None:
    """No duplicate on either side; each record linked to exactly one counterpart."""
    for label, rows, key in (
        ("Contact", contacts, "Email"),
        ("Account", accounts, "Name"),
    ):
        twice = [k for k, n in Counter(r[key] for r in rows).items() if n > 1]
        assert not twice, f"{world.name}: duplicate {label}s in Salesforce: {twice[:5]}"
        unstamped = [r[key] for r in rows if not r["Platform_Id__c"]]
        assert not unstamped, f"{world.name}: {label}s without Platform_Id__c: {unstamped[:5]}"
        stamps = Counter(r["Platform_Id__c"] for r in rows)
        shared = [k for k, n in stamps.items() if n > 1]
        assert not shared, f"{world.name}: {label}s sharing a Platform_Id__c: {shared[:5]}"
    for label, records, key, rows in (
        ("member", members, "email", contacts),
        ("organization", organizations, "name", accounts),
    ):
        twice = [k for k, n in Counter(r.data[key] for r in records).items() if n > 1]
        assert not twice, f"{world.name}: duplicate {label}s on the platform: {twice[:5]}"
        by_salesforce_id = Counter(r.salesforce_id for r in records)
        shared = [k for k, n in by_salesforce_id.items() if n > 1]
        assert not shared, f"{world.name}: {label}s sharing a salesforce_id: {shared[:5]}"
        counterpart = {r["Platform_Id__c"]: r["Id"] for r in rows}
        wrong = [
            r.data[key]
            for r in records
            if counterpart.get(r.id) is None or counterpart[r.id] != r.salesforce_id
        ]
        assert not wrong, f"{world.name}: {label}s not linked to their counterpart: {wrong[:5]}"
        stray = set(counterpart) - {r.id for r in records}
        assert not stray, f"{world.name}: Salesforce records of no live {label}: {len(stray)}"


def sides_agree(snap: Snapshot) -> list[str]:
    """Differences between the platform side and the Salesforce side of one world."""
    problems: list[str] = []
    for label, platform, salesforce in (
        ("member", snap.members, snap.contacts),
        ("organization", snap.organizations, snap.accounts),
    ):
        if set(platform) != set(salesforce):
            missing = sorted(set(platform) ^ set(salesforce))
            problems.append(f"{label}: keys on one side only: {missing[:5]}")
        for key in sorted(set(platform) & set(salesforce)):
            theirs = salesforce[key]
            ours = {k: v for k, v in platform[key].items() if k in theirs}
            if ours != theirs:
                problems.append(f"{label} {key}: platform {ours} != Salesforce {theirs}")
    return problems
