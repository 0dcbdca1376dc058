"""Queries on the describe cache: one row per tenant, org and sObject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmbridge.store.mapping_models import CachedDescribe


def get_cached_describe(
    session: Session, *, tenant_id: str, org_id: str, sobject: str
) -> CachedDescribe | None:
    return session.get(CachedDescribe, (tenant_id, org_id, sobject.lower()))


def save_describe(
    session: Session,
    *,
    tenant_id: str,
    org_id: str,
    sobject_name: str,
    describe: dict[str, Any],
    schema_modified_at: datetime | None,
    fetched_at: datetime,
) -> CachedDescribe:
    """Store a freshly downloaded describe, replacing the cached one.

    Two requests refreshing the same describe at once both succeed: the second one's
    insert fails inside a savepoint and becomes an update.
    """
    values = {
        "sobject_name": sobject_name,
        "describe": describe,
        "schema_modified_at": schema_modified_at,
        "fetched_at": fetched_at,
        "checked_at": fetched_at,
    }
    entry = get_cached_describe(session, tenant_id=tenant_id, org_id=org_id, sobject=sobject_name)
    if entry is None:
        try:
            with session.begin_nested():
                entry = CachedDescribe(
                    tenant_id=tenant_id, org_id=org_id, sobject_key=sobject_name.lower(), **values
                )
                session.add(entry)
            return entry
        except IntegrityError:
            entry = get_cached_describe(
                session, tenant_id=tenant_id, org_id=org_id, sobject=sobject_name
            )
            assert entry is not None
    for key, value in values.items():
        setattr(entry, key, value)
    session.flush()
    return entry


def mark_describe_checked(session: Session, entry: CachedDescribe, checked_at: datetime) -> None:
    """Salesforce confirmed the cached describe is current (``304 Not Modified``)."""
    entry.checked_at = checked_at
    session.flush()


def delete_cached_describes(session: Session, *, tenant_id: str) -> int:
    """Forget every cached describe of a tenant; returns how many were dropped."""
    result = session.execute(sa.delete(CachedDescribe).where(CachedDescribe.tenant_id == tenant_id))
    return int(getattr(result, "rowcount", 0) or 0)
