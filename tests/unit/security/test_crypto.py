"""Secrets at rest: sealed values hide the clear text and survive key rotation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmbridge.crypto import SecretBox, SecretKeyMissing, SecretUnreadable, mask


@given(st.text(min_size=1, max_size=200))
def test_sealed_values_open_to_the_clear_text_and_never_contain_it(clear: str) -> None:
    box = SecretBox("k1")
    sealed = box.seal(clear)
    assert box.open(sealed) == clear
    if len(clear) >= 4:
        assert clear not in sealed


def test_sealing_twice_gives_different_ciphertexts() -> None:
    box = SecretBox("k1")
    assert box.seal("refresh-token") != box.seal("refresh-token")


def test_rotation_keeps_old_values_readable_and_reseals_under_the_new_key() -> None:
    old = SecretBox("old-key").seal("s3cret")
    rotated_box = SecretBox("new-key", previous=["old-key"])
    assert rotated_box.open(old) == "s3cret"
    resealed = rotated_box.reseal(old)
    assert SecretBox("new-key").open(resealed) == "s3cret"
    with pytest.raises(SecretUnreadable):
        SecretBox("old-key").open(resealed)


def test_a_wrong_key_is_reported_in_words_without_the_value() -> None:
    sealed = SecretBox("right").seal("hunter2")
    with pytest.raises(SecretUnreadable, match="CRMBRIDGE_SECRET_KEY") as info:
        SecretBox("wrong").open(sealed)
    assert "hunter2" not in str(info.value)


def test_a_missing_key_refuses_to_store_secrets() -> None:
    with pytest.raises(SecretKeyMissing):
        SecretBox("")


def test_masking_shows_at_most_the_last_four_characters_of_long_secrets() -> None:
    assert mask(None) == ""
    assert mask("short") == "••••••••"
    assert mask("0123456789ABCDEF") == "••••••••CDEF"
