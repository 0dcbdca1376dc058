"""``crmbridge sync``: run one sync for a tenant with a progress bar, print the summary.

Exit status: 0 when the run succeeded, 1 when it failed or was refused, 2 when it
partially failed, 3 when it paused (re-authorize, or the API budget says wait).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from crmbridge.config import get_settings
from crmbridge.services.cli import _resolve_tenant, _transaction
from crmbridge.store.db import create_db_engine, create_session_factory
from crmbridge.sync.runs import RunKind, RunRequest, RunSummary, run_sync
from crmbridge.sync.tracker import ProgressSnapshot

EXIT_CODES = {"succeeded": 0, "failed": 1, "partially_failed": 2, "paused": 3}


def _parse_when(value: str, option: str) -> datetime:
    """``2024-05-01`` (midnight UTC) or an ISO 8601 date-time."""
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).date()
            return datetime.combine(day, time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{option}: not a date (YYYY-MM-DD) or ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Bar:
    """A rich progress bar fed with the run's snapshots."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            # The total is unknown (None) until every stream has reported one.
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task("starting", total=None, rate="", count="")

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        run = snapshot.progress
        rate = snapshot.rate
        processed = run.done + run.failed
        self.progress.update(
            self.task,
            description=snapshot.activity or "syncing",
            completed=processed,
            total=run.total,
            count=f"{processed}/{run.total}" if run.total is not None else str(processed),
            rate=f"{rate:.0f} rec/s" if rate else "",
        )


def _print_summary(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"Run {summary.run_id}: {summary.status}")
    for column in (
        "object",
        "direction",
        "created",
        "updated",
        "deleted",
        "linked",
        "held",
        "failed",
    ):
        table.add_column(column, justify="left" if column in ("object", "direction") else "right")
    for key, counts in sorted(summary.counts.items()):
        sobject, _, direction = key.partition("/")
        table.add_row(
            sobject,
            direction,
            *(
                str(counts.get(k, 0))
                for k in ("created", "updated", "deleted", "linked", "held", "failed")
            ),
        )
    console.print(table)
    if summary.started_at and summary.finished_at:
        seconds = (summary.finished_at - summary.started_at).total_seconds()
        console.print(f"took {seconds:.1f} s, {summary.api_calls} Salesforce API calls")
    if summary.error:
        console.print(f"[yellow]{summary.error}[/yellow]")
    if summary.resume_at:
        console.print(f"sync resumes after {summary.resume_at.isoformat()}")


def sync_command(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id or exact name.")],
    objects: Annotated[
        list[str] | None,
        typer.Option("--object", help="Only this Salesforce object, entity or mapping id."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Full resync of both sides.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only changes from this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="With --since: changes before this date.")
    ] = None,
    test_run: Annotated[
        bool, typer.Option("--test-run", help="At most 25 records per object (R-O3).")
    ] = False,
) -> None:
    """Sync a tenant now: inbound then outbound per mapping, with a progress bar."""
    if sum((full, since is not None, test_run)) > 1:
        raise typer.BadParameter("choose one of --full, --since and --test-run")
    if until is not None and since is None:
        raise typer.BadParameter("--until needs --since")
    kind = RunKind.NOW
    start = end = None
    if full:
        kind = RunKind.FULL
    elif test_run:
        kind = RunKind.TEST_RUN
    elif since is not None:
        kind = RunKind.RANGE
        start = _parse_when(since, "--since")
        end = _parse_when(until, "--until") if until else datetime.now(UTC)
    settings = get_settings()
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant)
    try:
        request = RunRequest(
            kind=kind,
            objects=tuple(objects or ()),
            start=start,
            end=end,
            trigger="cli",
            requested_by="cli",
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console = Console(stderr=False)
    engine = create_db_engine(settings.resolved_database_url())
    try:
        bar = _Bar(console)
        with bar.progress:
            summary = run_sync(
                create_session_factory(engine), settings, tenant_id, request=request, progress=bar
            )
    finally:
        engine.dispose()
    _print_summary(console, summary)
    raise typer.Exit(EXIT_CODES.get(summary.status, 1))
