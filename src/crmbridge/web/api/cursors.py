"""Opaque, signed pagination cursors over ``(updated_at, id)``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime

from crmbridge.domain.entities import FieldError
from crmbridge.web.problems import ProblemError

_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(key: bytes, *, scope: str, position: tuple[datetime, str]) -> str:
    """A cursor for continuing a list of ``scope`` (entity type and filters) after ``position``."""
    payload = json.dumps(
        {"s": scope, "u": position[0].isoformat(), "i": position[1]}, separators=(",", ":")
    ).encode()
    signature = hmac.new(key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return _b64(payload) + "." + _b64(signature)


def decode_cursor(key: bytes, cursor: str, *, scope: str) -> tuple[datetime, str]:
    """The position in ``cursor``; a 422 problem when it was altered or is for another list."""
    try:
        body, _, sig = cursor.partition(".")
        payload = _unb64(body)
        expected = hmac.new(key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        if not hmac.compare_digest(expected, _unb64(sig)):
            raise ValueError("signature")
        data = json.loads(payload)
        if data["s"] != scope:
            raise ValueError("scope")
        updated_at = datetime.fromisoformat(data["u"])
        record_id = str(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ProblemError(
            422,
            "The cursor is not valid for this list: pass back the next_cursor value of the "
            "previous page unchanged, with the same filters.",
            slug="invalid-cursor",
            errors=[FieldError(field="cursor", message="is not a valid cursor for this list")],
        ) from None
    return updated_at, record_id
