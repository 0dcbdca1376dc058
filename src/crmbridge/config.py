"""One typed settings object, read from the environment (see docs/operations.md)."""

from __future__ import annotations

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

    def resolved_database_url(self) -> str:
        """The database URL to use: ``DATABASE_URL`` or the SQLite default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmbridge.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
