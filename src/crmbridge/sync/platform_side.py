"""Carry out the platform side of a merge plan through the records service.

Every write is logged in the change log with source ``sync`` and the run id as origin
(echo suppression, R-S3), in the caller's transaction, with the pair's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import RecordValidationError
from crmbridge.domain.mapping import MappingContext
from crmbridge.domain.sync import SYNC_SOURCE, SyncPlan, WriteAction
from crmbridge.services import records as records_service
from crmbridge.store.models import Record
from crmbridge.store.repositories import sync_platform
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.sync.context import MappingRun
from crmbridge.sync.inbound_values import platform_payload


@dataclass(frozen=True, kw_only=True)
class PlatformOutcome:
    """What was done to the platform record."""

    #: ``none``, ``create``, ``restore``, ``update``, ``delete``, ``archive``.
    operation: str
    #: The platform record's id (a new one for a create).
    platform_id: str | None
    #: Why it could not be written (validation or mapping), if it could not.
    error: str | None = None


def change_context(run_id: str) -> ChangeContext:
    """How the engine's own platform writes are logged."""
    return ChangeContext(source=SYNC_SOURCE, origin=run_id, actor="sync")


def apply_platform_side(
    session: Session,
    *,
    tenant_id: str,
    run_id: str,
    mapping_run: MappingRun,
    plan: SyncPlan,
    sf_record: Mapping[str, Any] | None,
    existing: Record | None,
    context: MappingContext,
    salesforce_pending: bool,
    shown_salesforce_ids: set[str],
) -> PlatformOutcome:
    """Write the platform side of ``plan``.

    Args:
        session: the page's transaction.
        tenant_id: the tenant.
        run_id: the run (the change log's origin).
        mapping_run: the mapping.
        plan: the merge's plan.
        sf_record: the Salesforce record the values come from (inbound), if any.
        existing: the platform record (deleted ones included), if any.
        context: the mapping context (links for references).
        salesforce_pending: a Salesforce write of the pair is still to come, so the
            record stays ``pending`` rather than ``synced``.
        shown_salesforce_ids: the Salesforce ids records of this entity type show
            already (read once per page, see ``sync_platform.shown_salesforce_ids``);
            a create adds its own.

    Writes are not flushed: the page's transaction flushes them together.

    Returns:
        What was done; a validation or mapping failure writes nothing and says why.
    """
    write = plan.platform
    action = write.action
    status = "pending" if salesforce_pending else "synced"
    existing_id = existing.id if existing is not None else None
    if action is WriteAction.NONE:
        return PlatformOutcome(operation="none", platform_id=existing_id)
    entity = mapping_run.entity
    log = change_context(run_id)
    if action in (WriteAction.DELETE, WriteAction.ARCHIVE):
        if existing is not None and existing.deleted_at is None:
            records_service.delete_record(
                session, tenant_id=tenant_id, entity=entity, record_id=existing.id, context=log
            )  # deletes are few: it flushes
        return PlatformOutcome(operation=action.value, platform_id=existing_id)
    if sf_record is None:
        # Only inbound merges write platform values; an outbound plan's platform side
        # can only mirror a field Salesforce owns onto a record being created there.
        return PlatformOutcome(operation="none", platform_id=existing_id)
    changed = None if action is WriteAction.CREATE else {c.field for c in write.changes}
    values, errors = platform_payload(mapping_run, sf_record, changed=changed, context=context)
    if errors:
        problems = "; ".join(f"{label}: {message}" for label, message in errors.items())
        return PlatformOutcome(operation=action.value, platform_id=existing_id, error=problems)
    salesforce_id = str(sf_record["Id"])
    try:
        if action is WriteAction.CREATE and existing is None:
            # ``records.salesforce_id`` is unique per entity type; when one entity maps
            # to two objects, or a stale record still shows the id, the pair alone
            # keeps the link.
            free = salesforce_id not in shown_salesforce_ids
            record_id = records_service.create_record_deferred(
                session,
                tenant_id=tenant_id,
                entity=entity,
                payload=values,
                context=log,
                salesforce_id=salesforce_id if free else None,
                sync_status=status,
            )
            shown_salesforce_ids.add(salesforce_id)
            return PlatformOutcome(operation="create", platform_id=record_id)
        assert existing is not None
        operation = "update"
        if existing.deleted_at is not None:
            sync_platform.undelete(session, existing, context=log)
            operation = "restore"
        records_service.update_record(
            session,
            tenant_id=tenant_id,
            entity=entity,
            record_id=existing.id,
            payload=values,
            context=log,
            sync_status=status,
            record=existing,
            flush=False,
        )
        return PlatformOutcome(operation=operation, platform_id=existing.id)
    except RecordValidationError as exc:
        problems = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        return PlatformOutcome(operation=action.value, platform_id=existing_id, error=problems)
