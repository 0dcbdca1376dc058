"""The ``crmbridge`` command: thin wrappers that parse, call a service and print.

Each part of the product owns its sub-commands in its own module and registers them
here with one entry of :data:`COMMANDS`. A sub-command's module is imported only when
that sub-command runs (the lazily loaded subcommands pattern of click, which Typer
builds on), so ``crmbridge tenant create`` does not pay for importing the web app,
the emulator and the sync engine: importing every module took about 2.5 s of CPU,
most of a short command's run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a sub-command lives and the one line ``crmbridge --help`` shows for it."""

    module: str
    attribute: str
    summary: str


#: Sub-commands in the order ``crmbridge --help`` lists them.
COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand(
        "crmbridge.demo.cli",
        "demo_command",
        "Run crmbridge against an emulated Salesforce org and keep them in sync.",
    ),
    "serve": LazyCommand(
        "crmbridge.web.cli", "serve", "Serve the REST API, the admin pages and health probes."
    ),
    "worker": LazyCommand(
        "crmbridge.worker.cli",
        "worker_command",
        "Run scheduled syncs, apply pushed changes and purge old rows until stopped.",
    ),
    "emulator": LazyCommand(
        "crmbridge.emulator.cli",
        "emulator_command",
        "Run a local Salesforce org over HTTPS for tests, demos and benchmarks.",
    ),
    "connect": LazyCommand(
        "crmbridge.connections.cli", "connect_command", "Connect a tenant to Salesforce."
    ),
    "sync": LazyCommand(
        "crmbridge.sync.cli",
        "sync_command",
        "Sync a tenant now: inbound then outbound per mapping, with a progress bar.",
    ),
    "db": LazyCommand("crmbridge.store.cli", "db_app", "Database migrations."),
    "tenant": LazyCommand("crmbridge.services.cli", "tenant_app", "Tenants (operator)."),
    "user": LazyCommand("crmbridge.services.cli", "user_app", "People who sign in."),
    "apikey": LazyCommand(
        "crmbridge.services.cli", "apikey_app", "API keys for the host application."
    ),
    "connection": LazyCommand(
        "crmbridge.connections.cli", "connection_app", "The tenant's Salesforce connection."
    ),
    "secrets": LazyCommand("crmbridge.connections.cli", "secrets_app", "Secrets stored at rest."),
}


def load_command(name: str) -> TyperCommand | TyperGroup:
    """Import the sub-command ``name`` and build its click command."""
    spec = COMMANDS[name]
    target = getattr(importlib.import_module(spec.module), spec.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    command = typer.main.get_command(single)
    assert isinstance(command, TyperCommand)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The top-level group: lists every sub-command, imports only the one that runs."""

    _summaries_only = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        if cmd_name not in COMMANDS:
            return None
        if self._summaries_only or ctx.resilient_parsing:
            # ``crmbridge --help`` and shell completion need only the one-line summary.
            summary = COMMANDS[cmd_name].summary
            return TyperCommand(cmd_name, help=summary, short_help=summary)
        return load_command(cmd_name)

    def get_help(self, ctx: typer.Context) -> str:
        self._summaries_only = True
        try:
            return super().get_help(ctx)
        finally:
            self._summaries_only = False


app = LazyGroup(
    name="crmbridge",
    help="Two-way sync between your platform and Salesforce.",
    no_args_is_help=True,
)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
