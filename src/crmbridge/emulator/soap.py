"""The SOAP ``login`` call of the partner (``/services/Soap/u/{v}``) and enterprise
(``/services/Soap/c/{v}``) APIs, which username/password clients use.

The answer is the documented ``loginResponse`` (SOAP API Developer Guide, "login()"
and "LoginResult"); a bad login is the documented HTTP 500 fault with faultcode
``sf:INVALID_LOGIN`` and a ``sf:LoginFault`` detail. The envelope is parsed with
defusedxml, so entity tricks are refused like any other malformed request.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmbridge.emulator.context import EmulatorContext
from crmbridge.emulator.http import emulator
from crmbridge.emulator.sessions import AuthFailure

_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_NAMESPACES = {"u": "urn:partner.soap.sforce.com", "c": "urn:enterprise.soap.sforce.com"}
_FAULT_NAMESPACES = {
    "u": "urn:fault.partner.soap.sforce.com",
    "c": "urn:fault.enterprise.soap.sforce.com",
}
_VERSION = re.compile(r"^\d{1,2}\.0$")
INVALID_LOGIN_MESSAGE = "Invalid username, password, security token; or user locked out."
_XML_HEADERS = {"Content-Type": "text/xml;charset=UTF-8"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fault(
    api: str, faultcode: str, faultstring: str, detail_type: str, code: str, message: str
) -> Response:
    """A SOAP fault: HTTP 500 with faultcode, faultstring and an ``sf:`` detail."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" xmlns:sf="{_FAULT_NAMESPACES[api]}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>{escape(faultcode)}</faultcode>"
        f"<faultstring>{escape(faultstring)}</faultstring>"
        f'<detail><sf:{detail_type} xsi:type="sf:{detail_type}">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{detail_type}></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=500, headers=_XML_HEADERS)


def _client_fault(api: str, message: str) -> Response:
    return _fault(api, "soapenv:Client", message, "UnexpectedErrorFault", "INVALID_XML", message)


def _login_fault(api: str) -> Response:
    return _fault(
        api,
        "sf:INVALID_LOGIN",
        f"INVALID_LOGIN: {INVALID_LOGIN_MESSAGE}",
        "LoginFault",
        "INVALID_LOGIN",
        INVALID_LOGIN_MESSAGE,
    )


def _login_call(envelope: Element, api: str) -> tuple[str, str] | str:
    """``(username, password)`` of a login envelope, or the fault message."""
    if envelope.tag != f"{{{_SOAP_ENV}}}Envelope":
        return "Envelope element expected"
    body = envelope.find(f"{{{_SOAP_ENV}}}Body")
    if body is None or len(body) == 0:
        return "Body element expected"
    call = body[0]
    if call.tag != f"{{{_NAMESPACES[api]}}}login":
        return f"No operation available for request {call.tag}"
    values = {_local(child.tag): (child.text or "") for child in call}
    if "username" not in values or "password" not in values:
        namespace = _NAMESPACES[api]
        return f"Element {{{namespace}}}username and {{{namespace}}}password expected"
    return values["username"], values["password"]


async def soap_endpoint(request: Request) -> Response:
    """``POST /services/Soap/{u|c}/{version}``: the login call."""
    ctx = emulator(request)
    api = request.path_params["api"]
    version = request.path_params["version"]
    if api not in _NAMESPACES or not _VERSION.match(version):
        return Response(status_code=404)
    raw = await request.body()
    try:
        envelope = fromstring(raw)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        return _client_fault(api, f"Unable to parse the request: {exc}")
    body = envelope.find(f"{{{_SOAP_ENV}}}Body")
    if body is not None and len(body) and _local(body[0].tag) == "convertLead":
        from crmbridge.emulator.convert import convert_lead_call

        return await convert_lead_call(request, envelope, api, version)
    parsed = _login_call(envelope, api)
    if isinstance(parsed, str):
        return _client_fault(api, parsed)
    username, password = parsed
    try:
        user = await run_in_threadpool(ctx.auth.verify_login, username, password)
    except AuthFailure:
        return _login_fault(api)
    session = await run_in_threadpool(ctx.auth.issue, user.user_id, client_id="", kind="soap")
    record = await run_in_threadpool(ctx.store.get, "User", user.user_id)
    assert record is not None
    return Response(_login_response(ctx, api, version, session.token, record), headers=_XML_HEADERS)


def _login_response(
    ctx: EmulatorContext, api: str, version: str, session_id: str, user: dict[str, Any]
) -> str:
    base = ctx.base_url
    org15 = ctx.org_id_15
    ttl = ctx.options.token_ttl_seconds

    def tag(name: str, value: object) -> str:
        if value is None:
            return f'<{name} xsi:nil="true"/>'
        if isinstance(value, bool):
            value = "true" if value else "false"
        return f"<{name}>{escape(str(value))}</{name}>"

    user_info = "".join(
        [
            tag("accessibilityMode", False),
            tag("chatterExternal", False),
            tag("currencySymbol", "$"),
            tag("orgAttachmentFileSizeLimit", 5242880),
            tag("orgDefaultCurrencyIsoCode", "USD"),
            tag("orgDefaultCurrencyLocale", "en_US"),
            tag("orgDisallowHtmlAttachments", False),
            tag("orgHasPersonAccounts", False),
            tag("organizationId", ctx.org_id),
            tag("organizationMultiCurrency", False),
            tag("organizationName", ctx.options.org_name),
            tag("profileId", "00e" + ctx.org_id[3:15]),
            tag("roleId", None),
            tag("sessionSecondsValid", ttl),
            tag("userDefaultCurrencyIsoCode", None),
            tag("userEmail", user.get("Email")),
            tag("userFullName", user.get("Name")),
            tag("userId", user["Id"]),
            tag("userLanguage", user.get("LanguageLocaleKey") or "en_US"),
            tag("userLocale", user.get("LocaleSidKey") or "en_US"),
            tag("userName", user["Username"]),
            tag("userTimeZone", user.get("TimeZoneSidKey")),
            tag("userType", "Standard"),
            tag("userUiSkin", "Theme3"),
        ]
    )
    result = "".join(
        [
            tag("metadataServerUrl", f"{base}/services/Soap/m/{version}/{org15}"),
            tag("passwordExpired", False),
            tag("sandbox", False),
            tag("serverUrl", f"{base}/services/Soap/{api}/{version}/{org15}"),
            tag("sessionId", session_id),
            tag("userId", user["Id"]),
            f"<userInfo>{user_info}</userInfo>",
        ]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" xmlns="{_NAMESPACES[api]}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><loginResponse><result>{result}</result></loginResponse>"
        "</soapenv:Body></soapenv:Envelope>"
    )


routes = [
    Route("/services/Soap/{api}/{version}", soap_endpoint, methods=["POST"]),
    Route("/services/Soap/{api}/{version}/{org_id}", soap_endpoint, methods=["POST"]),
]
