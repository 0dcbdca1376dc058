"""Tables of push inbound and the worker (R-S2, R-O1, R-O4).

- ``inbound_endpoints``: per tenant, the secret in the Outbound Message URL (hashed)
  and the webhook signing secret (sealed).
- ``inbox_entries``: every pushed record change, stored before it is acknowledged and
  processed in arrival order (``id``); de-duplicated per tenant, source and key.
- ``worker_leases``: named leases with an expiry, taken with a conditional UPDATE, so
  one tenant runs one sync at a time however many workers there are.
- ``sync_schedules``: per tenant, when the scheduler last started a scheduled run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crmbridge.store.models import Base, BigIntKey

INBOX_SOURCES = ("outbound_message", "webhook")
#: ``pending`` (waiting or to be retried), ``processed``, ``failed`` (held with the
#: reason until an admin retries it), ``skipped`` (nothing maps it).
INBOX_STATUSES = ("pending", "processed", "failed", "skipped")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _tenant_fk() -> Any:
    return sa.ForeignKey("tenants.id", ondelete="CASCADE")


class InboundEndpoint(Base):
    """A tenant's push receiver secrets."""

    __tablename__ = "inbound_endpoints"

    tenant_id: Mapped[str] = mapped_column(_tenant_fk(), primary_key=True)
    #: SHA-256 hex of the secret in the Outbound Message URL; the secret is not stored.
    outbound_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: The webhook's HMAC key, sealed (the receiver needs it to check signatures).
    webhook_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    rotated_at: Mapped[datetime]
    rotated_by: Mapped[str] = mapped_column(sa.String(254), default="")


class InboxEntry(Base):
    """One pushed record change, kept until processed (and for a while after)."""

    __tablename__ = "inbox_entries"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "source", "dedupe_key"),
        sa.CheckConstraint(_in("source", INBOX_SOURCES), name="source"),
        sa.CheckConstraint(_in("status", INBOX_STATUSES), name="status"),
        sa.Index(None, "tenant_id", "status", "id"),
        sa.Index(None, "received_at"),
    )

    #: Arrival order: entries are processed by ascending id.
    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(_tenant_fk())
    source: Mapped[str] = mapped_column(sa.String(20))
    #: The Outbound Message notification id, or the webhook event key.
    dedupe_key: Mapped[str] = mapped_column(sa.String(255))
    sobject: Mapped[str] = mapped_column(sa.String(80))
    salesforce_id: Mapped[str] = mapped_column(sa.String(18))
    #: The fields sent, as sent (Outbound Messages: text); ``{}`` when only the id came.
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The Outbound Message's action id (which rule sent it); empty for webhooks.
    action_id: Mapped[str] = mapped_column(sa.String(18), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: Why it failed or was skipped, for the admin.
    error_category: Mapped[str] = mapped_column(sa.String(30), default="")
    error_message: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime]
    #: A pending entry that failed transiently waits until then.
    next_attempt_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    #: The sync run that applied it.
    run_id: Mapped[str | None] = mapped_column(sa.String(36))


class WorkerLease(Base):
    """A named lease: held by ``holder`` until ``expires_at`` unless renewed."""

    __tablename__ = "worker_leases"

    #: e.g. ``tenant:<id>`` (one sync per tenant) or ``maintenance:purge``.
    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    #: The worker holding it (host, process id and a random part).
    holder: Mapped[str] = mapped_column(sa.String(120))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SyncSchedule(Base):
    """What the scheduler remembers per tenant."""

    __tablename__ = "sync_schedules"

    tenant_id: Mapped[str] = mapped_column(_tenant_fk(), primary_key=True)
    #: When the scheduler first saw the tenant (anchors a daily schedule's first run).
    first_seen_at: Mapped[datetime]
    last_started_at: Mapped[datetime | None]
    last_run_id: Mapped[str | None] = mapped_column(sa.String(36))
    last_finished_at: Mapped[datetime | None]
    #: The run's final status, or ``error`` when it could not run.
    last_status: Mapped[str] = mapped_column(sa.String(20), default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime]


#: Columns holding sealed secrets, for ``crmbridge secrets rotate``.
SEALED_COLUMNS: tuple[tuple[type[Base], tuple[str, ...]], ...] = (
    (InboundEndpoint, ("webhook_secret_sealed",)),
)
