"""The audit log of administrative actions (R-P5): who did what, when, before/after."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.db import utcnow
from crmbridge.store.models import AuditLogEntry

#: Keys whose values never reach the audit log (they are replaced by "***").
_SECRET_KEY = re.compile(r"pass|secret|token|key_hash|api_key|authorization|cookie", re.I)


def redact(value: Any) -> Any:
    """A JSON-able copy of ``value`` with secret-looking keys masked, recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {
            k: ("***" if _SECRET_KEY.search(str(k)) and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def add_audit_entry(
    session: Session,
    *,
    tenant_id: str | None,
    actor_type: str,
    actor_id: str,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_id: str = "",
) -> AuditLogEntry:
    entry = AuditLogEntry(
        tenant_id=tenant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=redact(before) if before is not None else None,
        after=redact(after) if after is not None else None,
        request_id=request_id,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit_entries(
    session: Session, *, tenant_id: str | None, before_id: int | None = None, limit: int = 100
) -> list[AuditLogEntry]:
    """Newest first; ``tenant_id=None`` lists installation-wide entries."""
    query = sa.select(AuditLogEntry).order_by(AuditLogEntry.id.desc()).limit(limit)
    if tenant_id is None:
        query = query.where(AuditLogEntry.tenant_id.is_(None))
    else:
        query = query.where(AuditLogEntry.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(AuditLogEntry.id < before_id)
    return list(session.scalars(query))
