"""Object mappings, their immutable versions and the describe cache (R-M1..R-M6, R-P5).

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmbridge.store.db import JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
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
        "object_mappings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("platform_entity", sa.String(50), nullable=False),
        sa.Column("salesforce_object", sa.String(80), nullable=False),
        sa.Column("filter_name", sa.String(63), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", JSONType, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_mappings")),
        _tenant_fk("object_mappings"),
        sa.UniqueConstraint(
            "tenant_id",
            "platform_entity",
            "salesforce_object",
            "filter_name",
            name="uq_object_mappings_tenant_pair",
        ),
    )
    op.create_table(
        "object_mapping_versions",
        sa.Column("id", BigIntKey, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("mapping_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("platform_entity", sa.String(50), nullable=False),
        sa.Column("salesforce_object", sa.String(80), nullable=False),
        sa.Column("filter_name", sa.String(63), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", JSONType, nullable=False),
        sa.Column("changes", JSONType, nullable=False),
        sa.Column("actor_type", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("actor_label", sa.String(254), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_mapping_versions")),
        _tenant_fk("object_mapping_versions"),
        sa.UniqueConstraint(
            "mapping_id", "version", name=op.f("uq_object_mapping_versions_mapping_id_version")
        ),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete')",
            name=op.f("ck_object_mapping_versions_action"),
        ),
    )
    op.create_index(
        op.f("ix_object_mapping_versions_tenant_id_mapping_id"),
        "object_mapping_versions",
        ["tenant_id", "mapping_id"],
    )
    op.create_table(
        "salesforce_describes",
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("org_id", sa.String(18), nullable=False),
        sa.Column("sobject_key", sa.String(80), nullable=False),
        sa.Column("sobject_name", sa.String(80), nullable=False),
        sa.Column("describe", JSONType, nullable=False),
        sa.Column("schema_modified_at", UTCDateTime(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "org_id", "sobject_key", name=op.f("pk_salesforce_describes")
        ),
        _tenant_fk("salesforce_describes"),
    )


def downgrade() -> None:
    op.drop_table("salesforce_describes")
    op.drop_index(
        op.f("ix_object_mapping_versions_tenant_id_mapping_id"),
        table_name="object_mapping_versions",
    )
    op.drop_table("object_mapping_versions")
    op.drop_table("object_mappings")
