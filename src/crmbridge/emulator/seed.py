"""Realistic, related org data at volume, reproducible from a seed number.

``generate_org`` is pure: given a plan, Faker-built pools, a seeded RNG, an id source
and "now", it yields batches of rows in the store's stored forms (see
:mod:`crmbridge.emulator.values`). ``seed_org`` feeds those batches to the store's fast
``insert_many`` path. Parents are always generated before children and every
reference points at a row generated earlier, so relationships are consistent by
construction and the account hierarchy is acyclic (a parent always has a smaller
index than its child).

What gets created for ``contacts=N`` (``plan_for``): users (about one in five
inactive), N/10 accounts in a three-level hierarchy with billing and shipping
addresses, N contacts (95% with an account; membership status, member tags, a few
``Movement_Exclude__c``), N/10 leads across statuses, sources, scores and insurance
types, N/10 opportunities across every stage, campaigns (some
``Movement_Include__c``) with members carrying ``Voted__c`` / ``Contacted__c``, and
N/10 tasks on contacts. Dates spread over ``history_days`` before ``now``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from crmbridge.emulator.ids import make_id
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
from crmbridge.emulator.seed_pools import SeedPools, build_pools

if TYPE_CHECKING:
    from crmbridge.emulator.store import OrgStore

Row = dict[str, Any]
#: Rows per batch handed to the store (big batches keep the fast path fast).
BATCH_SIZE = 20_000

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


def counter_ids(start: int = 1) -> IdSource:
    """An id source counting from ``start`` per key prefix (tests, empty orgs)."""
    counters: dict[str, int] = {}

    def take(key_prefix: str, count: int) -> list[str]:
        first = counters.get(key_prefix, start)
        counters[key_prefix] = first + count
        return [make_id(key_prefix, n) for n in range(first, first + count)]

    return take


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


def plan_for(contacts: int, **overrides: int) -> SeedPlan:
    """The default mix of records for ``contacts`` contacts (keyword overrides win)."""
    users = min(200, max(6, contacts // 2_000))
    plan = SeedPlan(
        contacts=contacts,
        users=users,
        inactive_users=max(1, users // 5),
        accounts=max(1, contacts // 10) if contacts else 0,
        leads=contacts // 10,
        opportunities=contacts // 10,
        campaigns=min(100, max(3, contacts // 10_000)) if contacts else 0,
        campaign_members=contacts // 20,
        tasks=contacts // 10,
    )
    return replace(plan, **overrides) if overrides else plan


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


class _Gen:
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


def generate_org(
    plan: SeedPlan,
    *,
    seed: int,
    ids: IdSource,
    context: SeedContext,
    pools: SeedPools | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[tuple[str, list[Row]]]:
    """Yield ``(sobject, rows)`` batches, parents before children.

    The same ``seed``, ``plan``, id source state and ``context.now`` always give the
    same rows.
    """
    rng = random.Random(seed)
    gen = _Gen(plan, pools or build_pools(seed), rng, ids, context)
    users = _users(gen)
    yield "User", users
    active = [u["Id"] for u in users if u["IsActive"]]
    inactive = [u["Id"] for u in users if not u["IsActive"]]

    def owner() -> str:
        # Mostly active owners; a few records stay with retired users (seed 002 R-G4).
        if inactive and rng.random() < 0.05:
            return rng.choice(inactive)
        return rng.choice(active)

    account_ids: list[str] = []
    account_names: list[str] = []
    for batch in _chunks(_accounts(gen, owner, account_ids, account_names), batch_size):
        yield "Account", batch
    contact_ids: list[str] = []
    contact_accounts: list[str | None] = []
    for batch in _chunks(
        _contacts(gen, owner, account_ids, contact_ids, contact_accounts), batch_size
    ):
        yield "Contact", batch
    lead_ids: list[str] = []
    for batch in _chunks(_leads(gen, owner, lead_ids), batch_size):
        yield "Lead", batch
    for batch in _chunks(_opportunities(gen, owner, account_ids, account_names), batch_size):
        yield "Opportunity", batch
    campaign_ids: list[str] = []
    for batch in _chunks(_campaigns(gen, owner, campaign_ids), batch_size):
        yield "Campaign", batch
    for batch in _chunks(_campaign_members(gen, campaign_ids, contact_ids, lead_ids), batch_size):
        yield "CampaignMember", batch
    for batch in _chunks(_tasks(gen, owner, contact_ids, contact_accounts), batch_size):
        yield "Task", batch


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _id_stream(gen: _Gen, key_prefix: str, count: int) -> Iterator[str]:
    """Ids in blocks, so a million ids never sit in one list."""
    done = 0
    while done < count:
        block = min(BATCH_SIZE, count - done)
        yield from gen.ids(key_prefix, block)
        done += block


def _users(gen: _Gen) -> list[Row]:
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


def _accounts(
    gen: _Gen, owner: Callable[[], str], account_ids: list[str], account_names: list[str]
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


def _contacts(
    gen: _Gen,
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


def _leads(gen: _Gen, owner: Callable[[], str], lead_ids: list[str]) -> Iterator[Row]:
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


def _opportunities(
    gen: _Gen, owner: Callable[[], str], account_ids: list[str], account_names: list[str]
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


def _campaigns(gen: _Gen, owner: Callable[[], str], campaign_ids: list[str]) -> Iterator[Row]:
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


def _campaign_members(
    gen: _Gen, campaign_ids: list[str], contact_ids: list[str], lead_ids: list[str]
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


def _tasks(
    gen: _Gen, owner: Callable[[], str], contact_ids: list[str], contact_accounts: list[str | None]
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


def seed_org(
    store: OrgStore,
    *,
    seed: int,
    contacts: int,
    now: datetime | None = None,
    plan: SeedPlan | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Generate the org for ``seed`` into ``store`` through its fast insert path.

    Returns how many records of each object were created. Dates are relative to
    ``now`` truncated to midnight UTC (default: today), so two seeds of the same day
    produce identical orgs.
    """
    plan = plan or plan_for(contacts)
    context = SeedContext(admin_user_id=store.default_user_id, now=seed_today(now))
    created: dict[str, int] = {}
    for sobject, rows in generate_org(plan, seed=seed, ids=store.allocate_ids, context=context):
        store.insert_many(sobject, rows, validate=False)
        created[sobject] = created.get(sobject, 0) + len(rows)
        if progress is not None:
            progress(sobject, created[sobject])
    store.meta_set("seed", {"seed": seed, "contacts": contacts, "created": created})
    return created


def seed_if_empty(store: OrgStore, *, seed: int, contacts: int) -> dict[str, int] | None:
    """Seed a brand-new org once; an org that was seeded (or has contacts) is left alone.

    This is what ``--seed-contacts`` does on start: a restart keeps the data it has.
    """
    if store.meta_get("seed") is not None or store.count("Contact", include_deleted=True):
        return None
    return seed_org(store, seed=seed, contacts=contacts)


def seed_today(now: datetime | None = None) -> datetime:
    """``now`` truncated to midnight UTC, so a day's seeds agree to the row."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return datetime.combine(moment.date(), datetime.min.time(), tzinfo=UTC)


__all__ = [
    "IdSource",
    "SeedContext",
    "SeedPlan",
    "counter_ids",
    "generate_org",
    "plan_for",
    "seed_if_empty",
    "seed_org",
    "seed_today",
]
