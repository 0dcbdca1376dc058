"""The one error the SOQL engine raises, worded the way Salesforce words it."""

from __future__ import annotations

from dataclasses import dataclass

#: Salesforce shows at most this much of a long query line above the caret.
_WINDOW = 100

#: Suffix Salesforce appends to INVALID_FIELD / INVALID_TYPE messages.
_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."


@dataclass(frozen=True, slots=True)
class Position:
    """Where something is in the query text: 1-based row and column."""

    line: int
    column: int


class SoqlError(Exception):
    """A query Salesforce would reject; the REST layer answers it with HTTP 400.

    Attributes:
        error_code: Salesforce's ``errorCode`` (``MALFORMED_QUERY``, ``INVALID_FIELD``,
            ``INVALID_TYPE``, ``INVALID_QUERY_LOCATOR``, ``NUMBER_OUTSIDE_VALID_RANGE``).
        message: the complete ``message`` of the error body.
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


def located_message(soql: str, pos: Position | None, text: str) -> str:
    """Salesforce's positioned message: the query row, a caret, the row and column.

    Salesforce prefixes errors it can place with the offending row of the query, a caret
    under the column, and ``ERROR at Row:R:Column:C`` (seen in REST error bodies, e.g.
    "\\nSELECT Bacon__c FROM Account LIMIT 2\\n       ^\\nERROR at Row:1:Column:8\\n...").
    """
    if pos is None:
        return text
    lines = soql.split("\n")
    row = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    start = 0
    if len(row) > _WINDOW:
        # Long rows are cut to a window around the column, as Salesforce does.
        start = max(0, min(pos.column - 1 - _WINDOW // 2, len(row) - _WINDOW))
        row = row[start : start + _WINDOW]
    caret = " " * max(0, pos.column - 1 - start) + "^"
    return f"\n{row}\n{caret}\nERROR at Row:{pos.line}:Column:{pos.column}\n{text}"


def malformed(soql: str, pos: Position | None, text: str) -> SoqlError:
    """A ``MALFORMED_QUERY`` error placed at ``pos``."""
    return SoqlError("MALFORMED_QUERY", located_message(soql, pos, text))


def no_such_column(soql: str, pos: Position | None, field: str, sobject: str) -> SoqlError:
    """``INVALID_FIELD`` for a field the object does not have."""
    text = (
        f"No such column '{field}' on entity '{sobject}'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. " + _WSDL_HINT
    )
    return SoqlError("INVALID_FIELD", located_message(soql, pos, text))


def bad_relationship(soql: str, pos: Position | None, name: str) -> SoqlError:
    """``INVALID_FIELD`` for a parent relationship name the object does not have."""
    text = (
        f"Didn't understand relationship '{name}' in field path. If you are attempting to "
        "use a custom relationship, be sure to append the '__r' after the custom "
        "relationship name. " + _WSDL_HINT
    )
    return SoqlError("INVALID_FIELD", located_message(soql, pos, text))


def bad_child_relationship(soql: str, pos: Position | None, name: str) -> SoqlError:
    """``INVALID_TYPE`` for a child relationship (subquery FROM) that does not exist."""
    text = (
        f"Didn't understand relationship '{name}' in FROM part of query call. If you are "
        "attempting to use a custom relationship, be sure to append the '__r' after the "
        "custom relationship name. " + _WSDL_HINT
    )
    return SoqlError("INVALID_TYPE", located_message(soql, pos, text))


def unsupported_type(soql: str, pos: Position | None, name: str) -> SoqlError:
    """``INVALID_TYPE`` for an sObject the org does not have."""
    text = (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. " + _WSDL_HINT
    )
    return SoqlError("INVALID_TYPE", located_message(soql, pos, text))


def invalid_field(soql: str, pos: Position | None, text: str) -> SoqlError:
    """An ``INVALID_FIELD`` error with a free-form message."""
    return SoqlError("INVALID_FIELD", located_message(soql, pos, text))


def invalid_locator() -> SoqlError:
    """The error for an unknown or expired query locator (REST ``query/<locator>``)."""
    return SoqlError("INVALID_QUERY_LOCATOR", "invalid query locator")
