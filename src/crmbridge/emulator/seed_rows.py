"""Row generators of the seed: one function per object, over a seeded RNG.

Each generator yields rows in the store's stored forms (see
:mod:`crmbridge.emulator.values`) and appends the ids it made to lists that later
generators pick parents from, so every reference points at a row made earlier.
:func:`crmbridge.emulator.seed.generate_org` runs them in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from crmbridge.emulator.schema_default import (
    DEFAULT_STAGES,
    INDUSTRIES,
    INSURANCE_TYPES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    MEMBER_TAGS,
    MEMBERSHIP_STATUSES,
    RATINGS,
    SALUTATIONS,
)
from crmbridge.emulator.seed_pools import SeedPools

Row = dict[str, Any]
#: Ids requested from the id source at a time.
ID_BLOCK = 20_000

_MEMBERSHIP_WEIGHTS = (55, 10, 15, 10, 6, 4)  # Active … Cancelled
_ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Other")
_CAMPAIGN_TYPES = ("Conference", "Webinar", "Email", "Direct Mail", "Referral Program", "Other")
_TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
_TASK_STATUS_WEIGHTS = (25, 15, 50, 5, 5)
#: Leads seeded unconverted: conversion sets ids the generator has no reason to invent.
_SEED_LEAD_STATUSES = tuple(s for s in LEAD_STATUSES if s != "Closed - Converted")


class IdSource(Protocol):
    """Hands out blocks of fresh 18-character ids for a key prefix."""

    def __call__(self, key_prefix: str, count: int) -> list[str]: ...


@dataclass(frozen=True, kw_only=True)
class SeedPlan:
    """How many records of each kind to create."""

    contacts: int
    users: int
    inactive_users: int
    accounts: int
    leads: int
    opportunities: int
    campaigns: int
    campaign_members: int
    tasks: int
    #: How far back CreatedDate reaches.
    history_days: int = 730


@dataclass(frozen=True)
class SeedContext:
    """What the generator needs from the org it seeds."""

    #: The admin user who "created" every record (CreatedById, LastModifiedById).
    admin_user_id: str
    #: The time the data is relative to (CreatedDate lies before it).
    now: datetime


def _stamp(moment_seconds: float) -> str:
    """The stored datetime form (isoformat is several times faster than strftime)."""
    return datetime.fromtimestamp(moment_seconds, UTC).isoformat(timespec="milliseconds")[:23] + "Z"


class RowGenerator:
    """Shared state of one generation run: RNG, pools, ids, timestamps."""

    def __init__(
        self, plan: SeedPlan, pools: SeedPools, rng: random.Random, ids: IdSource, ctx: SeedContext
    ) -> None:
        self.plan = plan
        self.pools = pools
        self.rng = rng
        self.ids = ids
        self.ctx = ctx
        self.now_s = ctx.now.timestamp()
        self.span_s = plan.history_days * 86_400
        self.today = ctx.now.astimezone(UTC).date()

    def system(self, record_id: str, owner_id: str | None = None) -> Row:
        """System fields: CreatedDate in the past, LastModifiedDate between it and now."""
        rng = self.rng
        created = self.now_s - rng.random() * self.span_s
        modified = created + rng.random() * (self.now_s - created)
        created_text = _stamp(created)
        modified_text = _stamp(modified)
        row: Row = {
            "Id": record_id,
            "IsDeleted": 0,
            "CreatedDate": created_text,
            "CreatedById": self.ctx.admin_user_id,
            "LastModifiedDate": modified_text,
            "LastModifiedById": self.ctx.admin_user_id,
            "SystemModstamp": modified_text,
        }
        if owner_id is not None:
            row["OwnerId"] = owner_id
        return row

    def phone(self) -> str:
        r = self.rng.randrange
        return f"({r(201, 990)}) {r(200, 999)}-{r(0, 10_000):04d}"

    def place(self) -> tuple[str, str, str, str]:
        city, state, postal = self.rng.choice(self.pools.places)
        return self.rng.choice(self.pools.streets), city, state, postal

    def day(self, offset_days: int) -> str:
        return (self.today + timedelta(days=offset_days)).isoformat()


def _id_stream(gen: RowGenerator, key_prefix: str, count: int) -> Iterator[str]:
    """Ids in blocks, so a million ids never sit in one list."""
    done = 0
    while done < count:
        block = min(ID_BLOCK, count - done)
        yield from gen.ids(key_prefix, block)
        done += block


def user_rows(gen: RowGenerator) -> list[Row]:
    rng, pools = gen.rng, gen.pools
    total = gen.plan.users + gen.plan.inactive_users
    rows = []
    for index, user_id in enumerate(gen.ids("005", total)):
        first = rng.choice(pools.first_names)
        last = rng.choice(pools.last_names)
        is_active = index < gen.plan.users
        row = gen.system(user_id)
        row.update(
            {
                "Username": f"{first}.{last}.{index}@emulated.example.com".lower(),
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "Alias": (first[:1] + last)[:8].lower(),
                "Email": f"{first}.{last}@emulated.example.com".lower(),
                "IsActive": int(is_active),
                "Title": rng.choice(
                    (
                        "Account Executive",
                        "Sales Manager",
                        "Membership Manager",
                        "Sales Development Rep",
                        "Customer Success Manager",
                    )
                ),
                "Department": rng.choice(("Sales", "Membership", "Marketing", "Support")),
                "Phone": gen.phone(),
                "TimeZoneSidKey": "America/New_York",
                "LocaleSidKey": "en_US",
                "LanguageLocaleKey": "en_US",
                "EmailEncodingKey": "UTF-8",
                "UserType": "Standard",
            }
        )
        rows.append(row)
    return rows


def account_rows(
    gen: RowGenerator, owner: Callable[[], str], account_ids: list[str], account_names: list[str]
) -> Iterator[Row]:
    rng, pools = gen.rng, gen.pools
    total = gen.plan.accounts
    # Three levels: 2% top-level groups, 8% regional accounts under a group, the rest
    # local accounts of which a quarter sit under a group or a region.
    top = max(1, total // 50)
    middle = top + total // 12
    for index, account_id in enumerate(_id_stream(gen, "001", total)):
        parent = None
        if top <= index < middle:
            parent = account_ids[rng.randrange(top)]
        elif index >= middle and rng.random() < 0.25:
            parent = account_ids[rng.randrange(middle)]
        name = (
            f"{rng.choice(pools.company_words)} {rng.choice(pools.company_words)} "
            f"{rng.choice(pools.company_suffixes)}"
        )
        street, city, state, postal = gen.place()
        row = gen.system(account_id, owner())
        row.update(
            {
                "Name": name,
                "ParentId": parent,
                "Type": rng.choice(_ACCOUNT_TYPES),
                "Industry": rng.choice(INDUSTRIES),
                "Phone": gen.phone(),
                "Website": f"https://www.{name.split()[0].lower()}{index}.example.com",
                "NumberOfEmployees": rng.randrange(1, 5_000),
                "AnnualRevenue": float(rng.randrange(50, 50_000) * 1_000),
                "Rating": rng.choice(RATINGS),
                "AccountSource": rng.choice(LEAD_SOURCES),
                "Description": rng.choice(pools.sentences) if rng.random() < 0.3 else None,
                "BillingStreet": street,
                "BillingCity": city,
                "BillingState": state,
                "BillingPostalCode": postal,
                "BillingCountry": "United States",
                "ShippingStreet": street,
                "ShippingCity": city,
                "ShippingState": state,
                "ShippingPostalCode": postal,
                "ShippingCountry": "United States",
            }
        )
        account_ids.append(account_id)
        account_names.append(name)
        yield row


def contact_rows(
    gen: RowGenerator,
    owner: Callable[[], str],
    account_ids: list[str],
    contact_ids: list[str],
    contact_accounts: list[str | None],
) -> Iterator[Row]:
    rng, pools = gen.rng, gen.pools
    firsts, lasts, domains = pools.first_names, pools.last_names, pools.domains
    n_accounts = len(account_ids)
    statuses = MEMBERSHIP_STATUSES
    for index, contact_id in enumerate(_id_stream(gen, "003", gen.plan.contacts)):
        first = firsts[rng.randrange(len(firsts))]
        last = lasts[rng.randrange(len(lasts))]
        account = (
            account_ids[rng.randrange(n_accounts)] if n_accounts and rng.random() < 0.95 else None
        )
        street, city, state, postal = gen.place()
        tags = None
        if rng.random() < 0.6:
            tags = ";".join(rng.sample(MEMBER_TAGS, rng.randrange(1, 4)))
        row = gen.system(contact_id, owner())
        row.update(
            {
                "AccountId": account,
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "Salutation": rng.choice(SALUTATIONS) if rng.random() < 0.4 else None,
                "Email": (
                    f"{first}.{last}.{index}@{domains[rng.randrange(len(domains))]}".lower()
                    if rng.random() < 0.92
                    else None
                ),
                "Phone": gen.phone() if rng.random() < 0.8 else None,
                "MobilePhone": gen.phone() if rng.random() < 0.5 else None,
                "Title": rng.choice(pools.job_titles) if rng.random() < 0.7 else None,
                "LeadSource": rng.choice(LEAD_SOURCES),
                "Birthdate": gen.day(-rng.randrange(18 * 365, 80 * 365))
                if rng.random() < 0.6
                else None,
                "HasOptedOutOfEmail": int(rng.random() < 0.08),
                "DoNotCall": int(rng.random() < 0.05),
                "Membership_Status__c": rng.choices(statuses, _MEMBERSHIP_WEIGHTS)[0],
                "Movement_Exclude__c": int(rng.random() < 0.03),
                "Member_Tags__c": tags,
                "MailingStreet": street,
                "MailingCity": city,
                "MailingState": state,
                "MailingPostalCode": postal,
                "MailingCountry": "United States",
            }
        )
        contact_ids.append(contact_id)
        contact_accounts.append(account)
        yield row


def lead_rows(gen: RowGenerator, owner: Callable[[], str], lead_ids: list[str]) -> Iterator[Row]:
    rng, pools = gen.rng, gen.pools
    for index, lead_id in enumerate(_id_stream(gen, "00Q", gen.plan.leads)):
        first = rng.choice(pools.first_names)
        last = rng.choice(pools.last_names)
        source = rng.choice(LEAD_SOURCES)
        street, city, state, postal = gen.place()
        company = f"{rng.choice(pools.company_words)} {rng.choice(pools.company_suffixes)}"
        row = gen.system(lead_id, owner())
        row.update(
            {
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "Company": company,
                "Title": rng.choice(pools.job_titles) if rng.random() < 0.5 else None,
                "Email": f"{first}.{last}.lead{index}@{rng.choice(pools.domains)}".lower(),
                "Phone": gen.phone(),
                "MobilePhone": gen.phone() if rng.random() < 0.4 else None,
                "Status": rng.choice(_SEED_LEAD_STATUSES),
                "LeadSource": source,
                "Industry": rng.choice(INDUSTRIES),
                "Rating": rng.choice(RATINGS),
                "Lead_Score__c": float(rng.randrange(0, 101)),
                "Insurance_Type__c": rng.choice(INSURANCE_TYPES),
                "IsConverted": 0,
                "IsUnreadByOwner": int(rng.random() < 0.3),
                "HasOptedOutOfEmail": int(rng.random() < 0.05),
                "Street": street,
                "City": city,
                "State": state,
                "PostalCode": postal,
                "Country": "United States",
            }
        )
        if source in ("Referral", "Partner Referral"):
            row["Referral_ID__c"] = f"RR-{index:07d}"
            row["Referral_Source__c"] = "Referral Rock"
        lead_ids.append(lead_id)
        yield row


def opportunity_rows(
    gen: RowGenerator, owner: Callable[[], str], account_ids: list[str], account_names: list[str]
) -> Iterator[Row]:
    rng, pools = gen.rng, gen.pools
    n_accounts = len(account_ids)
    for index, opp_id in enumerate(
        _id_stream(gen, "006", gen.plan.opportunities if n_accounts else 0)
    ):
        # Every stage appears: cycle through them, then let the RNG mix the rest.
        stage = DEFAULT_STAGES[index] if index < len(DEFAULT_STAGES) else rng.choice(DEFAULT_STAGES)
        name, probability, forecast, closed, won = stage
        pick = rng.randrange(n_accounts)
        close_offset = -rng.randrange(1, 365) if closed else rng.randrange(1, 180)
        row = gen.system(opp_id, owner())
        row.update(
            {
                "AccountId": account_ids[pick],
                "Name": f"{account_names[pick]} - {rng.choice(pools.products)}",
                "StageName": name,
                "Probability": float(probability),
                "ForecastCategoryName": forecast,
                "IsClosed": int(closed),
                "IsWon": int(won),
                "Amount": float(rng.randrange(5, 2_000) * 100),
                "CloseDate": gen.day(close_offset),
                "Type": rng.choice(
                    (
                        "New Customer",
                        "Existing Customer - Upgrade",
                        "Existing Customer - Replacement",
                    )
                ),
                "NextStep": rng.choice(pools.next_steps) or None,
                "LeadSource": rng.choice(LEAD_SOURCES),
            }
        )
        yield row


def campaign_rows(
    gen: RowGenerator, owner: Callable[[], str], campaign_ids: list[str]
) -> Iterator[Row]:
    rng = gen.rng
    for index, campaign_id in enumerate(_id_stream(gen, "701", gen.plan.campaigns)):
        start = -rng.randrange(0, 400)
        status = "Completed" if start < -90 else rng.choice(("Planned", "In Progress"))
        kind = rng.choice(_CAMPAIGN_TYPES)
        row = gen.system(campaign_id, owner())
        row.update(
            {
                "Name": f"{kind} {gen.day(start)[:7]} #{index + 1}",
                "Type": kind,
                "Status": status,
                "StartDate": gen.day(start),
                "EndDate": gen.day(start + rng.randrange(7, 90)),
                "IsActive": int(status != "Completed"),
                # The first campaign always takes part in Movement, so every org has one.
                "Movement_Include__c": int(index == 0 or rng.random() < 0.4),
                "BudgetedCost": float(rng.randrange(1, 100) * 500),
                "ExpectedRevenue": float(rng.randrange(1, 100) * 2_000),
                "NumberSent": float(rng.randrange(100, 20_000)),
            }
        )
        campaign_ids.append(campaign_id)
        yield row


def campaign_member_rows(
    gen: RowGenerator, campaign_ids: list[str], contact_ids: list[str], lead_ids: list[str]
) -> Iterator[Row]:
    rng = gen.rng
    if not campaign_ids or not contact_ids:
        return
    wanted = min(gen.plan.campaign_members, len(campaign_ids) * (len(contact_ids) + len(lead_ids)))
    seen: set[tuple[str, str]] = set()
    ids = _id_stream(gen, "00v", wanted)
    while len(seen) < wanted:
        campaign = campaign_ids[rng.randrange(len(campaign_ids))]
        use_lead = lead_ids and rng.random() < 0.2
        person = rng.choice(lead_ids) if use_lead else contact_ids[rng.randrange(len(contact_ids))]
        if (campaign, person) in seen:
            continue
        seen.add((campaign, person))
        responded = rng.random() < 0.35
        row = gen.system(next(ids))
        row.update(
            {
                "CampaignId": campaign,
                "ContactId": None if use_lead else person,
                "LeadId": person if use_lead else None,
                "Status": "Responded" if responded else rng.choice(("Planned", "Sent", "Received")),
                "HasResponded": int(responded),
                "FirstRespondedDate": gen.day(-rng.randrange(0, 200)) if responded else None,
                "Voted__c": int(rng.random() < 0.3),
                "Contacted__c": int(rng.random() < 0.5),
            }
        )
        yield row


def task_rows(
    gen: RowGenerator,
    owner: Callable[[], str],
    contact_ids: list[str],
    contact_accounts: list[str | None],
) -> Iterator[Row]:
    rng, pools = gen.rng, gen.pools
    if not contact_ids:
        return
    for task_id in _id_stream(gen, "00T", gen.plan.tasks):
        pick = rng.randrange(len(contact_ids))
        status = rng.choices(_TASK_STATUSES, _TASK_STATUS_WEIGHTS)[0]
        closed = status == "Completed"
        row = gen.system(task_id, owner())
        kind = rng.choice(("Call", "Email", "Meeting", "Other"))
        row.update(
            {
                "WhoId": contact_ids[pick],
                "WhatId": contact_accounts[pick],
                "Subject": rng.choice(pools.task_subjects),
                "Status": status,
                "Priority": rng.choices(("High", "Normal", "Low"), (15, 70, 15))[0],
                "ActivityDate": gen.day(rng.randrange(-300, 30)),
                "Type": kind,
                "TaskSubtype": "Call"
                if kind == "Call"
                else ("Email" if kind == "Email" else "Task"),
                "Description": rng.choice(pools.sentences) if rng.random() < 0.5 else None,
                "IsClosed": int(closed),
                "CompletedDateTime": row["LastModifiedDate"] if closed else None,
            }
        )
        yield row
