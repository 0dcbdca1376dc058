"""Tables of the sync engine (R-S1..R-S10, R-O1, R-O2, R-O5).

- ``sync_pairs``: one row per linked record pair (platform record ↔ Salesforce record)
  of one object mapping, holding the pair's ``SyncState`` (the merge base) as JSON.
- ``sync_streams``: per tenant and mapping, the inbound ``SystemModstamp`` watermark,
  the formula refresh time, and whether the mapping is paused (a configuration error).
- ``sync_tenant_state``: per tenant, the outbound change-log cursor and a pause
  until a time (API budget, ``REQUEST_LIMIT_EXCEEDED``).
- ``sync_runs``: one row per run, with its request, status, counts and progress.
- ``sync_records``: the audit trail, one row per record-level operation (seed 000
  "CRM Sync Record").
- ``sync_failures``: records that failed: retried later (``retrying``), dead-lettered
  (``open``), or settled (``resolved``, ``discarded``).
- ``sync_reviews``: conflicts held for manual review, with both values.
- ``sync_settings``: per tenant sync settings (R-O1) as one JSON document.

Every state row is written in the same transaction as the data it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crmbridge.store.db import JSONType
from crmbridge.store.models import Base, BigIntKey, insert_sentinel

RUN_STATUSES = ("queued", "running", "succeeded", "partially_failed", "failed", "paused")
FAILURE_STATUSES = ("retrying", "open", "resolved", "discarded")
REVIEW_STATUSES = ("open", "resolved")
DIRECTIONS = ("inbound", "outbound")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _tenant_fk() -> Any:
    return sa.ForeignKey("tenants.id", ondelete="CASCADE")


class SyncPair(Base):
    """A platform record and its Salesforce counterpart under one mapping."""

    __tablename__ = "sync_pairs"
    __table_args__ = (
        # NULLs are distinct in unique indexes on both databases: a pair without a
        # Salesforce id yet (create pending) does not collide with another.
        sa.Index(None, "tenant_id", "mapping_id", "platform_id", unique=True),
        sa.Index(None, "tenant_id", "mapping_id", "salesforce_id", unique=True),
        # Pairs waiting for a Salesforce write, a page at a time in id order.
        sa.Index(None, "tenant_id", "mapping_id", "needs_outbound", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(_tenant_fk())
    mapping_id: Mapped[str] = mapped_column(sa.String(36))
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    platform_entity: Mapped[str] = mapped_column(sa.String(50))
    platform_id: Mapped[str | None] = mapped_column(sa.String(36))
    salesforce_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: The pair's ``SyncState`` (base values, pending, held, linked, detached …).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: A Salesforce write (or link stamp) is planned but not confirmed: outbound re-plans it.
    needs_outbound: Mapped[bool] = mapped_column(default=False)
    #: Something is held for manual review.
    in_review: Mapped[bool] = mapped_column(default=False)
    last_inbound_at: Mapped[datetime | None]
    last_outbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    insert_sentinel: Mapped[int | None] = insert_sentinel()


class SyncStream(Base):
    """How far one mapping is synced inbound, and whether it is paused."""

    __tablename__ = "sync_streams"

    tenant_id: Mapped[str] = mapped_column(_tenant_fk(), primary_key=True)
    mapping_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    #: The inbound watermark (``SystemModstamp`` and the last Id at that instant).
    watermark_modstamp: Mapped[datetime | None]
    watermark_last_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: When formula fields were last re-read in full.
    formula_refreshed_at: Mapped[datetime | None]
    #: A configuration or permission error pauses the mapping until an admin acts.
    paused: Mapped[bool] = mapped_column(default=False)
    paused_reason: Mapped[str] = mapped_column(sa.Text, default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SyncTenantState(Base):
    """Per tenant: the outbound change-log cursor and a pause until a time."""

    __tablename__ = "sync_tenant_state"

    tenant_id: Mapped[str] = mapped_column(_tenant_fk(), primary_key=True)
    #: The last change-log ``seq`` handled by outbound sync.
    outbound_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Sync waits until then (rate limit, API budget); ``None``: free to run.
    resume_at: Mapped[datetime | None]
    resume_reason: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime]


class SyncRun(Base):
    """One sync run: what was asked, how it went."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        sa.CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        sa.Index(None, "tenant_id", "created_at", "id"),
        sa.Index(None, "tenant_id", "status"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(_tenant_fk())
    #: ``scheduled``, ``now``, ``full``, ``range``, ``specific``, ``test_run``.
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    #: ``schedule``, ``api``, ``cli``, ``push`` …
    trigger: Mapped[str] = mapped_column(sa.String(20), default="api")
    #: Audit label of who asked (e-mail, key name, ``cli``, ``scheduler``).
    requested_by: Mapped[str] = mapped_column(sa.String(254), default="")
    #: The request: objects, direction, date range, record ids.
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Mapping id → version used.
    mapping_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Counts per object and direction, and progress (done / total, rate, ETA).
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Salesforce API calls the run made.
    api_calls: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    #: For a paused run: when work may resume.
    resume_at: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    #: Updated while the run works; a running run without a recent heartbeat died.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SyncRecord(Base):
    """One record-level sync operation (the audit trail, R-S9)."""

    __tablename__ = "sync_records"
    __table_args__ = (
        sa.CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        sa.Index(None, "tenant_id", "created_at", "id"),
        sa.Index(None, "tenant_id", "platform_id"),
        sa.Index(None, "tenant_id", "salesforce_id"),
        sa.Index(None, "tenant_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(_tenant_fk())
    run_id: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime]
    direction: Mapped[str] = mapped_column(sa.String(10))
    mapping_id: Mapped[str] = mapped_column(sa.String(36), default="")
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    platform_entity: Mapped[str] = mapped_column(sa.String(50))
    platform_id: Mapped[str | None] = mapped_column(sa.String(36))
    salesforce_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: ``create``, ``update``, ``delete``, ``archive``, ``link``, ``detach``, ``review`` …
    operation: Mapped[str] = mapped_column(sa.String(20))
    #: ``succeeded``, ``failed``, ``retrying``, ``held``, ``skipped``.
    outcome: Mapped[str] = mapped_column(sa.String(20))
    #: ``[{"field", "old", "new"}]``, canonical field names.
    changes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    #: ``poll``, ``push``, ``outbound``, ``retry``, ``review``.
    source: Mapped[str] = mapped_column(sa.String(20), default="")
    error_category: Mapped[str] = mapped_column(sa.String(30), default="")
    error_code: Mapped[str] = mapped_column(sa.String(100), default="")
    error_message: Mapped[str] = mapped_column(sa.Text, default="")


class SyncFailure(Base):
    """A record that failed to sync: waiting for a retry or on the dead-letter list."""

    __tablename__ = "sync_failures"
    __table_args__ = (
        sa.CheckConstraint(_in("status", FAILURE_STATUSES), name="status"),
        sa.CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        sa.Index(None, "tenant_id", "status", "next_retry_at"),
        sa.Index(None, "tenant_id", "mapping_id", "direction", "record_key"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(_tenant_fk())
    mapping_id: Mapped[str] = mapped_column(sa.String(36))
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    platform_entity: Mapped[str] = mapped_column(sa.String(50))
    direction: Mapped[str] = mapped_column(sa.String(10))
    #: The id that finds the record again: platform id (outbound), Salesforce id (inbound).
    record_key: Mapped[str] = mapped_column(sa.String(36))
    platform_id: Mapped[str | None] = mapped_column(sa.String(36))
    salesforce_id: Mapped[str | None] = mapped_column(sa.String(18))
    operation: Mapped[str] = mapped_column(sa.String(20), default="")
    #: The values that were sent (an admin may edit them before a retry).
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Values an admin set to use on the next retry.
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error_category: Mapped[str] = mapped_column(sa.String(30), default="")
    error_code: Mapped[str] = mapped_column(sa.String(100), default="")
    error_message: Mapped[str] = mapped_column(sa.Text, default="")
    error_fields: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    advice: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(20), default="retrying")
    next_retry_at: Mapped[datetime | None]
    run_id: Mapped[str | None] = mapped_column(sa.String(36))
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str] = mapped_column(sa.String(254), default="")


class SyncReview(Base):
    """A conflict held for an administrator: both values per field, or a delete."""

    __tablename__ = "sync_reviews"
    __table_args__ = (
        sa.CheckConstraint(_in("status", REVIEW_STATUSES), name="status"),
        sa.Index(None, "tenant_id", "status", "created_at"),
        sa.Index(None, "tenant_id", "pair_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(_tenant_fk())
    pair_id: Mapped[int] = mapped_column(sa.BigInteger)
    mapping_id: Mapped[str] = mapped_column(sa.String(36))
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    platform_entity: Mapped[str] = mapped_column(sa.String(50))
    platform_id: Mapped[str | None] = mapped_column(sa.String(36))
    salesforce_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: ``[{"field", "base", "base_known", "platform", "salesforce"}]``.
    conflicts: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    #: ``{"deleted_side", "edited_fields"}`` for a delete-versus-edit conflict.
    delete_conflict: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    #: The admin's picks: field → ``platform`` / ``salesforce`` (``_delete`` for a delete).
    decisions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Picks waiting for the next run to apply them.
    decisions_pending: Mapped[bool] = mapped_column(default=False)
    resolved_by: Mapped[str] = mapped_column(sa.String(254), default="")
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SyncSettingsRow(Base):
    """A tenant's sync settings (R-O1) as one JSON document."""

    __tablename__ = "sync_settings"

    tenant_id: Mapped[str] = mapped_column(_tenant_fk(), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")
