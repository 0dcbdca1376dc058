"""``crmbridge tenant|user|apikey``: operator set-up from the command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

from crmbridge.config import get_settings
from crmbridge.domain.entities import RecordValidationError
from crmbridge.services import api_keys, tenants, users
from crmbridge.services.access import CLI_PRINCIPAL, Role
from crmbridge.services.errors import NotFound, ServiceError
from crmbridge.store.db import create_db_engine, create_session_factory

tenant_app = typer.Typer(help="Tenants (operator).", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the host application.", no_args_is_help=True)


@contextmanager
def _transaction() -> Iterator[Session]:
    """One transaction for the command; errors are printed, not thrown at the user."""
    engine = create_db_engine(get_settings().resolved_database_url())
    try:
        with create_session_factory(engine).begin() as session:
            yield session
    except RecordValidationError as exc:
        for error in exc.errors:
            typer.echo(f"error: {error.field} {error.message}", err=True)
        raise typer.Exit(1) from None
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _resolve_tenant(session: Session, tenant: str) -> str:
    """A tenant id from an id or an exact name."""
    try:
        return tenants.get_tenant(session, tenant).id
    except NotFound:
        matches = [t for t in tenants.list_tenants(session) if t.name == tenant]
        if len(matches) != 1:
            raise NotFound(f"No single tenant with id or name {tenant!r}.") from None
        return matches[0].id


def _role(value: str) -> Role:
    try:
        return Role(value.upper())
    except ValueError:
        raise typer.BadParameter(f"one of {', '.join(r.value for r in Role)}") from None


@tenant_app.command("create")
def tenant_create(name: str) -> None:
    """Create a tenant; prints its id."""
    with _transaction() as session:
        tenant = tenants.create_tenant(session, CLI_PRINCIPAL, name=name)
        typer.echo(tenant.id)


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants: id, status, name."""
    with _transaction() as session:
        for tenant in tenants.list_tenants(session):
            typer.echo(f"{tenant.id}\t{tenant.status}\t{tenant.name}")


def _set_status(tenant: str, *, suspended: bool) -> None:
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant)
        result = tenants.set_tenant_status(session, CLI_PRINCIPAL, tenant_id, suspended=suspended)
        typer.echo(f"{result.id}\t{result.status}")


@tenant_app.command("suspend")
def tenant_suspend(tenant: str) -> None:
    """Suspend a tenant: every request for it answers 403."""
    _set_status(tenant, suspended=True)


@tenant_app.command("resume")
def tenant_resume(tenant: str) -> None:
    """Resume a suspended tenant."""
    _set_status(tenant, suspended=False)


@user_app.command("create")
def user_create(
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option(..., "--role", help="SUPER_ADMIN needs no --tenant."),
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant id or name."),
    name: str = typer.Option("", "--name"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Create a user (an operator when --role SUPER_ADMIN); prints the user id."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant) if tenant else None
        user = users.create_user(
            session,
            CLI_PRINCIPAL,
            tenant_id=tenant_id,
            email=email,
            role=_role(role),
            name=name,
            password=password,
        )
        typer.echo(user.id)


@apikey_app.command("create")
def apikey_create(
    role: str = typer.Option(..., "--role"),
    name: str = typer.Option(..., "--name"),
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant id or name."),
    allow_ip: list[str] = typer.Option([], "--allow-ip", help="IP or CIDR; repeatable."),
) -> None:
    """Create an API key and print it. It is shown this once; store it now."""
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant) if tenant else None
        created = api_keys.create_api_key(
            session,
            CLI_PRINCIPAL,
            tenant_id=tenant_id,
            name=name,
            role=_role(role),
            allowed_ips=allow_ip,
        )
        typer.echo(created.secret)
        typer.echo(f"id {created.record.id}; shown once, store it now", err=True)


@apikey_app.command("list")
def apikey_list(tenant: str | None = typer.Option(None, "--tenant")) -> None:
    """List keys (prefix only): id, prefix, role, state, name."""
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant) if tenant else None
        for key in api_keys.list_api_keys(session, tenant_id=tenant_id):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(f"{key.id}\t{key.prefix}…\t{key.role}\t{state}\t{key.name}")


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: str, tenant: str | None = typer.Option(None, "--tenant", help="Tenant id or name.")
) -> None:
    """Revoke a key by id; it stops working at once."""
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant) if tenant else None
        api_keys.revoke_api_key(session, CLI_PRINCIPAL, tenant_id=tenant_id, key_id=key_id)
        typer.echo(f"{key_id}\trevoked")
