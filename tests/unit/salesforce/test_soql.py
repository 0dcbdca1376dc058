"""SOQL rendering: every literal is escaped, every identifier checked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmbridge.salesforce.soql import (
    AllOf,
    AnyOf,
    Comparison,
    Negation,
    OrderBy,
    Select,
    escape_soql_literal,
    soql_identifier,
    soql_literal,
)


def _unescape(text: str) -> str:
    """Reverse SOQL's backslash escapes, as Salesforce's parser would."""
    table = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            nxt = text[i + 1]
            out.append(table.get(nxt, nxt))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@given(st.text())
def test_escaped_strings_cannot_close_the_quote_and_unescape_to_the_original(value: str) -> None:
    escaped = escape_soql_literal(value)
    # every quote in the escaped text is preceded by an odd run of backslashes
    for index, char in enumerate(escaped):
        if char == "'":
            run = len(escaped[:index]) - len(escaped[:index].rstrip("\\"))
            assert run % 2 == 1
    assert _unescape(escaped) == value


def test_like_escaping_makes_wildcards_literal() -> None:
    assert escape_soql_literal("50%_off", like=True) == "50\\%\\_off"
    assert escape_soql_literal("50%_off") == "50%_off"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (Decimal("10.50"), "10.50"),
        (1.5, "1.5"),
        ("O'Brien", "'O\\'Brien'"),
        (dt.date(2024, 3, 9), "2024-03-09"),
        (dt.datetime(2024, 3, 9, 23, 30, tzinfo=dt.UTC), "2024-03-09T23:30:00Z"),
        (
            dt.datetime(2024, 3, 9, 1, 2, 3, 456789, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2024-03-08T23:02:03.456Z",
        ),
    ],
)
def test_literals_render_in_soql_syntax(value: object, expected: str) -> None:
    assert soql_literal(value) == expected  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="timezone-aware"):
        soql_literal(dt.datetime(2024, 1, 1))


@pytest.mark.parametrize("name", ["Id", "Account.Name", "Platform_Id__c", "Owner.Profile.Name"])
def test_api_names_are_accepted(name: str) -> None:
    assert soql_identifier(name) == name


@pytest.mark.parametrize("name", ["", "Name,Id", "Name FROM", "1abc", "a..b", "Name'", "x--"])
def test_anything_but_an_api_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        soql_identifier(name)


def test_select_renders_where_order_and_limit() -> None:
    select = Select(
        sobject="Contact",
        fields=("LastName", "Account.Name"),
        where=AllOf(
            conditions=(
                Comparison(field="Movement_Exclude__c", operator="=", value=False),
                AnyOf(
                    conditions=(
                        Comparison(field="Email", operator="LIKE", value="%@example.com"),
                        Negation(
                            condition=Comparison(field="Status__c", operator="IN", value=["a", "b"])
                        ),
                    )
                ),
            )
        ),
        order_by=(OrderBy(field="SystemModstamp"), OrderBy(field="Id", ascending=False)),
        limit=10,
    )
    assert select.to_soql() == (
        "SELECT Id, LastName, Account.Name FROM Contact WHERE (Movement_Exclude__c = false "
        "AND (Email LIKE '%@example.com' OR (NOT Status__c IN ('a', 'b')))) "
        "ORDER BY SystemModstamp ASC, Id DESC LIMIT 10"
    )


def test_in_needs_a_list_and_scalars_need_a_scalar() -> None:
    with pytest.raises(ValueError, match="list"):
        Select(
            sobject="Contact",
            fields=(),
            where=Comparison(field="Id", operator="IN", value="abc"),
        ).to_soql()
    with pytest.raises(ValueError, match="single value"):
        Select(
            sobject="Contact",
            fields=(),
            where=Comparison(field="Id", operator="=", value=["a"]),
        ).to_soql()
    with pytest.raises(ValueError, match="operator"):
        Select(
            sobject="Contact",
            fields=(),
            where=Comparison(field="Id", operator="; DROP", value="a"),
        ).to_soql()
