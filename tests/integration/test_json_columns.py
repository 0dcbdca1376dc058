"""JSON columns round-trip exactly through the store's engine, on both databases
(orjson writes and reads them; what it would read differently takes json.loads)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.services import factories
from crmbridge.store.sync_models import SyncPair


def test_a_pair_state_with_huge_integers_and_unicode_reads_back_the_same(
    db_session: Session,
) -> None:
    tenant = factories.create_tenant(db_session).id
    state = {
        "values": {"Big__c": 2**70, "Max__c": 2**63 - 1, "Ratio__c": 0.1, "Name": "Zoë \u2028"},
        "pending": {},
        "linked": True,
    }
    factories.create_pair(db_session, tenant_id=tenant, state=state)
    db_session.commit()
    db_session.expunge_all()
    stored = db_session.scalars(sa.select(SyncPair).where(SyncPair.tenant_id == tenant)).one()
    assert stored.state == state
    assert type(stored.state["values"]["Big__c"]) is int
    assert type(stored.state["values"]["Ratio__c"]) is float
