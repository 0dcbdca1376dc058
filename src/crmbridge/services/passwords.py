"""Password hashing with Argon2 (pwdlib's recommended hasher)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An Argon2 hash of ``password`` (salted; safe to store)."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; spends the same time when there is no hash."""
    if password_hash is None:
        # Hash anyway so that unknown e-mails take as long as wrong passwords.
        _hasher().hash(password)
        return False
    return _hasher().verify(password, password_hash)
