"""CSV as the Bulk APIs read and write it.

Bulk API 2.0 accepts six column delimiters and two line endings, chosen when the job
is created ("Bulk API 2.0 and Bulk API Developer Guide", Prepare CSV Files and Line
Ending Header). Its dialect is strict ("Valid CSV Record Rows"): values are not
trimmed, a value holding the delimiter, a quote or a line break is quoted, quotes
inside are doubled, an empty value means "leave unchanged" and ``#N/A`` means null.
Anything else fails the whole upload before a single record is touched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

#: Bulk API 2.0 ``columnDelimiter`` values and their characters (Create a Job).
COLUMN_DELIMITERS: dict[str, str] = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}

#: Bulk API 2.0 ``lineEnding`` values (Line Ending Header).
LINE_ENDINGS: dict[str, str] = {"LF": "\n", "CRLF": "\r\n"}

#: A value that sets a field to null ("Valid CSV Record Rows").
NULL_MARKER = "#N/A"


class CsvFormatError(ValueError):
    """The uploaded CSV breaks the Bulk API's format; the job fails as a whole.

    ``code`` is the Bulk API error code that prefixes the job's ``errorMessage``
    (e.g. ``ClientInputError``, ``InvalidBatch``; "Bulk API 2.0 Errors").
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code} : {message}")


@dataclass(frozen=True, kw_only=True)
class CsvDialect:
    """How one job's CSV is delimited."""

    #: ``COMMA``, ``TAB``, … (the job's ``columnDelimiter``).
    column_delimiter: str = "COMMA"
    #: ``LF`` or ``CRLF`` (the job's ``lineEnding``).
    line_ending: str = "LF"

    @property
    def delimiter(self) -> str:
        return COLUMN_DELIMITERS[self.column_delimiter]

    @property
    def terminator(self) -> str:
        return LINE_ENDINGS[self.line_ending]


def check_dialect(column_delimiter: str, line_ending: str) -> str | None:
    """Return an error message when a job asks for an unknown delimiter or line ending."""
    if column_delimiter not in COLUMN_DELIMITERS:
        return f"Invalid column delimiter: {column_delimiter}"
    if line_ending not in LINE_ENDINGS:
        return f"Invalid line ending: {line_ending}"
    return None


@dataclass(frozen=True)
class ParsedCsv:
    """An uploaded CSV file: its header and its rows, each as long as the header."""

    header: list[str]
    rows: list[list[str]]


def parse_csv(data: bytes, dialect: CsvDialect) -> ParsedCsv:
    """Parse an upload strictly, or raise :class:`CsvFormatError` naming the problem.

    Checks, in order: UTF-8, a header row, the job's line ending, quoting, blank or
    repeated column names, and that every row has as many values as the header.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFormatError("ClientInputError", "Files must be in UTF-8 format") from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CsvFormatError("ClientInputError", "The CSV upload is empty")
    _check_line_ending(text, dialect.line_ending)
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=dialect.delimiter,
        quotechar='"',
        doublequote=True,
        strict=True,
        skipinitialspace=False,
    )
    try:
        all_rows = list(reader)
    except csv.Error as exc:
        line = reader.line_num
        raise CsvFormatError("ClientInputError", f"Invalid CSV near line {line}: {exc}") from exc
    header = all_rows[0]
    _check_header(header)
    rows: list[list[str]] = []
    for number, row in enumerate(all_rows[1:], start=2):
        if row == [] or (row == [""] and len(header) > 1):
            # A trailing line break leaves an empty record; Salesforce skips it.
            continue
        if len(row) != len(header):
            raise CsvFormatError(
                "ClientInputError",
                f"Row {number} has {len(row)} values but the header has {len(header)} columns",
            )
        rows.append(row)
    return ParsedCsv(header=header, rows=rows)


def _check_line_ending(text: str, line_ending: str) -> None:
    """Reject a file whose first line ends differently from the job's setting."""
    first_break = text.find("\n")
    if first_break == -1:
        return
    has_cr = first_break > 0 and text[first_break - 1] == "\r"
    if (line_ending == "LF") == has_cr:
        # Message as Salesforce words it when the job's lineEnding does not match.
        raise CsvFormatError(
            "ClientInputError",
            f"LineEnding is invalid on user data. Current LineEnding setting is {line_ending}",
        )


def _check_header(header: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            raise CsvFormatError("InvalidBatch", "Field name not found : (blank)")
        if name != name.strip():
            raise CsvFormatError("InvalidBatch", f"Field name not found : {name}")
        key = name.lower()
        if key in seen:
            raise CsvFormatError("InvalidBatch", f"Duplicate field name : {name}")
        seen.add(key)


def write_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    dialect: CsvDialect | None = None,
) -> str:
    """Write a header and rows the way Bulk API results look.

    Every value is quoted, as Salesforce's query results are (Get Results for a Query
    Job shows ``"Id","Name"``); ``None`` becomes an empty value.
    """
    return "".join(iter_csv_lines(header, rows, dialect))


def iter_csv_lines(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    dialect: CsvDialect | None = None,
    *,
    include_header: bool = True,
) -> Iterator[str]:
    """Yield CSV text line by line (for streaming large results)."""
    dialect = dialect or CsvDialect()
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=dialect.delimiter,
        lineterminator=dialect.terminator,
        quoting=csv.QUOTE_ALL,
    )
    if include_header:
        writer.writerow(header)
        yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([format_csv_value(value) for value in row])
        yield buffer.getvalue()


def format_csv_value(value: object) -> str:
    """Render one value the way Bulk API CSV shows it (booleans lower-case)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
