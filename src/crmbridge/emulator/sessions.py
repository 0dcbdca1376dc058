"""Credentials, the connected app, sessions and refresh tokens of the emulated org.

Everything lives in the org's SQLite file, so a restart keeps passwords, tokens and
the connected app. Access tokens look like Salesforce session ids: the 15-character
org id, ``!``, then an opaque part (``00D…!AQ…``).
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext

_TOKEN_CHARS = string.ascii_letters + string.digits + "._"
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class AuthFailure(Exception):
    """A login, grant or refresh that Salesforce would refuse."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        #: OAuth ``error`` (invalid_grant, invalid_client, inactive_user …).
        self.error = error
        #: OAuth ``error_description``.
        self.description = description


@dataclass(frozen=True, kw_only=True)
class Session:
    """A live API session (an OAuth access token or a SOAP session id)."""

    token: str
    user_id: str
    org_id: str
    #: Consumer key of the connected app, or "" for SOAP logins.
    client_id: str
    #: ``oauth`` or ``soap``.
    kind: str
    scope: str
    #: Issue time in epoch milliseconds (the token response's ``issued_at``).
    issued_at_ms: int
    #: Expiry in epoch seconds, by the org's clock.
    expires_at: float
    #: The refresh token this session came from, if any.
    refresh_token: str | None = None


@dataclass(frozen=True, kw_only=True)
class UserLogin:
    """A user who proved who they are."""

    user_id: str
    username: str
    is_active: bool


