"""Settings: production refuses unsafe values; signing keys are separate per purpose."""

from __future__ import annotations

import pytest

from crmbridge.config import Settings
from crmbridge.web.app import create_app


def test_production_refuses_to_start_without_a_strong_secret_key(database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, CRMBRIDGE_ENV="production")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="CRMBRIDGE_SECRET_KEY"):
        create_app(settings)
    strong = Settings(
        DATABASE_URL=database_url,  # type: ignore[call-arg]
        CRMBRIDGE_ENV="production",  # type: ignore[call-arg]
        CRMBRIDGE_SECRET_KEY="x" * 40,  # type: ignore[call-arg]
    )
    assert create_app(strong).title == "crmbridge"


def test_each_purpose_gets_its_own_signing_key() -> None:
    settings = Settings(CRMBRIDGE_SECRET_KEY="s" * 40)  # type: ignore[call-arg]
    assert settings.signing_key("session") != settings.signing_key("cursor")
    assert settings.signing_key("session") == Settings(
        CRMBRIDGE_SECRET_KEY="s" * 40  # type: ignore[call-arg]
    ).signing_key("session")


def test_default_database_is_a_sqlite_file_in_the_data_dir() -> None:
    settings = Settings(CRMBRIDGE_DATA_DIR="/srv/crmbridge")  # type: ignore[call-arg]
    assert settings.resolved_database_url() == "sqlite:////srv/crmbridge/crmbridge.sqlite3"
