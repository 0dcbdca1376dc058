"""The receivers' secrets: issued and rotated by an admin, shown once (R-S2).

- The **Outbound Message URL** carries a random secret in its path
  (``…/outbound-messages/{tenant_id}/{secret}``): Salesforce's outbound messages
  cannot sign their requests, so knowing the URL is the credential, together with
  the ``OrganizationId`` inside each message (SOAP API Developer Guide, "Outbound
  Messaging Security": verify the organization id, use HTTPS). Only its SHA-256 is
  stored.
- The **webhook signing secret** is the HMAC key of the Flow/Apex webhook; the
  receiver needs it to compute signatures, so it is stored sealed.

Rotating one replaces it at once; the old one stops working.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.config import Settings
from crmbridge.crypto import SecretBox
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.store.db import utcnow
from crmbridge.store.push_models import InboundEndpoint
from crmbridge.store.repositories import inbox as repo

#: Path of the Outbound Message receiver under the API prefix.
OUTBOUND_MESSAGE_PATH = "/api/v1/inbound/salesforce/outbound-messages"
#: Path of the webhook receiver under the API prefix.
WEBHOOK_PATH = "/api/v1/inbound/salesforce/webhook"
#: Webhook secrets start with this, so people can tell them from other keys.
WEBHOOK_SECRET_PREFIX = "whsec_"


class SecretKind(enum.StrEnum):
    """Which receiver secret to rotate."""

    OUTBOUND_MESSAGE = "outbound_message"
    WEBHOOK = "webhook"
    BOTH = "both"


@dataclass(frozen=True, kw_only=True)
class IssuedSecrets:
    """New secrets, shown once."""

    #: The full Outbound Message endpoint URL, secret included, when it was rotated.
    outbound_message_url: str | None
    #: The webhook signing secret, when it was rotated.
    webhook_secret: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def outbound_message_url(settings: Settings, *, tenant_id: str, secret: str) -> str:
    """The endpoint URL to enter in Salesforce's Outbound Message definition."""
    return f"{settings.base_url.rstrip('/')}{OUTBOUND_MESSAGE_PATH}/{tenant_id}/{secret}"


def webhook_url(settings: Settings, *, tenant_id: str) -> str:
    """The URL a Flow HTTP Callout or Apex posts to."""
    return f"{settings.base_url.rstrip('/')}{WEBHOOK_PATH}/{tenant_id}"


def rotate_secrets(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    settings: Settings,
    box: SecretBox,
    kind: SecretKind = SecretKind.BOTH,
) -> IssuedSecrets:
    """Issue new receiver secrets (the first call creates them); audited, never logged."""
    now = utcnow()
    endpoint = repo.get_endpoint(session, tenant_id)
    if endpoint is None:
        endpoint = repo.add_endpoint(
            session,
            InboundEndpoint(tenant_id=tenant_id, created_at=now, rotated_at=now, rotated_by=""),
        )
    url: str | None = None
    webhook_secret: str | None = None
    if kind in (SecretKind.OUTBOUND_MESSAGE, SecretKind.BOTH):
        secret = secrets.token_urlsafe(32)
        endpoint.outbound_secret_hash = _hash(secret)
        url = outbound_message_url(settings, tenant_id=tenant_id, secret=secret)
    if kind in (SecretKind.WEBHOOK, SecretKind.BOTH):
        webhook_secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
        endpoint.webhook_secret_sealed = box.seal(webhook_secret)
    endpoint.rotated_at = now
    endpoint.rotated_by = principal.label[:254]
    session.flush()
    record_audit(
        session,
        principal,
        action="inbound.secrets.rotate",
        target_type="inbound_endpoint",
        target_id=tenant_id,
        tenant_id=tenant_id,
        after={"rotated": kind.value},
    )
    return IssuedSecrets(outbound_message_url=url, webhook_secret=webhook_secret)


def outbound_secret_matches(session: Session, *, tenant_id: str, secret: str) -> bool:
    """Whether ``secret`` is the tenant's Outbound Message URL secret."""
    endpoint = repo.get_endpoint(session, tenant_id)
    expected = endpoint.outbound_secret_hash if endpoint is not None else None
    # Compare even when there is nothing to compare with, so timing tells nothing.
    return hmac.compare_digest(expected or "0" * 64, _hash(secret)) and expected is not None


def webhook_signing_secret(session: Session, *, tenant_id: str, box: SecretBox) -> str | None:
    """The tenant's webhook signing secret, if one was issued."""
    endpoint = repo.get_endpoint(session, tenant_id)
    if endpoint is None or not endpoint.webhook_secret_sealed:
        return None
    return box.open(endpoint.webhook_secret_sealed)


def receiver_view(session: Session, settings: Settings, *, tenant_id: str) -> dict[str, Any]:
    """What an admin sees about the receivers (never a secret)."""
    endpoint = repo.get_endpoint(session, tenant_id)
    received = repo.last_received_at(session, tenant_id=tenant_id)
    return {
        "outbound_message_url": outbound_message_url(
            settings, tenant_id=tenant_id, secret="<secret>"
        ),
        "outbound_message_secret_set": bool(endpoint and endpoint.outbound_secret_hash),
        "webhook_url": webhook_url(settings, tenant_id=tenant_id),
        "webhook_secret_set": bool(endpoint and endpoint.webhook_secret_sealed),
        "rotated_at": endpoint.rotated_at.isoformat() if endpoint else None,
        "rotated_by": endpoint.rotated_by if endpoint else None,
        "last_entry_received_at": received.isoformat() if received else None,
        "entries": repo.count_by_status(session, tenant_id=tenant_id),
    }
