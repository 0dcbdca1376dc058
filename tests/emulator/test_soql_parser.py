"""The SOQL parser on its own: syntax tree shapes, literals, and Salesforce's errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmbridge.emulator.soql import SoqlError, ast, parse_soql
from crmbridge.emulator.soql.dates import date_literal_range


def _malformed(soql: str) -> str:
    with pytest.raises(SoqlError) as caught:
        parse_soql(soql)
    assert caught.value.error_code == "MALFORMED_QUERY"
    return caught.value.message


def test_keywords_are_case_insensitive_and_names_keep_their_spelling() -> None:
    query = parse_soql("select id, Account.name FrOm contact wHeRe lastname = 'x'")
    assert query.sobject.parts == ("contact",)
    assert [item.path.parts for item in query.select] == [("id",), ("Account", "name")]
    assert isinstance(query.where, ast.Comparison)
    assert query.where.value == ast.StringValue("x", ast.Position(1, 55))


def test_names_that_are_keywords_elsewhere_parse_as_names() -> None:
    query = parse_soql(
        "SELECT Type, First, Last FROM Group WHERE Group = 'a' ORDER BY Last NULLS LAST"
    )
    assert query.sobject.parts == ("Group",)
    assert [item.path.parts[0] for item in query.select] == ["Type", "First", "Last"]
    assert query.order_by[0].nulls_first is False


def test_a_keyword_prefix_is_not_a_keyword() -> None:
    message = _malformed("SELECT Id FORM Contact")
    assert message.endswith("ERROR at Row:1:Column:11\nunexpected token: 'FORM'")
    assert message.startswith("\nSELECT Id FORM Contact\n          ^\n")


def test_unexpected_end_of_query_is_reported_after_the_last_character() -> None:
    message = _malformed("SELECT Id FROM Contact WHERE")
    assert message == (
        "\nSELECT Id FROM Contact WHERE\n" + " " * 28 + "^\n"
        "ERROR at Row:1:Column:29\nunexpected token: '<EOF>'"
    )


def test_an_unknown_character_is_reported_with_line_and_zero_based_column() -> None:
    message = _malformed("SELECT Id from $casecomment")
    assert message.endswith("line 1:15 unexpected token: '$'")


def test_errors_on_later_rows_name_that_row() -> None:
    message = _malformed("SELECT Id\nFROM Contact\nWHERE Name = = 'x'")
    assert "\nWHERE Name = = 'x'\n" in message
    assert "ERROR at Row:3:Column:14" in message


def test_mixing_and_with_or_needs_parentheses() -> None:
    message = _malformed("SELECT Id FROM Account WHERE A = 1 OR B = 2 AND C = 3")
    assert message.endswith("unexpected token: 'AND'")
    query = parse_soql("SELECT Id FROM Account WHERE (A = 1 OR B = 2) AND NOT C = 3")
    assert isinstance(query.where, ast.And)
    assert isinstance(query.where.items[0], ast.Or)
    assert isinstance(query.where.items[1], ast.Not)


@pytest.mark.parametrize(
    ("literal", "decoded"),
    [
        (r"'Bob\'s BBQ'", "Bob's BBQ"),
        (r"'a\\b'", "a\\b"),
        (r"'line\nbreak\ttab'", "line\nbreak\ttab"),
        (r"'\N\R\T\B\F'", "\n\r\t\b\f"),
        (r"'\"quoted\"'", '"quoted"'),
        (r"'caf\u00e9'", "café"),
    ],
)
def test_string_escapes_are_decoded(literal: str, decoded: str) -> None:
    query = parse_soql(f"SELECT Id FROM Account WHERE Name = {literal}")
    assert isinstance(query.where, ast.Comparison)
    assert isinstance(query.where.value, ast.StringValue)
    assert query.where.value.value == decoded


def test_like_keeps_escaped_wildcards_literal() -> None:
    query = parse_soql(r"SELECT Id FROM Account WHERE Name LIKE 'Ter\%%\_x_\\'")
    assert isinstance(query.where, ast.Like)
    assert query.where.pattern.sql_pattern == "Ter\\%%\\_x_\\\\"


def test_percent_escape_outside_like_is_rejected() -> None:
    message = _malformed(r"SELECT Id FROM Account WHERE Name = 'Ter\%'")
    assert message.endswith("Illegal character sequence '\\%' in string literal.")


def test_unknown_escape_is_rejected() -> None:
    assert "Illegal character sequence '\\q'" in _malformed(r"SELECT Id FROM A WHERE N = 'a\q'")


def test_datetime_literals_with_offsets_and_fractions_become_utc() -> None:
    query = parse_soql(
        "SELECT Id FROM Account WHERE CreatedDate > 2020-01-01T00:30:00.5+01:00 "
        "AND SystemModstamp <= 2020-06-01T10:00:00Z AND LastModifiedDate < 2020-06-01t10:00:00-0530"
    )
    assert isinstance(query.where, ast.And)
    values = [item.value.value for item in query.where.items]  # type: ignore[union-attr]
    assert values == [
        dt.datetime(2019, 12, 31, 23, 30, 0, 500000, tzinfo=dt.UTC),
        dt.datetime(2020, 6, 1, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2020, 6, 1, 15, 30, tzinfo=dt.UTC),
    ]


def test_invalid_dates_are_malformed() -> None:
    assert _malformed("SELECT Id FROM A WHERE D = 2020-13-01").endswith("Invalid date: 2020-13-01")
    assert _malformed("SELECT Id FROM A WHERE D > 2020-12-12T12:12:00-25:00").endswith(
        "Invalid datetime: 2020-12-12T12:12:00-25:00"
    )


def test_numbers_booleans_null_and_date_literals() -> None:
    query = parse_soql(
        "SELECT Id FROM A WHERE N = -5 AND F = 2.50 AND B = TRUE AND C = false AND D = null "
        "AND E = LAST_N_DAYS:30 AND G = today"
    )
    assert isinstance(query.where, ast.And)
    values = [item.value for item in query.where.items]  # type: ignore[union-attr]
    assert isinstance(values[0], ast.NumberValue)
    assert values[0].value == -5
    assert isinstance(values[1], ast.NumberValue)
    assert values[1].value == 2.5
    assert [type(v).__name__ for v in values[2:5]] == ["BooleanValue", "BooleanValue", "NullValue"]
    assert values[5] == ast.DateLiteral("LAST_N_DAYS", 30, values[5].pos)
    assert values[6] == ast.DateLiteral("TODAY", None, values[6].pos)


def test_unknown_date_literal_is_an_unexpected_token() -> None:
    assert _malformed("SELECT Id FROM A WHERE D = LAST_FORTNIGHT").endswith(
        "unexpected token: 'LAST_FORTNIGHT'"
    )
    assert _malformed("SELECT Id FROM A WHERE D = TODAY:3").endswith("unexpected token: 'TODAY'")


def test_in_includes_and_semi_join_shapes() -> None:
    query = parse_soql(
        "SELECT Id FROM Contact WHERE Tags__c INCLUDES ('a;b', 'c') AND Tags__c EXCLUDES ('d') "
        "AND Id NOT IN ('003000000000001AAA') "
        "AND AccountId IN (SELECT Id FROM Account WHERE Name = 'x')"
    )
    assert isinstance(query.where, ast.And)
    includes, excludes, not_in, semi = query.where.items
    assert isinstance(includes, ast.Includes)
    assert not includes.excludes
    assert [v.value for v in includes.values] == ["a;b", "c"]  # type: ignore[union-attr]
    assert isinstance(excludes, ast.Includes)
    assert excludes.excludes
    assert isinstance(not_in, ast.InList)
    assert not_in.negated
    assert isinstance(semi, ast.InSemiJoin)
    assert semi.query.sobject == "Account"


def test_select_items_order_by_limit_offset_and_tail_options() -> None:
    query = parse_soql(
        "SELECT Id, COUNT(Id) cnt, FIELDS(STANDARD), (SELECT LastName FROM Contacts ORDER BY "
        "LastName DESC LIMIT 2), TYPEOF What WHEN Account THEN Phone ELSE Name END FROM Task "
        "ORDER BY Subject DESC NULLS FIRST, Id LIMIT 10 OFFSET 5 FOR VIEW UPDATE TRACKING ALL ROWS"
    )
    kinds = [type(item).__name__ for item in query.select]
    assert kinds == [
        "SelectField",
        "SelectFunction",
        "SelectFunction",
        "SelectSubquery",
        "SelectTypeOf",
    ]
    assert query.select[1] == ast.SelectFunction(query.select[1].call, "cnt")  # type: ignore[union-attr]
    sub = query.select[3].query  # type: ignore[union-attr]
    assert sub.sobject.parts == ("Contacts",)
    assert sub.limit == 2
    assert sub.order_by[0].descending
    assert query.order_by[0] == ast.OrderItem(query.order_by[0].expr, True, True)
    assert (query.limit, query.offset, query.all_rows) == (10, 5, True)


def test_limit_must_fit_in_an_int() -> None:
    assert "numeric value out of range" in _malformed("SELECT Id FROM A LIMIT 99999999999")
    assert _malformed("SELECT Id FROM A LIMIT -1").endswith("unexpected token: '-1'")


def test_overlong_queries_are_rejected() -> None:
    message = _malformed("SELECT Id FROM A WHERE Name IN (" + ",".join(["'x'"] * 40000) + ")")
    assert "100000" in message


@pytest.mark.parametrize(
    ("name", "n", "expected"),
    [
        ("TODAY", None, ("2024-05-15", "2024-05-16")),
        ("YESTERDAY", None, ("2024-05-14", "2024-05-15")),
        ("TOMORROW", None, ("2024-05-16", "2024-05-17")),
        ("THIS_WEEK", None, ("2024-05-12", "2024-05-19")),
        ("LAST_WEEK", None, ("2024-05-05", "2024-05-12")),
        ("NEXT_WEEK", None, ("2024-05-19", "2024-05-26")),
        ("THIS_MONTH", None, ("2024-05-01", "2024-06-01")),
        ("LAST_MONTH", None, ("2024-04-01", "2024-05-01")),
        ("NEXT_MONTH", None, ("2024-06-01", "2024-07-01")),
        ("LAST_90_DAYS", None, ("2024-02-15", "2024-05-16")),
        ("NEXT_90_DAYS", None, ("2024-05-16", "2024-08-14")),
        ("LAST_N_DAYS", 1, ("2024-05-14", "2024-05-16")),
        ("NEXT_N_DAYS", 3, ("2024-05-16", "2024-05-19")),
        ("N_DAYS_AGO", 25, ("2024-04-20", "2024-04-21")),
        ("THIS_QUARTER", None, ("2024-04-01", "2024-07-01")),
        ("LAST_N_MONTHS", 12, ("2023-05-01", "2024-05-01")),
        ("THIS_YEAR", None, ("2024-01-01", "2025-01-01")),
        ("LAST_YEAR", None, ("2023-01-01", "2024-01-01")),
        ("N_YEARS_AGO", 2, ("2022-01-01", "2023-01-01")),
        ("THIS_FISCAL_YEAR", None, ("2024-01-01", "2025-01-01")),
    ],
)
def test_date_literal_ranges(name: str, n: int | None, expected: tuple[str, str]) -> None:
    # 2024-05-15 is a Wednesday; weeks start on Sunday (en_US).
    start, end = date_literal_range(name, n, today=dt.date(2024, 5, 15))
    assert (start.isoformat(), end.isoformat()) == expected


_SOQL_WORDS = st.sampled_from(
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES", "ORDER", "BY",
        "LIMIT", "OFFSET", "NULLS", "FIRST", "COUNT()", "Id", "Name", "Account.Name", "(", ")",
        ",", "=", "!=", "<", ">=", "'x'", "'a\\'b'", "'\\q'", "5", "-1.5", "null", "TRUE",
        "2020-01-01", "2020-01-01T00:00:00Z", "2020-99-99T99:00:00Z", "TODAY", "LAST_N_DAYS:3",
        "N_DAYS_AGO:99999999999", "Contact", "TYPEOF", "WHEN", "THEN", "END", "ALL", "ROWS",
        "FOR", "UPDATE", "GROUP", "HAVING", ".", ":", "\\", "'", "$", "\n",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_SOQL_WORDS, max_size=25))
def test_token_soup_only_ever_raises_soql_errors(words: list[str]) -> None:
    code = "parsed"
    try:
        parse_soql(" ".join(words))
    except SoqlError as error:
        code = error.error_code
    assert code in ("parsed", "MALFORMED_QUERY")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_only_ever_raises_soql_errors(text: str) -> None:
    for soql in (text, f"SELECT Id FROM Contact WHERE {text}", f"SELECT {text} FROM Contact"):
        code = "parsed"
        try:
            parse_soql(soql)
        except SoqlError as error:
            code = error.error_code
        assert code in ("parsed", "MALFORMED_QUERY")
