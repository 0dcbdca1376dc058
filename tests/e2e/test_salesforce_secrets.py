"""Secrets at rest and in logs (R-A6): after connecting with every flow, the raw
database holds none of the secrets in clear, and nothing logged during a connect does."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from crmbridge.connections.key_rotation import rotate_secrets
from crmbridge.connections.testing import (
    api_trusting,
    approve_consent,
    callback_path,
    emulator_admin,
    org_settings,
)
from crmbridge.crypto import SecretBox, SecretUnreadable, secret_box_for
from crmbridge.logging import configure_logging
from crmbridge.store.connection_models import SalesforceConnection, SalesforceOAuthState
from crmbridge.store.testing import is_postgres_run
from crmbridge.web.testing import ApiWorld

JSON = {"Accept": "application/json"}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(level="DEBUG", json=True, stream=stream)
    yield stream
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)
    structlog.reset_defaults()


@pytest.fixture
def two_org_api(
    tmp_path: Path,
    clean_db: Engine,
    database_url: str,
    emulator_info: dict[str, Any],
    private_org: dict[str, Any],
) -> Iterator[ApiWorld]:
    """The API trusting both the session org and the private org (one CA bundle)."""
    bundle = tmp_path / "both-cas.pem"
    bundle.write_text(
        Path(emulator_info["ca_cert"]).read_text() + Path(private_org["ca_cert"]).read_text()
    )
    with api_trusting(
        {"ca_cert": str(bundle)}, engine=clean_db, database_url=database_url
    ) as world:
        yield world


def _connect_everything(
    api: ApiWorld, oauth_org: dict[str, Any], password_org: dict[str, Any]
) -> tuple[str, str]:
    """Tenant A by OAuth (plus a second flow left pending), tenant B by password."""
    first, second = api.new_tenant(), api.new_tenant()
    headers = api.headers_for("CLIENT_ADMIN", first)
    api.client.patch("/api/v1/salesforce/settings", json=org_settings(oauth_org), headers=headers)
    started = api.client.post("/api/v1/salesforce/connect", headers=headers).json()
    redirect = approve_consent(
        started["authorize_url"],
        username=oauth_org["username"],
        password=oauth_org["password"],
        verify=oauth_org["ca_cert"],
    )
    assert api.client.get(callback_path(redirect), headers=JSON).status_code == 200
    api.client.post("/api/v1/salesforce/connect", headers=headers)  # pending: a sealed verifier
    password = api.client.post(
        "/api/v1/salesforce/password-login",
        json={
            "username": password_org["username"],
            "password": password_org["password"],
            "security_token": password_org["security_token"],
            "environment": "custom",
            "custom_login_url": password_org["login_url"],
        },
        headers=api.headers_for("CLIENT_ADMIN", second),
    )
    assert password.status_code == 200, password.text
    return first, second


def _clear_secrets(api: ApiWorld, orgs: list[dict[str, Any]]) -> list[str]:
    """Every secret crmbridge knows, in clear (opened from the store with the key)."""
    box = secret_box_for(api.app.state.settings)
    found = [o[k] for o in orgs for k in ("client_secret", "password", "security_token")]
    with api.session_factory() as session:
        for connection in session.scalars(sa.select(SalesforceConnection)):
            for column in (
                "access_token_sealed",
                "refresh_token_sealed",
                "password_sealed",
                "security_token_sealed",
                "consumer_secret_sealed",
            ):
                sealed = getattr(connection, column)
                if sealed:
                    found.append(box.open(sealed))
        for flow in session.scalars(sa.select(SalesforceOAuthState)):
            if flow.code_verifier_sealed:  # emptied once the flow completed
                found.append(box.open(flow.code_verifier_sealed))
    return found


def _raw_dump(engine: Engine) -> str:
    """Every value of every table, as the database gives it back, as text."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            if is_postgres_run():
                rows = conn.execute(sa.text(f'SELECT t::text FROM "{table}" t'))
            else:
                rows = conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            parts.extend(repr(tuple(row)) for row in rows)
    return "\n".join(parts)


