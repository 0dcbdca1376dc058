"""The seed generator against the real store: reproducible, consistent, seeded once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from emulator_http import API, RestClient

from crmbridge.emulator.bootstrap import bootstrap_org
from crmbridge.emulator.schema import default_schema
from crmbridge.emulator.seed import plan_for, seed_if_empty, seed_org
from crmbridge.emulator.server import EmulatorServer
from crmbridge.emulator.store import OrgStore

_NOW = datetime(2025, 6, 15, 13, 30, tzinfo=UTC)


def _seeded(path: Path, seed: int, contacts: int = 400) -> OrgStore:
    store = OrgStore.open(path, default_schema())
    bootstrap_org(store)
    seed_org(store, seed=seed, contacts=contacts, now=_NOW)
    return store


def _dump(store: OrgStore, table: str) -> list[tuple[Any, ...]]:
    """The seeded rows of a table (the bootstrap's admin user was created "now")."""
    with store.connection() as conn:
        return conn.execute(
            f'SELECT * FROM "{table}" WHERE "CreatedDate" < ? ORDER BY "Id"',
            (_NOW.isoformat()[:10],),
        ).fetchall()


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgStore]:
    store = _seeded(tmp_path_factory.mktemp("seed-a"), seed=5)
    yield store
    store.close()


def test_same_seed_gives_identical_orgs(org: OrgStore, tmp_path: Path) -> None:
    twin = _seeded(tmp_path / "twin", seed=5)
    other = _seeded(tmp_path / "other", seed=6)
    try:
        for table in (
            "User",
            "Account",
            "Contact",
            "Lead",
            "Opportunity",
            "CampaignMember",
            "Task",
        ):
            assert _dump(twin, table) == _dump(org, table), table
        assert _dump(other, "Contact") != _dump(org, "Contact")
    finally:
        twin.close()
        other.close()


def test_counts_follow_the_plan(org: OrgStore) -> None:
    plan = plan_for(400)
    assert org.count("Contact") == 400
    assert org.count("Account") == plan.accounts
    assert org.count("Lead") == plan.leads
    assert org.count("Opportunity") == plan.opportunities
    assert org.count("CampaignMember") == plan.campaign_members
    assert org.count("User") == 1 + plan.users + plan.inactive_users  # plus the admin


def _scalar(conn: sqlite3.Connection, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


def test_relationships_are_consistent_in_the_database(org: OrgStore) -> None:
    with org.connection() as conn:
        assert (
            _scalar(
                conn,
                'SELECT COUNT(*) FROM "Contact" c WHERE c."AccountId" IS NOT NULL '
                'AND NOT EXISTS (SELECT 1 FROM "Account" a WHERE a."Id" = c."AccountId")',
            )
            == 0
        )
        assert (
            _scalar(
                conn,
                'SELECT COUNT(*) FROM "Opportunity" o '
                'WHERE NOT EXISTS (SELECT 1 FROM "Account" a WHERE a."Id" = o."AccountId")',
            )
            == 0
        )
        for table in ("Account", "Contact", "Lead", "Opportunity", "Task"):
            assert (
                _scalar(
                    conn,
                    f'SELECT COUNT(*) FROM "{table}" t WHERE NOT EXISTS '
                    '(SELECT 1 FROM "User" u WHERE u."Id" = t."OwnerId")',
                )
                == 0
            ), table
        # Walking up ParentId ends within three levels everywhere: no cycles.
        deepest = _scalar(
            conn,
            "WITH RECURSIVE up(id, parent, depth) AS ("
            ' SELECT "Id", "ParentId", 0 FROM "Account"'
            ' UNION ALL SELECT up.id, a."ParentId", up.depth + 1 FROM up'
            ' JOIN "Account" a ON a."Id" = up.parent WHERE up.depth < 10)'
            " SELECT MAX(depth) FROM up",
        )
        assert deepest == 2
        # Stage flags agree with the OpportunityStage rows.
        assert (
            _scalar(
                conn,
                'SELECT COUNT(*) FROM "Opportunity" o JOIN "OpportunityStage" s '
                'ON s."MasterLabel" = o."StageName" '
                'WHERE o."IsClosed" != s."IsClosed" OR o."IsWon" != s."IsWon"',
            )
            == 0
        )
        assert _scalar(conn, 'SELECT COUNT(DISTINCT "StageName") FROM "Opportunity"') == 10
        assert (
            _scalar(
                conn,
                'SELECT COUNT(*) FROM "Contact" '
                "WHERE \"SystemModstamp\" > '2025-06-15T00:00:00.000Z'",
            )
            == 0
        )
        assert _scalar(conn, 'SELECT COUNT(*) FROM "Contact" WHERE "Name" IS NULL') == 0


def _indexes(store: OrgStore) -> dict[str, str]:
    with store.connection() as conn:
        return dict(
            conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).fetchall()
        )


