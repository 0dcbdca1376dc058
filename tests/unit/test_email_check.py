"""E-mail syntax: the fast path for plain addresses gives email-validator's verdict."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from crmbridge.domain.entities.validation import check_email

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
#: Characters that make trouble: dots, @, quotes, spaces, brackets, non-ASCII.
ODD = ATEXT + '..@" <>[]()\\,;:é\u00a0'


def _library_accepts(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _accepts(text: str) -> bool:
    try:
        check_email(text)
    except EmailNotValidError:
        return False
    return True


labels = st.text(alphabet="abcz09-XN", min_size=0, max_size=70)
domains = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(
        [
            "example.org",
            "EXAMPLE.ORG",
            "test",
            "a.test",
            "b.local",
            "localhost",
            "1.2.3.4",
            "x.invalid",
            "xn--bcher-kva.example",
            "a..b.org",
            ".a.org",
            "a.org.",
            "ex-.org",
        ]
    ),
    st.text(alphabet="abc.-é_", max_size=20),
)
locals_ = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(alphabet=ODD, max_size=20),
    st.sampled_from(["postmaster", "a", "x" * 64, "x" * 65, '"quoted"', "a.b", ".a", "a."]),
)


@settings(deadline=None, max_examples=600)
@given(local=locals_, domain=domains)
def test_the_verdict_is_the_librarys(local: str, domain: str) -> None:
    text = f"{local}@{domain}"
    assert _accepts(text) == _library_accepts(text), text


@settings(deadline=None, max_examples=200)
@given(text=st.text(max_size=40))
def test_any_text_gets_the_librarys_verdict(text: str) -> None:
    assert _accepts(text) == _library_accepts(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("x" * 65 + "@example.org", True),  # 64 is the strict limit; not enforced
        ("x" * 58 + "@" + ".".join(["d" * 63] * 3) + ".org", True),  # 254 characters
        ("x" * 59 + "@" + ".".join(["d" * 63] * 3) + ".org", False),  # 255
    ],
)
def test_lengths_at_the_limits(text: str, valid: bool) -> None:
    assert _library_accepts(text) is valid
    assert _accepts(text) is valid


def test_a_bad_address_says_why() -> None:
    with pytest.raises(EmailNotValidError, match="period"):
        check_email("ada@localhost")
