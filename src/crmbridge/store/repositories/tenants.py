"""Queries on tenants."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.db import utcnow
from crmbridge.store.models import Tenant


def add_tenant(session: Session, *, tenant_id: str, name: str) -> Tenant:
    now = utcnow()
    tenant = Tenant(
        id=tenant_id, name=name, status="active", change_seq=0, created_at=now, updated_at=now
    )
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, tenant_id: str) -> Tenant | None:
    return session.get(Tenant, tenant_id)


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(sa.select(Tenant).order_by(Tenant.created_at, Tenant.id)))


def set_tenant_status(session: Session, tenant: Tenant, status: str) -> None:
    tenant.status = status
    tenant.updated_at = utcnow()
    session.flush()


def next_change_seqs(session: Session, tenant_id: str, count: int = 1) -> int:
    """Reserve ``count`` change-log sequence numbers; returns the first one.

    The UPDATE locks the tenant row until the transaction ends, so per tenant the
    numbers are handed out in commit order and without gaps: a reader that has seen
    ``seq = n`` will never later see a new entry with a smaller number.
    """
    last = session.execute(
        sa.update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(change_seq=Tenant.change_seq + count)
        .returning(Tenant.change_seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(last) - count + 1