class AuthService:
    """Issues, checks and revokes the org's credentials and sessions."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._cache: dict[str, Session] = {}
        store = ctx.store
        with store.connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _emulator_credentials "
                "(user_id TEXT PRIMARY KEY, password TEXT NOT NULL, security_token TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _emulator_sessions (token TEXT PRIMARY KEY, "
                "user_id TEXT NOT NULL, client_id TEXT NOT NULL, kind TEXT NOT NULL, "
                "scope TEXT NOT NULL, issued_at_ms INTEGER NOT NULL, expires_at REAL NOT NULL, "
                "refresh_token TEXT, revoked INTEGER NOT NULL DEFAULT 0)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _emulator_refresh_tokens (token TEXT PRIMARY KEY, "
                "user_id TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL, "
                "revoked INTEGER NOT NULL DEFAULT 0)"
            )
        options = ctx.options
        app = store.meta_get("connected_app") or {
            "client_id": "3MVG9" + _random(_TOKEN_CHARS, 80),
            "client_secret": _random("0123456789ABCDEF", 64),
        }
        if options.client_id:
            app["client_id"] = options.client_id
        if options.client_secret:
            app["client_secret"] = options.client_secret
        store.meta_set("connected_app", app)
        self.client_id: str = app["client_id"]
        self.client_secret: str = app["client_secret"]
        admin = ctx.identity.admin_user_id
        password, token = self.credentials(admin) or (
            "Emu-" + _random(_ALNUM, 12),
            _random(_ALNUM, 24),
        )
        self._set_credentials(admin, options.password or password, options.security_token or token)

    # --- credentials ------------------------------------------------------------------

    def _set_credentials(self, user_id: str, password: str, security_token: str) -> None:
        with self.ctx.store.connection() as conn:
            conn.execute(
                "INSERT INTO _emulator_credentials (user_id, password, security_token) "
                "VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET password = excluded.password, "
                "security_token = excluded.security_token",
                (user_id, password, security_token),
            )

    def credentials(self, user_id: str) -> tuple[str, str] | None:
        """``(password, security_token)`` of a user, if the user can log in."""
        with self.ctx.store.connection() as conn:
            row = conn.execute(
                "SELECT password, security_token FROM _emulator_credentials WHERE user_id = ?",
                (user_id,),
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def set_password(self, user_id: str, password: str, security_token: str | None = None) -> None:
        """Give a user a password (and a security token) so that they can log in."""
        existing = self.credentials(user_id)
        token = security_token or (existing[1] if existing else _random(_ALNUM, 24))
        self._set_credentials(user_id, password, token)

    def reset_password(self, user_id: str) -> tuple[str, str]:
        """A new password and security token; every session and refresh token dies."""
        password, token = "Emu-" + _random(_ALNUM, 12), _random(_ALNUM, 24)
        self._set_credentials(user_id, password, token)
        self.revoke_user(user_id)
        return password, token

    def _user(self, *, username: str | None = None, user_id: str | None = None) -> UserLogin | None:
        column, value = ("Username", username) if username is not None else ("Id", user_id)
        with self.ctx.store.connection() as conn:
            row = conn.execute(
                f'SELECT "Id", "Username", "IsActive" FROM "User" WHERE "{column}" = ? '
                'AND "IsDeleted" = 0',
                (value,),
            ).fetchone()
        if row is None:
            return None
        return UserLogin(user_id=row[0], username=row[1], is_active=bool(row[2]))

    def user_by_id(self, user_id: str) -> UserLogin | None:
        """The user with this id, if any."""
        return self._user(user_id=user_id)

    def verify_login(self, username: str, secret: str, *, with_token: bool = True) -> UserLogin:
        """The user whose password (plus security token) is ``secret``.

        Raises ``AuthFailure("invalid_grant", "authentication failure")`` for a wrong
        username or password and ``inactive_user`` for a deactivated user.
        """
        user = self._user(username=username)
        creds = self.credentials(user.user_id) if user else None
        expected = None if creds is None else (creds[0] + creds[1] if with_token else creds[0])
        if user is None or expected is None or not secrets.compare_digest(secret, expected):
            raise AuthFailure("invalid_grant", "authentication failure")
        if not user.is_active:
            raise AuthFailure("inactive_user", "user is inactive")
        return user

    # --- sessions -----------------------------------------------------------------------

    def issue(
        self,
        user_id: str,
        *,
        client_id: str,
        kind: str,
        scope: str = "api refresh_token",
        with_refresh_token: bool = False,
        refresh_token: str | None = None,
    ) -> Session:
        """A new session for ``user_id`` (and a new refresh token when asked)."""
        now = self.ctx.clock.now().timestamp()
        if with_refresh_token and refresh_token is None:
            refresh_token = "5Aep861" + _random(_TOKEN_CHARS, 80)
            with self.ctx.store.connection() as conn:
                conn.execute(
                    "INSERT INTO _emulator_refresh_tokens (token, user_id, client_id, scope) "
                    "VALUES (?, ?, ?, ?)",
                    (refresh_token, user_id, client_id, scope),
                )
        session = Session(
            token=f"{self.ctx.org_id_15}!AQ" + _random(_TOKEN_CHARS, 96),
            user_id=user_id,
            org_id=self.ctx.org_id,
            client_id=client_id,
            kind=kind,
            scope=scope,
            issued_at_ms=int(now * 1000),
            expires_at=now + self.ctx.options.token_ttl_seconds,
            refresh_token=refresh_token,
        )
        with self.ctx.store.connection() as conn:
            conn.execute(
                "INSERT INTO _emulator_sessions (token, user_id, client_id, kind, scope, "
                "issued_at_ms, expires_at, refresh_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.token,
                    user_id,
                    client_id,
                    kind,
                    scope,
                    session.issued_at_ms,
                    session.expires_at,
                    refresh_token,
                ),
            )
        with self._lock:
            self._cache[session.token] = session
        return session

    def session_for_token(self, token: str) -> Session | None:
        """The live session behind an access token, or None (expired, revoked, inactive)."""
        with self._lock:
            session = self._cache.get(token)
        if session is None:
            session = self._load(token)
            if session is None:
                return None
            with self._lock:
                self._cache[token] = session
        if session.expires_at <= self.ctx.clock.now().timestamp():
            return None
        return session

    def _load(self, token: str) -> Session | None:
        with self.ctx.store.connection() as conn:
            row = conn.execute(
                "SELECT user_id, client_id, kind, scope, issued_at_ms, expires_at, refresh_token "
                "FROM _emulator_sessions WHERE token = ? AND revoked = 0",
                (token,),
            ).fetchone()
        if row is None:
            return None
        return Session(
            token=token,
            user_id=row[0],
            org_id=self.ctx.org_id,
            client_id=row[1],
            kind=row[2],
            scope=row[3],
            issued_at_ms=row[4],
            expires_at=row[5],
            refresh_token=row[6],
        )

    def refresh(self, refresh_token: str, client_id: str) -> Session:
        """A new access token for a refresh token (rotated when the option says so)."""
        with self.ctx.store.connection() as conn:
            row = conn.execute(
                "SELECT user_id, client_id, scope FROM _emulator_refresh_tokens "
                "WHERE token = ? AND revoked = 0",
                (refresh_token,),
            ).fetchone()
        if row is None or row[1] != client_id:
            raise AuthFailure("invalid_grant", "expired access/refresh token")
        user = self.user_by_id(row[0])
        if user is None or not user.is_active:
            raise AuthFailure("inactive_user", "user is inactive")
        if self.ctx.options.rotate_refresh_tokens:
            self._revoke_refresh(refresh_token, sessions=False)
            return self.issue(
                row[0], client_id=client_id, kind="oauth", scope=row[2], with_refresh_token=True
            )
        return self.issue(
            row[0], client_id=client_id, kind="oauth", scope=row[2], refresh_token=refresh_token
        )

    # --- revocation -------------------------------------------------------------------

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its sessions along)."""
        with self.ctx.store.connection() as conn:
            is_refresh = conn.execute(
                "SELECT 1 FROM _emulator_refresh_tokens WHERE token = ? AND revoked = 0", (token,)
            ).fetchone()
        if is_refresh:
            self._revoke_refresh(token, sessions=True)
            return True
        with self.ctx.store.connection() as conn:
            changed = conn.execute(
                "UPDATE _emulator_sessions SET revoked = 1 WHERE token = ? AND revoked = 0",
                (token,),
            ).rowcount
        with self._lock:
            self._cache.pop(token, None)
        return bool(changed)

    def _revoke_refresh(self, refresh_token: str, *, sessions: bool) -> None:
        with self.ctx.store.connection() as conn:
            conn.execute(
                "UPDATE _emulator_refresh_tokens SET revoked = 1 WHERE token = ?", (refresh_token,)
            )
            if sessions:
                conn.execute(
                    "UPDATE _emulator_sessions SET revoked = 1 WHERE refresh_token = ?",
                    (refresh_token,),
                )
        if sessions:
            with self._lock:
                for token in [
                    t for t, s in self._cache.items() if s.refresh_token == refresh_token
                ]:
                    del self._cache[token]

    def revoke_user(self, user_id: str) -> None:
        """End every session and refresh token of a user (password reset, deactivation)."""
        with self.ctx.store.connection() as conn:
            conn.execute("UPDATE _emulator_sessions SET revoked = 1 WHERE user_id = ?", (user_id,))
            conn.execute(
                "UPDATE _emulator_refresh_tokens SET revoked = 1 WHERE user_id = ?", (user_id,)
            )
        with self._lock:
            for token in [t for t, s in self._cache.items() if s.user_id == user_id]:
                del self._cache[token]

    def expire_all(self) -> int:
        """Expire every access token now (refresh tokens keep working); return how many."""
        now = self.ctx.clock.now().timestamp()
        with self.ctx.store.connection() as conn:
            count = conn.execute(
                "UPDATE _emulator_sessions SET expires_at = ? WHERE expires_at > ? AND revoked = 0",
                (now, now),
            ).rowcount
        with self._lock:
            self._cache.clear()
        return int(count)

    def set_user_active(self, user_id: str, active: bool) -> None:
        """Activate or deactivate a user; deactivation ends their sessions."""
        with self.ctx.store.transaction(user_id=self.ctx.identity.admin_user_id) as tx:
            tx.update("User", user_id, {"IsActive": active}, system=True)
        if not active:
            self.revoke_user(user_id)

    def describe(self) -> dict[str, Any]:
        """Connection details of the admin user (for the info file)."""
        admin = self.ctx.identity.admin_user_id
        password, token = self.credentials(admin) or ("", "")
        user = self.user_by_id(admin)
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": user.username if user else "",
            "password": password,
            "security_token": token,
            "user_id": admin,
        }


def epoch_ms() -> int:
    """Now in epoch milliseconds (real time)."""
    return int(time.time() * 1000)
