"""The sync engine's API: runs, the sync log, dead letters, reviews, status, settings.

Roles (SPEC section 2): every role of the tenant views; admins start any run and change
settings; staff start runs of specific records only, retry failed records and resolve
reviews. Another tenant's ids answer 404. Runs started here are queued and run in the
background; poll ``GET /sync/runs/{id}`` for progress.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.domain.entities import FieldError, get_entity_type
from crmbridge.domain.sync import Direction
from crmbridge.services import records as records_service
from crmbridge.services.access import Capability, can
from crmbridge.services.errors import Forbidden
from crmbridge.store.repositories import sync_failures as failures_repo
from crmbridge.store.repositories import sync_records as audit_repo
from crmbridge.store.repositories import sync_reviews as reviews_repo
from crmbridge.store.repositories import sync_runs as runs_repo
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.sync import failures as failures_service
from crmbridge.sync import reviews as reviews_service
from crmbridge.sync.audit import sync_record_view
from crmbridge.sync.runs import RunKind, RunRequest, cancel_run, enqueue_run, execute_run
from crmbridge.sync.settings import load_sync_settings, save_sync_settings
from crmbridge.sync.status import object_statuses, status_view
from crmbridge.web.api.cursors import decode_cursor, encode_cursor
from crmbridge.web.deps import Configurer, DbSession, TenantContext, Viewer, require
from crmbridge.web.problems import ProblemError

router = APIRouter(tags=["sync"])

Resolver = Annotated[TenantContext, Depends(require(Capability.RESOLVE_REVIEW))]
Starter = Annotated[TenantContext, Depends(require(Capability.RUN_SYNC_SPECIFIC_RECORDS))]


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "The request has invalid fields; nothing was changed.",
        slug="validation-error",
        errors=[FieldError(field=field, message=message)],
    )


def _limit(request: Request, limit: int) -> int:
    maximum = int(request.app.state.settings.max_page_size)
    if limit > maximum:
        raise _invalid("limit", f"must be at most {maximum}")
    return limit


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise _invalid(name, "must include a time zone")
    return value


def _key(request: Request) -> bytes:
    settings: Settings = request.app.state.settings
    return settings.signing_key("cursor")


# --- runs -------------------------------------------------------------------------------


class RunIn(BaseModel):
    """A run to start (R-O2, R-O3)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["now", "full", "range", "specific", "test_run"] = "now"
    #: Mapping ids, Salesforce objects or platform entities; empty: every enabled mapping.
    objects: list[str] = Field(default_factory=list, max_length=50)
    #: Only one direction of the run's mappings.
    direction: Direction | None = None
    start: datetime | None = None
    end: datetime | None = None
    platform_ids: list[str] = Field(default_factory=list, max_length=1000)
    salesforce_ids: list[str] = Field(default_factory=list, max_length=1000)


def run_view(run: Any) -> dict[str, Any]:
    """The API representation of a run."""
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "trigger": run.trigger,
        "requested_by": run.requested_by,
        "request": dict(run.request),
        "mapping_versions": dict(run.mapping_versions),
        "progress": dict(run.progress),
        "api_calls": run.api_calls,
        "error": run.error,
        "resume_at": run.resume_at,
        "cancel_requested": run.cancel_requested,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _run_in_background(
    session_factory: sessionmaker[Session], settings: Settings, tenant_id: str, run_id: str
) -> None:
    execute_run(session_factory, settings, tenant_id, run_id=run_id)


