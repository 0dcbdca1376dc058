"""HTTP helpers for the emulator core's tests: real HTTPS against a running emulator.

``requests`` honours REQUESTS_CA_BUNDLE over ``Session.verify`` when ``trust_env`` is
on, so every session here turns it off and trusts the emulator's own CA instead.
"""

from __future__ import annotations

from typing import Any

import requests

API = "/services/data/v59.0"


def https_session(info: dict[str, Any]) -> requests.Session:
    """A requests session that trusts the emulator's CA (and nothing from the environment)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = info["ca_cert"]
    return session


def password_token(info: dict[str, Any], session: requests.Session | None = None) -> dict[str, Any]:
    """The token response of a password grant for the admin user."""
    http = session or https_session(info)
    response = http.post(
        info["token_url"],
        data={
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"] + info["security_token"],
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


class RestClient:
    """A tiny raw REST client: base URL, bearer token, no retries, no interpretation."""

    def __init__(self, info: dict[str, Any], token: str | None = None) -> None:
        self.info = info
        self.http = https_session(info)
        self.token = token or password_token(info, self.http)["access_token"]
        self.base = info["instance_url"]

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        url = path if path.startswith("http") else self.base + path
        return self.http.request(method, url, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A call to the loopback-only admin endpoints with the admin token."""
        headers = {"Authorization": f"Bearer {self.info['admin_token']}"}
        return self.http.request(
            method, self.info["admin_url"] + path, headers=headers, timeout=30, **kwargs
        )


def error_codes(response: requests.Response) -> list[str]:
    """The ``errorCode`` of each entry of a Salesforce REST error body."""
    body = response.json()
    assert isinstance(body, list), body
    return [entry["errorCode"] for entry in body]
