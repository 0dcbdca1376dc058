"""``crmbridge db``: migrate the database (Alembic) from the command line."""

from __future__ import annotations

import typer

from crmbridge.config import get_settings
from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    migrate.upgrade(get_settings().resolved_database_url(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(get_settings().resolved_database_url(), revision)
    typer.echo(f"database at {revision}")


@db_app.command("current")
def current() -> None:
    """Print the database's revision and the newest one shipped."""
    engine = create_db_engine(get_settings().resolved_database_url())
    try:
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"behind (newest: {head})"
    typer.echo(f"{revision or 'empty'} ({state})")
