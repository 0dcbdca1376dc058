"""One typed settings object, read from the environment (see docs/operations.md)."""

from __future__ import annotations

import hashlib
import secrets
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
        another. Without ``CRMBRIDGE_SECRET_KEY`` (development only) a random key is
        used for the life of the process: sessions and cursors do not survive restarts.
        """
        secret = self.secret_key.get_secret_value() or _ephemeral_secret()
        return hashlib.sha256(f"crmbridge/{purpose}/v1\x00{secret}".encode()).digest()

    def resolved_database_url(self) -> str:
        """The database URL to use: ``DATABASE_URL`` or the SQLite default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmbridge.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def _ephemeral_secret() -> str:
    return secrets.token_urlsafe(32)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
