"""Platform records, custom field definitions and the change log (R-D1..R-D3).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmbridge.store.db import JSONType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "records",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("salesforce_id", sa.String(18), nullable=True),
        sa.Column("sync_status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_records_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "sync_status IN ('pending', 'synced', 'failed', 'skipped')",
            name=op.f("ck_records_sync_status"),
        ),
    )
    op.create_index(
        op.f("ix_records_tenant_id_entity_type_updated_at_id"),
        "records",
        ["tenant_id", "entity_type", "updated_at", "id"],
    )
    op.create_index(
        op.f("ix_records_tenant_id_entity_type_salesforce_id"),
        "records",
        ["tenant_id", "entity_type", "salesforce_id"],
        unique=True,
    )
    op.create_table(
        "custom_field_definitions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.Column("values", JSONType, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_definitions")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_custom_field_definitions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "entity_type",
            "name",
            name=op.f("uq_custom_field_definitions_tenant_id_entity_type_name"),
        ),
    )
    op.create_table(
        "change_log",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("operation", sa.String(10), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("changed_fields", JSONType, nullable=False),
        sa.Column("old_values", JSONType, nullable=False),
        sa.Column("new_values", JSONType, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_change_log_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("tenant_id", "seq", name=op.f("uq_change_log_tenant_id_seq")),
        sa.CheckConstraint(
            "operation IN ('create', 'update', 'delete')", name=op.f("ck_change_log_operation")
        ),
        sa.CheckConstraint(
            "source IN ('api', 'ui', 'import', 'sync')", name=op.f("ck_change_log_source")
        ),
    )
    op.create_index(
        op.f("ix_change_log_tenant_id_entity_type_record_id"),
        "change_log",
        ["tenant_id", "entity_type", "record_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_change_log_tenant_id_entity_type_record_id"), table_name="change_log")
    op.drop_table("change_log")
    op.drop_table("custom_field_definitions")
    op.drop_index(op.f("ix_records_tenant_id_entity_type_salesforce_id"), table_name="records")
    op.drop_index(op.f("ix_records_tenant_id_entity_type_updated_at_id"), table_name="records")
    op.drop_table("records")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("change_seq")
