"""Salesforce connections, OAuth states in flight and tenant events (R-A1..R-A9).

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmbridge.store.db import JSONType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "salesforce_connections",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=True),
        sa.Column("custom_login_url", sa.String(length=2048), nullable=True),
        sa.Column("consumer_key", sa.String(length=255), nullable=True),
        sa.Column("consumer_secret_sealed", sa.Text(), nullable=True),
        sa.Column("auto_sync", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=True),
        sa.Column("sync_paused", sa.Boolean(), nullable=False),
        sa.Column("sync_paused_reason", sa.Text(), nullable=False),
        sa.Column("auth_flow", sa.String(length=20), nullable=True),
        sa.Column("login_url", sa.String(length=2048), nullable=True),
        sa.Column("org_id", sa.String(length=18), nullable=True),
        sa.Column("held_org_id", sa.String(length=18), nullable=True),
        sa.Column("org_name", sa.String(length=255), nullable=False),
        sa.Column("instance_url", sa.String(length=2048), nullable=True),
        sa.Column("api_version", sa.String(length=10), nullable=True),
        sa.Column("identity_url", sa.String(length=2048), nullable=True),
        sa.Column("sf_user_id", sa.String(length=18), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("user_display_name", sa.String(length=255), nullable=False),
        sa.Column("access_token_sealed", sa.Text(), nullable=True),
        sa.Column("refresh_token_sealed", sa.Text(), nullable=True),
        sa.Column("password_sealed", sa.Text(), nullable=True),
        sa.Column("security_token_sealed", sa.Text(), nullable=True),
        sa.Column("token_issued_at", UTCDateTime(), nullable=True),
        sa.Column("connected_at", UTCDateTime(), nullable=True),
        sa.Column("connected_by", sa.String(length=254), nullable=False),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
        sa.Column("api_usage_used", sa.Integer(), nullable=True),
        sa.Column("api_usage_limit", sa.Integer(), nullable=True),
        sa.Column("api_usage_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "auth_flow IS NULL OR auth_flow IN ('oauth', 'password')",
            name=op.f("ck_salesforce_connections_flow"),
        ),
        sa.CheckConstraint(
            "environment IN ('production', 'sandbox', 'custom')",
            name=op.f("ck_salesforce_connections_environment"),
        ),
        sa.CheckConstraint(
            "status IN ('not_connected', 'connected', 'needs_reauthorization', 'disconnected')",
            name=op.f("ck_salesforce_connections_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_salesforce_connections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_salesforce_connections")),
        sa.UniqueConstraint("held_org_id", name=op.f("uq_salesforce_connections_held_org_id")),
    )
    op.create_table(
        "salesforce_oauth_states",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("code_verifier_sealed", sa.Text(), nullable=False),
        sa.Column("login_url", sa.String(length=2048), nullable=False),
        sa.Column("consumer_key", sa.String(length=255), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.Column("started_by_kind", sa.String(length=20), nullable=False),
        sa.Column("started_by_id", sa.String(length=36), nullable=False),
        sa.Column("started_by_label", sa.String(length=254), nullable=False),
        sa.Column("started_by_role", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("outcome_detail", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('pending', 'connected', 'failed')",
            name=op.f("ck_salesforce_oauth_states_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_salesforce_oauth_states_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salesforce_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_salesforce_oauth_states_state_hash")),
    )
    with op.batch_alter_table("salesforce_oauth_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_salesforce_oauth_states_tenant_id_created_at"),
            ["tenant_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "tenant_events",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'error')", name=op.f("ck_tenant_events_severity")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_events")),
    )
    with op.batch_alter_table("tenant_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenant_events_tenant_id_id"), ["tenant_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenant_events_tenant_id_id"))

    op.drop_table("tenant_events")
    with op.batch_alter_table("salesforce_oauth_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_salesforce_oauth_states_tenant_id_created_at"))

    op.drop_table("salesforce_oauth_states")
    op.drop_table("salesforce_connections")
