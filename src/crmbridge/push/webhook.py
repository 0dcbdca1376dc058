"""The JSON webhook for Flow and Apex callouts: signature check and payload reading.

A Flow (HTTP Callout action) or an Apex trigger posts changed records to
``/api/v1/inbound/salesforce/webhook/{tenant_id}``::

    X-Crmbridge-Signature: t=1717000000,v1=<hex HMAC-SHA256(secret, "1717000000." + body)>

    {"organization_id": "00D…", "object": "Contact",
     "records": [{"Id": "003…", "LastName": "Lovelace"}], "event_id": "optional"}

Records are written as the REST API and Apex's ``JSON.serialize`` write them: fields,
and parent records as nested objects (``"Account": {"Name": "Acme"}``). Or send
``"ids": ["003…", …]`` instead of ``records`` when the sender only knows which
records changed. The timestamp is Unix seconds; a request older or newer than the
replay window (5 minutes) is refused, so a captured request cannot be replayed later,
and signing the timestamp with the body means it cannot be changed. The signature
scheme is the one Stripe and GitHub made familiar; in Apex it is
``EncodingUtil.convertToHex(Crypto.generateMac('hmacSHA256',
Blob.valueOf(t + '.' + body), Blob.valueOf(secret)))``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

#: The request header carrying the timestamp and signature.
SIGNATURE_HEADER = "X-Crmbridge-Signature"
#: How far a request's timestamp may be from the receiver's clock.
REPLAY_WINDOW_SECONDS = 300
#: Records one request may carry (a Flow collection callout sends at most 200 at once).
MAX_RECORDS = 200

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


class SignatureRejected(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


class InvalidPayload(ValueError):
    """The body is not a webhook payload; the message says what is wrong."""


@dataclass(frozen=True, kw_only=True)
class SignatureHeader:
    """The parts of the signature header."""

    timestamp: int
    #: Hex signatures (several ``v1`` values are allowed while a secret is rotated).
    signatures: tuple[str, ...]


def parse_signature_header(value: str | None) -> SignatureHeader:
    """Read ``t=<unix seconds>,v1=<hex>[,v1=<hex>]``.

    Raises:
        SignatureRejected: missing or malformed.
    """
    if not value:
        raise SignatureRejected(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and re.fullmatch(r"[0-9a-fA-F]{64}", item):
            signatures.append(item.lower())
    if timestamp is None or not signatures:
        raise SignatureRejected(
            f"the {SIGNATURE_HEADER} header must be 't=<unix seconds>,v1=<hex>'"
        )
    return SignatureHeader(timestamp=timestamp, signatures=tuple(signatures))


def check_timestamp(header: SignatureHeader, *, now_seconds: float) -> None:
    """Refuse a request outside the replay window.

    Raises:
        SignatureRejected: the timestamp is too old or too far ahead.
    """
    if abs(now_seconds - header.timestamp) > REPLAY_WINDOW_SECONDS:
        raise SignatureRejected(
            f"the signature timestamp is more than {REPLAY_WINDOW_SECONDS} seconds away from "
            "the receiver's clock (a replayed request, or a sender clock that is wrong)"
        )


def sign(secret: str, *, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, *, timestamp: int, body: bytes) -> str:
    """The header value a sender puts on ``body`` (used by tests and the docs)."""
    return f"t={timestamp},v1={sign(secret, timestamp=timestamp, body=body)}"


def signature_matches(secret: str, header: SignatureHeader, *, body: bytes) -> bool:
    """Whether one of the header's signatures is ``body``'s under ``secret``."""
    expected = sign(secret, timestamp=header.timestamp, body=body)
    # Compare every candidate in constant time; no early exit reveals which matched.
    matches = [hmac.compare_digest(expected, candidate) for candidate in header.signatures]
    return any(matches)


@dataclass(frozen=True, kw_only=True)
class WebhookPayload:
    """A webhook request's content."""

    organization_id: str
    #: The sObject type.
    sobject: str
    #: Per record: its id and the fields sent (``{}`` when only ids came).
    records: tuple[tuple[str, dict[str, Any]], ...]
    #: The sender's own id for this event, for de-duplication.
    event_id: str | None


def parse_webhook_payload(body: bytes) -> WebhookPayload:
    """Read and check a webhook body.

    Raises:
        InvalidPayload: not JSON, or not the documented shape.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidPayload("the body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidPayload("the body must be a JSON object")
    unknown = set(data) - {"organization_id", "object", "records", "ids", "event_id"}
    if unknown:
        raise InvalidPayload(f"unknown keys: {', '.join(sorted(unknown))}")
    organization_id = data.get("organization_id")
    if not isinstance(organization_id, str) or not _SALESFORCE_ID.match(organization_id):
        raise InvalidPayload("organization_id must be the sending org's id ($Organization.Id)")
    sobject = data.get("object")
    if not isinstance(sobject, str) or not _API_NAME.match(sobject):
        raise InvalidPayload("object must be an sObject API name, e.g. Contact")
    event_id = data.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not 0 < len(event_id) <= 200):
        raise InvalidPayload("event_id must be a string of 1 to 200 characters")
    if ("records" in data) == ("ids" in data):
        raise InvalidPayload("send either records or ids")
    records = _records(data["records"]) if "records" in data else _ids(data["ids"])
    return WebhookPayload(
        organization_id=organization_id, sobject=sobject, records=records, event_id=event_id
    )


def _checked_count(items: Any, name: str) -> list[Any]:
    if not isinstance(items, list) or not items:
        raise InvalidPayload(f"{name} must be a non-empty list")
    if len(items) > MAX_RECORDS:
        raise InvalidPayload(f"{name} holds {len(items)} items; at most {MAX_RECORDS}")
    return items


def _ids(items: Any) -> tuple[tuple[str, dict[str, Any]], ...]:
    result: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(_checked_count(items, "ids")):
        if not isinstance(item, str) or not _SALESFORCE_ID.match(item):
            raise InvalidPayload(f"ids[{index}] is not a Salesforce id")
        result.append((item, {}))
    return tuple(result)


def _records(items: Any) -> tuple[tuple[str, dict[str, Any]], ...]:
    result: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(_checked_count(items, "records")):
        if not isinstance(item, dict):
            raise InvalidPayload(f"records[{index}] must be an object")
        record_id = item.get("Id")
        if not isinstance(record_id, str) or not _SALESFORCE_ID.match(record_id):
            raise InvalidPayload(f"records[{index}] has no valid Id")
        result.append((record_id, _fields(item, f"records[{index}]", depth=0)))
    return tuple(result)


#: Parent relationships a record may carry, as SOQL allows (five levels up).
MAX_PARENT_DEPTH = 5


def _fields(item: dict[str, Any], where: str, *, depth: int) -> dict[str, Any]:
    """A record's fields: scalars, and parent records (``"Account": {"Name": …}``) as
    REST and Apex's ``JSON.serialize`` write them; ``attributes`` is dropped."""
    fields: dict[str, Any] = {}
    for name, value in item.items():
        if name == "attributes":
            continue
        if not _API_NAME.match(name):
            raise InvalidPayload(f"{where} has an invalid field name {name!r}")
        if isinstance(value, dict):
            if depth + 1 > MAX_PARENT_DEPTH:
                raise InvalidPayload(f"{where}.{name}: parents nest at most 5 levels")
            value = _fields(value, f"{where}.{name}", depth=depth + 1)
        elif isinstance(value, list):
            raise InvalidPayload(
                f"{where}.{name}: lists (child records) cannot be sent; send the children's "
                "own records"
            )
        fields[name] = value
    return fields
