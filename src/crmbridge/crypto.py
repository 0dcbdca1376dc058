"""Encryption of secrets at rest (R-A6): consumer secrets, passwords, security tokens,
access and refresh tokens.

Values are sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a
key derived from ``CRMBRIDGE_SECRET_KEY``. Rotation: put the new key in
``CRMBRIDGE_SECRET_KEY`` and the old one(s) in ``CRMBRIDGE_SECRET_KEY_PREVIOUS``
(comma-separated); everything still opens, new writes use the new key, and
``crmbridge secrets rotate`` re-seals what is stored (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from crmbridge.config import Settings

#: Sealed values start with this, so a reader can tell them from clear text.
PREFIX = "enc1:"


class SecretKeyMissing(RuntimeError):
    """No CRMBRIDGE_SECRET_KEY is configured."""


class SecretUnreadable(ValueError):
    """A sealed value does not open with any configured key."""


def _fernet(secret: str) -> Fernet:
    # Derive a 32-byte Fernet key from any operator-chosen string; the domain label
    # keeps this key apart from other uses of the same secret (session signing).
    digest = hashlib.sha256(b"crmbridge/secrets-at-rest/v1\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SecretBox:
    """Seals and opens secrets with the current key and any previous keys."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        if not current:
            raise SecretKeyMissing(
                "CRMBRIDGE_SECRET_KEY is not set: secrets cannot be stored without it."
            )
        self._multi = MultiFernet([_fernet(current), *(_fernet(p) for p in previous if p)])

    def seal(self, clear: str) -> str:
        """Encrypt ``clear`` (a fresh IV each time, so equal inputs differ)."""
        return PREFIX + self._multi.encrypt(clear.encode()).decode()

    def open(self, sealed: str) -> str:
        """Decrypt a value made by :meth:`seal` under the current or a previous key."""
        if not sealed.startswith(PREFIX):
            raise SecretUnreadable("not a sealed value")
        try:
            return self._multi.decrypt(sealed[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "a stored secret does not open with CRMBRIDGE_SECRET_KEY or "
                "CRMBRIDGE_SECRET_KEY_PREVIOUS (was the key changed without keeping the old one?)"
            ) from None

    def reseal(self, sealed: str) -> str:
        """Re-encrypt a sealed value under the current key (key rotation)."""
        if not sealed.startswith(PREFIX):
            raise SecretUnreadable("not a sealed value")
        try:
            return PREFIX + self._multi.rotate(sealed[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "a stored secret does not open with any configured key"
            ) from None


def secret_box_for(settings: Settings) -> SecretBox:
    """The box of this installation: ``CRMBRIDGE_SECRET_KEY`` plus the previous keys.

    In development without ``CRMBRIDGE_SECRET_KEY`` the key kept in the data directory
    is used (see :meth:`crmbridge.config.Settings.effective_secret_key`).
    """
    return SecretBox(settings.effective_secret_key(), settings.previous_secret_keys())


def is_sealed(value: str | None) -> bool:
    """Whether ``value`` looks like the output of :meth:`SecretBox.seal`."""
    return bool(value) and str(value).startswith(PREFIX)


def mask(secret: str | None) -> str:
    """How a write-only secret is shown: set or not, and its last four characters at most."""
    if not secret:
        return ""
    tail = secret[-4:] if len(secret) >= 12 else ""
    return "••••••••" + tail
