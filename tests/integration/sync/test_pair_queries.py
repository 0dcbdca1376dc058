"""Queries the engine runs for whole pages of records (pairs, records)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.services import factories
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_platform


def test_paired_platform_ids_names_only_this_tenants_pairs_of_the_mapping(
    db_session: Session,
) -> None:
    tenant = factories.create_tenant(db_session).id
    other = factories.create_tenant(db_session).id
    for owner, mapping, platform_id in [
        (tenant, "m-1", "p-1"),
        (tenant, "m-1", "p-2"),
        (tenant, "m-2", "p-3"),
        (other, "m-1", "p-4"),
    ]:
        factories.create_pair(
            db_session, tenant_id=owner, mapping_id=mapping, platform_id=platform_id
        )
    db_session.commit()
    found = pairs_repo.paired_platform_ids(
        db_session,
        tenant_id=tenant,
        mapping_id="m-1",
        platform_ids=["p-1", "p-2", "p-3", "p-4", "p-5"],
    )
    assert found == {"p-1", "p-2"}


def test_records_read_without_their_data_load_it_only_when_touched(db_session: Session) -> None:
    tenant = factories.create_tenant(db_session).id
    member = factories.create_record(db_session, tenant_id=tenant, entity_type="member")
    db_session.commit()
    db_session.expunge_all()
    found = sync_platform.records_by_ids(
        db_session, tenant_id=tenant, entity_type="member", record_ids=[member.id], with_data=False
    )
    record = found[member.id]
    assert "data" in sa.inspect(record).unloaded
    assert record.sync_status == member.sync_status
    assert record.data == member.data  # read when touched


def test_waiting_pairs_are_read_in_pages_of_pair_id_order(db_session: Session) -> None:
    tenant = factories.create_tenant(db_session).id
    for n in range(7):  # p-3 is confirmed
        factories.create_pair(
            db_session, tenant_id=tenant, platform_id=f"p-{n}", needs_outbound=n != 3
        )
    db_session.commit()
    pages: list[list[str]] = []
    after = None
    while page := pairs_repo.platform_ids_needing_outbound(
        db_session, tenant_id=tenant, mapping_id="m-1", limit=2, after=after
    ):
        pages.append([platform_id for _, platform_id in page])
        after = page[-1][0]
    assert pages == [["p-0", "p-1"], ["p-2", "p-4"], ["p-5", "p-6"]]