def test_seeding_builds_the_indexes_after_the_rows(tmp_path: Path) -> None:
    store = OrgStore.open(tmp_path, default_schema())
    bootstrap_org(store)
    expected = _indexes(store)
    assert "Contact__AccountId" in expected
    assert "Contact__SystemModstamp_Id_IsDeleted" in expected
    during: list[set[str]] = []
    seed_org(
        store,
        seed=5,
        contacts=400,
        now=_NOW,
        progress=lambda sobject, _: during.append(set(_indexes(store))),
    )
    try:
        # While rows go in, the seeded tables keep only their primary keys …
        assert during
        assert all(not any(name.startswith("Contact__") for name in names) for names in during)
        # … and afterwards every index is back, as the store declares it.
        assert _indexes(store) == expected
        with store.connection() as conn:
            plan = conn.execute(
                'EXPLAIN QUERY PLAN SELECT "Id" FROM "Contact" WHERE "AccountId" = ?', ("x",)
            ).fetchall()
        assert "Contact__AccountId" in str(plan)
    finally:
        store.close()


def test_bulk_load_rebuilds_the_indexes_when_loading_fails(tmp_path: Path) -> None:
    store = OrgStore.open(tmp_path, default_schema())
    bootstrap_org(store)
    expected = _indexes(store)
    try:
        inside: list[set[str]] = []

        def failing_load() -> None:
            with store.bulk_load(["Contact", "Account"]):
                inside.append(set(_indexes(store)))
                raise RuntimeError("generator failed")

        with pytest.raises(RuntimeError):
            failing_load()
        assert "Contact__Email" not in inside[0]
        assert _indexes(store) == expected
    finally:
        store.close()


def test_seed_runs_once_per_org(org: OrgStore) -> None:
    before = org.count("Contact")
    assert seed_if_empty(org, seed=99, contacts=50) is None
    assert org.count("Contact") == before


def test_seeded_session_org_is_queryable_over_rest(emulator_info: dict[str, Any]) -> None:
    rest = RestClient(emulator_info)
    try:
        inactive = rest.get(
            f"{API}/query", params={"q": "SELECT COUNT() FROM User WHERE IsActive = false"}
        ).json()
        assert inactive["totalSize"] >= 1
        included = rest.get(
            f"{API}/query",
            params={
                "q": "SELECT Id, (SELECT Voted__c FROM CampaignMembers) FROM Campaign "
                "WHERE Movement_Include__c = true"
            },
        ).json()
        assert included["totalSize"] >= 1
        tagged = rest.get(
            f"{API}/query",
            params={
                "q": "SELECT COUNT() FROM Contact WHERE Member_Tags__c INCLUDES ('Event Attended')"
            },
        ).json()
        assert tagged["totalSize"] >= 1
    finally:
        rest.http.close()


def test_restart_with_seed_flag_keeps_the_data(tmp_path: Path) -> None:
    first = EmulatorServer(tmp_path / "org", port=0, seed_contacts=60, seed=3)
    first.start()
    try:
        assert first.seeded["Contact"] == 60
    finally:
        first.stop()
    second = EmulatorServer(tmp_path / "org", port=0, seed_contacts=60, seed=3)
    second.start()
    rest = RestClient(second.info)
    try:
        assert second.seeded == {}
        count = rest.get(f"{API}/query", params={"q": "SELECT COUNT() FROM Contact"}).json()
        assert count["totalSize"] == 60
    finally:
        rest.http.close()
        second.stop()