@router.post("/sync/runs", status_code=202)
def start_run(
    body: RunIn,
    request: Request,
    context: Starter,
    session: DbSession,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Start a run: sync now, full resync, a date range, specific records or a test run.

    Staff may only sync specific records; admins may start any run. The run is queued
    and runs in the background.
    """
    if body.kind != "specific" and not can(context.principal.role, Capability.RUN_SYNC):
        raise Forbidden(f"Your role ({context.principal.role}) may only sync specific records.")
    _aware("start", body.start)
    _aware("end", body.end)
    try:
        run_request = RunRequest(
            kind=RunKind(body.kind),
            objects=tuple(body.objects),
            direction=body.direction,
            start=body.start,
            end=body.end,
            platform_ids=tuple(body.platform_ids),
            salesforce_ids=tuple(body.salesforce_ids),
            trigger="api",
            requested_by=context.principal.label,
        )
    except ValueError as exc:
        raise _invalid("body", str(exc)) from None
    run = enqueue_run(session, tenant_id=context.tenant_id, request=run_request)
    background.add_task(
        _run_in_background,
        request.app.state.session_factory,
        request.app.state.settings,
        context.tenant_id,
        run.id,
    )
    return run_view(run)


@router.get("/sync/runs")
def list_runs(
    request: Request,
    context: Viewer,
    session: DbSession,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    status: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """Runs, newest first."""
    scope = f"runs|{context.tenant_id}|{status}|{kind}"
    before = decode_cursor(_key(request), cursor, scope=scope) if cursor else None
    rows = runs_repo.list_runs(
        session,
        tenant_id=context.tenant_id,
        limit=_limit(request, limit) + 1,
        before=before,
        status=status,
        kind=kind,
    )
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = (
        encode_cursor(_key(request), scope=scope, position=(rows[-1].created_at, rows[-1].id))
        if more
        else None
    )
    return {"items": [run_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/sync/runs/{run_id}")
def get_run(run_id: str, context: Viewer, session: DbSession) -> dict[str, Any]:
    """One run: status, counts, timings and progress (done / total, rate, ETA)."""
    run = runs_repo.get_run(session, tenant_id=context.tenant_id, run_id=run_id)
    if run is None:
        from crmbridge.services.errors import NotFound

        raise NotFound("No run with this id.")
    return run_view(run)


@router.post("/sync/runs/{run_id}/cancel")
def cancel(run_id: str, context: Starter, session: DbSession) -> dict[str, Any]:
    """Ask a run to stop: a queued run ends at once, a running one after its current step."""
    return run_view(cancel_run(session, tenant_id=context.tenant_id, run_id=run_id))


# --- the sync log ------------------------------------------------------------------------


@router.get("/sync/records")
def list_sync_records(
    request: Request,
    context: Viewer,
    session: DbSession,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    direction: Literal["inbound", "outbound"] | None = None,
    object: Annotated[str | None, Query(max_length=80)] = None,
    record_id: Annotated[str | None, Query(max_length=36)] = None,
    outcome: Literal["succeeded", "failed", "retrying", "held", "skipped"] | None = None,
    run_id: Annotated[str | None, Query(max_length=36)] = None,
) -> dict[str, Any]:
    """The sync log (R-S9): one row per record-level operation, newest first."""
    _aware("since", since)
    _aware("until", until)
    scope = (
        f"sync-records|{context.tenant_id}|{since}|{until}|{direction}|{object}|"
        f"{record_id}|{outcome}|{run_id}"
    )
    position = decode_cursor(_key(request), cursor, scope=scope) if cursor else None
    before = (position[0], int(position[1])) if position else None
    rows = audit_repo.list_records(
        session,
        tenant_id=context.tenant_id,
        limit=_limit(request, limit) + 1,
        before=before,
        since=since,
        until=until,
        direction=direction,
        salesforce_object=object,
        record_id=record_id,
        outcome=outcome,
        run_id=run_id,
    )
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = (
        encode_cursor(_key(request), scope=scope, position=(rows[-1].created_at, str(rows[-1].id)))
        if more
        else None
    )
    return {"items": [sync_record_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/sync/records/{record_id}")
def get_sync_record(record_id: int, context: Viewer, session: DbSession) -> dict[str, Any]:
    """One row of the sync log."""
    row = audit_repo.get_record(session, tenant_id=context.tenant_id, record_id=record_id)
    if row is None:
        from crmbridge.services.errors import NotFound

        raise NotFound("No sync record with this id.")
    return sync_record_view(row)


# --- dead letters ---------------------------------------------------------------------------


class RetryIn(BaseModel):
    """Values to change before the retry (optional)."""

    model_config = ConfigDict(extra="forbid")

    #: Outbound: platform field values written to the platform record first. Inbound:
    #: Salesforce field values written to the Salesforce record first.
    values: dict[str, Any] | None = None


@router.get("/sync/dead-letters")
def list_dead_letters(
    request: Request,
    context: Viewer,
    session: DbSession,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    status: Literal["open", "retrying", "resolved", "discarded", "unsettled"] = "open",
    object: Annotated[str | None, Query(max_length=80)] = None,
    direction: Literal["inbound", "outbound"] | None = None,
) -> dict[str, Any]:
    """Failed records: ``open`` ones are dead letters waiting for an admin (R-S8)."""
    statuses = ("retrying", "open") if status == "unsettled" else (status,)
    scope = f"dead-letters|{context.tenant_id}|{status}|{object}|{direction}"
    before = decode_cursor(_key(request), cursor, scope=scope) if cursor else None
    rows = failures_repo.list_failures(
        session,
        tenant_id=context.tenant_id,
        limit=_limit(request, limit) + 1,
        statuses=statuses,
        before=before,
        salesforce_object=object,
        direction=direction,
    )
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = (
        encode_cursor(_key(request), scope=scope, position=(rows[-1].last_failed_at, rows[-1].id))
        if more
        else None
    )
    return {"items": [failures_service.failure_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/sync/dead-letters/{failure_id}")
def get_dead_letter(failure_id: str, context: Viewer, session: DbSession) -> dict[str, Any]:
    """One failed record with Salesforce's message and what to do."""
    row = failures_service.get_failure(session, tenant_id=context.tenant_id, failure_id=failure_id)
    return failures_service.failure_view(row)


@router.post("/sync/dead-letters/{failure_id}/retry")
def retry_dead_letter(
    failure_id: str,
    request: Request,
    context: Resolver,
    session: DbSession,
    body: RetryIn | None = None,
) -> dict[str, Any]:
    """Retry a failed record on the next run, optionally after editing its values."""
    row = failures_service.get_failure(session, tenant_id=context.tenant_id, failure_id=failure_id)
    values = body.values if body is not None else None
    overrides = None
    if values and row.direction == "outbound" and row.platform_id:
        records_service.update_record(
            session,
            tenant_id=context.tenant_id,
            entity=get_entity_type(row.platform_entity),
            record_id=row.platform_id,
            payload=values,
            context=ChangeContext(
                source="ui" if context.principal.kind == "user" else "api",
                origin=f"request:{getattr(request.state, 'request_id', '')}",
                actor=context.principal.actor,
            ),
        )
    elif values:
        overrides = values
    row = failures_service.retry_failure(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        failure_id=failure_id,
        overrides=overrides,
    )
    return failures_service.failure_view(row)


@router.post("/sync/dead-letters/{failure_id}/discard")
def discard_dead_letter(failure_id: str, context: Resolver, session: DbSession) -> dict[str, Any]:
    """Give up on a failed record."""
    row = failures_service.discard_failure(
        session, context.principal, tenant_id=context.tenant_id, failure_id=failure_id
    )
    return failures_service.failure_view(row)


# --- reviews ------------------------------------------------------------------------------


class ResolveIn(BaseModel):
    """An administrator's picks for a held conflict."""

    model_config = ConfigDict(extra="forbid")

    #: ``{field: "platform" | "salesforce"}`` for every held field; ``"_delete"`` for a
    #: held delete-versus-edit conflict.
    picks: dict[str, Literal["platform", "salesforce"]]


@router.get("/sync/reviews")
def list_reviews(
    request: Request,
    context: Viewer,
    session: DbSession,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    status: Literal["open", "resolved", "all"] = "open",
    object: Annotated[str | None, Query(max_length=80)] = None,
) -> dict[str, Any]:
    """Conflicts held for manual review, with both values per field (R-S4)."""
    scope = f"reviews|{context.tenant_id}|{status}|{object}"
    before = decode_cursor(_key(request), cursor, scope=scope) if cursor else None
    rows = reviews_repo.list_reviews(
        session,
        tenant_id=context.tenant_id,
        limit=_limit(request, limit) + 1,
        status=None if status == "all" else status,
        before=before,
        salesforce_object=object,
    )
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = (
        encode_cursor(_key(request), scope=scope, position=(rows[-1].created_at, rows[-1].id))
        if more
        else None
    )
    return {"items": [reviews_service.review_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/sync/reviews/{review_id}")
def get_review(review_id: str, context: Viewer, session: DbSession) -> dict[str, Any]:
    """One review."""
    review = reviews_service.get_review(session, tenant_id=context.tenant_id, review_id=review_id)
    return reviews_service.review_view(review)


@router.post("/sync/reviews/{review_id}/resolve")
def resolve_review(
    review_id: str, body: ResolveIn, context: Resolver, session: DbSession
) -> dict[str, Any]:
    """Pick a side per held field; the next run writes the picks to both sides."""
    try:
        review = reviews_service.resolve_review(
            session,
            context.principal,
            tenant_id=context.tenant_id,
            review_id=review_id,
            picks=body.picks,
        )
    except reviews_service.ReviewRejected as exc:
        raise _invalid("picks", exc.message) from None
    return reviews_service.review_view(review)


# --- status and settings --------------------------------------------------------------------


@router.get("/sync/status")
def sync_status(context: Viewer, session: DbSession) -> dict[str, Any]:
    """Per-object status lights with the time each object is synced up to (R-A8)."""
    statuses = object_statuses(session, context.tenant_id)
    return status_view(session, tenant_id=context.tenant_id, statuses=statuses)


@router.get("/sync/settings")
def get_settings(context: Viewer, session: DbSession) -> dict[str, Any]:
    """The tenant's sync settings (R-O1), defaults included."""
    return load_sync_settings(session, tenant_id=context.tenant_id).to_dict()


@router.put("/sync/settings")
def put_settings(body: dict[str, Any], context: Configurer, session: DbSession) -> dict[str, Any]:
    """Change sync settings (any subset); the change is audited (R-P5)."""
    try:
        saved = save_sync_settings(
            session, context.principal, tenant_id=context.tenant_id, changes=body
        )
    except ValidationError as exc:
        errors = [
            FieldError(field=".".join(str(p) for p in e["loc"]) or "body", message=e["msg"])
            for e in exc.errors()
        ]
        raise ProblemError(
            422,
            "The request has invalid fields; nothing was changed.",
            slug="validation-error",
            errors=errors,
        ) from None
    return saved.to_dict()
