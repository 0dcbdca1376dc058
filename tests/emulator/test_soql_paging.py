"""Query paging: locators, batch sizes, keyset order across pages, expiry, Bulk streaming."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest
from soql_dataset import NOW, FixedClock

from crmbridge.emulator.bootstrap import bootstrap_org
from crmbridge.emulator.schema import default_schema
from crmbridge.emulator.soql import QueryEngine, QueryPage, SoqlError
from crmbridge.emulator.soql.parser import _lark
from crmbridge.emulator.store import OrgStore
from crmbridge.emulator.values import format_datetime

CONTACTS = 6100
ACCOUNTS = 10
_LOCATOR = re.compile(r"^01g[0-9A-Za-z]{15}-(\d+)$")


class PagedOrg:
    """An org with a few thousand contacts, in insertion order ``rows``."""

    def __init__(self, data_dir: Path) -> None:
        self.clock = FixedClock(NOW)
        schema = default_schema()
        self.store = OrgStore.open(data_dir, schema, clock=self.clock)
        bootstrap_org(self.store)
        self.engine = QueryEngine(self.store, schema, clock=self.clock)
        accounts = self.store.insert_many(
            "Account", [{"Name": f"Account {i}"} for i in range(ACCOUNTS)], validate=False
        )
        self.account_ids = [r.id for r in accounts]
        self.rows: list[dict[str, Any]] = [
            {
                # Repeated last names and a third of emails null, to test ties and nulls.
                "LastName": f"Name{(i * 7) % 700:03d}",
                "Email": None if i % 3 == 0 else f"c{i % 911}@x.example",
                "AccountId": self.account_ids[i % ACCOUNTS],
            }
            for i in range(CONTACTS)
        ]
        results = self.store.insert_many("Contact", self.rows, validate=False)
        for row, result in zip(self.rows, results, strict=True):
            row["Id"] = result.id

    def all_pages(self, soql: str, **kw: Any) -> list[QueryPage]:
        """Every page of a query, following locators."""
        pages = [self.engine.start(soql, include_deleted=False, **kw)]
        while not pages[-1].done:
            assert pages[-1].locator is not None
            pages.append(self.engine.more(pages[-1].locator))
        return pages


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> PagedOrg:
    return PagedOrg(Path(tmp_path_factory.mktemp("soql-paging")))


def _empty_org(data_dir: Path) -> tuple[OrgStore, QueryEngine]:
    """A bootstrapped org with no records yet, and its query engine, at ``NOW``."""
    clock = FixedClock(NOW)
    store = OrgStore.open(data_dir, default_schema(), clock=clock)
    bootstrap_org(store)
    return store, QueryEngine(store, store.schema, clock=clock)


def _ids(pages: list[QueryPage]) -> list[str]:
    return [record["Id"] for page in pages for record in page.records]


def test_pages_of_2000_cover_every_record_once(paged: PagedOrg) -> None:
    pages = paged.all_pages("SELECT Id FROM Contact")
    assert [len(p.records) for p in pages] == [2000, 2000, 2000, 100]
    assert {p.total_size for p in pages} == {CONTACTS}
    assert [p.done for p in pages] == [False, False, False, True]
    positions = [int(_LOCATOR.match(p.locator).group(1)) for p in pages[:-1]]  # type: ignore[union-attr, arg-type]
    assert positions == [2000, 4000, 6000]
    assert pages[-1].locator is None
    assert _ids(pages) == [row["Id"] for row in paged.rows]


@pytest.mark.parametrize(("asked", "served"), [(500, 500), (50, 200), (5000, 2000)])
def test_batch_size_is_kept_within_200_and_2000(paged: PagedOrg, asked: int, served: int) -> None:
    page = paged.engine.start("SELECT Id FROM Contact", include_deleted=False, batch_size=asked)
    assert len(page.records) == served


def _sort_key_email_desc_nulls_first(row: dict[str, Any]) -> tuple[Any, ...]:
    email = row["Email"]
    return (email is not None, _Desc(email.lower()) if email else None, row["LastName"].lower())


class _Desc:
    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def test_keyset_pages_keep_the_order_across_ties_and_nulls(paged: PagedOrg) -> None:
    pages = paged.all_pages(
        "SELECT Id, LastName, Email FROM Contact ORDER BY Email DESC NULLS FIRST, LastName",
        batch_size=200,
    )
    assert len(pages) == 31
    # Python's sort is stable, so equal keys keep insertion order, like the row id tiebreak.
    expected = sorted(paged.rows, key=_sort_key_email_desc_nulls_first)
    assert _ids(pages) == [row["Id"] for row in expected]


def test_order_by_a_repeated_value_pages_without_gaps_or_repeats(paged: PagedOrg) -> None:
    pages = paged.all_pages("SELECT Id FROM Contact ORDER BY LastName DESC", batch_size=300)
    expected = sorted(paged.rows, key=lambda r: _Desc(r["LastName"].lower()))
    assert _ids(pages) == [row["Id"] for row in expected]


def test_order_by_parent_field_pages(paged: PagedOrg) -> None:
    pages = paged.all_pages("SELECT Id, Account.Name FROM Contact ORDER BY Account.Name, Id")
    names = [r["Account"]["Name"] for p in pages for r in p.records]
    assert names == sorted(names, key=str.lower)
    assert len(set(_ids(pages))) == CONTACTS


def test_limit_and_offset_apply_across_pages(paged: PagedOrg) -> None:
    pages = paged.all_pages("SELECT Id FROM Contact ORDER BY LastName LIMIT 4500 OFFSET 100")
    assert [len(p.records) for p in pages] == [2000, 2000, 500]
    assert pages[0].total_size == 4500
    expected = sorted(paged.rows, key=lambda r: r["LastName"].lower())[100:4600]
    assert _ids(pages) == [row["Id"] for row in expected]


def test_a_locator_can_be_fetched_again(paged: PagedOrg) -> None:
    first = paged.engine.start("SELECT Id FROM Contact", include_deleted=False)
    assert first.locator is not None
    again = paged.engine.more(first.locator)
    retried = paged.engine.more(first.locator)
    assert _ids([again]) == _ids([retried])
    assert again.locator == retried.locator


def test_locators_expire_after_15_idle_minutes(paged: PagedOrg) -> None:
    first = paged.engine.start("SELECT Id FROM Contact", include_deleted=False)
    assert first.locator is not None
    paged.clock.now = NOW + dt.timedelta(minutes=14)
    second = paged.engine.more(first.locator)
    assert second.locator is not None
    paged.clock.now = NOW + dt.timedelta(minutes=14 + 16)
    try:
        with pytest.raises(SoqlError) as caught:
            paged.engine.more(second.locator)
    finally:
        paged.clock.now = NOW
    assert caught.value.error_code == "INVALID_QUERY_LOCATOR"


def test_the_oldest_cursor_is_dropped_past_the_limit(paged: PagedOrg) -> None:
    engine = QueryEngine(paged.store, paged.store.schema, clock=paged.clock, max_cursors=2)
    locators = [
        engine.start("SELECT Id FROM Contact", include_deleted=False).locator for _ in range(3)
    ]
    with pytest.raises(SoqlError) as caught:
        engine.more(locators[0])  # type: ignore[arg-type]
    assert caught.value.error_code == "INVALID_QUERY_LOCATOR"
    assert len(engine.more(locators[2]).records) == 2000  # type: ignore[arg-type]


def test_child_subqueries_are_grouped_under_their_parent(paged: PagedOrg) -> None:
    page = paged.engine.start(
        "SELECT Id, (SELECT Id FROM Contacts ORDER BY LastName LIMIT 3) FROM Account ORDER BY Name",
        include_deleted=False,
    )
    assert len(page.records) == ACCOUNTS
    for record in page.records:
        contacts = record["Contacts"]
        assert contacts["totalSize"] == 3
        mine = [r for r in paged.rows if r["AccountId"] == record["Id"]]
        expected = sorted(mine, key=lambda r: r["LastName"].lower())[:3]
        assert [c["Id"] for c in contacts["records"]] == [r["Id"] for r in expected]


def test_child_records_count_toward_the_batch_size(paged: PagedOrg) -> None:
    # SOAP API "QueryOptions" and the REST "Query Options Header": "Child objects count
    # toward the number of records for the batch size". Each account has 610 contacts:
    # three accounts and their contacts (1,833 records) fit in 2,000, four do not.
    pages = paged.all_pages("SELECT Id, (SELECT Id FROM Contacts) FROM Account")
    assert [len(p.records) for p in pages] == [3, 3, 3, 1]
    assert {p.total_size for p in pages} == {ACCOUNTS}
    assert [p.done for p in pages] == [False, False, False, True]
    positions = [int(_LOCATOR.match(p.locator).group(1)) for p in pages[:-1]]  # type: ignore[union-attr, arg-type]
    assert positions == [3, 6, 9]
    assert _ids(pages) == paged.account_ids
    per_account = CONTACTS // ACCOUNTS
    for record in (r for page in pages for r in page.records):
        contacts = record["Contacts"]
        assert contacts["totalSize"] == len(contacts["records"]) == per_account
        mine = [r["Id"] for r in paged.rows if r["AccountId"] == record["Id"]]
        assert [c["Id"] for c in contacts["records"]] == mine


def test_a_page_holds_at_least_one_record_however_many_children_it_has(paged: PagedOrg) -> None:
    pages = paged.all_pages("SELECT Id, (SELECT Id FROM Contacts) FROM Account", batch_size=200)
    assert [len(p.records) for p in pages] == [1] * ACCOUNTS
    assert all(p.records[0]["Contacts"]["totalSize"] == CONTACTS // ACCOUNTS for p in pages)


def test_rows_without_children_fill_the_batch(paged: PagedOrg) -> None:
    soql = "SELECT Id, (SELECT Id FROM Contacts WHERE LastName = 'nobody') FROM Account"
    pages = paged.all_pages(soql, batch_size=200)
    assert [len(p.records) for p in pages] == [ACCOUNTS]
    assert all(r["Contacts"] is None for r in pages[0].records)


def test_iter_flat_streams_every_row_with_flattened_names(paged: PagedOrg) -> None:
    names, rows = paged.engine.iter_flat(
        "SELECT Id, Email, Account.Name, Account.Owner.IsActive FROM Contact",
        include_deleted=False,
    )
    assert names == ["Id", "Email", "Account.Name", "Account.Owner.IsActive"]
    materialised = list(rows)
    assert len(materialised) == CONTACTS
    first = materialised[0]
    assert first == (paged.rows[0]["Id"], "", "Account 0", "true")
    assert materialised[1][1] == "c1@x.example"


def test_records_deleted_while_paging_end_the_result_early(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    schema = default_schema()
    store = OrgStore.open(tmp_path, schema, clock=clock)
    bootstrap_org(store)
    results = store.insert_many(
        "Contact", [{"LastName": f"C{i:04d}"} for i in range(450)], validate=False
    )
    engine = QueryEngine(store, schema, clock=clock)
    first = engine.start("SELECT Id FROM Contact ORDER BY LastName", include_deleted=False,
                         batch_size=200)  # fmt: skip
    store.delete("Contact", results[300].id)  # type: ignore[arg-type]
    assert first.locator is not None
    second = engine.more(first.locator)
    assert second.locator is not None
    third = engine.more(second.locator)
    assert third.done
    assert third.total_size == 450
    seen = _ids([first, second, third])
    assert len(seen) == 449
    assert results[300].id not in seen


def test_warm_loads_the_parser_and_counts_every_table(paged: PagedOrg) -> None:
    # The server warms its engine before listening, so its first query page does not
    # pay for loading the parser's tables or for a cold count of a large table.
    _lark.cache_clear()
    statements: list[str] = []
    with paged.store.connection() as conn:
        conn.set_trace_callback(statements.append)
    try:
        paged.engine.warm()
    finally:
        with paged.store.connection() as conn:
            conn.set_trace_callback(None)
    assert _lark.cache_info().currsize == 1
    counted = " ".join(s for s in statements if s.startswith("SELECT (SELECT count(*)"))
    for sobj in paged.store.schema:
        assert f'FROM "{sobj.name}" AS t0' in counted


def test_pages_of_a_window_on_the_order_key_cost_the_same_at_its_end(tmp_path: Path) -> None:
    # An incremental query bounds the key it orders by (SystemModstamp >= X ORDER BY
    # SystemModstamp, Id). Each page must seek to where the last one ended, not scan
    # from the window's start: the last page costs about what the second one does.
    store, engine = _empty_org(tmp_path)
    stamps = [NOW - dt.timedelta(seconds=n) for n in range(4000)]
    random.Random(3).shuffle(stamps)
    store.insert_many(
        "Contact",
        [{"LastName": f"C{n}", "SystemModstamp": format_datetime(s)} for n, s in enumerate(stamps)],
        validate=False,
    )
    start = min(stamps).strftime("%Y-%m-%dT%H:%M:%SZ")
    soql = f"SELECT Id FROM Contact WHERE SystemModstamp >= {start} ORDER BY SystemModstamp, Id"
    steps: list[int] = []

    def count_step() -> int:
        steps[-1] += 1
        return 0

    page = engine.start(soql, include_deleted=False, batch_size=200)
    with store.connection() as conn:
        conn.set_progress_handler(count_step, 50)
    try:
        while not page.done:
            assert page.locator is not None
            steps.append(0)
            page = engine.more(page.locator)
    finally:
        with store.connection() as conn:
            conn.set_progress_handler(None, 0)
    assert len(steps) == 19
    assert steps[-1] < 2 * steps[0]


def test_pages_with_children_cut_where_the_batch_is_full(tmp_path: Path) -> None:
    # 1,200 accounts with 0, 1 or 2 contacts: the children are read in several blocks of
    # accounts, and each page ends at the account that would overflow 2,000 records.
    store, engine = _empty_org(tmp_path)
    accounts = [
        r.id
        for r in store.insert_many(
            "Account", [{"Name": f"A{i:04d}"} for i in range(1200)], validate=False
        )
    ]
    store.insert_many(
        "Contact",
        [
            {"LastName": f"C{i}-{n}", "AccountId": account}
            for i, account in enumerate(accounts)
            for n in range(i % 3)
        ],
        validate=False,
    )
    expected: list[int] = [0]
    used = 0
    for i in range(len(accounts)):
        cost = 1 + i % 3
        if expected[-1] and used + cost > 2000:
            expected.append(0)
            used = 0
        expected[-1] += 1
        used += cost
    pages = [
        engine.start(
            "SELECT Id, (SELECT LastName FROM Contacts) FROM Account", include_deleted=False
        )
    ]
    while not pages[-1].done:
        pages.append(engine.more(pages[-1].locator))  # type: ignore[arg-type]
    assert [len(p.records) for p in pages] == expected == [1000, 200]
    records = [r for p in pages for r in p.records]
    assert [r["Id"] for r in records] == accounts
    for i, record in enumerate(records):
        names = [c["LastName"] for c in (record["Contacts"] or {"records": []})["records"]]
        assert names == [f"C{i}-{n}" for n in range(i % 3)]


def test_total_size_with_where_counts_matching_rows_minus_deleted_ones(tmp_path: Path) -> None:
    store, engine = _empty_org(tmp_path)
    ids = [
        r.id
        for r in store.insert_many(
            "Contact", [{"LastName": f"{'AB'[n % 2]}{n}"} for n in range(40)], validate=False
        )
    ]
    for record_id in ids[:10]:  # A0, B1, A2, ... B9 deleted
        store.delete("Contact", record_id)  # type: ignore[arg-type]
    statements: list[str] = []
    with store.connection() as conn:
        conn.set_trace_callback(statements.append)
    try:
        # A top-level OR: the deleted-row condition must not bind to its last term.
        where = "WHERE LastName LIKE 'A%' OR LastName = 'B1' OR LastName = 'B11'"
        page = engine.start(f"SELECT Id FROM Contact {where}", include_deleted=False)
        count = engine.start(f"SELECT COUNT() FROM Contact {where}", include_deleted=False)
        every = engine.start(f"SELECT Id FROM Contact {where}", include_deleted=True)
    finally:
        with store.connection() as conn:
            conn.set_trace_callback(None)
    assert page.total_size == count.total_size == len(page.records) == 15 + 1
    assert every.total_size == len(every.records) == 20 + 2
    assert any('- (SELECT count(*) FROM "Contact"' in s for s in statements)


def test_warm_skips_an_object_it_cannot_count(
    paged: PagedOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[str] = []
    real_start = paged.engine.start

    def start(soql: str, **kw: Any) -> QueryPage:
        if soql.endswith(" Account"):
            raise SoqlError("INVALID_TYPE", "sObject type 'Account' is not supported.")
        counted.append(soql)
        return real_start(soql, **kw)

    monkeypatch.setattr(paged.engine, "start", start)
    paged.engine.warm()  # no exception: warming is only a head start
    assert "SELECT COUNT() FROM Contact" in counted
