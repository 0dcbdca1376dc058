"""The index of pairs waiting for a Salesforce write also orders them by id.

An outbound run reads those pairs' platform ids a page at a time, after the last id of
the page before (``sync_pairs.platform_ids_needing_outbound``), so a run finishes every
waiting pair (the link stamps of a 1,000,000-record initial sync) with memory for one
page. With the id in the index each page is a seek on both databases.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_OLD = "ix_sync_pairs_tenant_id_mapping_id_needs_outbound"
_NEW = "ix_sync_pairs_tenant_id_mapping_id_needs_outbound_id"


def upgrade() -> None:
    op.drop_index(op.f(_OLD), table_name="sync_pairs")
    op.create_index(op.f(_NEW), "sync_pairs", ["tenant_id", "mapping_id", "needs_outbound", "id"])


def downgrade() -> None:
    op.drop_index(op.f(_NEW), table_name="sync_pairs")
    op.create_index(op.f(_OLD), "sync_pairs", ["tenant_id", "mapping_id", "needs_outbound"])
