"""Benchmark of the Salesforce emulator itself (not a test).

Prints a table with:

- seeding N contacts (default 1,000,000; the related accounts, leads, opportunities,
  campaigns and tasks come with them): wall time and peak memory (peak RSS of the
  process that seeds), against a baseline that ``executemany``-inserts the same
  generated rows into plain tables (same columns, no indexes, no derived fields);
- query paging over HTTPS: time per 2,000-record page of ``query`` +
  ``nextRecordsUrl`` through every contact (median and p95), against the same pages
  read straight from the org's SQLite file with a keyset ``SELECT … LIMIT 2000``;
- composite collection writes: records/s creating contacts in 200-record
  ``composite/sobjects`` calls, against ``executemany`` of the same rows.

Each figure is also a ratio to its baseline measured in the same run, so results
compare across machines. Targets (issue 3): seed 1M contacts in under 3 minutes and
serve each 2,000-record page in under 100 ms.

    python bench/bench_emulator.py                # 1,000,000 contacts
    python bench/bench_emulator.py --contacts 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from crmbridge.emulator.bootstrap import bootstrap_org
from crmbridge.emulator.schema import default_schema
from crmbridge.emulator.seed import SeedContext, counter_ids, generate_org, plan_for, seed_org
from crmbridge.emulator.server import EmulatorServer
from crmbridge.emulator.store import OrgStore

SEED = 42
PAGE_SIZE = 2000
PAGE_FIELDS = "Id, FirstName, LastName, Email, AccountId, SystemModstamp"


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child processes (each measures its own peak memory) --------------------------------------


def _child_seed(data_dir: Path, contacts: int) -> dict[str, Any]:
    store = OrgStore.open(data_dir, default_schema())
    bootstrap_org(store)
    started = time.perf_counter()
    created = seed_org(store, seed=SEED, contacts=contacts)
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, "peak_mb": _peak_rss_mb(), "rows": sum(created.values())}


def _child_baseline(target: Path, contacts: int) -> dict[str, Any]:
    """Generate the same rows and insert them with plain executemany."""
    schema = default_schema()
    conn = sqlite3.connect(str(target), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    columns_of: dict[str, list[str]] = {}
    rows_total = 0
    context = SeedContext(admin_user_id="005" + "0" * 15, now=_today())
    for sobject, rows in generate_org(
        plan_for(contacts), seed=SEED, ids=counter_ids(), context=context
    ):
        columns = columns_of.get(sobject)
        if columns is None:
            sobj = schema.get(sobject)
            assert sobj is not None
            columns = [f.name for f in sobj.stored_fields]
            columns_of[sobject] = columns
            conn.execute(f'CREATE TABLE "{sobject}" ({", ".join(f"{c!r}" for c in columns)})')
        conn.execute("BEGIN")
        conn.executemany(
            f'INSERT INTO "{sobject}" VALUES ({", ".join("?" for _ in columns)})',
            [tuple(row.get(c) for c in columns) for row in rows],
        )
        conn.execute("COMMIT")
        rows_total += len(rows)
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "peak_mb": _peak_rss_mb(), "rows": rows_total}


def _today() -> Any:
    from crmbridge.emulator.seed import seed_today

    return seed_today()


def _run_child(mode: str, path: Path, contacts: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(contacts)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- query paging ------------------------------------------------------------------------------


def _session(info: dict[str, Any]) -> tuple[requests.Session, str]:
    http = requests.Session()
    http.trust_env = False
    http.verify = info["ca_cert"]
    token = http.post(
        info["token_url"],
        data={
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"] + info["security_token"],
        },
        timeout=30,
    ).json()["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http, info["instance_url"]


def _page_through(http: requests.Session, base: str, max_pages: int) -> list[float]:
    times: list[float] = []
    url = f"{base}/services/data/v59.0/query"
    params: dict[str, str] | None = {"q": f"SELECT {PAGE_FIELDS} FROM Contact"}
    while url and len(times) < max_pages:
        started = time.perf_counter()
        response = http.get(url, params=params, timeout=60)
        body = response.json()
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, body
        assert len(body["records"]) == PAGE_SIZE or body["done"]
        next_url = body.get("nextRecordsUrl")
        url = f"{base}{next_url}" if next_url else ""
        params = None
    return times


def _raw_pages(db_file: Path, max_pages: int) -> list[float]:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    columns = ", ".join(f'"{c.strip()}"' for c in PAGE_FIELDS.split(","))
    times: list[float] = []
    after = ""
    while len(times) < max_pages:
        started = time.perf_counter()
        rows = conn.execute(
            f'SELECT {columns} FROM "Contact" WHERE "IsDeleted" = 0 AND "Id" > ? '
            'ORDER BY "Id" LIMIT ?',
            (after, PAGE_SIZE),
        ).fetchall()
        times.append(time.perf_counter() - started)
        if len(rows) < PAGE_SIZE:
            break
        after = rows[-1][0]
    conn.close()
    return times


# --- composite writes ---------------------------------------------------------------------------


def _composite_writes(http: requests.Session, base: str, calls: int) -> tuple[float, int]:
    url = f"{base}/services/data/v59.0/composite/sobjects"
    written = 0
    started = time.perf_counter()
    for call in range(calls):
        records = [
            {
                "attributes": {"type": "Contact"},
                "FirstName": "Bench",
                "LastName": f"Writer {call}-{i}",
                "Email": f"bench.{call}.{i}@example.org",
                "Membership_Status__c": "Active",
            }
            for i in range(200)
        ]
        results = http.post(url, json={"allOrNone": False, "records": records}, timeout=60).json()
        written += sum(1 for r in results if r["success"])
    return time.perf_counter() - started, written


def _raw_writes(records: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        conn = sqlite3.connect(str(Path(scratch) / "raw.sqlite3"), isolation_level=None)
        conn.execute("CREATE TABLE contact (Id, FirstName, LastName, Email, Membership_Status__c)")
        rows = [
            (f"003{n:015d}", "Bench", f"Writer {n}", f"bench.{n}@example.org", "Active")
            for n in range(records)
        ]
        started = time.perf_counter()
        for offset in range(0, records, 200):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO contact VALUES (?, ?, ?, ?, ?)", rows[offset : offset + 200]
            )
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.close()
    return seconds


# --- report --------------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--max-pages", type=int, default=1_000, help="pages to time (default: all)")
    parser.add_argument("--composite-calls", type=int, default=50)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path, contacts = args.child
        runner = _child_seed if mode == "seed" else _child_baseline
        print(json.dumps(runner(Path(path), int(contacts))))
        return

    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as scratch:
        root = Path(scratch)
        print(f"Seeding {args.contacts:,} contacts …", file=sys.stderr)
        seeded = _run_child("seed", root / "org", args.contacts)
        baseline = _run_child("baseline", root / "baseline.sqlite3", args.contacts)
        server = EmulatorServer(root / "org", port=0)
        started = time.perf_counter()
        info = server.start()
        start_seconds = time.perf_counter() - started
        try:
            http, base = _session(info)
            print("Paging through every contact …", file=sys.stderr)
            pages = _page_through(http, base, args.max_pages)
            raw = _raw_pages(root / "org" / "org.sqlite3", args.max_pages)
            print("Composite collection writes …", file=sys.stderr)
            write_seconds, written = _composite_writes(http, base, args.composite_calls)
            http.close()
        finally:
            server.stop()
        raw_write_seconds = _raw_writes(written)

    # The first page also pays for totalSize (a COUNT over every row): reported apart.
    page_median, page_p95 = (
        statistics.median(pages[1:] or pages),
        _percentile(pages[1:] or pages, 0.95),
    )
    raw_median, raw_p95 = statistics.median(raw), _percentile(raw, 0.95)
    write_rate = written / write_seconds
    raw_rate = written / raw_write_seconds
    rows = [
        ("metric", "emulator", "baseline", "ratio", "target"),
        (
            f"seed {args.contacts:,} contacts ({seeded['rows']:,} rows), s",
            f"{seeded['seconds']:.1f}",
            f"{baseline['seconds']:.1f}",
            f"{seeded['seconds'] / baseline['seconds']:.2f}x",
            "< 180 s at 1M" if args.contacts >= 1_000_000 else "-",
        ),
        (
            "seed peak memory (RSS), MB",
            f"{seeded['peak_mb']:.0f}",
            f"{baseline['peak_mb']:.0f}",
            f"{seeded['peak_mb'] / baseline['peak_mb']:.2f}x",
            "-",
        ),
        (
            f"later query pages of {PAGE_SIZE:,} ({len(pages) - 1} pages), median ms",
            f"{page_median * 1000:.1f}",
            f"{raw_median * 1000:.1f}",
            f"{page_median / raw_median:.1f}x",
            "< 100 ms",
        ),
        (
            "later query pages, p95 ms",
            f"{page_p95 * 1000:.1f}",
            f"{raw_p95 * 1000:.1f}",
            f"{page_p95 / raw_p95:.1f}x",
            "< 100 ms",
        ),
        (
            "first query page (includes the totalSize COUNT), ms",
            f"{pages[0] * 1000:.1f}",
            f"{raw[0] * 1000:.1f}",
            f"{pages[0] / raw[0]:.1f}x",
            "-",
        ),
        (
            "server start (opens the org, warms the query engine), s",
            f"{start_seconds:.2f}",
            "-",
            "-",
            "-",
        ),
        (
            f"composite/sobjects create ({written:,} records), records/s",
            f"{write_rate:,.0f}",
            f"{raw_rate:,.0f}",
            f"{raw_rate / write_rate:.1f}x slower",
            "-",
        ),
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    print(f"\nEmulator benchmark (cpu count {os.cpu_count()}, Python {sys.version.split()[0]})")
    for index, row in enumerate(rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
