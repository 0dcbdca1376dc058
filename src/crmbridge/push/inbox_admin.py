"""The inbox as admins see it: entries with their outcome, and retrying held ones.

Like seed 003's Sales Receiver log: every pushed change is kept as an entry, complete
or not; each is processed or held with its reason; a held (``failed``) entry can be
retried once the cause is fixed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import Conflict, NotFound
from crmbridge.store.push_models import InboxEntry
from crmbridge.store.repositories import inbox as repo


def entry_view(entry: InboxEntry) -> dict[str, Any]:
    """An entry as the API shows it."""
    return {
        "id": entry.id,
        "source": entry.source,
        "dedupe_key": entry.dedupe_key,
        "object": entry.sobject,
        "salesforce_id": entry.salesforce_id,
        "fields": entry.fields,
        "ids_only": not entry.fields or set(entry.fields) <= {"Id"},
        "action_id": entry.action_id or None,
        "status": entry.status,
        "attempts": entry.attempts,
        "error_category": entry.error_category or None,
        "error_message": entry.error_message or None,
        "received_at": entry.received_at.isoformat(),
        "next_attempt_at": entry.next_attempt_at.isoformat() if entry.next_attempt_at else None,
        "processed_at": entry.processed_at.isoformat() if entry.processed_at else None,
        "run_id": entry.run_id,
    }


def list_entries(
    session: Session, *, tenant_id: str, status: str | None, before_id: int | None, limit: int
) -> list[InboxEntry]:
    """The tenant's entries, newest first."""
    return repo.list_entries(
        session, tenant_id=tenant_id, status=status, before_id=before_id, limit=limit
    )


def get_entry(session: Session, *, tenant_id: str, entry_id: int) -> InboxEntry:
    """One entry of the tenant.

    Raises:
        NotFound: no such entry for this tenant.
    """
    entry = repo.get_entry(session, tenant_id=tenant_id, entry_id=entry_id)
    if entry is None:
        raise NotFound("No inbox entry with this id.")
    return entry


def retry_entry(
    session: Session, principal: Principal, *, tenant_id: str, entry_id: int
) -> InboxEntry:
    """Put a held (failed) or skipped entry back in line; it is processed next.

    Raises:
        NotFound: no such entry for this tenant.
        Conflict: the entry is pending or processed already.
    """
    entry = get_entry(session, tenant_id=tenant_id, entry_id=entry_id)
    if entry.status not in ("failed", "skipped"):
        raise Conflict(f"The entry is {entry.status}; only failed or skipped entries are retried.")
    before = {"status": entry.status, "error_message": entry.error_message}
    entry.status = "pending"
    entry.next_attempt_at = None
    entry.error_category = ""
    entry.error_message = ""
    session.flush()
    record_audit(
        session,
        principal,
        action="inbound.entry.retry",
        target_type="inbox_entry",
        target_id=str(entry.id),
        tenant_id=tenant_id,
        before=before,
        after={"status": "pending"},
    )
    return entry
