"""An index on records (tenant_id, entity_type, id) for walks in id order.

An outbound first pass and a full resync read an entity's record ids a page at a time
in id order (``sync_platform.record_ids_page``). Without this index SQLite read every
record of the entity type and sorted them for each page, so a walk took time in
proportion to the square of the records.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_records_tenant_id_entity_type_id"), "records", ["tenant_id", "entity_type", "id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_records_tenant_id_entity_type_id"), table_name="records")
