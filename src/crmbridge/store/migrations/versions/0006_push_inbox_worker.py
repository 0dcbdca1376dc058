"""Push inbound and the worker: receiver secrets, the inbox, leases and schedules
(R-S2, R-O1, R-O4).

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmbridge.store.db import JSONType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "inbound_endpoints",
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("outbound_secret_hash", sa.String(64), nullable=True),
        sa.Column("webhook_secret_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("rotated_at", UTCDateTime(), nullable=False),
        sa.Column("rotated_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_inbound_endpoints")),
        _tenant_fk("inbound_endpoints"),
    )
    op.create_table(
        "inbox_entries",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("sobject", sa.String(80), nullable=False),
        sa.Column("salesforce_id", sa.String(18), nullable=False),
        sa.Column("fields", JSONType, nullable=False),
        sa.Column("action_id", sa.String(18), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_category", sa.String(30), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_entries")),
        _tenant_fk("inbox_entries"),
        sa.UniqueConstraint(
            "tenant_id",
            "source",
            "dedupe_key",
            name=op.f("uq_inbox_entries_tenant_id_source_dedupe_key"),
        ),
        sa.CheckConstraint(
            "source IN ('outbound_message', 'webhook')", name=op.f("ck_inbox_entries_source")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processed', 'failed', 'skipped')",
            name=op.f("ck_inbox_entries_status"),
        ),
    )
    op.create_index(
        op.f("ix_inbox_entries_tenant_id_status_id"), "inbox_entries", ["tenant_id", "status", "id"]
    )
    op.create_index(op.f("ix_inbox_entries_received_at"), "inbox_entries", ["received_at"])
    op.create_table(
        "worker_leases",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_leases")),
    )
    op.create_table(
        "sync_schedules",
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.Column("last_run_id", sa.String(36), nullable=True),
        sa.Column("last_finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.String(20), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sync_schedules")),
        _tenant_fk("sync_schedules"),
    )


def downgrade() -> None:
    op.drop_table("sync_schedules")
    op.drop_table("worker_leases")
    op.drop_index(op.f("ix_inbox_entries_received_at"), table_name="inbox_entries")
    op.drop_index(op.f("ix_inbox_entries_tenant_id_status_id"), table_name="inbox_entries")
    op.drop_table("inbox_entries")
    op.drop_table("inbound_endpoints")
