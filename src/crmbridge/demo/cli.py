"""``crmbridge demo``: the README's first command.

On a fresh machine with the embedded SQLite default it starts an emulated Salesforce
org (kept in ``CRMBRIDGE_DATA_DIR/demo-org``, seeded once with related data), serves
crmbridge's API, creates the demo tenant with a CLIENT_ADMIN and an API key, connects
to the org through the real OAuth flow, switches on the default member ↔ Contact and
organization ↔ Account mappings, registers an Outbound Message so edits in the org
arrive by push, runs the first sync with a progress bar, then keeps syncing both ways
(every minute, and pushed changes as they arrive) until Ctrl-C. Running it again
reuses everything (see :mod:`crmbridge.demo.setup`).
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from crmbridge.config import get_settings
from crmbridge.demo import setup
from crmbridge.demo.instructions import print_instructions
from crmbridge.demo.server import ApiServerThread
from crmbridge.demo.state import DemoState
from crmbridge.emulator.server import EmulatorServer
from crmbridge.logging import configure_logging
from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine, create_session_factory
from crmbridge.sync.runs import RunKind, RunRequest, RunSummary, run_sync
from crmbridge.sync.tracker import ProgressSnapshot
from crmbridge.web.app import create_app
from crmbridge.worker.cli import install_stop_signals
from crmbridge.worker.loop import WorkerConfig
from crmbridge.worker.tasks import build_worker

#: The demo org's seed, fixed so every fresh demo holds the same people.
DEMO_SEED = 42


def demo_command(
    port: Annotated[int, typer.Option("--port", help="Port of crmbridge's API (0: any).")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    emulator_port: Annotated[
        int,
        typer.Option("--emulator-port", help="Port of the emulated org (0: the last one, or any)."),
    ] = 0,
    seed_contacts: Annotated[
        int,
        typer.Option(
            "--seed-contacts",
            min=0,
            help="Contacts (with their accounts, leads, opportunities …) a new org is seeded with.",
        ),
    ] = 2000,
    once: Annotated[
        bool, typer.Option("--once", help="Run the first sync, print the summary and exit.")
    ] = False,
) -> None:
    """Run crmbridge against an emulated Salesforce org and keep them in sync."""
    settings = get_settings()
    configure_logging(level="WARNING", json=False)
    console = Console()
    data_dir = settings.data_dir.resolve()
    state = DemoState.load(data_dir)
    console.print(f"[bold]crmbridge demo[/bold] — data in {data_dir}")

    org_server = _start_org(console, data_dir, state, emulator_port, seed_contacts)
    org = dict(org_server.info)
    api_server = ApiServerThread(None, host=host, port=port)
    try:
        bound = api_server.bind()
    except OSError as exc:
        org_server.stop()
        console.print(f"[red]Port {port} is taken ({exc}): pass --port.[/red]")
        raise typer.Exit(1) from None
    base_url = f"http://{host}:{bound}"
    settings = settings.model_copy(
        update={"base_url": base_url, "salesforce_ca_bundle": org["ca_cert"]}
    )
    url = settings.resolved_database_url()
    migrate.upgrade(url)
    engine = create_db_engine(url)
    factory = create_session_factory(engine)
    app = create_app(settings, engine=engine)
    api_server.app = app
    api_server.start()
    try:
        summary = _set_up_and_sync(console, factory, settings, state, org, base_url)
        state.save(data_dir)
        print_instructions(
            console, state=state, org=org, base_url=base_url, api=_api(base_url, state)
        )
        if once:
            if not summary.ok:
                raise typer.Exit(1)
            return
        worker = build_worker(factory, settings, config=WorkerConfig(tick_seconds=2.0))
        app.state.wake_worker = worker.wake
        install_stop_signals(worker)
        console.print(
            "Syncing both ways every minute, and pushed changes as they arrive. Ctrl-C stops."
        )
        worker.run_forever()
        console.print("Stopped. Run `crmbridge demo` again to carry on where you left off.")
    finally:
        api_server.stop()
        org_server.stop()
        engine.dispose()


def _start_org(
    console: Console, data_dir: Any, state: DemoState, port: int, seed_contacts: int
) -> EmulatorServer:
    wanted = port or state.emulator_port
    for attempt in (wanted, 0) if wanted else (0,):
        server = EmulatorServer(
            data_dir / "demo-org", port=attempt, seed_contacts=seed_contacts, seed=DEMO_SEED
        )
        try:
            with console.status(
                "Starting the emulated Salesforce org (seeding a new one takes a moment)"
            ):
                server.start()
        except OSError:
            continue
        state.emulator_port = int(server.port or 0)
        seeded = ", ".join(f"{n:,} {name}" for name, n in server.seeded.items())
        console.print(
            f"Salesforce org (emulated): {server.info['instance_url']}"
            + (f" — seeded {seeded}" if seeded else " — existing org")
        )
        return server
    raise typer.Exit(1)


def _api(base_url: str, state: DemoState) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {state.api_key}"},
        timeout=120,
    )


def _set_up_and_sync(
    console: Console,
    factory: Any,
    settings: Any,
    state: DemoState,
    org: dict[str, Any],
    base_url: str,
) -> RunSummary:
    tenant_id, created = setup.ensure_tenant_admin_and_key(factory, state)
    console.print(f"Tenant {setup.DEMO_TENANT_NAME!r}: {'created' if created else 'found'}")
    with _api(base_url, state) as api:
        setup.configure_salesforce(api, org)
        connected = setup.connect(api, org)
        console.print(
            "Salesforce: connected through OAuth" if connected else "Salesforce: already connected"
        )
        for line in setup.install_mappings(api):
            console.print(f"Mapping {line}")
    summary = _first_sync(console, factory, settings, tenant_id)
    # Registered after the first sync: its own writes (2,000 external ids stamped on
    # Contacts) would otherwise come back as as many notifications to re-read.
    with _api(base_url, state) as api:
        setup.register_push(api, org, state, base_url=base_url)
    console.print("Push: Outbound Messages for Contact and Account registered at the org")
    return summary


def _first_sync(console: Console, factory: Any, settings: Any, tenant_id: str) -> RunSummary:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("syncing", total=None, rate="")

    def show(snapshot: ProgressSnapshot) -> None:
        run = snapshot.progress
        rate = snapshot.rate
        progress.update(
            task,
            description=snapshot.activity or "syncing",
            completed=run.done + run.failed,
            total=run.total,
            rate=f"{rate:,.0f} records/s" if rate else "",
        )

    with progress:
        summary = run_sync(
            factory,
            settings,
            tenant_id,
            request=RunRequest(kind=RunKind.NOW, trigger="demo", requested_by="demo"),
            progress=show,
        )
    created = summary.total("created")
    updated = summary.total("updated")
    console.print(
        f"First sync {summary.status}: {created:,} created, {updated:,} updated, "
        f"{summary.total('failed'):,} failed, {summary.api_calls} Salesforce API calls"
    )
    if summary.error:
        console.print(f"[yellow]{summary.error}[/yellow]")
    return summary
