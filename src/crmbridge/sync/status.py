"""Per-object status lights (R-A8, seed 002 "Status tab"): how far each mapped object
is synced, and whether it needs attention.

- **red**: the mapping is paused (a configuration or permission error), or records are
  on the dead-letter list;
- **amber**: records are waiting for a retry or a review, Salesforce writes are not
  confirmed yet, the object never synced, or its last inbound poll is older than the
  schedule allows;
- **green**: caught up.

"Synced up to" is the committed inbound watermark (or the last successful run for
objects that only go to Salesforce). The provider is registered with the connection
health (``GET /api/v1/salesforce/health``'s ``objects``) when this module is imported.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from crmbridge.connections.health import ObjectStatus, register_object_status_provider
from crmbridge.mappings.service import load_enabled_mappings
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_failures as failures_repo
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_state as state_repo
from crmbridge.sync.settings import Frequency, load_sync_settings

#: How stale an inbound poll may be, per frequency, before the light turns amber.
_STALE: dict[Frequency, timedelta] = {
    Frequency.REALTIME: timedelta(minutes=10),
    Frequency.HOURLY: timedelta(hours=2),
    Frequency.DAILY: timedelta(hours=26),
}


def object_statuses(session: Session, tenant_id: str) -> list[ObjectStatus]:
    """One light per enabled mapping (several mappings of one object: the worst wins)."""
    settings = load_sync_settings(session, tenant_id=tenant_id)
    streams = {s.mapping_id: s for s in state_repo.list_streams(session, tenant_id=tenant_id)}
    failures = failures_repo.count_open(session, tenant_id=tenant_id)
    now = utcnow()
    lights: dict[str, ObjectStatus] = {}
    for active in load_enabled_mappings(session, tenant_id=tenant_id):
        mapping = active.mapping
        stream = streams.get(active.id)
        counts = pairs_repo.count_pairs(session, tenant_id=tenant_id, mapping_id=active.id)
        dead = failures.get((active.id, "open"), 0)
        retrying = failures.get((active.id, "retrying"), 0)
        light: Literal["green", "amber", "red"] = "green"
        notes: list[str] = []
        if stream is not None and stream.paused:
            light = "red"
            notes.append(f"paused: {stream.paused_reason}")
        if dead:
            light = "red"
            notes.append(f"{dead} record(s) failed and wait on the dead-letter list")
        if retrying:
            notes.append(f"{retrying} record(s) will be retried")
        if counts["in_review"]:
            notes.append(f"{counts['in_review']} record(s) wait for a review")
        if counts["pending"]:
            notes.append(f"{counts['pending']} Salesforce write(s) not confirmed yet")
        synced_up_to = None
        if stream is not None:
            synced_up_to = stream.watermark_modstamp or stream.last_success_at
        if stream is None or stream.last_success_at is None:
            notes.append("not synced yet")
        elif mapping.direction.inbound and _stale(stream.last_run_at, settings.frequency, now):
            notes.append("the last poll of Salesforce is overdue")
        if light == "green" and notes:
            light = "amber"
        status = ObjectStatus(
            object=mapping.salesforce_object,
            light=light,
            synced_up_to=synced_up_to,
            detail="; ".join(notes) or f"{counts['pairs']} record(s) in sync",
        )
        lights[mapping.salesforce_object] = _worse(lights.get(mapping.salesforce_object), status)
    return list(lights.values())


def _stale(last: datetime | None, frequency: Frequency, now: datetime) -> bool:
    allowed = _STALE.get(frequency)
    return allowed is not None and (last is None or now - last > allowed)


_RANK = {"green": 0, "amber": 1, "red": 2}


def _worse(current: ObjectStatus | None, new: ObjectStatus) -> ObjectStatus:
    if current is None or _RANK[new.light] > _RANK[current.light]:
        return new
    return current


def status_view(
    session: Session, *, tenant_id: str, statuses: list[ObjectStatus]
) -> dict[str, Any]:
    """The API representation: the lights and the tenant's sync hold, if any."""
    hold = state_repo.peek_tenant_state(session, tenant_id=tenant_id)
    return {
        "objects": [
            {
                "object": s.object,
                "light": s.light,
                "synced_up_to": s.synced_up_to,
                "detail": s.detail,
            }
            for s in statuses
        ],
        "paused_until": hold.resume_at if hold is not None else None,
        "paused_reason": hold.resume_reason if hold is not None else "",
    }


register_object_status_provider(object_statuses)
