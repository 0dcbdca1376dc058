"""The sync engine's tables: record pairs, streams (watermarks), tenant state (outbound
cursor, pauses), runs, the audit trail, failures (retries and dead letters), reviews and
settings (R-S1..R-S10, R-O1, R-O2, R-O5).

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmbridge.store.db import JSONType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = (
    "sync_tenant_state",
    "sync_streams",
    "sync_settings",
    "sync_runs",
    "sync_reviews",
    "sync_records",
    "sync_pairs",
    "sync_failures",
)


def upgrade() -> None:
    op.create_table(
        "sync_failures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("salesforce_object", sa.String(length=80), nullable=False),
        sa.Column("platform_entity", sa.String(length=50), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("record_key", sa.String(length=36), nullable=False),
        sa.Column("platform_id", sa.String(length=36), nullable=True),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("overrides", JSONType, nullable=False),
        sa.Column("error_category", sa.String(length=30), nullable=False),
        sa.Column("error_code", sa.String(length=100), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("error_fields", JSONType, nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("next_retry_at", UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=254), nullable=False),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound')", name=op.f("ck_sync_failures_direction")
        ),
        sa.CheckConstraint(
            "status IN ('retrying', 'open', 'resolved', 'discarded')",
            name=op.f("ck_sync_failures_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_failures_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_failures")),
    )
    op.create_index(
        op.f("ix_sync_failures_tenant_id_mapping_id_direction_record_key"),
        "sync_failures",
        ["tenant_id", "mapping_id", "direction", "record_key"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_failures_tenant_id_status_next_retry_at"),
        "sync_failures",
        ["tenant_id", "status", "next_retry_at"],
        unique=False,
    )
    op.create_table(
        "sync_pairs",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("salesforce_object", sa.String(length=80), nullable=False),
        sa.Column("platform_entity", sa.String(length=50), nullable=False),
        sa.Column("platform_id", sa.String(length=36), nullable=True),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("state", JSONType, nullable=False),
        sa.Column("needs_outbound", sa.Boolean(), nullable=False),
        sa.Column("in_review", sa.Boolean(), nullable=False),
        sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
        sa.Column("last_outbound_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_pairs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_pairs")),
    )
    op.create_index(
        op.f("ix_sync_pairs_tenant_id_mapping_id_needs_outbound"),
        "sync_pairs",
        ["tenant_id", "mapping_id", "needs_outbound"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_pairs_tenant_id_mapping_id_platform_id"),
        "sync_pairs",
        ["tenant_id", "mapping_id", "platform_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_sync_pairs_tenant_id_mapping_id_salesforce_id"),
        "sync_pairs",
        ["tenant_id", "mapping_id", "salesforce_id"],
        unique=True,
    )
    op.create_table(
        "sync_records",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("salesforce_object", sa.String(length=80), nullable=False),
        sa.Column("platform_entity", sa.String(length=50), nullable=False),
        sa.Column("platform_id", sa.String(length=36), nullable=True),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("changes", JSONType, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("error_category", sa.String(length=30), nullable=False),
        sa.Column("error_code", sa.String(length=100), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound')", name=op.f("ck_sync_records_direction")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_records_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_records")),
    )
    op.create_index(
        op.f("ix_sync_records_tenant_id_created_at_id"),
        "sync_records",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_records_tenant_id_platform_id"),
        "sync_records",
        ["tenant_id", "platform_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_records_tenant_id_run_id"),
        "sync_records",
        ["tenant_id", "run_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_records_tenant_id_salesforce_id"),
        "sync_records",
        ["tenant_id", "salesforce_id"],
        unique=False,
    )
    op.create_table(
        "sync_reviews",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("pair_id", sa.BigInteger(), nullable=False),
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("salesforce_object", sa.String(length=80), nullable=False),
        sa.Column("platform_entity", sa.String(length=50), nullable=False),
        sa.Column("platform_id", sa.String(length=36), nullable=True),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("conflicts", JSONType, nullable=False),
        sa.Column("delete_conflict", JSONType, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decisions", JSONType, nullable=False),
        sa.Column("decisions_pending", sa.Boolean(), nullable=False),
        sa.Column("resolved_by", sa.String(length=254), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_sync_reviews_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_reviews_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_reviews")),
    )
    op.create_index(
        op.f("ix_sync_reviews_tenant_id_pair_id"),
        "sync_reviews",
        ["tenant_id", "pair_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_reviews_tenant_id_status_created_at"),
        "sync_reviews",
        ["tenant_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("request", JSONType, nullable=False),
        sa.Column("mapping_versions", JSONType, nullable=False),
        sa.Column("progress", JSONType, nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("resume_at", UTCDateTime(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'partially_failed', 'failed', 'paused')",
            name=op.f("ck_sync_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(
        op.f("ix_sync_runs_tenant_id_created_at_id"),
        "sync_runs",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sync_runs_tenant_id_status"), "sync_runs", ["tenant_id", "status"], unique=False
    )
    op.create_table(
        "sync_settings",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sync_settings")),
    )
    op.create_table(
        "sync_streams",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.String(length=36), nullable=False),
        sa.Column("salesforce_object", sa.String(length=80), nullable=False),
        sa.Column("watermark_modstamp", UTCDateTime(), nullable=True),
        sa.Column("watermark_last_id", sa.String(length=18), nullable=True),
        sa.Column("formula_refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_reason", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_streams_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "mapping_id", name=op.f("pk_sync_streams")),
    )
    op.create_table(
        "sync_tenant_state",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("outbound_seq", sa.BigInteger(), nullable=False),
        sa.Column("resume_at", UTCDateTime(), nullable=True),
        sa.Column("resume_reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_tenant_state_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sync_tenant_state")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes with it.
    for table in TABLES:
        op.drop_table(table)
