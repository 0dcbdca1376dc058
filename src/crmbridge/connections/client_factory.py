"""The one way every part of crmbridge gets a Salesforce client for a tenant.

::

    with open_salesforce_client(session_factory, settings, tenant_id) as client:
        for row in client.query(...):
            ...

The client trusts the configured CA, uses the stored session, and renews it when
Salesforce says it expired (a refresh token, or a new password login for the password
flow), replaying the call once. Each renewal is written in its own short transaction
(the connection row is locked meanwhile, so two workers never renew at once, which
would break refresh-token rotation), so a sync run that rolls back never loses a rotated
refresh token. A renewal Salesforce refuses marks the connection "needs
re-authorization", pauses the tenant's sync and records an event for the admins, then
raises :class:`~crmbridge.domain.errors.ReauthorizationRequired`. When the block ends,
API usage (last successful call, the org's used/limit from ``Sforce-Limit-Info``) is
written back, also in its own transaction.

Callers pass the session *factory*, not their session: on SQLite a renewal must not
wait for the caller's own uncommitted writes, so do not hold a write transaction open
across Salesforce calls (fetch, then write).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import sqlalchemy as sa
import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections.errors import NotConnected
from crmbridge.connections.lifecycle import mark_needs_reauthorization, reauthorization_advice
from crmbridge.connections.org_access import salesforce_auth, salesforce_http
from crmbridge.connections.settings import resolve_settings
from crmbridge.crypto import SecretBox, secret_box_for
from crmbridge.domain.errors import ReauthorizationRequired
from crmbridge.salesforce.auth import TokenSet
from crmbridge.salesforce.client import ApiUsage, RetryConfig, SalesforceClient
from crmbridge.salesforce.endpoints import DEFAULT_API_VERSION
from crmbridge.store.connection_models import SalesforceConnection
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import salesforce_connections as repo

log = structlog.get_logger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: A session another worker stored this recently is used instead of renewing again
#: (sessions live at least 15 minutes: Salesforce Help, "Set Session Timeout").
ADOPT_RENEWED_SESSION_WITHIN = dt.timedelta(minutes=5)
#: How long a renewal waits for another worker's renewal of the same connection (PostgreSQL).
RENEWAL_LOCK_TIMEOUT_MS = 15_000


def stored_tokens(connection: SalesforceConnection, box: SecretBox) -> TokenSet | None:
    """The session stored for a connection, if it has one."""
    if not connection.access_token_sealed or not connection.instance_url:
        return None
    refresh = connection.refresh_token_sealed
    return TokenSet(
        access_token=box.open(connection.access_token_sealed),
        refresh_token=box.open(refresh) if refresh else None,
        instance_url=connection.instance_url,
        identity_url=connection.identity_url or "",
        issued_at=connection.token_issued_at,
    )


def login_again(connection: SalesforceConnection, settings: Settings, box: SecretBox) -> TokenSet:
    """A new session for a connection: refresh token (OAuth) or password login.

    Raises:
        ReauthorizationRequired: the stored credentials no longer work.
        CrmError: another failure (network, configuration).
    """
    effective = resolve_settings(connection, settings, box)
    login_url = connection.login_url or effective.login_url
    auth = salesforce_auth(
        settings,
        login_url=login_url,
        consumer_key=effective.consumer_key,
        consumer_secret=effective.consumer_secret,
    )
    if connection.auth_flow == "password":
        if not connection.password_sealed:
            raise ReauthorizationRequired("No password is stored for this connection.")
        password = box.open(connection.password_sealed)
        token = (
            box.open(connection.security_token_sealed or "")
            if (connection.security_token_sealed)
            else ""
        )
        if effective.has_connected_app:
            return auth.password_grant(
                username=connection.username, password=password, security_token=token
            )
        return auth.soap_login(
            username=connection.username,
            password=password,
            security_token=token,
            api_version=connection.api_version or DEFAULT_API_VERSION,
        )
    if not connection.refresh_token_sealed:
        raise ReauthorizationRequired("No refresh token is stored for this connection.")
    return auth.refresh(box.open(connection.refresh_token_sealed))


def _store_tokens(
    connection: SalesforceConnection,
    tokens: TokenSet,
    box: SecretBox,
    previous: TokenSet | None = None,
) -> None:
    connection.access_token_sealed = box.seal(tokens.access_token)
    unchanged = previous is not None and previous.refresh_token == tokens.refresh_token
    if tokens.refresh_token and not unchanged:
        connection.refresh_token_sealed = box.seal(tokens.refresh_token)
    connection.instance_url = tokens.instance_url
    if tokens.identity_url:
        connection.identity_url = tokens.identity_url
    connection.token_issued_at = utcnow()


def _stored_recently(connection: SalesforceConnection) -> bool:
    stored_at = connection.token_issued_at
    return stored_at is not None and utcnow() - stored_at < ADOPT_RENEWED_SESSION_WITHIN


def _limit_lock_wait(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"SET LOCAL lock_timeout = {int(RENEWAL_LOCK_TIMEOUT_MS)}"))


class _ConnectionRenewer:
    """The ``renew`` callback of a tenant's client (see the module docstring)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        box: SecretBox,
        tenant_id: str,
    ) -> None:
        self._factory = session_factory
        self._settings = settings
        self._box = box
        self._tenant_id = tenant_id
        #: Sessions renewed while the row could not be locked, written at the end.
        self.unsaved: TokenSet | None = None

    def __call__(self, stale: TokenSet) -> TokenSet:
        try:
            return self._renew_locked(stale)
        except ReauthorizationRequired as exc:
            with self._factory.begin() as session:
                mark_needs_reauthorization(session, tenant_id=self._tenant_id, error=exc)
            raise

    def _renew_locked(self, stale: TokenSet) -> TokenSet:
        try:
            with self._factory.begin() as session:
                _limit_lock_wait(session)
                connection = repo.lock_connection(session, self._tenant_id)
                if connection is None or connection.status != "connected":
                    raise ReauthorizationRequired(
                        "The Salesforce connection was disconnected or needs re-authorization."
                    )
                current = stored_tokens(connection, self._box)
                if (
                    current is not None
                    and current.access_token != stale.access_token
                    and _stored_recently(connection)
                ):
                    # Another worker renewed while this one waited for the lock.
                    return current
                # Older sessions may have expired too: renew with the stored (newest)
                # refresh token, so refresh-token rotation never sees an old one.
                fresh = login_again(connection, self._settings, self._box)
                _store_tokens(connection, fresh, self._box, previous=current)
                repo.touch(connection, session)
                log.info("salesforce.session_stored", tenant_id=self._tenant_id)
                return fresh
        except OperationalError:
            # The row stayed locked (a caller's own open write transaction?): renew from
            # what this process knows and store it when the block ends.
            log.warning("salesforce.renewal_unlocked", tenant_id=self._tenant_id)
            with self._factory() as session:
                connection = repo.get_connection(session, self._tenant_id)
                if connection is None:
                    raise NotConnected() from None
                fresh = login_again(connection, self._settings, self._box)
            self.unsaved = fresh
            return fresh


