"""Failed records (R-S8): retried later with backoff and jitter, or dead-lettered with
Salesforce's message and advice; a dead letter can be edited and retried, retried as it
is, or discarded by an administrator.

One row per record and direction while it is unsettled (``retrying`` or ``open``);
a later success settles it (``resolved``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.errors import ConfigurationError, CrmError, RecordError, RetryableError
from crmbridge.domain.sync import RetryAction, RetryDecision, RetryStrategy
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import Conflict, NotFound
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_failures as repo
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_state as state_repo
from crmbridge.store.sync_models import SyncFailure
from crmbridge.sync.context import MappingRun


class MappingDataError(RecordError):
    """The record's values could not be mapped (a transform, a reference, validation)."""

    advice = "Fix the record (or the mapping that fills the field) and retry it."


class ParentNotLinked(RetryableError):
    """The record points at a parent that has not synced yet (read later, or failing)."""

    #: The failure's ``error_code``, by which a run finds the records it can retry.
    CODE = "PARENT_NOT_LINKED"
    advice = "Nothing to do once the parent syncs; fix the parent record if it keeps failing."

    def __init__(self, message: str) -> None:
        super().__init__(message, code=self.CODE)


def register_failure(
    session: Session,
    *,
    tenant_id: str,
    mapping_run: MappingRun,
    direction: str,
    platform_id: str | None,
    salesforce_id: str | None,
    operation: str,
    payload: Mapping[str, Any],
    error: BaseException,
    run_id: str,
    strategy: RetryStrategy,
    now: datetime,
    rng: random.Random,
) -> RetryDecision:
    """Record a failed record and decide what happens next (in the caller's transaction).

    Args:
        session: the caller's transaction.
        tenant_id: the tenant.
        mapping_run: the mapping.
        direction: ``inbound`` or ``outbound``.
        platform_id: the platform record's id, when known.
        salesforce_id: the Salesforce record's id, when known.
        operation: what was attempted.
        payload: the values sent (shown to the admin).
        error: the failure.
        run_id: the run.
        strategy: the tenant's retry policy.
        now: the run's clock.
        rng: the jitter's random source.

    Returns:
        The decision: retry at a time, dead-letter, or pause the mapping or connection.
    """
    key = (platform_id if direction == "outbound" else salesforce_id) or ""
    row = repo.find_failure(
        session,
        tenant_id=tenant_id,
        mapping_id=mapping_run.id,
        direction=direction,
        record_key=key,
    )
    attempts = (row.attempts if row is not None else 0) + 1
    decision = strategy.get_retry_decision(error, attempts, now=now, rng=rng)
    if row is None:
        row = repo.add_failure(
            session,
            SyncFailure(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                mapping_id=mapping_run.id,
                salesforce_object=mapping_run.sobject,
                platform_entity=mapping_run.entity_name,
                direction=direction,
                record_key=key,
                platform_id=platform_id,
                salesforce_id=salesforce_id,
                operation=operation,
                payload={},
                overrides={},
                error_fields=[],
                attempts=0,
                status="retrying",
                run_id=run_id,
                first_failed_at=now,
                last_failed_at=now,
            ),
        )
    row.attempts = attempts
    row.platform_id = platform_id or row.platform_id
    row.salesforce_id = salesforce_id or row.salesforce_id
    row.operation = operation
    row.payload = _jsonable(payload)
    row.error_category = decision.category.value
    row.error_code = (error.code if isinstance(error, CrmError) else type(error).__name__)[:100]
    row.error_message = error.message if isinstance(error, CrmError) else str(error)
    row.error_fields = list(error.fields) if isinstance(error, CrmError) else []
    row.advice = decision.advice
    row.run_id = run_id
    row.last_failed_at = now
    if decision.action is RetryAction.RETRY:
        row.status = "retrying"
        row.next_retry_at = decision.retry_at
    else:
        row.status = "open"
        row.next_retry_at = None
    if decision.action is RetryAction.PAUSE and isinstance(error, ConfigurationError):
        pause_mapping(
            session, tenant_id=tenant_id, mapping_run=mapping_run, reason=row.error_message
        )
    session.flush()
    return decision


def settle_failure(
    session: Session,
    *,
    tenant_id: str,
    mapping_id: str,
    direction: str,
    record_key: str | None,
    now: datetime,
) -> None:
    """A record synced: its unsettled failure, if any, is resolved."""
    if not record_key:
        return
    row = repo.find_failure(
        session,
        tenant_id=tenant_id,
        mapping_id=mapping_id,
        direction=direction,
        record_key=record_key,
    )
    settle(row, now=now)


def settle(row: SyncFailure | None, *, now: datetime) -> None:
    """Resolve an unsettled failure whose record just synced (no-op for ``None``)."""
    if row is not None and row.status in ("retrying", "open"):
        row.status = "resolved"
        row.resolved_at = now
        row.resolved_by = "sync"
        row.next_retry_at = None


