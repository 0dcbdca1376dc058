"""Authentication against a Salesforce org: OAuth 2.0 flows, SOAP login, identity.

Authlib builds the OAuth messages (authorization URL, PKCE S256 challenge, token
request bodies); crmbridge's own httpx client sends them, so TLS trust, timeouts and
transport errors are the same as for every other Salesforce call. The username/password
login without a connected app uses the partner SOAP ``login`` call, as
simple-salesforce does. Every failure becomes a :mod:`crmbridge.domain.errors`
class with a message an administrator can act on.

Sources: Salesforce Help, "OAuth 2.0 Web Server Flow for Web App Integration",
"OAuth 2.0 Username-Password Flow", "Revoke OAuth Tokens", "Identity URLs"; SOAP API
Developer Guide, "login()".
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

import certifi
import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from defusedxml import ElementTree

from crmbridge.domain.errors import (
    ConfigurationError,
    CrmError,
    NetworkError,
    PermissionDenied,
    ReauthorizationRequired,
    RetryableError,
    classify_salesforce_error,
)
from crmbridge.salesforce import endpoints
from crmbridge.salesforce.transport import send, transport_error

#: Scopes crmbridge asks for: the REST/Bulk APIs and a refresh token.
DEFAULT_SCOPE = "api refresh_token"


@dataclass(frozen=True, kw_only=True)
class TokenSet:
    """What a successful login yields. Tokens never appear in ``repr``."""

    #: Bearer token for data calls.
    access_token: str = field(repr=False)
    #: Refresh token (OAuth web-server flow only).
    refresh_token: str | None = field(default=None, repr=False)
    #: Base URL of the org's instance, e.g. ``https://na1.salesforce.com``.
    instance_url: str
    #: The identity URL (``id``), ``.../id/<orgId>/<userId>``.
    identity_url: str = ""
    #: When Salesforce issued the token.
    issued_at: dt.datetime | None = None
    #: Granted scopes.
    scope: str = ""

    @property
    def org_id(self) -> str:
        """The 18-character org id, taken from the identity URL."""
        parts = urlsplit(self.identity_url).path.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 else ""

    @property
    def user_id(self) -> str:
        """The 18-character user id, taken from the identity URL."""
        return urlsplit(self.identity_url).path.rstrip("/").split("/")[-1]


@dataclass(frozen=True, kw_only=True)
class ConnectedApp:
    """The consumer (connected app) crmbridge authenticates as."""

    #: Consumer Key.
    client_id: str
    #: Consumer Secret.
    client_secret: str = field(repr=False)
    #: Login host (production, sandbox, My Domain or the emulator).
    login_url: str
    #: crmbridge's OAuth callback URL.
    redirect_uri: str = ""


@dataclass(frozen=True, kw_only=True)
class Identity:
    """Who the connection acts as (from the identity URL)."""

    #: 18-character org id.
    org_id: str
    #: 18-character user id.
    user_id: str
    #: The Salesforce username.
    username: str
    #: Display name of the user.
    display_name: str
    #: E-mail of the user.
    email: str
    #: Whether the user is active.
    active: bool


def new_pkce_verifier() -> str:
    """A fresh PKCE code verifier (RFC 7636: 43 to 128 characters)."""
    return secrets.token_urlsafe(64)


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A TLS context trusting the public CAs plus ``ca_bundle`` when given."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def verify_signature(tokens: Mapping[str, Any], client_secret: str) -> bool:
    """Check a token response's ``signature``: Base64 HMAC-SHA256 of id + issued_at."""
    signature = str(tokens.get("signature", ""))
    message = f"{tokens.get('id', '')}{tokens.get('issued_at', '')}".encode()
    expected = base64.b64encode(
        hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(signature, expected)


class SalesforceAuth:
    """OAuth and SOAP logins against one login host."""

    def __init__(
        self,
        app: ConnectedApp | None,
        *,
        login_url: str,
        verify: ssl.SSLContext,
        timeout: float = 30.0,
    ) -> None:
        self._app = app
        self._login_url = login_url
        self._verify = verify
        self._timeout = timeout

    def _require_app(self) -> ConnectedApp:
        if self._app is None:
            raise ConfigurationError(
                "No connected app configured: set the Consumer Key and Consumer Secret "
                "(or the operator's SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET)."
            )
        return self._app

    def authorization_url(self, *, state: str, code_verifier: str) -> str:
        """Where to send the admin's browser to approve access (PKCE S256).

        ``prompt=login consent`` makes Salesforce ask who logs in and what to allow even
        when the browser has a Salesforce session, so the admin picks the right org.
        """
        app = self._require_app()
        return str(
            prepare_grant_uri(
                endpoints.oauth_url(self._login_url, "authorize"),
                client_id=app.client_id,
                response_type="code",
                redirect_uri=app.redirect_uri or None,
                scope=DEFAULT_SCOPE,
                state=state,
                code_challenge=create_s256_code_challenge(code_verifier),
                code_challenge_method="S256",
                prompt="login consent",
            )
        )

    def exchange_code(self, *, code: str, code_verifier: str) -> TokenSet:
        """Trade an authorization code (and its PKCE verifier) for tokens."""
        app = self._require_app()
        return self._token_request(
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            redirect_uri=app.redirect_uri,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token from a refresh token; keeps the old refresh token unless rotated.

        Raises:
            ReauthorizationRequired: the refresh token was revoked or the user changed.
        """
        tokens = self._token_request(grant_type="refresh_token", refresh_token=refresh_token)
        if tokens.refresh_token is None:
            tokens = TokenSet(
                access_token=tokens.access_token,
                refresh_token=refresh_token,
                instance_url=tokens.instance_url,
                identity_url=tokens.identity_url,
                issued_at=tokens.issued_at,
                scope=tokens.scope,
            )
        return tokens

    def password_grant(self, *, username: str, password: str, security_token: str) -> TokenSet:
        """OAuth username-password flow (needs a connected app)."""
        return self._token_request(
            grant_type="password", username=username, password=password + security_token
        )

    def _token_request(self, *, grant_type: str, **params: str) -> TokenSet:
        app = self._require_app()
        # Client credentials travel in the body ("client_secret_post"), as Salesforce's
        # examples send them (Salesforce Help, "OAuth 2.0 Web Server Flow").
        body = prepare_token_request(
            grant_type,
            client_id=app.client_id,
            client_secret=app.client_secret,
            **params,
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        url = endpoints.oauth_url(self._login_url, "token")
        with httpx.Client(verify=self._verify, timeout=self._timeout) as http:
            response = send(http, "POST", url, content=body.encode(), headers=headers)
        try:
            raw = response.json()
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise classify_salesforce_error(
                status=response.status_code,
                code="",
                message=f"The token endpoint answered HTTP {response.status_code} without JSON.",
            )
        if response.status_code != 200 or "access_token" not in raw:
            if raw.get("error"):
                raise _oauth_error(str(raw["error"]), str(raw.get("error_description") or ""))
            raise classify_salesforce_error(
                status=response.status_code,
                code="",
                message=f"The token endpoint answered HTTP {response.status_code}.",
            )
        if "signature" in raw and not verify_signature(raw, app.client_secret):
            raise ConfigurationError(
                "The token response's signature does not match the Consumer Secret."
            )
        return _token_set(raw)

    def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (revoking a refresh token ends the session)."""
        url = endpoints.oauth_url(self._login_url, "revoke")
        try:
            with httpx.Client(verify=self._verify, timeout=self._timeout) as http:
                response = http.post(url, data={"token": token})
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        # An already-invalid token answers 400 invalid_token: revoked is revoked.
        if response.status_code >= 500:
            raise NetworkError(f"Salesforce answered {response.status_code} to the revocation.")

    def soap_login(
        self, *, username: str, password: str, security_token: str, api_version: str
    ) -> TokenSet:
        """The partner SOAP ``login()`` call, for orgs connected without a connected app."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:urn="urn:partner.soap.sforce.com">'
            "<env:Body><urn:login>"
            f"<urn:username>{xml_escape(username)}</urn:username>"
            f"<urn:password>{xml_escape(password + security_token)}</urn:password>"
            "</urn:login></env:Body></env:Envelope>"
        )
        url = endpoints.soap_login_url(self._login_url, api_version)
        headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"}
        with httpx.Client(verify=self._verify, timeout=self._timeout) as http:
            response = send(http, "POST", url, content=body.encode(), headers=headers)
        return _parse_soap_login(response, login_url=self._login_url)

    def identity(self, tokens: TokenSet) -> Identity:
        """Ask the identity URL who the token belongs to."""
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        with httpx.Client(verify=self._verify, timeout=self._timeout) as http:
            response = send(http, "GET", tokens.identity_url, headers=headers)
        if response.status_code != 200:
            raise classify_salesforce_error(
                status=response.status_code,
                code="INVALID_SESSION_ID" if response.status_code in {401, 403} else "",
                message="The identity URL refused the token.",
            )
        data = response.json()
        return Identity(
            org_id=str(data.get("organization_id", "")),
            user_id=str(data.get("user_id", "")),
            username=str(data.get("username", "")),
            display_name=str(data.get("display_name", "")),
            email=str(data.get("email", "")),
            active=bool(data.get("active", True)),
        )


def _token_set(raw: Mapping[str, Any]) -> TokenSet:
    issued_at = None
    if raw.get("issued_at"):
        issued_at = dt.datetime.fromtimestamp(int(raw["issued_at"]) / 1000, tz=dt.UTC)
    return TokenSet(
        access_token=str(raw["access_token"]),
        refresh_token=raw.get("refresh_token"),
        instance_url=str(raw["instance_url"]).rstrip("/"),
        identity_url=str(raw.get("id", "")),
        issued_at=issued_at,
        scope=str(raw.get("scope", "")),
    )


#: OAuth error codes (Salesforce Help, "OAuth 2.0 Authorization Errors"): the class,
#: what happened, and what to do (``None`` keeps the class's advice).
_OAUTH_ERRORS: dict[str, tuple[type[CrmError], str, str | None]] = {
    "invalid_client_id": (
        ConfigurationError,
        "Salesforce does not know this Consumer Key.",
        "Copy the Consumer Key from the connected app (Setup > App Manager) into the "
        "Salesforce settings.",
    ),
    "invalid_client": (
        ConfigurationError,
        "Salesforce rejected the Consumer Key / Consumer Secret pair.",
        "Copy the Consumer Secret from the connected app (Setup > App Manager) into the "
        "Salesforce settings.",
    ),
    "invalid_grant": (
        ReauthorizationRequired,
        "Salesforce rejected the credentials (wrong password or security token, an "
        "expired or revoked authorization, or a code used twice).",
        None,
    ),
    "inactive_user": (
        ReauthorizationRequired,
        "The Salesforce user is inactive.",
        "Activate the user in Salesforce, or connect as another user.",
    ),
    "inactive_org": (
        PermissionDenied,
        "The Salesforce org is locked or inactive.",
        "Ask the org's administrator (or Salesforce support) to unlock it.",
    ),
    "unsupported_grant_type": (
        ConfigurationError,
        "The connected app does not allow this login flow.",
        "Allow the flow in the connected app's OAuth policies, or use the other login.",
    ),
    "redirect_uri_mismatch": (
        ConfigurationError,
        "The callback URL is not registered on the connected app.",
        "Add crmbridge's callback URL (shown in the Salesforce settings) to the "
        "connected app's callback URLs.",
    ),
}


def _oauth_error(code: str, description: str) -> CrmError:
    cls, words, advice = _OAUTH_ERRORS.get(
        code,
        (
            ConfigurationError,
            "Salesforce refused the login request.",
            "Check the connected app's OAuth settings in Salesforce Setup.",
        ),
    )
    said = f" (Salesforce said: {description})" if description else ""
    error = cls(words + said, code=code)
    if advice is not None:
        error.advice = advice
    return error


_SOAP_NS = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "p": "urn:partner.soap.sforce.com",
    "sf": "urn:fault.partner.soap.sforce.com",
}


def _parse_soap_login(response: httpx.Response, *, login_url: str) -> TokenSet:
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        raise NetworkError(
            f"The SOAP login answered {response.status_code} without a SOAP envelope.",
            status=response.status_code,
        ) from None
    fault = root.find(".//soapenv:Fault", _SOAP_NS)
    if fault is not None:
        code = (fault.findtext(".//sf:exceptionCode", default="", namespaces=_SOAP_NS)) or (
            fault.findtext("faultcode", default="").split(":")[-1]
        )
        message = fault.findtext(
            ".//sf:exceptionMessage", default="", namespaces=_SOAP_NS
        ) or fault.findtext("faultstring", default="Login failed")
        error = classify_salesforce_error(status=response.status_code, code=code, message=message)
        # Faults come with HTTP 500 (SOAP API Developer Guide, "login()"); a LoginFault
        # whose code is not in the table (LOGIN_MUST_USE_SECURITY_TOKEN, PASSWORD_LOCKOUT
        # …) is about the credentials, not a server failure to retry.
        if fault.find(".//sf:LoginFault", _SOAP_NS) is not None and isinstance(
            error, RetryableError
        ):
            error = ReauthorizationRequired(message, code=code, status=response.status_code)
        raise error
    result = root.find(".//p:result", _SOAP_NS)
    if result is None:
        raise NetworkError("The SOAP login response has no result.", status=response.status_code)
    session_id = result.findtext("p:sessionId", default="", namespaces=_SOAP_NS)
    server_url = result.findtext("p:serverUrl", default="", namespaces=_SOAP_NS)
    user_id = result.findtext("p:userId", default="", namespaces=_SOAP_NS)
    org_id = result.findtext("p:userInfo/p:organizationId", default="", namespaces=_SOAP_NS)
    password_expired = result.findtext("p:passwordExpired", default="false", namespaces=_SOAP_NS)
    if password_expired == "true":
        raise ReauthorizationRequired(
            "The Salesforce password has expired: reset it, then connect again.",
            code="INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
        )
    parts = urlsplit(server_url)
    instance_url = f"{parts.scheme}://{parts.netloc}"
    return TokenSet(
        access_token=session_id,
        refresh_token=None,
        instance_url=instance_url,
        # Identity URLs live on the login host (Salesforce Help, "Identity URLs").
        identity_url=f"{login_url}/id/{org_id}/{user_id}",
        issued_at=None,
    )
