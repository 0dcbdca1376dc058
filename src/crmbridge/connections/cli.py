"""``crmbridge connect``, ``crmbridge connection status|test`` and ``crmbridge secrets rotate``."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from crmbridge.config import get_settings
from crmbridge.connections import lifecycle, oauth_flow, password_flow
from crmbridge.connections.errors import IncompleteSettings, NotConnected
from crmbridge.connections.health import check_view, health_view, run_connection_test
from crmbridge.connections.key_rotation import rotate_secrets
from crmbridge.crypto import SecretUnreadable, secret_box_for
from crmbridge.domain.errors import CrmError
from crmbridge.services.access import CLI_PRINCIPAL
from crmbridge.services.cli import _resolve_tenant, _transaction
from crmbridge.store.connection_models import SalesforceOAuthState
from crmbridge.store.db import create_db_engine, create_session_factory

connection_app = typer.Typer(help="The tenant's Salesforce connection.", no_args_is_help=True)
secrets_app = typer.Typer(help="Secrets stored at rest.", no_args_is_help=True)

#: Seconds between two looks at a pending OAuth flow.
POLL_SECONDS = 1.0


@contextmanager
def _salesforce_errors() -> Iterator[None]:
    try:
        yield
    except CrmError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        if exc.advice and exc.advice not in exc.message:
            typer.echo(f"what to do: {exc.advice}", err=True)
        raise typer.Exit(1) from None
    except SecretUnreadable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _print_health(view: dict[str, Any]) -> None:
    usage = view["api_usage"]
    rows = [
        ("status", view["status"]),
        ("reason", view["status_reason"]),
        ("what to do", view["action"]),
        ("sync paused", "yes" if view["sync_paused"] else "no"),
        ("environment", f"{view['environment']} ({view['login_url']})"),
        ("org", f"{view['org_name']} ({view['org_id']})" if view["org_id"] else ""),
        ("user", view["username"]),
        ("instance", view["instance_url"] or ""),
        ("api version", view["api_version"] or ""),
        ("login flow", view["auth_flow"] or ""),
        ("last successful call", view["last_successful_call_at"] or ""),
        ("last inbound entry", view["last_inbound_entry_at"] or ""),
        (
            "api usage",
            f"{usage['used']} of {usage['limit']}" if usage["limit"] is not None else "",
        ),
    ]
    for label, value in rows:
        if value not in ("", None):
            typer.echo(f"{label:>21}: {value}")


def _wait_for_flow(state_id: str, timeout: float) -> tuple[str, str]:
    engine = create_db_engine(get_settings().resolved_database_url())
    factory = create_session_factory(engine)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with factory() as session:
                flow = session.get(SalesforceOAuthState, state_id)
                if flow is None:
                    return "failed", "The connection attempt disappeared."
                view = oauth_flow.flow_view(flow)
            if view["outcome"] != "pending":
                return str(view["outcome"]), str(view["detail"])
            if time.monotonic() > deadline:
                return "expired", "Gave up waiting for the consent."
            time.sleep(POLL_SECONDS)
    finally:
        engine.dispose()


def connect_command(
    tenant: str = typer.Option(..., "--tenant", help="Tenant id or exact name."),
    password_flow_: bool = typer.Option(
        False, "--password-flow", help="Log in with username, password and security token."
    ),
    username: str | None = typer.Option(None, "--username", help="Password flow: the user."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Password flow: read the password, then the security token, one per line.",
    ),
    environment: str | None = typer.Option(
        None, "--environment", help="production, sandbox or custom (password flow)."
    ),
    login_url: str | None = typer.Option(
        None, "--login-url", help="Login URL of a custom environment (password flow)."
    ),
    timeout: float = typer.Option(
        600.0, "--timeout", help="OAuth: seconds to wait for the consent."
    ),
) -> None:
    """Connect a tenant to Salesforce.

    OAuth (default): prints the authorize URL; open it, log in to Salesforce and click
    Allow. The running ``crmbridge serve`` receives the callback; this command waits
    for it. ``--password-flow`` logs in directly with username, password and security
    token.
    """
    settings = get_settings()
    if password_flow_:
        if not username:
            raise typer.BadParameter("--password-flow needs --username")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            token = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True)
            token = typer.prompt("Security token (empty if none)", default="", hide_input=True)
        with _salesforce_errors(), _transaction() as session:
            tenant_id = _resolve_tenant(session, tenant)
            connection = password_flow.password_login(
                session,
                CLI_PRINCIPAL,
                tenant_id=tenant_id,
                username=username,
                password=password,
                security_token=token,
                environment=environment,
                custom_login_url=login_url,
                settings=settings,
                box=secret_box_for(settings),
            )
            typer.echo(
                f"Connected to {connection.org_name} ({connection.org_id}) as "
                f"{connection.username}."
            )
        return
    with _salesforce_errors(), _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant)
        try:
            started = oauth_flow.start_oauth(
                session,
                CLI_PRINCIPAL,
                tenant_id=tenant_id,
                settings=settings,
                box=secret_box_for(settings),
            )
        except IncompleteSettings as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from None
    typer.echo("Open this URL in a browser, log in to Salesforce and click Allow:")
    typer.echo(started.authorize_url)
    typer.echo(f"Waiting for the callback at {settings.oauth_callback_url()} …", err=True)
    outcome, detail = _wait_for_flow(started.state_id, timeout)
    if outcome != "connected":
        typer.echo(f"error: {detail or outcome}", err=True)
        raise typer.Exit(1)
    typer.echo(detail)


@connection_app.command("status")
def connection_status(
    tenant: str = typer.Option(..., "--tenant", help="Tenant id or exact name."),
) -> None:
    """Print the connection's health."""
    settings = get_settings()
    with _salesforce_errors(), _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant)
        _print_health(health_view(session, tenant_id, settings))


@connection_app.command("test")
def connection_test(
    tenant: str = typer.Option(..., "--tenant", help="Tenant id or exact name."),
) -> None:
    """Run the connection test; exits 1 when a check fails."""
    settings = get_settings()
    with _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant)
    engine = create_db_engine(settings.resolved_database_url())
    try:
        with _salesforce_errors():
            checks = run_connection_test(create_session_factory(engine), settings, tenant_id)
    finally:
        engine.dispose()
    for check in checks:
        view = check_view(check)
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[view["ok"]]
        typer.echo(f"{mark} {view['name']}: {view['detail']}")
        if view["ok"] is False and view["fix"]:
            typer.echo(f"     fix: {view['fix']}")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@connection_app.command("disconnect")
def connection_disconnect(
    tenant: str = typer.Option(..., "--tenant", help="Tenant id or exact name."),
) -> None:
    """Revoke the token at Salesforce and disconnect; data and logs are kept."""
    settings = get_settings()
    with _salesforce_errors(), _transaction() as session:
        tenant_id = _resolve_tenant(session, tenant)
        try:
            result = lifecycle.disconnect(
                session,
                CLI_PRINCIPAL,
                tenant_id=tenant_id,
                settings=settings,
                box=secret_box_for(settings),
            )
        except NotConnected as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"Disconnected. {result['detail']}")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-seal every stored secret under CRMBRIDGE_SECRET_KEY (after a key change)."""
    settings = get_settings()
    with _salesforce_errors(), _transaction() as session:
        count = rotate_secrets(session, secret_box_for(settings))
    typer.echo(f"Re-sealed {count} secret(s) under the current key.")
