"""Benchmark of the sync engine against the emulated org (not a test).

Seeds an org with N contacts (``crmbridge emulator --seed-contacts N``: N/10 accounts
come with them; the emulator runs in its own process), connects a tenant with the
default organization ↔ Account and member ↔ Contact mappings, and measures, each run in
a child process of its own:

- **initial sync**, as two runs: inbound, every Account and Contact read
  (``queryAll``, 2,000 a page) and created on the platform; then outbound, each
  stamped with its platform id in Salesforce (one ``Platform_Id__c`` link write per
  record);
- **incremental inbound**: ``--changes`` Contacts updated in Salesforce (one Bulk API
  2.0 job), then read and applied;
- **outbound**: ``--changes`` members created on the platform, then upserted to
  Salesforce (inbound switched off for that run); then as many again with the bulk
  threshold at 0, so every step goes as one Bulk API 2.0 ingest job.

For each: records/s over the whole run, the time spent inside Salesforce client calls
(HTTPS round trips, i.e. the emulator's cost) and the rest (the engine: mapping,
merge, database), the child's CPU time (steadier than wall time when other work shares
the cores), engine-only records/s, the Salesforce API calls made per 10,000
records (the emulator's own counters) against the minimum (5 per 10,000 read by REST
query at 2,000 a page, 50 per 10,000 written by collections of 200, about 6 per Bulk
job), and the peak RSS of the child. Baselines measured in the same run and process
kind: raw client paging of the same query without the engine, and raw 200-record
collection upserts of as many Contacts without the engine. Two floors after the
inbound run show what the fastest engine could not go below: the rows it wrote written
again by plain ``executemany`` into a fresh database (the database alone), and its records
only mapped, with no database (mapping alone). Targets (issue 6): API
calls within 1.2x of the minimum, engine inbound at least 5,000 records/s, peak memory
of the initial sync flat (within 20%) between 100,000 and 1,000,000 records.

    python bench/bench_sync.py                          # 100,000 contacts
    python bench/bench_sync.py --records 10000          # quick
    python bench/bench_sync.py --records 100000 1000000 --initial-only  # memory flatness
    python bench/bench_sync.py --records 10000 --inbound-only   # A/B of the inbound apply
    python bench/bench_sync.py --records 10000 --profile prof/  # cProfile files per run
    python bench/bench_sync.py --records 10000 --inbound-only --postgres  # on PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

#: Records per REST query page and per collection call (REST API Developer Guide,
#: "Query" batch size and "sObject Collections": at most 200 records per call).
PAGE = 2000
COLLECTION = 200
#: A Bulk API 2.0 ingest job: create, upload, close, poll, successful and failed
#: results (Bulk API 2.0 Developer Guide, "Walkthrough for Bulk Insert").
BULK_JOB_CALLS = 6
#: Records the engine writes per step at most (``RunOptions.outbound_chunk``).
OUTBOUND_CHUNK = 2000
TARGET_CALL_RATIO = 1.2
STORE_FLOOR = "{} writes of its rows alone (floor)"  # the database's name
MAP_FLOOR = "mapping its records alone (floor)"
TARGET_INBOUND_PER_SECOND = 5000.0
TARGET_MEMORY_SPREAD = 0.20
#: Where ``--postgres`` makes its databases unless told otherwise (this machine's server).
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"


# --- child processes ----------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _timed_client_calls() -> Iterator[dict[str, float]]:
    """Time spent inside ``SalesforceClient.request`` (the one door to Salesforce), plus
    the waits between a Bulk API 2.0 job's state polls (Salesforce is working then)."""
    from crmbridge.salesforce.bulk import BulkClient
    from crmbridge.salesforce.client import SalesforceClient

    spent = {"seconds": 0.0, "calls": 0.0}
    original = SalesforceClient.request
    original_init = BulkClient.__init__

    def timed(self: SalesforceClient, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent["seconds"] += time.perf_counter() - began
            spent["calls"] += 1

    def timed_sleep(seconds: float) -> None:
        spent["seconds"] += seconds
        time.sleep(seconds)

    def bulk_init(self: BulkClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **{**kwargs, "sleep": timed_sleep})

    SalesforceClient.request = timed  # type: ignore[method-assign]
    BulkClient.__init__ = bulk_init  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        SalesforceClient.request = original  # type: ignore[method-assign]
        BulkClient.__init__ = original_init  # type: ignore[method-assign]


def _child(mode: str, tenant_id: str, arg: str) -> dict[str, Any]:
    # All imported before the clock starts, as in a worker that has been up a while:
    # importing the engine costs about 0.2 s once per process, not per record.
    from crmbridge.config import Settings
    from crmbridge.connections import open_salesforce_client
    from crmbridge.domain.sync import Direction
    from crmbridge.store.db import create_db_engine, create_session_factory
    from crmbridge.sync import RunKind, RunRequest, run_sync

    settings = Settings()
    engine = create_db_engine(settings.resolved_database_url())
    factory = create_session_factory(engine)
    with _timed_client_calls() as spent:
        began = time.perf_counter()
        cpu_began = time.process_time()
        if mode == "sync":
            request = RunRequest(
                kind=RunKind.NOW, direction=Direction(arg) if arg else None, trigger="bench"
            )
            summary = run_sync(factory, settings, tenant_id, request=request)
            result: dict[str, Any] = {
                "status": summary.status,
                "error": summary.error,
                "counts": summary.counts,
            }
        elif mode == "raw-map":
            result = _raw_map(factory, settings, tenant_id)
        elif mode == "raw-store":
            result = _raw_store(engine, arg)
        else:
            with open_salesforce_client(factory, settings, tenant_id) as client:
                if mode == "raw-read":
                    records = 0
                    for page in client.query_pages(arg, include_deleted=True, batch_size=PAGE):
                        records += len(page.get("records", []))
                    result = {"records": records}
                else:  # raw-write: as many Contacts as asked, upserted on Platform_Id__c
                    bodies = [
                        {
                            "Platform_Id__c": f"raw-{i:08d}",
                            "FirstName": "Raw",
                            "LastName": f"Baseline {i}",
                            "Email": f"raw{i}@bench.example.org",
                        }
                        for i in range(int(arg))
                    ]
                    results = client.upsert_collection("Contact", "Platform_Id__c", bodies)
                    result = {"records": sum(1 for r in results if r.success)}
        # The floors clock only their own work (not their reads): they say so themselves.
        result.setdefault("seconds", time.perf_counter() - began)
        result.setdefault("cpu_seconds", time.process_time() - cpu_began)
        result.setdefault("client_seconds", spent["seconds"])
    engine.dispose()
    result.update(peak_mb=_peak_rss_mb())
    return result


@contextmanager
def _clocked(total: dict[str, float]) -> Iterator[None]:
    """Add the wall and CPU time of the block to ``total`` (a floor's own work only)."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        total["seconds"] += time.perf_counter() - wall
        total["cpu_seconds"] += time.process_time() - cpu


def _raw_map(factory: Any, settings: Any, tenant_id: str) -> dict[str, Any]:
    """The mapping floor: every record the inbound initial sync reads, a page at a time,
    only turned into what the merge compares (its canonical version) and what the
    platform stores (the mapped values): no database, merge, validation or links. Only
    that is clocked, not the reads."""
    from crmbridge.connections import open_salesforce_client
    from crmbridge.domain.sync import plan_inbound_query
    from crmbridge.mappings.service import load_enabled_mappings
    from crmbridge.sync.context import build_mapping_runs, mapping_context
    from crmbridge.sync.inbound import inbound_select
    from crmbridge.sync.settings import SyncSettings

    sync_settings = SyncSettings()
    with factory() as session:
        active = load_enabled_mappings(session, tenant_id=tenant_id)
    runs = build_mapping_runs(active, sync_settings, now=_now())
    context = mapping_context(sync_settings, _now())
    total = {"seconds": 0.0, "cpu_seconds": 0.0, "client_seconds": 0.0}
    records = 0
    with open_salesforce_client(factory, settings, tenant_id) as client:
        for mr in runs:
            plan = plan_inbound_query(
                sobject=mr.sobject,
                fields=mr.codec.query_fields(),
                watermark=None,
                settings=sync_settings.watermark_settings(),
            )
            soql = inbound_select(mr, plan).to_soql()
            mapper = mr.codec.inbound_mapper(None)
            for page in client.query_pages(soql, include_deleted=True, batch_size=PAGE):
                found = page.get("records", [])
                with _clocked(total):
                    for record in found:
                        mr.codec.salesforce_version(record, context=context)
                        mapper.map(record, context)
                records += len(found)
    return {"records": records, **total}


#: The tables an inbound create writes a row into: the record, its change-log entry,
#: the pair (with its sync state) and the audit row (issue 6, R-S9).
STORED_TABLES = ("records", "change_log", "sync_pairs", "sync_records")


def _raw_store(engine: Any, url: str) -> dict[str, Any]:
    """The store floor: the rows the inbound initial sync wrote, as stored, written again
    into a fresh database (``url``, of the same kind, schema and settings) with plain
    ``executemany`` (on PostgreSQL ``COPY``, its fastest way in), one transaction per
    page of ``PAGE`` records. No mapping, merge,
    validation or conversion: what the database alone costs for them. Read a page at a
    time; only the writes and commits are clocked."""
    import sqlalchemy as sa

    from crmbridge.store import migrate
    from crmbridge.store.db import create_db_engine

    postgres = engine.dialect.name == "postgresql"
    migrate.upgrade(url)
    floor = create_db_engine(url)
    try:
        tables = [n for n in sa.inspect(engine).get_table_names() if n != "alembic_version"]
        pooled = engine.raw_connection()
        try:
            source = pooled.driver_connection
            if postgres:
                # JSON comes back as the stored text and goes in as it came (psycopg sends
                # a str untyped, so the server casts it to the column's jsonb).
                from psycopg.types.string import TextLoader

                for kind in ("json", "jsonb"):
                    source.adapters.register_loader(kind, TextLoader)
            marker = "%s" if postgres else "?"
            # Rows in the order they were written: PostgreSQL's physical order (the run
            # only appended), SQLite's rowid.
            order = "ctid" if postgres else "rowid"
            inserts: dict[str, str] = {}
            copies: dict[str, str] = {}
            for name in tables:
                cursor = source.cursor()
                cursor.execute(f"SELECT * FROM {name} LIMIT 0")
                columns = [f'"{d[0]}"' for d in cursor.description]
                inserts[name] = (f"INSERT INTO {name} ({', '.join(columns)}) "
                                 f"VALUES ({', '.join([marker] * len(columns))})")  # fmt: skip
                copies[name] = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
            counts = {}
            for name in STORED_TABLES:
                cursor = source.cursor()
                cursor.execute(f"SELECT count(*) FROM {name}")
                counts[name] = cursor.fetchone()[0]
            pooled_floor = floor.raw_connection()
            try:
                connection = pooled_floor.driver_connection
                writer = connection.cursor()
                # Tenants, mappings and the rest, unclocked, with the foreign keys off
                # (tables in any order); on again for the clocked rows.
                off, on = (
                    ("SET session_replication_role = replica",
                     "SET session_replication_role = DEFAULT")
                    if postgres else ("PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON")
                )  # fmt: skip
                writer.execute(off)
                for name in tables:
                    if name not in STORED_TABLES:
                        cursor = source.cursor()
                        cursor.execute(f"SELECT * FROM {name}")
                        writer.executemany(inserts[name], cursor.fetchall())
                connection.commit()
                writer.execute(on)
                connection.commit()
                pages = max(1, math.ceil(counts["records"] / PAGE))
                cursors = {}
                for name in STORED_TABLES:
                    # A server-side cursor on PostgreSQL, so a page at a time is held.
                    cursor = source.cursor(name=f"floor_{name}") if postgres else source.cursor()
                    cursor.execute(f"SELECT * FROM {name} ORDER BY {order}")
                    cursors[name] = cursor
                total = {"seconds": 0.0, "cpu_seconds": 0.0, "client_seconds": 0.0}
                by_table = dict.fromkeys([*STORED_TABLES, "commit"], 0.0)
                for _page in range(pages):
                    for name, cursor in cursors.items():
                        rows = cursor.fetchmany(math.ceil(counts[name] / pages))
                        with _clocked(total):
                            start = time.perf_counter()
                            if postgres:
                                with writer.copy(copies[name]) as copy:
                                    for row in rows:
                                        copy.write_row(row)
                            else:
                                writer.executemany(inserts[name], rows)
                            by_table[name] += time.perf_counter() - start
                    with _clocked(total):
                        start = time.perf_counter()
                        connection.commit()
                        by_table["commit"] += time.perf_counter() - start
            finally:
                pooled_floor.close()
        finally:
            pooled.close()
    finally:
        floor.dispose()
    return {"records": counts["records"], "rows": counts, "seconds_by_table": by_table, **total}


# --- the parent ---------------------------------------------------------------------------------


class Org:
    """The emulator in a child process, with its call counters."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info

    def _admin(self, method: str) -> dict[str, Any]:
        with httpx.Client(verify=self.info["ca_cert"], timeout=60) as http:
            response = http.request(
                method,
                self.info["admin_url"] + "/calls",
                headers={"Authorization": f"Bearer {self.info['admin_token']}"},
            )
        response.raise_for_status()
        return dict(response.json()) if response.content else {}

    def reset_calls(self) -> None:
        self._admin("DELETE")

    def calls(self) -> dict[str, Any]:
        return self._admin("GET")


@contextmanager
def _emulator(directory: Path, contacts: int) -> Iterator[Org]:
    info_file = directory / "org.json"
    command = [
        str(Path(sys.executable).with_name("crmbridge")),
        "emulator",
        "--port",
        "0",
        "--data",
        str(directory / "org"),
        "--seed-contacts",
        str(contacts),
        "--api-quota",
        "100000000",
        "--info-file",
        str(info_file),
    ]
    with (directory / "emulator.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not info_file.exists() or not info_file.read_text().strip():
            if process.poll() is not None:
                raise RuntimeError(f"the emulator stopped; see {directory / 'emulator.log'}")
            time.sleep(0.5)
        time.sleep(0.2)  # the file is written whole, but give the writer a moment
        yield Org(json.loads(info_file.read_text()))
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def _tenant(directory: Path, org: Org, database: str) -> Iterator[tuple[dict[str, str], Any]]:
    """A migrated database (``database``: ``sqlite`` or a PostgreSQL admin URL) with a
    tenant connected to the org; the child env."""
    from crmbridge.connections.consent import org_settings
    from crmbridge.connections.testing import api_trusting
    from crmbridge.store import migrate
    from crmbridge.store.db import create_db_engine
    from crmbridge.store.testing import empty_database

    with ExitStack() as stack:
        url = stack.enter_context(empty_database(directory, database))
        migrate.upgrade(url)
        engine = create_db_engine(url)
        stack.callback(engine.dispose)
        api = stack.enter_context(
            api_trusting(org.info, engine=engine, database_url=url, CRMBRIDGE_SECRET_KEY=SECRET_KEY)
        )
        tenant_id = api.new_tenant("Bench")
        headers = api.headers_for("CLIENT_ADMIN", tenant_id)
        info = org.info
        for method, path, body in (
            ("PATCH", "/api/v1/salesforce/settings", org_settings(info)),
            (
                "POST",
                "/api/v1/salesforce/password-login",
                {k: info[k] for k in ("username", "password", "security_token")},
            ),
            (
                "POST",
                "/api/v1/mappings/defaults/install",
                {
                    "pairs": [
                        {"platform_entity": "organization", "salesforce_object": "Account"},
                        {"platform_entity": "member", "salesforce_object": "Contact"},
                    ],
                    "enabled": True,
                },
            ),
        ):
            response = api.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 200, response.text
        env = dict(os.environ)
        env.update(
            DATABASE_URL=url,
            CRMBRIDGE_SECRET_KEY=SECRET_KEY,
            SALESFORCE_CA_BUNDLE=info["ca_cert"],
            CRMBRIDGE_DATA_DIR=str(directory / "data"),
            CRMBRIDGE_LOG_LEVEL="WARNING",
        )
        env["BENCH_TENANT"] = tenant_id
        yield env, api


def _run_child(env: dict[str, str], mode: str, arg: str = "") -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, env["BENCH_TENANT"], arg]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _measured(org: Org, env: dict[str, str], mode: str, arg: str = "") -> dict[str, Any]:
    org.reset_calls()
    result = _run_child(env, mode, arg)
    counted = org.calls()
    result["api_calls"] = int(counted["total"])
    result["by_resource"] = counted.get("by_resource", {})
    if mode == "sync" and result["status"] != "succeeded":
        raise RuntimeError(f"the sync ended {result['status']}: {result['error']}")
    return result


def _sum(counts: dict[str, dict[str, int]], direction: str, outcomes: tuple[str, ...]) -> int:
    return sum(
        c.get(o, 0) for key, c in counts.items() if key.endswith("/" + direction) for o in outcomes
    )


def _engine_soql(env: dict[str, str], sobject: str) -> str:
    """The query the engine's full inbound read sends for ``sobject``."""
    from sqlalchemy.orm import sessionmaker

    from crmbridge.domain.sync import plan_inbound_query
    from crmbridge.mappings.service import load_enabled_mappings
    from crmbridge.store.db import create_db_engine
    from crmbridge.sync.context import build_mapping_runs
    from crmbridge.sync.inbound import inbound_select
    from crmbridge.sync.settings import SyncSettings

    engine = create_db_engine(env["DATABASE_URL"])
    with sessionmaker(engine)() as session:
        active = load_enabled_mappings(session, tenant_id=env["BENCH_TENANT"])
    engine.dispose()
    settings = SyncSettings()
    for mr in build_mapping_runs(active, settings, now=_now()):
        if mr.sobject == sobject:
            plan = plan_inbound_query(
                sobject=sobject,
                fields=mr.codec.query_fields(),
                watermark=None,
                settings=settings.watermark_settings(),
            )
            return inbound_select(mr, plan).to_soql()
    raise LookupError(sobject)


def _now() -> Any:
    from crmbridge.store.db import utcnow

    return utcnow()


def _minimum_calls(counts: dict[str, dict[str, int]], *, bulk: bool = False) -> int:
    """Fewest calls for the records a run read and wrote: pages of 2,000, collections of
    200 (``bulk``: about 6 calls per Bulk API 2.0 job of up to ``OUTBOUND_CHUNK``)."""
    total = 0
    for key, c in counts.items():
        direction = key.rsplit("/", 1)[-1]
        if direction == "inbound":
            total += max(1, math.ceil((c.get("done", 0) + c.get("failed", 0)) / PAGE))
        else:
            written = sum(c.get(o, 0) for o in ("created", "updated", "deleted", "linked"))
            if bulk:
                total += BULK_JOB_CALLS * math.ceil(written / OUTBOUND_CHUNK)
            else:
                total += math.ceil(written / COLLECTION)
    return total


def _update_contacts_in_salesforce(api: Any, tenant_id: str, count: int) -> None:
    """``count`` Contacts get a new Title in one Bulk API 2.0 update job."""
    from crmbridge.connections import open_salesforce_client
    from crmbridge.salesforce.bulk import BulkClient

    with open_salesforce_client(api.session_factory, api.app.state.settings, tenant_id) as sf:
        ids = [
            r["Id"]
            for r in sf.query(
                f"SELECT Id FROM Contact WHERE Movement_Exclude__c = false LIMIT {count}"
            )
        ]
        rows = [{"Id": i, "Title": f"Bench title {n}"} for n, i in enumerate(ids)]
        result = BulkClient(sf).ingest("Contact", "update", rows)
        assert result.state == "JobComplete", result.state


def _create_members(api: Any, tenant_id: str, count: int, *, first: int = 0) -> None:
    from crmbridge.domain.entities import get_entity_type
    from crmbridge.services import records as records_service
    from crmbridge.store.repositories.change_log import ChangeContext

    member = get_entity_type("member")
    context = ChangeContext(source="api", origin="bench", actor="bench")
    for start in range(first, first + count, 1000):
        with api.session_factory.begin() as session:
            for i in range(start, min(first + count, start + 1000)):
                records_service.create_record(
                    session,
                    tenant_id=tenant_id,
                    entity=member,
                    payload={
                        "first_name": "Bench",
                        "last_name": f"Member {i}",
                        "email": f"member{i}@bench.example.org",
                        "phone": f"+1 555 {i:07d}",
                    },
                    context=context,
                )


def _row(label: str, r: dict[str, Any], records: int, minimum: int | None) -> dict[str, Any]:
    engine_seconds = max(r["seconds"] - r["client_seconds"], 1e-9)
    return {
        "label": label,
        "records": records,
        "seconds": r["seconds"],
        "client": r["client_seconds"],
        "cpu": r["cpu_seconds"],
        "engine": engine_seconds if minimum is not None else None,
        "rate": records / r["seconds"] if r["seconds"] else 0.0,
        "engine_rate": records / engine_seconds if minimum is not None else None,
        "calls": r["api_calls"],
        "per10k": r["api_calls"] * 10_000 / records if records else 0.0,
        "minimum": minimum,
        "peak_mb": r["peak_mb"],
    }


def _kind(database: str) -> str:
    """The database's name as the tables print it (``database``: ``sqlite`` or a URL)."""
    return "PostgreSQL" if database.startswith("postgresql") else "SQLite"


def bench_size(
    directory: Path,
    contacts: int,
    changes: int,
    *,
    initial_only: bool = False,
    inbound_only: bool = False,
    database: str = "sqlite",
) -> list[dict[str, Any]]:
    """Every measurement at one size; returns the table rows."""
    from crmbridge.store.testing import empty_database

    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    with (
        _emulator(directory, contacts) as org,
        _tenant(directory, org, database) as (env, api),
    ):
        print(f"  seeded and connected in {time.perf_counter() - began:.0f} s", flush=True)
        headers = api.headers_for("CLIENT_ADMIN", env["BENCH_TENANT"])
        # No look-back and no safety margin: a run then reads exactly what changed since
        # the last one (the defaults re-read the last six minutes every run).
        response = api.client.put(
            "/api/v1/sync/settings",
            json={"lookback_seconds": 0, "safety_margin_seconds": 0},
            headers=headers,
        )
        assert response.status_code == 200, response.text

        contact_soql = _engine_soql(env, "Contact")
        raw = _measured(org, env, "raw-read", contact_soql)
        rows.append(_row("raw paging of the Contact query (baseline)", raw, raw["records"], None))
        # The initial sync as two runs, so the inbound engine figure is inbound work only:
        # read and create everything (each pair left waiting for its link stamp), then
        # write the platform ids back into Platform_Id__c.
        first = _measured(org, env, "sync", "from_salesforce")
        read = _sum(first["counts"], "inbound", ("done", "failed"))
        label = "initial sync, inbound: read, create"
        rows.append(_row(label, first, read, _minimum_calls(first["counts"])))
        print(f"  {label}: {first['seconds']:.0f} s, calls {first['by_resource']}", flush=True)
        with empty_database(directory, database) as floor_url:
            floor = _measured(org, env, "raw-store", floor_url)
        rows.append(_row(STORE_FLOOR.format(_kind(database)), floor, floor["records"], None))
        rows[-1]["by_table"] = {
            name: seconds * 1e6 / max(1, floor["records"])
            for name, seconds in floor["seconds_by_table"].items()
        }
        mapped = _measured(org, env, "raw-map")
        rows.append(_row(MAP_FLOOR, mapped, mapped["records"], None))
        if inbound_only:
            return rows
        links = _measured(org, env, "sync", "to_salesforce")
        written = _sum(links["counts"], "outbound", ("created", "updated", "deleted", "linked"))
        label = "initial sync, outbound: link stamps"
        rows.append(_row(label, links, written, _minimum_calls(links["counts"])))
        print(f"  {label}: {links['seconds']:.0f} s, calls {links['by_resource']}", flush=True)
        if initial_only:
            return rows
        echoes = _measured(org, env, "sync", "from_salesforce")
        read = _sum(echoes["counts"], "inbound", ("done", "failed"))
        rows.append(
            _row(
                "inbound: echoes of the link stamps", echoes, read, _minimum_calls(echoes["counts"])
            )
        )

        _update_contacts_in_salesforce(api, env["BENCH_TENANT"], changes)
        updated = _measured(org, env, "sync", "from_salesforce")
        read = _sum(updated["counts"], "inbound", ("done", "failed"))
        rows.append(
            _row(
                f"inbound: {changes:,} Contacts updated",
                updated,
                read,
                _minimum_calls(updated["counts"]),
            )
        )

        _create_members(api, env["BENCH_TENANT"], changes)
        pushed = _measured(org, env, "sync", "to_salesforce")
        written = _sum(pushed["counts"], "outbound", ("created", "updated", "deleted", "linked"))
        label = f"outbound: {changes:,} members created"
        rows.append(_row(label, pushed, written, _minimum_calls(pushed["counts"])))
        print(f"  {label}: {pushed['seconds']:.0f} s {pushed['by_resource']}", flush=True)
        # The same through Bulk API 2.0: every step of more than 0 records is a job.
        response = api.client.put(
            "/api/v1/sync/settings", json={"bulk_threshold": 0}, headers=headers
        )
        assert response.status_code == 200, response.text
        _create_members(api, env["BENCH_TENANT"], changes, first=changes)
        bulk = _measured(org, env, "sync", "to_salesforce")
        written = _sum(bulk["counts"], "outbound", ("created", "updated", "deleted", "linked"))
        label = f"outbound via Bulk API 2.0: {changes:,} created"
        rows.append(_row(label, bulk, written, _minimum_calls(bulk["counts"], bulk=True)))
        print(f"  {label}: {bulk['seconds']:.0f} s {bulk['by_resource']}", flush=True)
        baseline = _measured(org, env, "raw-write", str(changes))
        rows.append(_row("raw collection upserts (baseline)", baseline, baseline["records"], None))
    return rows


def _print_table(contacts: int, rows: list[dict[str, Any]]) -> None:
    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    header = (f"{'run':44} {'records':>9} {'wall s':>7} {'SF s':>7} {'engine s':>8} {'CPU s':>6} "
              f"{'rec/s':>7} {'engine rec/s':>12} {'calls':>6} {'/10k':>6} {'min/10k':>7} "
              f"{'peak MB':>7}")  # fmt: skip
    print(f"\n{contacts:,} seeded contacts")
    print(header)
    print("-" * len(header))
    for r in rows:
        minimum = r["minimum"]
        min10k = minimum * 10_000 / r["records"] if minimum is not None and r["records"] else None
        print(f"{r['label']:44} {r['records']:>9,} {r['seconds']:>7.1f} {r['client']:>7.1f} "
              f"{fmt(r['engine'], '>8.1f')} {r['cpu']:>6.1f} {r['rate']:>7,.0f} "
              f"{fmt(r['engine_rate'], '>12,.0f')} "
              f"{r['calls']:>6,} {r['per10k']:>6.1f} {fmt(min10k, '>7.1f')} "
              f"{r['peak_mb']:>7.0f}")  # fmt: skip


def _print_ratios(rows: list[dict[str, Any]]) -> None:
    by = {r["label"].split(":")[0].split(" (")[0]: r for r in rows}
    raw_read, raw_write = rows[0], rows[-1]
    first = by["initial sync, inbound"]
    pushed = next((r for r in rows if r["label"].startswith("outbound:")), None)

    def per_record(r: dict[str, Any]) -> float:
        return float(r["seconds"]) / max(1, r["records"])

    print("\nratios (same run)")
    print(
        "  initial sync wall time per record / raw paging per record: "
        f"{per_record(first) / per_record(raw_read):.1f}x"
    )
    print(
        "  initial sync peak memory / raw paging peak memory: "
        f"{first['peak_mb'] / raw_read['peak_mb']:.2f}x"
    )
    for r in rows:
        if r["minimum"] is None:
            continue
        ratio = r["calls"] / r["minimum"] if r["minimum"] else float("inf")
        verdict = "meets" if ratio <= TARGET_CALL_RATIO else "MISSES"
        print(f"  {r['label']}: API calls {r['calls']:,} / minimum {r['minimum']:,} = "
              f"{ratio:.2f}x ({verdict} {TARGET_CALL_RATIO}x)")  # fmt: skip
    for r in rows:
        if r["label"].startswith(("initial sync, inbound", "inbound")):
            verdict = "meets" if r["engine_rate"] >= TARGET_INBOUND_PER_SECOND else "MISSES"
            print(f"  {r['label']}: engine-only {r['engine_rate']:,.0f} records/s "
                  f"({verdict} {TARGET_INBOUND_PER_SECOND:,.0f})")  # fmt: skip
    floors = [r for r in rows if r["label"].endswith("(floor)")]
    if floors:
        engine_per_record = float(first["engine"]) / max(1, first["records"])
        budget = 1 / TARGET_INBOUND_PER_SECOND
        for floor in floors:
            name, floor_per_record = floor["label"].split(" (")[0], per_record(floor)
            print(f"  initial sync engine time per record / {name} per record: "
                  f"{engine_per_record / floor_per_record:.1f}x ({engine_per_record * 1e6:,.0f} "
                  f"µs against {floor_per_record * 1e6:,.0f} µs)")  # fmt: skip
            if "by_table" in floor:
                parts = ", ".join(f"{name} {us:,.0f}" for name, us in floor["by_table"].items())
                print(f"    of which, µs a record: {parts}")
        together = sum(per_record(f) for f in floors)
        print(f"  the floors together: {together * 1e6:,.0f} µs a record, "
              f"{together / budget:.0%} of the {budget * 1e6:,.0f} µs a record that "
              f"{TARGET_INBOUND_PER_SECOND:,.0f} records/s allows")  # fmt: skip
    if pushed is not None:
        print(
            "  outbound wall time per record / raw upserts per record: "
            f"{per_record(pushed) / per_record(raw_write):.1f}x; "
            f"Salesforce time share {pushed['client'] / pushed['seconds']:.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000],
                        help="contacts to seed (one full set of runs per size)")  # fmt: skip
    parser.add_argument("--changes", type=int, default=10_000,
                        help="records changed for the incremental and outbound runs")  # fmt: skip
    parser.add_argument("--initial-only", action="store_true",
                        help="stop after the initial sync (memory flatness)")  # fmt: skip
    parser.add_argument("--inbound-only", action="store_true",
                        help="stop after the initial inbound run (quick comparisons)")  # fmt: skip
    parser.add_argument("--profile", metavar="DIR",
                        help="write a cProfile file per measured child run into DIR")  # fmt: skip
    parser.add_argument("--postgres", metavar="ADMIN_URL", nargs="?", const=POSTGRES_ADMIN,
                        help="run crmbridge on PostgreSQL: a fresh database made through "
                             f"ADMIN_URL (default {POSTGRES_ADMIN}) instead of SQLite")  # fmt: skip
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        os.environ["BENCH_PROFILE_DIR"] = os.path.abspath(args.profile)
    if args.child:
        profile_dir = os.environ.get("BENCH_PROFILE_DIR")
        if profile_dir:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(_child, *args.child)
            label = args.child[2] if args.child[0] == "sync" else ""
            name = f"{args.child[0]}-{label or 'all'}-{time.time_ns()}.prof"
            profiler.dump_stats(os.path.join(profile_dir, name))
        else:
            result = _child(*args.child)
        print(json.dumps(result))
        return
    peaks: dict[int, float] = {}
    for contacts in args.records:
        changes = min(args.changes, contacts)
        database = args.postgres or "sqlite"
        print(f"{contacts:,} contacts ({changes:,} changes), crmbridge on {_kind(database)}…",
              flush=True)  # fmt: skip
        began = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="crmbridge-bench-sync-") as tmp:
            rows = bench_size(
                Path(tmp),
                contacts,
                changes,
                initial_only=args.initial_only,
                inbound_only=args.inbound_only,
                database=database,
            )
        _print_table(contacts, rows)
        _print_ratios(rows)
        print(f"  (this size took {time.perf_counter() - began:.0f} s in all)")
        peaks[contacts] = max(r["peak_mb"] for r in rows if r["label"].startswith("initial"))
    if len(peaks) > 1:
        low, high = min(peaks.values()), max(peaks.values())
        spread = (high - low) / low
        verdict = "flat" if spread <= TARGET_MEMORY_SPREAD else "NOT flat"
        sizes = ", ".join(f"{n:,}: {mb:.0f} MB" for n, mb in sorted(peaks.items()))
        print(f"\ninitial sync peak memory {sizes}: spread {spread:.0%} ({verdict}, "
              f"target within {TARGET_MEMORY_SPREAD:.0%})")  # fmt: skip


if __name__ == "__main__":
    main()
