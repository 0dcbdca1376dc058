"""Change-log entries are numbered when they are flushed: one reservation per tenant
and flush, gap-free and in the order the writes were made (R-D3)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.domain.entities import get_entity_type
from crmbridge.services import factories
from crmbridge.services import records as service
from crmbridge.store.models import ChangeLogEntry
from crmbridge.store.repositories.change_log import ChangeContext, latest_seq

MEMBER = get_entity_type("member")
API = ChangeContext(source="api", origin="request:1", actor="user:u1")


def _entries(session: Session, tenant: str) -> list[tuple[int, str, str]]:
    rows = session.execute(
        sa.select(ChangeLogEntry.seq, ChangeLogEntry.record_id, ChangeLogEntry.operation)
        .where(ChangeLogEntry.tenant_id == tenant)
        .order_by(ChangeLogEntry.seq)
    )
    return [(seq, record_id, operation) for seq, record_id, operation in rows]


def test_entries_of_one_flush_are_numbered_in_write_order_per_tenant(db_session: Session) -> None:
    first, second = factories.create_tenant(db_session).id, factories.create_tenant(db_session).id
    db_session.commit()
    written: dict[str, list[tuple[str, str]]] = {first: [], second: []}
    for n in range(6):
        tenant = first if n % 3 else second
        record = service.create_record(
            db_session,
            tenant_id=tenant,
            entity=MEMBER,
            payload={"first_name": f"P{n}", "last_name": "Q"},
            context=API,
            record_id=f"r-{n}",
        )
        written[tenant].append((record.id, "create"))
        if n == 4:
            service.update_record(
                db_session,
                tenant_id=tenant,
                entity=MEMBER,
                record_id=record.id,
                payload={"phone": "1"},
                context=API,
                record=record,
            )
            written[tenant].append((record.id, "update"))
    db_session.flush()
    service.delete_record(db_session, tenant_id=first, entity=MEMBER, record_id="r-1", context=API)
    written[first].append(("r-1", "delete"))
    db_session.commit()
    for tenant, writes in written.items():
        numbered = _entries(db_session, tenant)
        assert [(r, op) for _, r, op in numbered] == writes
        assert [seq for seq, _, _ in numbered] == list(range(1, len(writes) + 1))
        assert latest_seq(db_session, tenant) == len(writes)
