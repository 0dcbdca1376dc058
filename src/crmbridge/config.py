"""One typed settings object, read from the environment (see docs/operations.md)."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide configuration. Every field maps to one environment variable."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    #: Where the SQLite database, emulator data and generated certificates live.
    data_dir: Path = Field(default=Path(".crmbridge"), alias="CRMBRIDGE_DATA_DIR")
    #: SQLAlchemy URL; empty means a SQLite file under ``data_dir``.
    database_url: str = Field(default="", alias="DATABASE_URL")
    #: Key that encrypts secrets at rest and signs sessions.
    secret_key: SecretStr = Field(default=SecretStr(""), alias="CRMBRIDGE_SECRET_KEY")
    #: Earlier secret keys, comma-separated: secrets sealed under them still open
    #: (key rotation, docs/security.md).
    secret_key_previous: SecretStr = Field(
        default=SecretStr(""), alias="CRMBRIDGE_SECRET_KEY_PREVIOUS"
    )
    #: Public base URL of this installation (e.g. ``https://sync.example.org``); the
    #: OAuth callback URL registered on the connected app is built from it.
    base_url: str = Field(default="http://127.0.0.1:8000", alias="CRMBRIDGE_BASE_URL")
    #: ``development`` or ``production``; production refuses unsafe settings.
    environment: str = Field(default="development", alias="CRMBRIDGE_ENV")
    log_level: str = Field(default="INFO", alias="CRMBRIDGE_LOG_LEVEL")
    #: Operator-wide Salesforce defaults (R-A2); tenant settings override them.
    salesforce_client_id: str = Field(default="", alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: SecretStr = Field(
        default=SecretStr(""), alias="SALESFORCE_CLIENT_SECRET"
    )
    salesforce_login_url: str = Field(
        default="https://login.salesforce.com", alias="SALESFORCE_LOGIN_URL"
    )
    #: Extra CA certificate(s) (PEM file) the Salesforce client trusts besides the public
    #: CAs, e.g. the emulator's ``ca_cert`` or a TLS-inspecting proxy's CA.
    salesforce_ca_bundle: str = Field(default="", alias="SALESFORCE_CA_BUNDLE")

    #: Largest request body the web server accepts (bytes); larger ones get 413.
    max_body_bytes: int = Field(default=1_048_576, alias="CRMBRIDGE_MAX_BODY_BYTES", gt=0)
    #: Largest ``limit`` a list endpoint accepts.
    max_page_size: int = Field(default=200, alias="CRMBRIDGE_MAX_PAGE_SIZE", gt=0)

    @property
    def is_production(self) -> bool:
        """Whether unsafe settings must be refused."""
        return self.environment.strip().lower() == "production"

    def check_safe_for_production(self) -> None:
        """Raise ``ValueError`` when production runs with unsafe settings."""
        if self.is_production and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError(
                "CRMBRIDGE_SECRET_KEY must be set to at least 32 random characters in production"
            )

    def signing_key(self, purpose: str) -> bytes:
        """A key for signing ``purpose`` (sessions, cursors), derived from the secret key.

        Each purpose gets its own key, so a value signed for one use cannot pass for
        another.
        """
        secret = self.effective_secret_key()
        return hashlib.sha256(f"crmbridge/{purpose}/v1\x00{secret}".encode()).digest()

    def effective_secret_key(self) -> str:
        """``CRMBRIDGE_SECRET_KEY``, or in development a key kept in the data directory.

        Development without ``CRMBRIDGE_SECRET_KEY`` generates a key once and keeps it
        in ``CRMBRIDGE_DATA_DIR/secret.key`` (mode 0600), so sealed secrets, sessions
        and cursors survive restarts. Production refuses to run without the variable.

        Raises:
            ValueError: in production without ``CRMBRIDGE_SECRET_KEY``.
        """
        secret = self.secret_key.get_secret_value()
        if secret:
            return secret
        if self.is_production:
            raise ValueError("CRMBRIDGE_SECRET_KEY must be set in production")
        return _development_key(self.data_dir.resolve() / DEVELOPMENT_KEY_FILE)

    def previous_secret_keys(self) -> list[str]:
        """The keys of ``CRMBRIDGE_SECRET_KEY_PREVIOUS``, newest first."""
        raw = self.secret_key_previous.get_secret_value()
        return [part.strip() for part in raw.split(",") if part.strip()]

    def oauth_callback_url(self) -> str:
        """The OAuth callback URL to register on the Salesforce connected app."""
        return f"{self.base_url.rstrip('/')}/api/v1/salesforce/oauth/callback"

    def resolved_database_url(self) -> str:
        """The database URL to use: ``DATABASE_URL`` or the SQLite default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmbridge.sqlite3').resolve()}"


#: The development key's file name inside ``CRMBRIDGE_DATA_DIR``.
DEVELOPMENT_KEY_FILE = "secret.key"
_development_key_lock = threading.Lock()


def _development_key(path: Path) -> str:
    """The key kept in ``path``, created (0600, never overwritten) when missing."""
    with _development_key_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: when two processes start at once, the first file wins.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                key = secrets.token_urlsafe(48)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(key + "\n")
                return key
        for _ in range(50):  # the winner of a start race may still be writing it
            key = path.read_text(encoding="utf-8").strip()
            if key:
                return key
            time.sleep(0.02)
        raise ValueError(f"{path} is empty: delete it or set CRMBRIDGE_SECRET_KEY")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
