"""A tenant's sync settings (R-O1, seed 004 "General Settings" and "Sync Settings").

Stored as one JSON document per tenant (``sync_settings``); absent keys take the
defaults below, so adding a setting never needs a migration. The engine turns them into
the pure core's knobs (:meth:`SyncSettings.watermark_settings`,
:meth:`SyncSettings.outbound_settings`, :meth:`SyncSettings.retry_strategy`,
:meth:`SyncSettings.api_budget`).
"""

from __future__ import annotations

import enum
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from crmbridge.domain.sync import (
    ApiBudget,
    ConflictPolicy,
    Direction,
    OutboundSettings,
    RetryStrategy,
    WatermarkSettings,
)
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import Conflict
from crmbridge.store.repositories import sync_runs as runs_repo
from crmbridge.store.repositories import sync_state as repo


class Frequency(enum.StrEnum):
    """How often scheduled runs happen (R-O1)."""

    #: Poll every minute, plus push notifications as they arrive.
    REALTIME = "realtime"
    HOURLY = "hourly"
    #: Once a day at ``daily_at`` in the tenant's time zone.
    DAILY = "daily"
    #: Only when someone starts a run.
    MANUAL = "manual"


class BulkWindow(BaseModel):
    """Hours (tenant time) in which Bulk API jobs may run (seed 004 "bulk sync window")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether ``moment`` falls in the window (a window may wrap past midnight)."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class SyncSettings(BaseModel):
    """Every sync setting of one tenant, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Bounds every mapping's direction (bi-directional, to Salesforce, from Salesforce).
    direction: Direction = Direction.BOTH
    frequency: Frequency = Frequency.REALTIME
    #: Time of day of the daily run (tenant time zone).
    daily_at: time = time(2, 0)
    #: The tenant's conflict policy; a mapping's own policy overrides it.
    conflict_policy: ConflictPolicy = ConflictPolicy.MOST_RECENT
    #: More records than this for one object in one step go through Bulk API 2.0.
    bulk_threshold: int = Field(default=2000, ge=0)
    #: When set, Bulk API jobs run only inside this window.
    bulk_window: BulkWindow | None = None
    #: Share of the org's daily API limit scheduled work may use.
    api_budget_share: float = Field(default=0.8, gt=0, le=1)
    #: Attempts before a transiently failing record is dead-lettered.
    max_attempts: int = Field(default=5, ge=1, le=50)
    #: Days sync records (the audit trail) are kept.
    audit_retention_days: int = Field(default=90, ge=1, le=3650)
    #: Inbound look-back window, seconds.
    lookback_seconds: int = Field(default=300, ge=0, le=86_400)
    #: How far the watermark stays behind a run's start, seconds.
    safety_margin_seconds: int = Field(default=60, ge=0, le=86_400)
    #: Formula fields do not bump SystemModstamp: re-read them in full this often (hours).
    formula_refresh_hours: int = Field(default=24, ge=1, le=24 * 30)
    #: The tenant's IANA time zone (dates of datetimes, daily runs, bulk window).
    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value

    @model_validator(mode="after")
    def _sane(self) -> SyncSettings:
        if self.bulk_window is not None and self.bulk_window.start == self.bulk_window.end:
            raise ValueError("the bulk window's start and end must differ")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON document stored and returned by the API."""
        return self.model_dump(mode="json")

    def watermark_settings(self) -> WatermarkSettings:
        """Look-back and safety margin for the inbound watermark."""
        return WatermarkSettings(
            lookback=timedelta(seconds=self.lookback_seconds),
            safety_margin=timedelta(seconds=self.safety_margin_seconds),
        )

    def outbound_settings(self, *, now: datetime) -> OutboundSettings:
        """Batching knobs; outside the bulk window nothing goes through Bulk API 2.0."""
        threshold = self.bulk_threshold
        if self.bulk_window is not None:
            local = now.astimezone(ZoneInfo(self.time_zone)).time()
            if not self.bulk_window.contains(local):
                threshold = 10**9
        return OutboundSettings(bulk_threshold=threshold)

    def retry_strategy(self) -> RetryStrategy:
        """Backoff with jitter, dead-lettering after ``max_attempts``."""
        return RetryStrategy(max_attempts=self.max_attempts)

    def api_budget(self) -> ApiBudget:
        """The share of the daily limit routine work may use."""
        return ApiBudget(routine_share=self.api_budget_share)

    def formula_refresh_interval(self) -> timedelta:
        """How often formula fields are re-read in full."""
        return timedelta(hours=self.formula_refresh_hours)


def load_sync_settings(session: Session, *, tenant_id: str) -> SyncSettings:
    """The tenant's settings (defaults for what was never set)."""
    stored = repo.get_settings(session, tenant_id=tenant_id)
    return SyncSettings.model_validate(stored or {})


def save_sync_settings(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    changes: dict[str, Any],
) -> SyncSettings:
    """Apply a partial change, validate the result, store it and audit it (R-P5).

    Raises:
        pydantic.ValidationError: a value is invalid (nothing is stored).
        Conflict: a test run is in progress (R-O3).
    """
    running = [
        r
        for r in runs_repo.active_runs(session, tenant_id=tenant_id)
        if r.kind == "test_run" and r.status == "running"
    ]
    if running:
        # R-O3: the settings a test run depends on stay as they are while it runs.
        raise Conflict("A test run is in progress; change the sync settings when it ends.")
    before = load_sync_settings(session, tenant_id=tenant_id)
    after = SyncSettings.model_validate({**before.to_dict(), **changes})
    repo.put_settings(
        session, tenant_id=tenant_id, settings=after.to_dict(), updated_by=principal.label
    )
    if after != before:
        record_audit(
            session,
            principal,
            action="sync_settings.update",
            target_type="sync_settings",
            target_id=tenant_id,
            tenant_id=tenant_id,
            before=before.to_dict(),
            after=after.to_dict(),
        )
    return after
