"""Bulk API CSV dialect: strict parsing and result writing (Valid CSV Record Rows)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmbridge.emulator.csvio import CsvDialect, CsvFormatError, parse_csv, write_csv


def test_quoted_values_with_delimiters_quotes_and_line_breaks_are_read_intact() -> None:
    data = (
        b"FirstName,LastName,Description\n"
        b'Tom,Jones,"Self-described as ""the top"" branding guru, West Coast"\n'
        b'Ian,Dury,"World-renowned expert.\nInfluential."\n'
    )
    parsed = parse_csv(data, CsvDialect())
    assert parsed.header == ["FirstName", "LastName", "Description"]
    assert parsed.rows[0][2] == 'Self-described as "the top" branding guru, West Coast'
    assert parsed.rows[1][2] == "World-renowned expert.\nInfluential."


def test_values_are_not_trimmed() -> None:
    parsed = parse_csv(b"FirstName,LastName\nJohn, Smith\n", CsvDialect())
    assert parsed.rows == [["John", " Smith"]]


@pytest.mark.parametrize(
    ("delimiter", "char"),
    [("TAB", "\t"), ("PIPE", "|"), ("SEMICOLON", ";"), ("CARET", "^"), ("BACKQUOTE", "`")],
)
def test_every_documented_column_delimiter_is_understood(delimiter: str, char: str) -> None:
    data = f"LastName{char}Email\nDoe{char}jane@example.com\n".encode()
    parsed = parse_csv(data, CsvDialect(column_delimiter=delimiter))
    assert parsed.rows == [["Doe", "jane@example.com"]]


def test_crlf_data_in_an_lf_job_fails_with_salesforce_wording() -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse_csv(b"LastName\r\nDoe\r\n", CsvDialect(line_ending="LF"))
    assert caught.value.code == "ClientInputError"
    assert "LineEnding is invalid on user data. Current LineEnding setting is LF" in str(
        caught.value
    )
    parsed = parse_csv(b"LastName\r\nDoe\r\n", CsvDialect(line_ending="CRLF"))
    assert parsed.rows == [["Doe"]]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"LastName,Email\nDoe\n", "Row 2 has 1 values"),
        (b'LastName,Email\n"Doe,x@y.z\n', "Invalid CSV"),
        (b"LastName,lastname\nA,B\n", "Duplicate field name"),
        (b"LastName,\nA,B\n", "Field name not found"),
        (b"\xff\xfeL\x00", "UTF-8"),
    ],
)
def test_malformed_uploads_are_rejected_as_a_whole(data: bytes, fragment: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse_csv(data, CsvDialect())
    assert fragment in str(caught.value)


def test_results_quote_every_value_and_write_null_as_empty() -> None:
    text = write_csv(["Id", "Name", "IsActive"], [["001", 'A "b", c', True], ["002", None, False]])
    assert text == '"Id","Name","IsActive"\n"001","A ""b"", c","true"\n"002","","false"\n'
    parsed = parse_csv(text.encode(), CsvDialect())
    assert parsed.rows[0] == ["001", 'A "b", c', "true"]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=8,
    ),
    delimiter=st.sampled_from(["COMMA", "TAB", "PIPE", "SEMICOLON", "CARET", "BACKQUOTE"]),
    line_ending=st.sampled_from(["LF", "CRLF"]),
)
def test_whatever_the_writer_writes_the_reader_reads_back(
    rows: list[list[str]], delimiter: str, line_ending: str
) -> None:
    dialect = CsvDialect(column_delimiter=delimiter, line_ending=line_ending)
    text = write_csv(["A", "B", "C"], rows, dialect)
    parsed = parse_csv(text.encode(), dialect)
    # A row of three empty values is written as quoted empties, so none is skipped.
    assert parsed.rows == rows
