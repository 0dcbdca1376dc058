"""``crmbridge emulator``: run the emulated Salesforce org in the foreground."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from crmbridge.emulator.context import EmulatorOptions
from crmbridge.emulator.server import DEFAULT_SEED, EmulatorServer


def emulator_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8443,
    data: Annotated[
        Path, typer.Option("--data", help="Directory that keeps the org between runs.")
    ] = Path(".crmbridge/emulator"),
    seed_contacts: Annotated[
        int, typer.Option(help="Seed a new org with this many contacts (and related data).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed number of the generated data.")] = DEFAULT_SEED,
    schema: Annotated[
        Path | None, typer.Option("--schema", help="YAML/JSON file of extra fields and rules.")
    ] = None,
    info_file: Annotated[
        Path | None, typer.Option(help="Write connection details (JSON) to this file.")
    ] = None,
    api_quota: Annotated[int, typer.Option(help="Daily API request allowance.")] = 100_000,
    token_ttl: Annotated[int, typer.Option(help="Access token lifetime, seconds.")] = 7200,
    rotate_refresh_tokens: Annotated[
        bool, typer.Option(help="Issue a new refresh token on each refresh.")
    ] = False,
    latency_ms: Annotated[int, typer.Option(help="Added latency per API call, ms.")] = 0,
    error_rate: Annotated[float, typer.Option(help="Share of calls answered 503.")] = 0.0,
    lock_error_rate: Annotated[
        float, typer.Option(help="Share of writes answered UNABLE_TO_LOCK_ROW.")
    ] = 0.0,
    fault_seed: Annotated[int | None, typer.Option(help="Seed of the fault dice.")] = None,
    username: Annotated[str | None, typer.Option(help="Admin username (new orgs).")] = None,
    password: Annotated[str | None, typer.Option(help="Admin password.")] = None,
    security_token: Annotated[str | None, typer.Option(help="Admin security token.")] = None,
    client_id: Annotated[str | None, typer.Option(help="Connected app consumer key.")] = None,
    client_secret: Annotated[
        str | None, typer.Option(help="Connected app consumer secret.")
    ] = None,
    callback_url: Annotated[
        list[str] | None, typer.Option(help="Allowed OAuth redirect URI (repeatable).")
    ] = None,
) -> None:
    """Run a local Salesforce org over HTTPS for tests, demos and benchmarks."""
    if schema is not None and not schema.exists():
        raise typer.BadParameter(f"{schema} does not exist", param_hint="--schema")
    options = EmulatorOptions(
        api_quota=api_quota,
        token_ttl_seconds=token_ttl,
        rotate_refresh_tokens=rotate_refresh_tokens,
        latency_ms=latency_ms,
        error_503_rate=error_rate,
        lock_error_rate=lock_error_rate,
        fault_seed=fault_seed,
        password=password,
        security_token=security_token,
        client_id=client_id,
        client_secret=client_secret,
        callback_urls=tuple(callback_url or ()),
        schema_file=schema,
    )
    if username:
        options.username = username
    server = EmulatorServer(
        data, host=host, port=port, seed_contacts=seed_contacts, seed=seed, options=options
    )
    if seed_contacts:
        typer.echo(f"Preparing the org in {data} (seeding {seed_contacts:,} contacts if new)…")
    try:
        info = server.start()
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if server.seeded:
        typer.echo("Seeded: " + ", ".join(f"{n:,} {o}" for o, n in server.seeded.items()))
    if info_file is not None:
        server.write_info(info_file)
    typer.echo(f"Salesforce emulator listening on {info['instance_url']}")
    typer.echo(f"  org id     {info['org_id']}")
    typer.echo(f"  username   {info['username']}")
    typer.echo(f"  CA cert    {info['ca_cert']}")
    if info_file is not None:
        typer.echo(f"  details    {info_file} (password, token, client id/secret)")
    typer.echo("Press Ctrl+C to stop.")
    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        typer.echo("Emulator stopped; the org is kept in " + str(data))
