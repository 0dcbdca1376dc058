"""Record administrative actions in the audit log (R-P5) through one function."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.orm import Session

from crmbridge.services.access import Principal
from crmbridge.store.repositories.audit import add_audit_entry


def record_audit(
    session: Session,
    principal: Principal,
    *,
    action: str,
    target_type: str,
    target_id: str,
    tenant_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry in the caller's transaction; secrets are masked.

    Args:
        session: the caller's session (the entry commits with the change it describes).
        principal: who acted.
        action: dotted verb, e.g. ``user.create``, ``api_key.revoke``, ``mapping.update``.
        target_type: kind of thing changed (``user``, ``api_key``, ``tenant`` …).
        target_id: its id.
        tenant_id: the tenant concerned, ``None`` for installation-wide actions.
        before: state before (``None`` for creations).
        after: state after (``None`` for deletions).
    """
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    add_audit_entry(
        session,
        tenant_id=tenant_id,
        actor_type=principal.kind,
        actor_id=principal.id,
        actor_label=principal.label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        request_id=str(request_id),
    )