def test_the_raw_database_holds_no_secret_in_clear(
    two_org_api: ApiWorld,
    emulator_info: dict[str, Any],
    private_org: dict[str, Any],
    clean_db: Engine,
    database_url: str,
) -> None:
    _connect_everything(two_org_api, emulator_info, private_org)
    secrets = _clear_secrets(two_org_api, [emulator_info, private_org])
    # 3 known per org; opened from the store: A's consumer secret, access and refresh
    # tokens and pending verifier, B's access token, password and security token.
    assert len(secrets) == 6 + 7
    dump = _raw_dump(clean_db)
    assert "enc1:" in dump
    for secret in secrets:
        assert secret not in dump
    if not is_postgres_run():
        # The file itself, write-ahead log included, has no secret either.
        path = Path(sa.make_url(database_url).database or "")
        raw = _read_outside_this_process([path, Path(f"{path}-wal")])
        for secret in secrets:
            assert secret.encode() not in raw


def _read_outside_this_process(paths: list[Path]) -> bytes:
    """The files' bytes, read by a child process.

    Closing any descriptor of a database file drops every POSIX lock this process holds
    on it, SQLite's included (sqlite.org/howtocorrupt.html, 2.2): reading the file here
    would let another process write over our open connections and corrupt the database.
    """
    script = (
        "import sys, pathlib\n"
        "for name in sys.argv[1:]:\n"
        "    p = pathlib.Path(name)\n"
        "    sys.stdout.buffer.write(p.read_bytes() if p.exists() else b'')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)], capture_output=True, check=True
    )
    return done.stdout


def test_nothing_logged_while_connecting_contains_a_secret(
    two_org_api: ApiWorld,
    emulator_info: dict[str, Any],
    private_org: dict[str, Any],
    log_stream: io.StringIO,
) -> None:
    _, second = _connect_everything(two_org_api, emulator_info, private_org)
    # A renewal and a failing login log too.
    emulator_admin(private_org, reset_password=True)
    checks = two_org_api.client.post(
        "/api/v1/salesforce/test", headers=two_org_api.headers_for("CLIENT_ADMIN", second)
    ).json()
    assert any(check["ok"] is False for check in checks["checks"])
    output = log_stream.getvalue()
    assert "/api/v1/salesforce/oauth/callback" in output  # the access log was captured
    assert "salesforce.needs_reauthorization" in output
    for secret in _clear_secrets(two_org_api, [emulator_info, private_org]):
        assert secret not in output
    for line in output.splitlines():
        json.loads(line)  # structured, one object per line


def test_key_rotation_reseals_everything_and_a_wrong_key_is_named(
    two_org_api: ApiWorld, emulator_info: dict[str, Any], private_org: dict[str, Any]
) -> None:
    _connect_everything(two_org_api, emulator_info, private_org)
    settings = two_org_api.app.state.settings
    old_key = settings.effective_secret_key()
    new_box = SecretBox("a brand new key of at least 32 characters", [old_key])
    with two_org_api.session_factory.begin() as session:
        count = rotate_secrets(session, new_box)
    # A: consumer secret, access, refresh, verifier; B: access, password, token.
    assert count == 7
    only_new = SecretBox("a brand new key of at least 32 characters")
    only_old = SecretBox(old_key)
    with two_org_api.session_factory() as session:
        for connection in session.scalars(sa.select(SalesforceConnection)):
            assert only_new.open(connection.access_token_sealed or "")
            with pytest.raises(SecretUnreadable, match="CRMBRIDGE_SECRET_KEY"):
                only_old.open(connection.access_token_sealed or "")
    # The running app still has only the old key: the health (no secret needed) works,
    # the settings (which open the Consumer Secret) say which key is missing.
    tenant = _tenant_with_secret(two_org_api)
    headers = two_org_api.headers_for("CLIENT_ADMIN", tenant)
    assert two_org_api.client.get("/api/v1/salesforce/health", headers=headers).status_code == 200
    unreadable = two_org_api.client.get("/api/v1/salesforce/settings", headers=headers)
    assert unreadable.status_code == 500
    assert unreadable.json()["type"] == "urn:crmbridge:problem:secrets-unreadable"
    assert "CRMBRIDGE_SECRET_KEY_PREVIOUS" in unreadable.json()["detail"]


def _tenant_with_secret(api: ApiWorld) -> str:
    with api.session_factory() as session:
        return str(
            session.scalars(
                sa.select(SalesforceConnection.tenant_id).where(
                    SalesforceConnection.consumer_secret_sealed.is_not(None)
                )
            ).one()
        )