def _save_usage(
    session_factory: sessionmaker[Session],
    tenant_id: str,
    usage: ApiUsage,
    unsaved: TokenSet | None,
    box: SecretBox,
) -> None:
    if usage.last_success_at is None and usage.used is None and unsaved is None:
        return
    with session_factory.begin() as session:
        connection = repo.get_connection(session, tenant_id)
        if connection is None:
            return
        if usage.last_success_at is not None and (
            connection.last_success_at is None or usage.last_success_at > connection.last_success_at
        ):
            connection.last_success_at = usage.last_success_at
        if usage.used is not None:
            connection.api_usage_used = usage.used
            connection.api_usage_limit = usage.limit
            connection.api_usage_at = usage.last_success_at or utcnow()
        if unsaved is not None and connection.status == "connected":
            _store_tokens(connection, unsaved, box)
        session.flush()


@contextmanager
def open_salesforce_client(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    *,
    http: httpx.Client | None = None,
    retry: RetryConfig | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Iterator[SalesforceClient]:
    """A :class:`SalesforceClient` for the tenant's connection (see the module docstring).

    Args:
        session_factory: opens the short transactions for renewals and usage.
        settings: the process settings (CA bundle, keys, operator defaults).
        tenant_id: whose connection.
        http: an HTTP client to use (default: a new one trusting the configured CA).
        retry: backoff settings (default: the client's).
        sleep: the sleep function between retries (tests pass a fake one).
        clock: the time source of usage accounting.

    Raises:
        NotConnected: the tenant never connected, or disconnected.
        ReauthorizationRequired: the connection waits for an admin to re-authorize it.
    """
    box = secret_box_for(settings)
    with session_factory() as session:
        connection = repo.get_connection(session, tenant_id)
        if connection is None or connection.status in {"not_connected", "disconnected"}:
            raise NotConnected()
        if connection.status == "needs_reauthorization":
            raise ReauthorizationRequired(
                f"{connection.status_reason} {reauthorization_advice(connection.auth_flow)}"
            )
        tokens = stored_tokens(connection, box)
        api_version = connection.api_version or DEFAULT_API_VERSION
    if tokens is None:
        raise NotConnected("The Salesforce connection has no session; connect again.")
    renewer = _ConnectionRenewer(session_factory, settings, box, tenant_id)
    own_http = http is None
    client_http = http or salesforce_http(settings)
    client = SalesforceClient(
        tokens=tokens,
        http=client_http,
        api_version=api_version,
        renew=renewer,
        retry=retry,
        clock=clock or _utcnow,
        sleep=sleep or time.sleep,
    )
    try:
        yield client
    except ReauthorizationRequired as exc:
        with session_factory.begin() as session:
            mark_needs_reauthorization(session, tenant_id=tenant_id, error=exc)
        raise
    finally:
        try:
            _save_usage(session_factory, tenant_id, client.usage, renewer.unsaved, box)
        finally:
            if own_http:
                client_http.close()