def pause_mapping(
    session: Session, *, tenant_id: str, mapping_run: MappingRun, reason: str
) -> None:
    """Stop syncing a mapping until an admin fixes it (a configuration error)."""
    stream = state_repo.stream_for_update(
        session,
        tenant_id=tenant_id,
        mapping_id=mapping_run.id,
        salesforce_object=mapping_run.sobject,
    )
    stream.paused = True
    stream.paused_reason = reason
    stream.last_error = reason
    stream.updated_at = utcnow()
    session.flush()


# --- administrators' actions ---------------------------------------------------------------


def failure_view(row: SyncFailure) -> dict[str, Any]:
    """The API representation of a failure (a dead letter when ``open``)."""
    return {
        "id": row.id,
        "status": row.status,
        "direction": row.direction,
        "mapping_id": row.mapping_id,
        "object": row.salesforce_object,
        "platform_entity": row.platform_entity,
        "platform_id": row.platform_id,
        "salesforce_id": row.salesforce_id,
        "operation": row.operation,
        "payload": dict(row.payload),
        "overrides": dict(row.overrides),
        "error": {
            "category": row.error_category,
            "code": row.error_code,
            "message": row.error_message,
            "fields": list(row.error_fields),
        },
        "advice": row.advice,
        "attempts": row.attempts,
        "next_retry_at": row.next_retry_at,
        "first_failed_at": row.first_failed_at,
        "last_failed_at": row.last_failed_at,
        "resolved_at": row.resolved_at,
        "resolved_by": row.resolved_by,
        "run_id": row.run_id,
    }


def get_failure(session: Session, *, tenant_id: str, failure_id: str) -> SyncFailure:
    """One failure of the tenant.

    Raises:
        NotFound: no such failure for this tenant.
    """
    row = repo.get_failure(session, tenant_id=tenant_id, failure_id=failure_id)
    if row is None:
        raise NotFound("No failed record with this id.")
    return row


def retry_failure(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    failure_id: str,
    overrides: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> SyncFailure:
    """Queue a failed record for the next run, optionally with edited values.

    Outbound failures are retried from the platform record as it is then (edit the
    record itself to change what is sent); ``overrides`` of an inbound failure are
    Salesforce field values written to Salesforce before the record is read again.

    Raises:
        NotFound: no such failure for this tenant.
        Conflict: the failure is already resolved or discarded.
    """
    row = get_failure(session, tenant_id=tenant_id, failure_id=failure_id)
    if row.status not in repo.OPEN_STATUSES:
        raise Conflict(f"This failure is {row.status}; only open or retrying ones can be retried.")
    before = failure_view(row)
    row.status = "retrying"
    row.attempts = 0
    row.next_retry_at = now or utcnow()
    if overrides is not None:
        row.overrides = _jsonable(overrides)
    if row.direction == "outbound" and row.platform_id:
        pair = pairs_repo.pairs_by_platform_id(
            session, tenant_id=tenant_id, mapping_id=row.mapping_id, platform_ids=[row.platform_id]
        ).get(row.platform_id)
        if pair is not None:
            pair.needs_outbound = True
    session.flush()
    record_audit(
        session,
        principal,
        action="sync_failure.retry",
        target_type="sync_failure",
        target_id=row.id,
        tenant_id=tenant_id,
        before=before,
        after=failure_view(row),
    )
    return row


def discard_failure(
    session: Session, principal: Principal, *, tenant_id: str, failure_id: str
) -> SyncFailure:
    """Give up on a failed record (it stays on the list as ``discarded``).

    Raises:
        NotFound: no such failure for this tenant.
        Conflict: the failure is already resolved or discarded.
    """
    row = get_failure(session, tenant_id=tenant_id, failure_id=failure_id)
    if row.status not in repo.OPEN_STATUSES:
        raise Conflict(f"This failure is already {row.status}.")
    before = failure_view(row)
    row.status = "discarded"
    row.next_retry_at = None
    row.resolved_at = utcnow()
    row.resolved_by = principal.label[:254]
    if row.direction == "outbound" and row.platform_id:
        pair = pairs_repo.pairs_by_platform_id(
            session, tenant_id=tenant_id, mapping_id=row.mapping_id, platform_ids=[row.platform_id]
        ).get(row.platform_id)
        if pair is not None:
            pair.needs_outbound = False
    session.flush()
    record_audit(
        session,
        principal,
        action="sync_failure.discard",
        target_type="sync_failure",
        target_id=row.id,
        tenant_id=tenant_id,
        before=before,
        after=failure_view(row),
    )
    return row


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or isinstance(value, str | int | float | bool):
            out[str(key)] = value
        elif isinstance(value, Mapping):
            out[str(key)] = _jsonable(value)
        elif isinstance(value, list | tuple):
            out[str(key)] = [
                v if isinstance(v, str | int | float | bool) else str(v) for v in value
            ]
        else:
            out[str(key)] = str(value)
    return out
