"""Pausing and resuming a tenant's sync (R-O4), and what the scheduler will do next.

A pause sets the connection's ``sync_paused`` flag, the one every sync path asks
(:func:`crmbridge.connections.sync_gate`): no scheduled run, no manual run, no push
draining while it is set. Pushed changes are still received and stored, so nothing
is lost; they are applied after the resume. A connection waiting for
re-authorization is paused by the connection itself (R-A5) and resumes when it is
re-authorized, not here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.connections import events
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import Conflict
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import inbox as inbox_repo
from crmbridge.store.repositories import leases as leases_repo
from crmbridge.store.repositories import salesforce_connections as connections
from crmbridge.store.repositories import schedules as repo
from crmbridge.worker.leases import tenant_lease_name
from crmbridge.worker.schedule import Schedule, next_run_at

#: Event kinds for the tenant's admins.
SYNC_PAUSED = "sync.paused"
SYNC_RESUMED = "sync.resumed"


def pause_sync(session: Session, principal: Principal, *, tenant_id: str, reason: str) -> None:
    """Pause every sync of the tenant until an admin resumes it (idempotent).

    Raises:
        Conflict: the tenant has no Salesforce connection to pause.
    """
    connection = connections.get_connection(session, tenant_id)
    if connection is None or connection.status not in ("connected", "needs_reauthorization"):
        raise Conflict("Salesforce is not connected: there is no sync to pause.")
    if connection.sync_paused:
        return
    why = f"Paused by {principal.label}" + (f": {reason.strip()}" if reason.strip() else ".")
    connection.sync_paused = True
    connection.sync_paused_reason = why[:2000]
    connections.touch(connection, session)
    events.record_tenant_event(
        session,
        tenant_id=tenant_id,
        kind=SYNC_PAUSED,
        severity="warning",
        title="Sync paused",
        detail=connection.sync_paused_reason + " Pushed changes are kept and applied on resume.",
        action="Resume the sync when ready (POST /api/v1/scheduler/resume).",
    )
    record_audit(
        session,
        principal,
        action="sync.pause",
        target_type="salesforce_connection",
        target_id=tenant_id,
        tenant_id=tenant_id,
        after={"sync_paused": True, "reason": connection.sync_paused_reason},
    )


def resume_sync(session: Session, principal: Principal, *, tenant_id: str) -> None:
    """End an admin's pause (idempotent).

    Raises:
        Conflict: the connection is not connected (re-authorize it instead, R-A5).
    """
    connection = connections.get_connection(session, tenant_id)
    if connection is None or connection.status != "connected":
        status = connection.status if connection else "not_connected"
        raise Conflict(
            f"The Salesforce connection is {status.replace('_', ' ')}: connect or re-authorize "
            "it; sync resumes by itself once it is connected."
        )
    if not connection.sync_paused:
        return
    before = connection.sync_paused_reason
    connection.sync_paused = False
    connection.sync_paused_reason = ""
    connections.touch(connection, session)
    events.record_tenant_event(
        session,
        tenant_id=tenant_id,
        kind=SYNC_RESUMED,
        severity="info",
        title="Sync resumed",
        detail=f"Resumed by {principal.label}.",
    )
    record_audit(
        session,
        principal,
        action="sync.resume",
        target_type="salesforce_connection",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before={"sync_paused": True, "reason": before},
        after={"sync_paused": False},
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def scheduler_view(
    session: Session, *, tenant_id: str, schedule: Schedule, now: datetime | None = None
) -> dict[str, Any]:
    """What the scheduler knows and will do for a tenant."""
    now = now or utcnow()
    connection = connections.get_connection(session, tenant_id)
    row = repo.get_schedule(session, tenant_id)
    lease = leases_repo.get_lease(session, tenant_lease_name(tenant_id))
    connected = connection is not None and connection.status == "connected"
    paused = bool(connection and connection.sync_paused)
    auto = bool(connection and connection.auto_sync)
    scheduled = connected and auto and not paused
    due = next_run_at(
        schedule,
        last_started_at=row.last_started_at if row else None,
        first_seen_at=row.first_seen_at if row else now,
    )
    counts = inbox_repo.count_by_status(session, tenant_id=tenant_id)
    held = repo.sync_held_until(session, tenant_id)
    if held is not None and held <= now:
        held = None
    return {
        "frequency": schedule.frequency.value,
        "daily_at": schedule.daily_at.isoformat(timespec="minutes"),
        "time_zone": schedule.timezone,
        "auto_sync": auto,
        "connected": connected,
        "paused": paused,
        "paused_reason": connection.sync_paused_reason if connection and paused else "",
        "scheduled": scheduled,
        "next_run_at": _iso(max(due, now, held or now)) if scheduled and due is not None else None,
        "held_until": _iso(held),
        "last_started_at": _iso(row.last_started_at) if row else None,
        "last_finished_at": _iso(row.last_finished_at) if row else None,
        "last_run_id": row.last_run_id if row else None,
        "last_status": (row.last_status or None) if row else None,
        "last_error": (row.last_error or None) if row else None,
        "running": lease is not None and lease.expires_at > now,
        "pending_push_entries": counts.get("pending", 0),
    }
