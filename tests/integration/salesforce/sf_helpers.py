"""Helpers for tests that talk to the emulator through crmbridge's Salesforce client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from crmbridge.salesforce.auth import ConnectedApp, SalesforceAuth, TokenSet, tls_context
from crmbridge.salesforce.client import RetryConfig, SalesforceClient

#: Retries in tests wait (almost) nothing; the injected ``sleep`` sees every wait.
FAST_RETRY = RetryConfig(attempts=4, initial_delay=0.001, max_delay=0.01)


def auth_for(info: dict[str, Any], *, ca: str | None = "emulator") -> SalesforceAuth:
    """Crmbridge's auth against the emulator, trusting its CA (or nothing extra)."""
    verify = tls_context(info["ca_cert"] if ca == "emulator" else ca)
    app = ConnectedApp(
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        login_url=info["login_url"],
        redirect_uri="https://crmbridge.example.org/api/v1/salesforce/oauth/callback",
    )
    return SalesforceAuth(app, login_url=info["login_url"], verify=verify)


def password_tokens(info: dict[str, Any]) -> TokenSet:
    """A session for the emulator's admin user by the OAuth password grant."""
    return auth_for(info).password_grant(
        username=info["username"],
        password=info["password"],
        security_token=info["security_token"],
    )


def admin(info: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Change the emulator's faults (loopback admin endpoint)."""
    with httpx.Client(verify=tls_context(info["ca_cert"]), timeout=30) as http:
        response = http.post(
            info["admin_url"] + "/faults",
            json=changes,
            headers={"Authorization": f"Bearer {info['admin_token']}"},
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


class ClientFactory:
    """Builds clients on one emulator and closes their HTTP pools afterwards."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self._http: list[httpx.Client] = []

    def __call__(
        self,
        *,
        tokens: TokenSet | None = None,
        renew: Callable[[TokenSet], TokenSet] | None = None,
        on_renewed: Callable[[TokenSet], None] | None = None,
        sleep: Callable[[float], None] = lambda _s: None,
        ca: str | None = "emulator",
    ) -> SalesforceClient:
        verify = tls_context(self.info["ca_cert"] if ca == "emulator" else ca)
        http = httpx.Client(verify=verify, timeout=30)
        self._http.append(http)
        return SalesforceClient(
            tokens=tokens or password_tokens(self.info),
            http=http,
            api_version=self.info["api_version"],
            renew=renew,
            on_renewed=on_renewed,
            retry=FAST_RETRY,
            sleep=sleep,
        )

    def close(self) -> None:
        for http in self._http:
            http.close()
