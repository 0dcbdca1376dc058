"""The one exception the emulator raises for a Salesforce-shaped API error.

Every layer (store, SOQL engine wrappers, REST, composite, bulk) raises
:class:`SalesforceApiError`; the HTTP layer turns it into Salesforce's error body, which
for REST is a JSON *array* of ``{message, errorCode, fields}`` (REST API Developer
Guide, "Status Codes and Error Responses").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Request-level codes whose REST body carries no ``fields`` key unless fields are named.
_REQUEST_LEVEL_CODES = frozenset(
    {
        "INVALID_SESSION_ID",
        "NOT_FOUND",
        "REQUEST_LIMIT_EXCEEDED",
        "SERVER_UNAVAILABLE",
        "JSON_PARSER_ERROR",
        "MALFORMED_QUERY",
        "INVALID_QUERY_LOCATOR",
        "INVALID_TYPE",
        "METHOD_NOT_ALLOWED",
        "INVALID_QUERY_FILTER_OPERATOR",
        "API_DISABLED_FOR_ORG",
    }
)


class SalesforceApiError(Exception):
    """A request Salesforce would reject, with the status and code it would answer."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: Sequence[str] = (),
        *,
        extra: dict[str, Any] | None = None,
        matching_ids: Sequence[str] = (),
        request_level: bool | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        #: HTTP status of the whole response when this error is the whole answer.
        self.status = status
        #: Salesforce's ``errorCode`` / ``statusCode`` (e.g. ``REQUIRED_FIELD_MISSING``).
        self.error_code = error_code
        #: Salesforce's message, worded as Salesforce words it.
        self.message = message
        #: Field API names the error is about.
        self.fields = list(fields)
        #: Extra keys of the error entry (e.g. ``duplicateResult`` for DUPLICATES_DETECTED).
        self.extra = dict(extra or {})
        #: For an ambiguous upsert (HTTP 300): the ids of every record that matched.
        self.matching_ids = list(matching_ids)
        #: About the whole request (no ``fields`` key in the REST body unless fields are
        #: named), as opposed to a record-level DML error.
        self.request_level = (
            error_code in _REQUEST_LEVEL_CODES if request_level is None else request_level
        )

    def rest_entry(self) -> dict[str, Any]:
        """The error as one entry of a REST error array: ``{message, errorCode, fields}``."""
        entry: dict[str, Any] = dict(self.extra)
        entry.update({"message": self.message, "errorCode": self.error_code})
        if self.fields or not self.request_level:
            entry["fields"] = list(self.fields)
        return entry

    def collection_entry(self) -> dict[str, Any]:
        """The error as a per-record entry of a collection or composite result.

        sObject Collections name the code ``statusCode`` rather than ``errorCode``
        (REST API Developer Guide, "sObject Collections").
        """
        entry: dict[str, Any] = dict(self.extra)
        entry.update({"statusCode": self.error_code, "message": self.message})
        entry["fields"] = list(self.fields)
        return entry
