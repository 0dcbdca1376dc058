"""Queries on API keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.models import ApiKey


def add_api_key(session: Session, key: ApiKey) -> ApiKey:
    session.add(key)
    session.flush()
    return key


def get_api_key_by_hash(session: Session, key_hash: str) -> ApiKey | None:
    return session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == key_hash))


def touch_last_used(session: Session, key_id: str, *, now: datetime, older_than: datetime) -> None:
    """Set ``last_used_at`` unless it is already newer than ``older_than`` (no read needed)."""
    session.execute(
        sa.update(ApiKey)
        .where(
            ApiKey.id == key_id,
            sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < older_than),
        )
        .values(last_used_at=now)
    )


def get_api_key(session: Session, key_id: str, *, tenant_id: str | None) -> ApiKey | None:
    query = sa.select(ApiKey).where(ApiKey.id == key_id)
    if tenant_id is None:
        query = query.where(ApiKey.tenant_id.is_(None))
    else:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return session.scalar(query)


def list_api_keys(session: Session, *, tenant_id: str | None) -> list[ApiKey]:
    query = sa.select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if tenant_id is None:
        query = query.where(ApiKey.tenant_id.is_(None))
    else:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return list(session.scalars(query))
