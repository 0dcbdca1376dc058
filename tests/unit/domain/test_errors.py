"""The Salesforce error table: each code lands in the class that says what to do next."""

from __future__ import annotations

import pytest

from crmbridge.domain.errors import (
    ConfigurationError,
    DuplicateRecordError,
    NetworkError,
    PermissionDenied,
    RateLimitError,
    ReauthorizationRequired,
    RecordDeletedError,
    RecordError,
    RecordLockedError,
    RetryableError,
    SessionExpired,
    classify_salesforce_error,
)


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (None, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", RecordLockedError),
        (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", RateLimitError),
        (401, "INVALID_SESSION_ID", "Session expired or invalid", SessionExpired),
        (400, "invalid_grant", "expired access/refresh token", ReauthorizationRequired),
        (403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization", PermissionDenied),
        (400, "INVALID_FIELD", "No such column 'Foo__c' on entity 'Contact'", ConfigurationError),
        (None, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", RecordError),
        (None, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Email required", RecordError),
        (None, "DUPLICATES_DETECTED", "Use one of these records?", DuplicateRecordError),
        (404, "NOT_FOUND", "The requested resource does not exist", RecordDeletedError),
        (None, "ENTITY_IS_DELETED", "entity is deleted", RecordDeletedError),
        (503, "SERVER_UNAVAILABLE", "try again", NetworkError),
        (502, "", "Bad gateway", NetworkError),
        (None, "SOME_NEW_CODE", "something Salesforce added later", RecordError),
    ],
)
def test_each_salesforce_code_maps_to_what_the_caller_does_next(
    status: int | None, code: str, message: str, expected: type
) -> None:
    error = classify_salesforce_error(status=status, code=code, message=message)
    assert type(error) is expected
    assert error.message == message
    assert error.code == code


def test_a_missing_parent_external_id_fails_only_that_record() -> None:
    error = classify_salesforce_error(
        status=None,
        code="INVALID_FIELD",
        message="Foreign key external ID: p-1 not found for field Platform_Id__c in entity Account",
    )
    assert type(error) is RecordError


def test_transient_errors_are_retryable_and_data_errors_are_not() -> None:
    assert isinstance(classify_salesforce_error(status=503, code="", message=""), RetryableError)
    locked = classify_salesforce_error(status=None, code="UNABLE_TO_LOCK_ROW", message="")
    assert isinstance(locked, RetryableError)
    missing = classify_salesforce_error(status=None, code="REQUIRED_FIELD_MISSING", message="")
    assert not isinstance(missing, RetryableError)


def test_str_names_the_code_and_fields() -> None:
    error = classify_salesforce_error(
        status=None,
        code="STRING_TOO_LONG",
        message="Last Name: data value too large",
        fields=["LastName"],
    )
    assert str(error) == "STRING_TOO_LONG: Last Name: data value too large (fields: LastName)"
