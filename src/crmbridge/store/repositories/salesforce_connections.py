"""Queries on tenants' Salesforce connections and OAuth states."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store import push_models
from crmbridge.store.connection_models import (
    SEALED_COLUMNS,
    SalesforceConnection,
    SalesforceOAuthState,
)
from crmbridge.store.db import utcnow
from crmbridge.store.models import Base


def get_connection(session: Session, tenant_id: str) -> SalesforceConnection | None:
    return session.get(SalesforceConnection, tenant_id)


def get_or_add_connection(session: Session, tenant_id: str) -> SalesforceConnection:
    """The tenant's connection row, created empty (not connected) on first use."""
    connection = session.get(SalesforceConnection, tenant_id)
    if connection is not None:
        return connection
    now = utcnow()
    connection = SalesforceConnection(
        tenant_id=tenant_id,
        auto_sync=False,
        status="not_connected",
        status_reason="",
        sync_paused=False,
        sync_paused_reason="",
        org_name="",
        username="",
        user_display_name="",
        connected_by="",
        created_at=now,
        updated_at=now,
    )
    session.add(connection)
    session.flush()
    return connection


def lock_connection(session: Session, tenant_id: str) -> SalesforceConnection | None:
    """The connection row, locked for this transaction (token renewal).

    The UPDATE takes the row lock on PostgreSQL and the write lock on SQLite, so two
    processes renewing the same session queue up instead of both renewing.
    """
    session.execute(
        sa.update(SalesforceConnection)
        .where(SalesforceConnection.tenant_id == tenant_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return session.get(SalesforceConnection, tenant_id, populate_existing=True)


def tenant_holding_org(session: Session, org_id: str) -> str | None:
    """The tenant whose connection holds ``org_id`` (connected or awaiting re-authorization)."""
    return session.scalar(
        sa.select(SalesforceConnection.tenant_id).where(SalesforceConnection.held_org_id == org_id)
    )


def touch(connection: SalesforceConnection, session: Session) -> None:
    connection.updated_at = utcnow()
    session.flush()


# --- OAuth states ---------------------------------------------------------------------


def add_oauth_state(session: Session, state: SalesforceOAuthState) -> SalesforceOAuthState:
    session.add(state)
    session.flush()
    return state


def get_oauth_state_by_hash(session: Session, state_hash: str) -> SalesforceOAuthState | None:
    return session.scalar(
        sa.select(SalesforceOAuthState).where(SalesforceOAuthState.state_hash == state_hash)
    )


def get_oauth_state(
    session: Session, *, tenant_id: str, state_id: str
) -> SalesforceOAuthState | None:
    return session.scalar(
        sa.select(SalesforceOAuthState).where(
            SalesforceOAuthState.id == state_id, SalesforceOAuthState.tenant_id == tenant_id
        )
    )


def claim_oauth_state(session: Session, state_id: str, now: datetime) -> bool:
    """Mark a state used, once: the conditional UPDATE lets exactly one callback win."""
    result = session.execute(
        sa.update(SalesforceOAuthState)
        .where(SalesforceOAuthState.id == state_id, SalesforceOAuthState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_expired_oauth_states(session: Session, before: datetime) -> int:
    """Forget flows that ended (or expired) before ``before``."""
    result = session.execute(
        sa.delete(SalesforceOAuthState)
        .where(SalesforceOAuthState.expires_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- key rotation -----------------------------------------------------------------------


def sealed_values(session: Session) -> Iterator[tuple[Base, str, str]]:
    """Every stored sealed value: (row, column name, sealed text)."""
    for model, columns in (*SEALED_COLUMNS, *push_models.SEALED_COLUMNS):
        for row in session.scalars(sa.select(model)):
            for column in columns:
                value = getattr(row, column)
                if value:
                    yield row, column, str(value)
