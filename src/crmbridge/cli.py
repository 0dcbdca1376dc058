"""The ``crmbridge`` command: thin wrappers that parse, call a service and print.

Each part of the product owns its sub-commands in its own module and registers them
here with one line.
"""

from __future__ import annotations

import typer

from crmbridge.connections.cli import connect_command, connection_app, secrets_app
from crmbridge.demo.cli import demo_command
from crmbridge.emulator.cli import emulator_command
from crmbridge.services.cli import apikey_app, tenant_app, user_app
from crmbridge.store.cli import db_app
from crmbridge.sync.cli import sync_command
from crmbridge.web.cli import serve
from crmbridge.worker.cli import worker_command

app = typer.Typer(
    name="crmbridge",
    help="Two-way sync between your platform and Salesforce.",
    no_args_is_help=True,
    add_completion=False,
)

app.command("demo")(demo_command)
app.command("serve")(serve)
app.command("worker")(worker_command)
app.command("emulator")(emulator_command)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.command("connect")(connect_command)
app.add_typer(connection_app, name="connection")
app.add_typer(secrets_app, name="secrets")
app.command("sync")(sync_command)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
