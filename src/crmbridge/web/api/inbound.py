"""Push inbound (R-S2): the Outbound Message and webhook receivers, and their admin API.

Endpoints (under /api/v1) and who may call them:

| endpoint | who |
|---|---|
| ``POST /inbound/salesforce/outbound-messages/{tenant_id}/{secret}`` | Salesforce (the secret) |
| ``POST /inbound/salesforce/webhook/{tenant_id}`` | a Flow or Apex callout (HMAC signature) |
| ``GET /inbound/settings``, ``POST /inbound/secrets`` | CLIENT_ADMIN, SUPER_ADMIN |
| ``GET /inbound/entries``, ``GET /inbound/entries/{id}`` | every role of the tenant |
| ``POST /inbound/entries/{id}/retry`` | CLIENT_STAFF and up |
| ``POST /inbound/process`` (apply pending entries now) | CLIENT_ADMIN, SUPER_ADMIN |

The receivers manage their own transaction: they answer only after the commit, so an
acknowledgement always means "stored".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crmbridge.crypto import secret_box_for
from crmbridge.push import inbox_admin, receiving
from crmbridge.push.errors import (
    PushRejected,
    ReceiverInactive,
    ReceiverNotFound,
    SignatureInvalid,
    WrongOrg,
)
from crmbridge.push.processing import drain_inbox
from crmbridge.push.secrets import SecretKind, receiver_view, rotate_secrets
from crmbridge.push.soap import (
    SOAP_CONTENT_TYPE,
    MalformedMessage,
    ack_response,
    fault_response,
    parse_outbound_message,
)
from crmbridge.push.webhook import SIGNATURE_HEADER, InvalidPayload, parse_webhook_payload
from crmbridge.services.access import Capability
from crmbridge.services.errors import Conflict
from crmbridge.store.db import utcnow
from crmbridge.web.deps import Configurer, DbSession, TenantContext, Viewer, get_settings, require
from crmbridge.web.problems import problem_response
from crmbridge.worker.leases import holding_lease, tenant_lease_name

router = APIRouter(tags=["inbound"])
log = structlog.get_logger(__name__)

Retrier = Annotated[TenantContext, Depends(require(Capability.RESOLVE_REVIEW))]
Runner = Annotated[TenantContext, Depends(require(Capability.RUN_SYNC))]
T = TypeVar("T")

#: Status of each refusal (docs/api.md, "Push inbound").
_REFUSALS: dict[type[PushRejected], int] = {
    ReceiverNotFound: 404,
    SignatureInvalid: 401,
    ReceiverInactive: 403,
    WrongOrg: 403,
}


def _in_transaction(app: FastAPI, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction, committed before returning (or rolled back)."""
    session: Session = app.state.session_factory()
    try:
        result = work(session)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- receivers -----------------------------------------------------------------------------


def _soap(status: int, body: bytes) -> Response:
    return Response(content=body, status_code=status, media_type=SOAP_CONTENT_TYPE)


def _wake_worker(app: FastAPI) -> None:
    """Tell an in-process worker (``serve --with-worker``, the demo) that entries wait."""
    wake = getattr(app.state, "wake_worker", None)
    if wake is not None:
        wake()


@router.post(
    "/inbound/salesforce/outbound-messages/{tenant_id}/{secret}",
    response_class=Response,
    responses={
        200: {"content": {"text/xml": {}}, "description": "notificationsResponse, Ack true"},
        400: {"description": "not an Outbound Message (SOAP fault)"},
        403: {"description": "another org, or a suspended tenant (SOAP fault)"},
        404: {"description": "unknown tenant or wrong secret (SOAP fault)"},
        500: {"description": "not stored; Salesforce retries (SOAP fault)"},
    },
)
async def receive_outbound_message(tenant_id: str, secret: str, request: Request) -> Response:
    """Salesforce Outbound Messages: store every notification, commit, then acknowledge."""
    body = await request.body()

    def store(session: Session) -> receiving.Stored:
        # Who is asking comes before what they sent: a wrong secret learns nothing more.
        receiving.check_outbound_secret(session, tenant_id=tenant_id, secret=secret)
        message = parse_outbound_message(body)
        receiving.check_sender_org(
            session, tenant_id=tenant_id, organization_id=message.organization_id
        )
        return receiving.store_outbound_message(
            session, tenant_id=tenant_id, message=message, now=utcnow()
        )

    try:
        stored = await run_in_threadpool(_in_transaction, request.app, store)
    except MalformedMessage as exc:
        return _soap(400, fault_response(f"Not an Outbound Message: {exc}", client=True))
    except PushRejected as exc:
        return _soap(_REFUSALS.get(type(exc), 403), fault_response(exc.message, client=True))
    except Exception:
        log.exception("inbound.outbound_message_failed", tenant_id=tenant_id)
        # Nothing was stored: the fault makes Salesforce deliver the message again later.
        return _soap(500, fault_response("The message could not be stored.", client=False))
    log.info(
        "inbound.outbound_message", tenant_id=tenant_id, received=stored.received, new=stored.new
    )
    _wake_worker(request.app)
    return _soap(200, ack_response())


