"""Storing pushed changes: verify who sent them, keep each once, in one transaction.

The receivers answer Salesforce only after the caller committed what these functions
add: an Outbound Message is acknowledged only once every notification in it is stored,
so a crash before the commit makes Salesforce deliver it again, and a crash after it
(the Ack lost) makes Salesforce deliver a message whose notifications are already
stored: they are skipped by their notification id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.connections import record_inbound_entry
from crmbridge.crypto import SecretBox
from crmbridge.push.errors import ReceiverInactive, ReceiverNotFound, SignatureInvalid, WrongOrg
from crmbridge.push.secrets import outbound_secret_matches, webhook_signing_secret
from crmbridge.push.soap import OutboundMessage, same_org_id
from crmbridge.push.webhook import (
    SignatureRejected,
    WebhookPayload,
    check_timestamp,
    parse_signature_header,
    signature_matches,
)
from crmbridge.store.repositories import inbox as repo
from crmbridge.store.repositories import salesforce_connections as connections
from crmbridge.store.repositories import tenants


@dataclass(frozen=True, kw_only=True)
class Stored:
    """What a delivery added to the inbox."""

    #: Records the delivery carried.
    received: int
    #: Of those, how many were new (the rest were delivered before).
    new: int


def check_outbound_secret(session: Session, *, tenant_id: str, secret: str) -> None:
    """Accept an Outbound Message only with the secret of the tenant's receiver URL.

    Raises:
        ReceiverNotFound: unknown tenant or wrong secret (answered alike, so the answer
            does not tell whether a tenant exists).
    """
    if not outbound_secret_matches(session, tenant_id=tenant_id, secret=secret):
        raise ReceiverNotFound()


def check_webhook_signature(
    session: Session,
    *,
    tenant_id: str,
    box: SecretBox,
    signature: str | None,
    body: bytes,
    now: datetime,
) -> None:
    """Accept a webhook request only with a fresh, matching signature.

    Raises:
        SignatureInvalid: missing, malformed, outside the replay window, or not made
            with the tenant's secret (an unknown tenant answers the same).
    """
    try:
        header = parse_signature_header(signature)
        check_timestamp(header, now_seconds=now.timestamp())
    except SignatureRejected as exc:
        raise SignatureInvalid(str(exc)) from None
    secret = webhook_signing_secret(session, tenant_id=tenant_id, box=box)
    if secret is None or not signature_matches(secret, header, body=body):
        raise SignatureInvalid("the signature does not match the body")


def check_sender_org(session: Session, *, tenant_id: str, organization_id: str) -> None:
    """The sending org must be the one the tenant is connected to (after the secret).

    Raises:
        ReceiverNotFound: the tenant no longer exists.
        ReceiverInactive: the tenant is suspended.
        WrongOrg: the tenant holds no org, or another one.
    """
    tenant = tenants.get_tenant(session, tenant_id)
    if tenant is None:
        raise ReceiverNotFound()
    if tenant.status != "active":
        raise ReceiverInactive()
    connection = connections.get_connection(session, tenant_id)
    # held_org_id stays set while the org is connected or waits for re-authorization,
    # so changes pushed meanwhile are kept and applied once the connection is back.
    held = connection.held_org_id if connection is not None else None
    if not held:
        raise WrongOrg("This tenant has no connected Salesforce org.")
    if not same_org_id(held, organization_id):
        raise WrongOrg(
            f"The message comes from org {organization_id}; this tenant is connected to "
            "another org."
        )


def store_outbound_message(
    session: Session, *, tenant_id: str, message: OutboundMessage, now: datetime
) -> Stored:
    """Add every notification of a message to the inbox (each notification id once)."""
    rows = [
        _row(
            tenant_id=tenant_id,
            source="outbound_message",
            dedupe_key=note.notification_id,
            sobject=note.sobject,
            salesforce_id=note.record_id,
            fields=dict(note.fields),
            action_id=message.action_id,
            now=now,
        )
        for note in message.notifications
    ]
    return _store(session, tenant_id=tenant_id, rows=rows, now=now)


def webhook_event_key(*, signature: str, body: bytes, event_id: str | None) -> str:
    """What makes a webhook delivery the same delivery: the sender's event id, else the
    signed timestamp and body (a retried request repeats both; a new event does not)."""
    if event_id:
        return f"event:{event_id}"
    timestamp = signature.split(",", 1)[0]
    return "body:" + hashlib.sha256(timestamp.encode() + b"." + body).hexdigest()


def store_webhook_payload(
    session: Session, *, tenant_id: str, payload: WebhookPayload, event_key: str, now: datetime
) -> Stored:
    """Add every record of a webhook request to the inbox (once per event and record)."""
    rows = [
        _row(
            tenant_id=tenant_id,
            source="webhook",
            dedupe_key=f"{event_key}:{record_id}"[:255],
            sobject=payload.sobject,
            salesforce_id=record_id,
            fields=fields,
            action_id="",
            now=now,
        )
        for record_id, fields in payload.records
    ]
    return _store(session, tenant_id=tenant_id, rows=rows, now=now)


def _row(
    *,
    tenant_id: str,
    source: str,
    dedupe_key: str,
    sobject: str,
    salesforce_id: str,
    fields: dict[str, Any],
    action_id: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "source": source,
        "dedupe_key": dedupe_key,
        "sobject": sobject,
        "salesforce_id": salesforce_id,
        "fields": fields,
        "action_id": action_id[:18],
        "status": "pending",
        "attempts": 0,
        "error_category": "",
        "error_message": "",
        "received_at": now,
    }


def _store(
    session: Session, *, tenant_id: str, rows: Iterable[dict[str, Any]], now: datetime
) -> Stored:
    rows = list(rows)
    new = repo.add_entries_once(session, rows)
    # "Last Entry Received" on the connection's health (R-A8, seed 002 Status tab).
    record_inbound_entry(session, tenant_id=tenant_id, at=now)
    return Stored(received=len(rows), new=new)
