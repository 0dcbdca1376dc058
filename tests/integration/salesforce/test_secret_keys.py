"""The secret key: kept across restarts in development, required in production."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crmbridge.config import Settings
from crmbridge.crypto import secret_box_for

pytestmark = pytest.mark.storeless


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(CRMBRIDGE_DATA_DIR=str(tmp_path), **values)  # type: ignore[arg-type]


def test_development_without_a_key_keeps_one_in_the_data_dir_for_the_next_start(
    tmp_path: Path,
) -> None:
    first = _settings(tmp_path)
    sealed = secret_box_for(first).seal("refresh-token-value")
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A new process (new Settings) reads the same key back.
    restarted = _settings(tmp_path)
    assert secret_box_for(restarted).open(sealed) == "refresh-token-value"
    assert restarted.signing_key("session") == first.signing_key("session")
    assert _settings(tmp_path / "other").signing_key("session") != first.signing_key("session")


def test_an_explicit_key_wins_and_no_key_file_is_written(tmp_path: Path) -> None:
    settings = _settings(tmp_path, CRMBRIDGE_SECRET_KEY="k" * 40)
    assert settings.effective_secret_key() == "k" * 40
    assert not (tmp_path / "secret.key").exists()


def test_production_without_a_key_refuses_to_seal_anything(tmp_path: Path) -> None:
    settings = _settings(tmp_path, CRMBRIDGE_ENV="production")
    with pytest.raises(ValueError, match="CRMBRIDGE_SECRET_KEY"):
        secret_box_for(settings)
    assert not (tmp_path / "secret.key").exists()


def test_previous_keys_keep_old_secrets_readable_after_rotation(tmp_path: Path) -> None:
    old = secret_box_for(_settings(tmp_path, CRMBRIDGE_SECRET_KEY="old-" * 10))
    sealed = old.seal("consumer-secret")
    rotated = _settings(
        tmp_path,
        CRMBRIDGE_SECRET_KEY="new-" * 10,
        CRMBRIDGE_SECRET_KEY_PREVIOUS=" older-key , " + "old-" * 10,
    )
    assert rotated.previous_secret_keys() == ["older-key", "old-" * 10]
    box = secret_box_for(rotated)
    assert box.open(sealed) == "consumer-secret"
    assert (
        secret_box_for(_settings(tmp_path, CRMBRIDGE_SECRET_KEY="new-" * 10)).open(
            box.reseal(sealed)
        )
        == "consumer-secret"
    )


def test_the_callback_url_is_built_from_the_public_base_url(tmp_path: Path) -> None:
    settings = _settings(tmp_path, CRMBRIDGE_BASE_URL="https://sync.example.org/")
    assert settings.oauth_callback_url() == (
        "https://sync.example.org/api/v1/salesforce/oauth/callback"
    )