class WebhookAccepted(BaseModel):
    #: Records in the request.
    received: int
    #: Of those, new to the inbox (the rest were delivered before).
    new: int


@router.post(
    "/inbound/salesforce/webhook/{tenant_id}",
    status_code=202,
    response_model=WebhookAccepted,
    responses={
        400: {"description": "not JSON"},
        401: {"description": "signature missing, stale or wrong; or unknown tenant"},
        403: {"description": "another org, or a suspended tenant"},
        422: {"description": "not the documented payload"},
    },
)
async def receive_webhook(tenant_id: str, request: Request) -> Response:
    """Changed records from a Flow HTTP Callout or Apex: verify, store, then answer 202."""
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER)
    settings = get_settings(request)

    def store(session: Session) -> receiving.Stored:
        now = utcnow()
        receiving.check_webhook_signature(
            session,
            tenant_id=tenant_id,
            box=secret_box_for(settings),
            signature=signature,
            body=body,
            now=now,
        )
        payload = parse_webhook_payload(body)
        receiving.check_sender_org(
            session, tenant_id=tenant_id, organization_id=payload.organization_id
        )
        key = receiving.webhook_event_key(
            signature=signature or "", body=body, event_id=payload.event_id
        )
        return receiving.store_webhook_payload(
            session, tenant_id=tenant_id, payload=payload, event_key=key, now=now
        )

    instance = request.url.path.rsplit("/", 1)[0] + "/{tenant_id}"
    try:
        stored = await run_in_threadpool(_in_transaction, request.app, store)
    except InvalidPayload as exc:
        if str(exc) == "the body is not JSON":
            return problem_response(
                400, "The request body is not valid JSON.", slug="invalid-json", instance=instance
            )
        return problem_response(
            422,
            f"Not a webhook payload: {exc}. Nothing was stored.",
            slug="invalid-webhook-payload",
            instance=instance,
        )
    except SignatureInvalid as exc:
        return problem_response(
            401,
            f"Webhook signature rejected: {exc.message}.",
            slug="invalid-signature",
            instance=instance,
        )
    except PushRejected as exc:
        status = _REFUSALS.get(type(exc), 403)
        return problem_response(status, exc.message, instance=instance)
    _wake_worker(request.app)
    return JSONResponse({"received": stored.received, "new": stored.new}, status_code=202)


# --- admin -------------------------------------------------------------------------------------


class ReceiverSettingsOut(BaseModel):
    outbound_message_url: str
    outbound_message_secret_set: bool
    webhook_url: str
    webhook_secret_set: bool
    rotated_at: datetime | None
    rotated_by: str | None
    last_entry_received_at: datetime | None
    #: Entries per status.
    entries: dict[str, int]


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Which secret to replace.
    rotate: SecretKind = SecretKind.BOTH


class SecretsOut(BaseModel):
    #: The full endpoint URL for Salesforce's Outbound Message, secret included: shown once.
    outbound_message_url: str | None
    #: The webhook signing secret: shown once.
    webhook_secret: str | None
    webhook_url: str
    signature_header: str = SIGNATURE_HEADER


