"""Queries on the sync engine's per-tenant and per-mapping state: settings, the outbound
cursor and pauses (``sync_tenant_state``), and inbound streams (``sync_streams``).

Nothing here commits: the caller's transaction holds the state with the work it covers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.db import utcnow
from crmbridge.store.sync_models import SyncSettingsRow, SyncStream, SyncTenantState

# --- settings -------------------------------------------------------------------------


def get_settings(session: Session, *, tenant_id: str) -> dict[str, Any] | None:
    """The stored settings document, or ``None`` when the tenant kept the defaults."""
    row = session.get(SyncSettingsRow, tenant_id)
    return dict(row.settings) if row is not None else None


def put_settings(
    session: Session, *, tenant_id: str, settings: dict[str, Any], updated_by: str
) -> None:
    """Store the settings document."""
    row = session.get(SyncSettingsRow, tenant_id)
    if row is None:
        row = SyncSettingsRow(tenant_id=tenant_id, settings={}, updated_at=utcnow())
        session.add(row)
    row.settings = settings
    row.updated_at = utcnow()
    row.updated_by = updated_by[:254]
    session.flush()


# --- tenant state ---------------------------------------------------------------------


def tenant_state(session: Session, *, tenant_id: str, lock: bool = False) -> SyncTenantState:
    """The tenant's row (created on first use); ``lock`` holds it until commit."""
    query = sa.select(SyncTenantState).where(SyncTenantState.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        row = SyncTenantState(
            tenant_id=tenant_id, outbound_seq=0, resume_reason="", updated_at=utcnow()
        )
        session.add(row)
        session.flush()
        if lock:
            row = session.scalar(query) or row
    return row


def peek_tenant_state(session: Session, *, tenant_id: str) -> SyncTenantState | None:
    """The tenant's row, if it exists (never creates one)."""
    return session.get(SyncTenantState, tenant_id)


def set_outbound_seq(session: Session, *, tenant_id: str, seq: int) -> None:
    """Move the outbound cursor forward (never back)."""
    row = tenant_state(session, tenant_id=tenant_id)
    if seq > row.outbound_seq:
        row.outbound_seq = seq
        row.updated_at = utcnow()
        session.flush()


def set_resume(
    session: Session, *, tenant_id: str, resume_at: datetime | None, reason: str = ""
) -> None:
    """Hold the tenant's sync until ``resume_at`` (``None`` lifts the hold)."""
    row = tenant_state(session, tenant_id=tenant_id)
    row.resume_at = resume_at
    row.resume_reason = reason if resume_at is not None else ""
    row.updated_at = utcnow()
    session.flush()


# --- streams --------------------------------------------------------------------------


def get_stream(session: Session, *, tenant_id: str, mapping_id: str) -> SyncStream | None:
    """The inbound stream of one mapping, if it ever ran."""
    return session.get(SyncStream, (tenant_id, mapping_id))


def stream_for_update(
    session: Session, *, tenant_id: str, mapping_id: str, salesforce_object: str
) -> SyncStream:
    """The stream row of one mapping, created when missing."""
    row = session.get(SyncStream, (tenant_id, mapping_id))
    if row is None:
        row = SyncStream(
            tenant_id=tenant_id,
            mapping_id=mapping_id,
            salesforce_object=salesforce_object,
            paused=False,
            paused_reason="",
            last_error="",
            updated_at=utcnow(),
        )
        session.add(row)
        session.flush()
    return row


def list_streams(session: Session, *, tenant_id: str) -> list[SyncStream]:
    """Every stream of the tenant."""
    return list(
        session.scalars(
            sa.select(SyncStream)
            .where(SyncStream.tenant_id == tenant_id)
            .order_by(SyncStream.salesforce_object, SyncStream.mapping_id)
        )
    )
