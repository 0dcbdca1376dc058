"""The scheduler as a tenant sees it (R-O1), and pausing/resuming sync (R-O4).

| endpoint | role |
|---|---|
| ``GET /scheduler`` | every role of the tenant |
| ``POST /scheduler/pause``, ``POST /scheduler/resume`` | CLIENT_ADMIN, SUPER_ADMIN |
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from crmbridge.web.deps import Configurer, DbSession, Viewer
from crmbridge.worker import control
from crmbridge.worker.tasks import schedule_of

router = APIRouter(tags=["scheduler"])


class SchedulerOut(BaseModel):
    #: ``realtime``, ``hourly``, ``daily`` or ``manual`` (sync settings).
    frequency: str
    #: Local time of the daily run, and its time zone.
    daily_at: str
    time_zone: str
    #: The Auto-sync setting (Salesforce settings).
    auto_sync: bool
    connected: bool
    paused: bool
    paused_reason: str
    #: Whether the scheduler starts runs for this tenant (connected, Auto-sync, not paused).
    scheduled: bool
    #: When the next scheduled run is due (``null``: not scheduled or manual).
    next_run_at: datetime | None
    #: The engine holds the sync until then (Salesforce's rate limit, the API budget).
    held_until: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_run_id: str | None
    last_status: str | None
    last_error: str | None
    #: A worker holds the tenant's lease (a run or a drain is in progress).
    running: bool
    #: Pushed entries waiting to be applied.
    pending_push_entries: int


class PauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Why (shown with the pause, in the health and events).
    reason: str = Field(default="", max_length=500)


def _view(session: DbSession, tenant_id: str) -> SchedulerOut:
    schedule = schedule_of(session, tenant_id)
    return SchedulerOut(**control.scheduler_view(session, tenant_id=tenant_id, schedule=schedule))


@router.get("/scheduler", response_model=SchedulerOut)
def get_scheduler(context: Viewer, session: DbSession) -> SchedulerOut:
    """Frequency, whether the tenant is scheduled, the next and the last scheduled run."""
    return _view(session, context.tenant_id)


@router.post("/scheduler/pause", response_model=SchedulerOut)
def pause(body: PauseIn, context: Configurer, session: DbSession) -> SchedulerOut:
    """Pause every sync of the tenant (pushed changes are still received and kept)."""
    control.pause_sync(session, context.principal, tenant_id=context.tenant_id, reason=body.reason)
    return _view(session, context.tenant_id)


@router.post("/scheduler/resume", response_model=SchedulerOut)
def resume(context: Configurer, session: DbSession) -> SchedulerOut:
    """End a pause; 409 when the connection itself is not connected."""
    control.resume_sync(session, context.principal, tenant_id=context.tenant_id)
    return _view(session, context.tenant_id)