class InboxEntryOut(BaseModel):
    id: int
    source: Literal["outbound_message", "webhook"]
    dedupe_key: str
    object: str
    salesforce_id: str
    fields: dict[str, Any]
    ids_only: bool
    action_id: str | None
    status: Literal["pending", "processed", "failed", "skipped"]
    attempts: int
    error_category: str | None
    error_message: str | None
    received_at: datetime
    next_attempt_at: datetime | None
    processed_at: datetime | None
    run_id: str | None


@router.get("/inbound/settings", response_model=ReceiverSettingsOut)
def get_receiver_settings(
    context: Configurer, session: DbSession, request: Request
) -> ReceiverSettingsOut:
    """The receiver URLs (the secret masked), whether secrets are set, entry counts."""
    view = receiver_view(session, get_settings(request), tenant_id=context.tenant_id)
    return ReceiverSettingsOut(**view)


@router.post("/inbound/secrets", status_code=201, response_model=SecretsOut)
def issue_secrets(
    body: RotateIn, context: Configurer, session: DbSession, request: Request
) -> SecretsOut:
    """Issue or rotate the receiver secrets; the answer is the only time they are shown."""
    settings = get_settings(request)
    issued = rotate_secrets(
        session,
        context.principal,
        tenant_id=context.tenant_id,
        settings=settings,
        box=secret_box_for(settings),
        kind=body.rotate,
    )
    view = receiver_view(session, settings, tenant_id=context.tenant_id)
    return SecretsOut(
        outbound_message_url=issued.outbound_message_url,
        webhook_secret=issued.webhook_secret,
        webhook_url=view["webhook_url"],
    )


@router.get("/inbound/entries", response_model=list[InboxEntryOut])
def list_inbox_entries(
    context: Viewer,
    session: DbSession,
    status: Annotated[Literal["pending", "processed", "failed", "skipped"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> list[InboxEntryOut]:
    """Pushed entries, newest first; ``status=failed`` lists the held ones."""
    entries = inbox_admin.list_entries(
        session, tenant_id=context.tenant_id, status=status, before_id=before_id, limit=limit
    )
    return [InboxEntryOut(**inbox_admin.entry_view(entry)) for entry in entries]


@router.get("/inbound/entries/{entry_id}", response_model=InboxEntryOut)
def get_inbox_entry(entry_id: int, context: Viewer, session: DbSession) -> InboxEntryOut:
    """One entry with its fields and outcome."""
    entry = inbox_admin.get_entry(session, tenant_id=context.tenant_id, entry_id=entry_id)
    return InboxEntryOut(**inbox_admin.entry_view(entry))


@router.post("/inbound/entries/{entry_id}/retry", response_model=InboxEntryOut)
def retry_inbox_entry(
    entry_id: int, context: Retrier, session: DbSession, request: Request
) -> InboxEntryOut:
    """Put a failed or skipped entry back in line (processed by the next drain)."""
    entry = inbox_admin.retry_entry(
        session, context.principal, tenant_id=context.tenant_id, entry_id=entry_id
    )
    _wake_worker(request.app)
    return InboxEntryOut(**inbox_admin.entry_view(entry))


class DrainOut(BaseModel):
    processed: int
    failed: int
    skipped: int
    #: Left pending for a later try (the connection is paused, or the run could not work).
    deferred: int
    #: The sync run that re-read records, if one was needed.
    run_id: str | None


@router.post("/inbound/process", response_model=DrainOut)
def process_inbox(context: Runner, session: DbSession, request: Request) -> DrainOut:
    """Apply the tenant's pending entries now (whatever the sync frequency)."""
    # End the request's own transaction first (authentication wrote the key's last use):
    # the drain writes in transactions of its own, and SQLite has one writer at a time.
    session.commit()
    app = request.app
    settings = get_settings(request)
    factory = app.state.session_factory
    with holding_lease(
        factory,
        name=tenant_lease_name(context.tenant_id),
        holder=f"api:{uuid.uuid4()}",
        clock=utcnow,
    ) as held:
        if not held:
            raise Conflict(
                "A sync of this tenant is in progress; its pending entries are applied when "
                "it ends."
            )
        report = drain_inbox(factory, settings, context.tenant_id)
    return DrainOut(
        processed=report.processed,
        failed=report.failed,
        skipped=report.skipped,
        deferred=report.deferred,
        run_id=report.run_id,
    )
