"""The audit trail (R-S9, seed 000 "CRM Sync Record"): one row per record-level sync
operation, kept for the tenant's retention period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.domain.errors import CrmError
from crmbridge.domain.sync import FieldChange
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_records as repo
from crmbridge.store.repositories.sync_records import AuditRow
from crmbridge.store.sync_models import SyncRecord
from crmbridge.sync.settings import load_sync_settings


def changes_json(changes: Iterable[FieldChange]) -> list[dict[str, Any]]:
    """Field changes as the audit row stores them (canonical names, old → new)."""
    return [{"field": c.field, "old": c.old, "new": c.new} for c in changes]


def audit_row(
    *,
    tenant_id: str,
    run_id: str | None,
    direction: str,
    mapping_id: str,
    salesforce_object: str,
    platform_entity: str,
    platform_id: str | None,
    salesforce_id: str | None,
    operation: str,
    outcome: str,
    source: str,
    changes: Iterable[FieldChange] = (),
    error: CrmError | None = None,
    message: str = "",
    at: datetime | None = None,
) -> AuditRow:
    """One audit row as column values (``sync_records.add_records`` inserts them).

    Args:
        tenant_id: the tenant.
        run_id: the run, when the operation belongs to one.
        direction: ``inbound`` (to the platform) or ``outbound`` (to Salesforce).
        mapping_id: the mapping.
        salesforce_object: the Salesforce object.
        platform_entity: the platform entity type.
        platform_id: the platform record's id, when known.
        salesforce_id: the Salesforce record's id, when known.
        operation: ``create``, ``update``, ``delete``, ``archive``, ``restore``,
            ``link``, ``detach``, ``review``.
        outcome: ``succeeded``, ``failed``, ``retrying``, ``held``, ``skipped``.
        source: ``poll``, ``push``, ``outbound``, ``retry``, ``review``.
        changes: the fields written, old → new.
        error: the classified error of a failure.
        message: a message when there is no classified error.
        at: the time of the operation (default: now).
    """
    return {
        "tenant_id": tenant_id,
        "run_id": run_id,
        "created_at": at or utcnow(),
        "direction": direction,
        "mapping_id": mapping_id,
        "salesforce_object": salesforce_object,
        "platform_entity": platform_entity,
        "platform_id": platform_id,
        "salesforce_id": salesforce_id,
        "operation": operation,
        "outcome": outcome,
        "changes": changes_json(changes),
        "source": source,
        "error_category": error.category.value if error is not None else "",
        "error_code": (error.code if error is not None else "")[:100],
        "error_message": str(error) if error is not None else message,
    }


def sync_record_view(row: SyncRecord) -> dict[str, Any]:
    """The API representation of an audit row."""
    return {
        "id": row.id,
        "created_at": row.created_at,
        "run_id": row.run_id,
        "direction": row.direction,
        "mapping_id": row.mapping_id,
        "object": row.salesforce_object,
        "platform_entity": row.platform_entity,
        "platform_id": row.platform_id,
        "salesforce_id": row.salesforce_id,
        "operation": row.operation,
        "outcome": row.outcome,
        "source": row.source,
        "changes": list(row.changes),
        "error": {
            "category": row.error_category,
            "code": row.error_code,
            "message": row.error_message,
        }
        if row.error_category or row.error_message
        else None,
    }


def purge_sync_records(
    session_factory: sessionmaker[Session],
    *,
    tenant_id: str,
    now: datetime | None = None,
    batch: int = 5000,
) -> int:
    """Delete the tenant's audit rows older than its retention period (the scheduler
    calls this daily). Deletes in batches, one short transaction each.

    Args:
        session_factory: opens the transactions.
        tenant_id: the tenant.
        now: the current time (default: the store's clock).
        batch: rows per transaction.

    Returns:
        How many rows were deleted.
    """
    with session_factory() as session:
        days = load_sync_settings(session, tenant_id=tenant_id).audit_retention_days
    cutoff = (now or utcnow()) - timedelta(days=days)
    total = 0
    while True:
        with session_factory.begin() as session:
            deleted = repo.delete_older_than(
                session, tenant_id=tenant_id, cutoff=cutoff, batch=batch
            )
        total += deleted
        if deleted < batch:
            return total
