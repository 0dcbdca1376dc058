"""How crmbridge reaches Salesforce for a tenant: TLS trust, the HTTP client, the logins.

Every part of the connection services gets its ``httpx.Client`` and
:class:`~crmbridge.salesforce.auth.SalesforceAuth` here, so the trusted CA
(``SALESFORCE_CA_BUNDLE``) and the timeouts are the same for logins, data calls,
revocation and the connection test.
"""

from __future__ import annotations

import ssl

import httpx

from crmbridge.config import Settings
from crmbridge.salesforce.auth import ConnectedApp, SalesforceAuth, tls_context

#: Seconds to wait for Salesforce to connect and answer one request.
HTTP_TIMEOUT_SECONDS = 30.0


def salesforce_tls(settings: Settings) -> ssl.SSLContext:
    """The TLS trust for Salesforce: public CAs plus ``SALESFORCE_CA_BUNDLE``."""
    return tls_context(settings.salesforce_ca_bundle or None)


def salesforce_http(settings: Settings) -> httpx.Client:
    """An HTTP client for data calls (the caller closes it)."""
    return httpx.Client(
        verify=salesforce_tls(settings),
        timeout=HTTP_TIMEOUT_SECONDS,
        # Salesforce never redirects API calls; following one would leak the token.
        follow_redirects=False,
    )


def salesforce_auth(
    settings: Settings,
    *,
    login_url: str,
    consumer_key: str | None,
    consumer_secret: str | None,
) -> SalesforceAuth:
    """Logins against ``login_url``, as the connected app when one is configured."""
    app = None
    if consumer_key and consumer_secret:
        app = ConnectedApp(
            client_id=consumer_key,
            client_secret=consumer_secret,
            login_url=login_url,
            redirect_uri=settings.oauth_callback_url(),
        )
    return SalesforceAuth(
        app, login_url=login_url, verify=salesforce_tls(settings), timeout=HTTP_TIMEOUT_SECONDS
    )
