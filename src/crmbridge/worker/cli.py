"""``crmbridge worker``: run the scheduler and worker loop in the foreground.

SIGINT or SIGTERM stops it gracefully: the run in progress finishes, leases are
released, the process exits 0. A second signal stops at once (a run cut short is
safe: its lease expires and the next run picks up where it stopped, R-S10).
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import structlog
import typer
from rich.console import Console

from crmbridge.config import get_settings
from crmbridge.logging import configure_logging
from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine, create_session_factory
from crmbridge.worker.loop import Worker, WorkerConfig
from crmbridge.worker.tasks import build_worker

log = structlog.get_logger(__name__)


def install_stop_signals(worker: Worker) -> None:
    """SIGINT/SIGTERM: stop ``worker`` after the work in hand; a second one: at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if worker.stopping:
            raise SystemExit(128 + signum)
        log.info("worker.stopping", signal=signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def worker_command(
    once: Annotated[
        bool, typer.Option("--once", help="Make one pass (runs due, push, purge) and exit.")
    ] = False,
    tick: Annotated[float, typer.Option("--tick", min=0.1, help="Seconds between passes.")] = 5.0,
    migrate_first: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="Upgrade the database first (off by default: `crmbridge serve` or "
            "`crmbridge db upgrade` migrates).",
        ),
    ] = False,
) -> None:
    """Run scheduled syncs, apply pushed changes and purge old rows until stopped.

    Several workers (on one machine or many, sharing the database) may run at once:
    each tenant is synced by one of them at a time.
    """
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.is_production)
    settings.check_safe_for_production()
    url = settings.resolved_database_url()
    console = Console(stderr=True)
    if migrate_first:
        migrate.upgrade(url)
    elif not migrate.is_up_to_date(url):
        console.print(
            "[red]The database is not at the newest revision: run `crmbridge db upgrade` "
            "(or start with --migrate).[/red]"
        )
        raise typer.Exit(1)
    engine = create_db_engine(url)
    try:
        worker = build_worker(
            create_session_factory(engine), settings, config=WorkerConfig(tick_seconds=tick)
        )
        if once:
            report = worker.run_once()
            for tenant_id, outcome in report.runs:
                console.print(f"run {outcome.run_id} of tenant {tenant_id}: {outcome.status}")
            for tenant_id, settled in report.drained.items():
                console.print(f"{settled} pushed entries of tenant {tenant_id} applied")
            for tenant_id in report.busy:
                console.print(f"tenant {tenant_id}: another worker is syncing it")
            if report.purged is not None:
                console.print(f"{report.purged} expired rows purged")
            return
        install_stop_signals(worker)
        worker.run_forever()
    finally:
        engine.dispose()
