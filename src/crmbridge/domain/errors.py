"""The one error tree for talking to Salesforce, named by what the caller does next.

Every failure the Salesforce client sees is turned into one of these classes in one
place (:func:`classify_salesforce_error`), so the sync engine decides with
``isinstance`` alone: retry it, re-authorize the connection, fix the record's data, or
fix the configuration. HTTP status codes of *our* API are attached only in the web
layer, never here.

Error codes and their meaning come from the Salesforce REST API Developer Guide,
"Status Codes and Error Responses", and the SOAP API "StatusCode" enumeration.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class ErrorCategory(enum.StrEnum):
    """The classification shown to administrators (R-S8, seed 004 "Handling Errors")."""

    VALIDATION = "validation"
    PERMISSION = "permission"
    RECORD_LOCKING = "record_locking"
    RATE_LIMIT = "rate_limit"
    NETWORK = "network"
    AUTH = "auth"
    CONFIGURATION = "configuration"


class CrmError(Exception):
    """A Salesforce call failed."""

    #: What an administrator sees in the sync log.
    category: ErrorCategory = ErrorCategory.CONFIGURATION
    #: What to do about it, in words an administrator understands.
    advice: str = "Check the integration's configuration."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str = "",
        fields: Sequence[str] = (),
        status: int | None = None,
    ) -> None:
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        #: Salesforce's ``errorCode`` / ``statusCode`` (e.g. ``REQUIRED_FIELD_MISSING``).
        self.code = code
        #: The fields Salesforce blamed, when it named any.
        self.fields = tuple(fields)
        #: The HTTP status Salesforce answered with, when there was a response.
        self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        prefix = f"{self.code}: " if self.code else ""
        suffix = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        return f"{prefix}{self.message}{suffix}"


# --- retry: the same call may succeed later -------------------------------------------


class RetryableError(CrmError):
    """A transient failure: retry with backoff."""

    category = ErrorCategory.NETWORK
    advice = "Nothing to do: crmbridge retries automatically."


class NetworkError(RetryableError):
    """Salesforce could not be reached or answered with a server error."""


class RecordLockedError(RetryableError):
    """Salesforce could not lock the record (another process holds it)."""

    category = ErrorCategory.RECORD_LOCKING
    advice = "Nothing to do: the record is retried after other Salesforce work on it ends."


class RateLimitError(RetryableError):
    """The org's API request limit is used up."""

    category = ErrorCategory.RATE_LIMIT
    advice = (
        "Sync resumes by itself when the org's daily API allowance frees up; to avoid it, "
        "lower the sync frequency, use a bulk sync window, or ask Salesforce for a higher limit."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after_seconds: float | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        #: How long to wait, when Salesforce or the budget said so.
        self.retry_after_seconds = retry_after_seconds


# --- re-authorize: nothing works until an admin connects again ------------------------


class ReauthorizationRequired(CrmError):
    """The connection's credentials no longer work."""

    category = ErrorCategory.AUTH
    advice = (
        "Re-authorize the Salesforce connection (Settings > Integrations > Salesforce > "
        "Re-authorize). This happens after a password reset, a revoked token, or a "
        "deactivated integration user."
    )


class SessionExpired(CrmError):
    """The access token expired or was invalidated; a refresh may fix it."""

    category = ErrorCategory.AUTH
    advice = "Nothing to do: crmbridge refreshes the token and retries once."


# --- fix the data: this record is wrong, others are fine -----------------------------


class RecordError(CrmError):
    """Salesforce rejected this record's data; other records are not affected."""

    category = ErrorCategory.VALIDATION
    advice = "Fix the record (or the mapping that fills the field) and retry it."


class DuplicateRecordError(RecordError):
    """A Salesforce duplicate rule blocked the record."""

    advice = (
        "A matching record already exists in Salesforce. Merge the two, add a match key "
        "to the mapping so crmbridge updates the existing record, or relax the duplicate rule."
    )


class RecordDeletedError(RecordError):
    """The Salesforce record is deleted or does not exist."""

    advice = "The record was deleted in Salesforce; restore it there or unlink it here."


# --- fix the configuration: every record of this kind will fail ----------------------


class ConfigurationError(CrmError):
    """The mapping or the org's setup does not allow this call."""

    category = ErrorCategory.CONFIGURATION
    advice = (
        "Check the object and field mapping against the org: field API names, types, "
        "and whether the fields exist."
    )


class PermissionDenied(ConfigurationError):
    """The integration user lacks a permission."""

    category = ErrorCategory.PERMISSION
    advice = (
        "Give the integration user the missing permission (API Enabled, object access, "
        "field-level security) in Salesforce Setup, then retry."
    )


#: Salesforce error codes, grouped by the class that represents them.
_CODE_TABLE: dict[str, type[CrmError]] = {
    # record locking
    "UNABLE_TO_LOCK_ROW": RecordLockedError,
    # limits
    "REQUEST_LIMIT_EXCEEDED": RateLimitError,
    "TXN_SECURITY_METERING_ERROR": RateLimitError,
    "CONCURRENT_REQUEST_LIMIT_EXCEEDED": RateLimitError,
    # sessions and credentials
    "INVALID_SESSION_ID": SessionExpired,
    "INVALID_AUTH_HEADER": SessionExpired,
    "invalid_grant": ReauthorizationRequired,
    "INVALID_LOGIN": ReauthorizationRequired,
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": ReauthorizationRequired,
    "USER_INACTIVE": ReauthorizationRequired,
    "inactive_user": ReauthorizationRequired,
    "invalid_client": ConfigurationError,
    "invalid_client_id": ConfigurationError,
    "unsupported_grant_type": ConfigurationError,
    # permissions
    "API_DISABLED_FOR_ORG": PermissionDenied,
    "API_CURRENTLY_DISABLED": PermissionDenied,
    "INSUFFICIENT_ACCESS": PermissionDenied,
    "INSUFFICIENT_ACCESS_OR_READONLY": PermissionDenied,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": PermissionDenied,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": PermissionDenied,
    "FUNCTIONALITY_NOT_ENABLED": PermissionDenied,
    # configuration
    "INVALID_FIELD": ConfigurationError,
    "INVALID_FIELD_FOR_INSERT_UPDATE": ConfigurationError,
    "INVALID_TYPE": ConfigurationError,
    "INVALID_TYPE_FOR_OPERATION": ConfigurationError,
    "MALFORMED_QUERY": ConfigurationError,
    "MALFORMED_ID": RecordError,
    "NOT_FOUND": RecordDeletedError,
    "METHOD_NOT_ALLOWED": ConfigurationError,
    "INVALID_OPERATION": ConfigurationError,
    # data
    "ENTITY_IS_DELETED": RecordDeletedError,
    "DUPLICATES_DETECTED": DuplicateRecordError,
    "DUPLICATE_VALUE": DuplicateRecordError,
    "DUPLICATE_EXTERNAL_ID": DuplicateRecordError,
}

#: The message Salesforce gives the fallback class for unknown codes, by HTTP status.
_STATUS_TABLE: dict[int, type[CrmError]] = {
    401: SessionExpired,
    403: PermissionDenied,
    404: RecordDeletedError,
    429: RateLimitError,
    500: NetworkError,
    502: NetworkError,
    503: NetworkError,
    504: NetworkError,
}


def classify_salesforce_error(
    *,
    status: int | None,
    code: str,
    message: str,
    fields: Sequence[str] = (),
) -> CrmError:
    """Turn one Salesforce error into the class that says what to do next.

    Args:
        status: HTTP status of the response, or ``None`` for a per-record error inside
            a successful collection response.
        code: Salesforce's ``errorCode`` (REST) or ``statusCode`` (collections, SOAP).
        message: Salesforce's message, kept verbatim for the administrator.
        fields: fields Salesforce named in the error.

    Returns:
        An instance of the most specific :class:`CrmError` subclass. Unknown codes on a
        record-level error count as data problems (the record is dead-lettered with
        Salesforce's message, other records go on); unknown codes on a whole response
        fall back on the HTTP status.
    """
    cls = _CODE_TABLE.get(code)
    if code == "INVALID_FIELD" and message.startswith("Foreign key external ID"):
        # A parent referenced by external id does not exist (yet): only this record
        # fails (REST API Developer Guide, "Insert or update records using an external
        # ID as a foreign key"); the parent usually syncs first and a retry succeeds.
        cls = RecordError
    if cls is None and code.endswith("_VALIDATION_EXCEPTION"):
        cls = RecordError
    if cls is None and status is not None:
        cls = _STATUS_TABLE.get(status)
        if cls is None and 500 <= status < 600:
            cls = NetworkError
    if cls is None:
        cls = RecordError
    return cls(message, code=code, fields=fields, status=status)
