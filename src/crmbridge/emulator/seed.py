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
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crmbridge.emulator.ids import make_id
from crmbridge.emulator.seed_pools import SeedPools, build_pools
from crmbridge.emulator.seed_rows import (
    IdSource,
    Row,
    RowGenerator,
    SeedContext,
    SeedPlan,
    account_rows,
    campaign_member_rows,
    campaign_rows,
    contact_rows,
    lead_rows,
    opportunity_rows,
    task_rows,
    user_rows,
)

if TYPE_CHECKING:
    from crmbridge.emulator.store import OrgStore

#: Rows per batch handed to the store (big batches keep the fast path fast).
BATCH_SIZE = 20_000
#: What generate_org creates (their indexes are built once the rows are in).
SEEDED_OBJECTS = (
    "User",
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Campaign",
    "CampaignMember",
    "Task",
)


def counter_ids(start: int = 1) -> IdSource:
    """An id source counting from ``start`` per key prefix (tests, empty orgs)."""
    counters: dict[str, int] = {}

    def take(key_prefix: str, count: int) -> list[str]:
        first = counters.get(key_prefix, start)
        counters[key_prefix] = first + count
        return [make_id(key_prefix, n) for n in range(first, first + count)]

    return take


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
    gen = RowGenerator(plan, pools or build_pools(seed), rng, ids, context)
    users = user_rows(gen)
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
    for batch in _chunks(account_rows(gen, owner, account_ids, account_names), batch_size):
        yield "Account", batch
    contact_ids: list[str] = []
    contact_accounts: list[str | None] = []
    for batch in _chunks(
        contact_rows(gen, owner, account_ids, contact_ids, contact_accounts), batch_size
    ):
        yield "Contact", batch
    lead_ids: list[str] = []
    for batch in _chunks(lead_rows(gen, owner, lead_ids), batch_size):
        yield "Lead", batch
    for batch in _chunks(opportunity_rows(gen, owner, account_ids, account_names), batch_size):
        yield "Opportunity", batch
    campaign_ids: list[str] = []
    for batch in _chunks(campaign_rows(gen, owner, campaign_ids), batch_size):
        yield "Campaign", batch
    for batch in _chunks(
        campaign_member_rows(gen, campaign_ids, contact_ids, lead_ids), batch_size
    ):
        yield "CampaignMember", batch
    for batch in _chunks(task_rows(gen, owner, contact_ids, contact_accounts), batch_size):
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
    with store.bulk_load(SEEDED_OBJECTS):
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
