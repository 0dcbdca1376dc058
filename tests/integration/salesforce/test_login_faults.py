"""SOAP login faults and OAuth error bodies become errors that say what to do."""

from __future__ import annotations

import httpx
import pytest

from crmbridge.domain.errors import ConfigurationError, PermissionDenied, ReauthorizationRequired
from crmbridge.salesforce.auth import _oauth_error, _parse_soap_login
from crmbridge.salesforce.client import _resource_family

pytestmark = pytest.mark.storeless

LOGIN = "https://login.salesforce.com"


def _fault(code: str, message: str, detail_type: str = "LoginFault") -> httpx.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring>"
        f'<detail><sf:{detail_type} xsi:type="sf:{detail_type}">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage>"
        f"</sf:{detail_type}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return httpx.Response(500, content=body.encode())


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("INVALID_LOGIN", ReauthorizationRequired),
        ("LOGIN_MUST_USE_SECURITY_TOKEN", ReauthorizationRequired),
        ("PASSWORD_LOCKOUT", ReauthorizationRequired),
        ("API_DISABLED_FOR_ORG", PermissionDenied),
    ],
)
def test_login_faults_are_about_credentials_or_permissions_never_retried(
    code: str, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as info:
        _parse_soap_login(_fault(code, "Refused."), login_url=LOGIN)
    assert info.value.code == code  # type: ignore[attr-defined]
    assert str(info.value) == f"{code}: Refused."


def test_oauth_errors_carry_their_own_advice() -> None:
    wrong_secret = _oauth_error("invalid_client", "invalid client credentials")
    assert isinstance(wrong_secret, ConfigurationError)
    assert "Consumer Secret" in wrong_secret.advice
    assert "mapping" not in wrong_secret.advice
    revoked = _oauth_error("invalid_grant", "expired access/refresh token")
    assert isinstance(revoked, ReauthorizationRequired)
    assert revoked.advice == ReauthorizationRequired.advice
    unknown = _oauth_error("something_new", "")
    assert isinstance(unknown, ConfigurationError)
    assert unknown.message == "Salesforce refused the login request."


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("", "resources"),
        ("/services/data/", "versions"),
        ("query", "query"),
        ("/services/data/v59.0/query/01gxx-2000", "query"),
        ("composite/sobjects/Contact/Platform_Id__c", "composite"),
        ("jobs/ingest/750xx/batches", "jobs"),
    ],
)
def test_calls_are_counted_by_resource_family(path: str, family: str) -> None:
    assert _resource_family(path) == family
