"""Salesforce hosts and paths: where the login and data URLs come from.

The engine never knows whether it talks to Salesforce or to the bundled emulator: only
the login URL (and the trusted CA) differ.
"""

from __future__ import annotations

import enum
from urllib.parse import urlsplit

#: The API version crmbridge asks for unless the org offers less.
DEFAULT_API_VERSION = "59.0"
#: The newest API version crmbridge has been checked against.
MAX_API_VERSION = "64.0"


class Environment(enum.StrEnum):
    """Where the org lives (R-A1, seed 000 "Platform Settings", seed 002 Live/Sandbox)."""

    PRODUCTION = "production"
    SANDBOX = "sandbox"
    CUSTOM = "custom"


#: Salesforce's documented login hosts for production and sandbox orgs.
LOGIN_URLS = {
    Environment.PRODUCTION: "https://login.salesforce.com",
    Environment.SANDBOX: "https://test.salesforce.com",
}


class InvalidLoginUrl(ValueError):
    """The login URL cannot be used."""


def normalize_login_url(url: str, *, require_https: bool) -> str:
    """Check a login URL (a My Domain or the emulator) and return it without a trailing slash.

    Args:
        url: what the admin or operator typed.
        require_https: refuse ``http://`` (production mode).

    Raises:
        InvalidLoginUrl: with a sentence saying what is wrong.
    """
    text = url.strip()
    if len(text) > 2048:
        raise InvalidLoginUrl("The login URL is too long (2048 characters at most).")
    parts = urlsplit(text)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise InvalidLoginUrl(
            "The login URL must be an absolute URL such as https://login.salesforce.com "
            "or https://yourdomain.my.salesforce.com."
        )
    if require_https and parts.scheme != "https":
        raise InvalidLoginUrl("The login URL must use https.")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidLoginUrl("The login URL must not carry a query, fragment or credentials.")
    if parts.path not in {"", "/"}:
        raise InvalidLoginUrl(
            "The login URL is a host only (no path), e.g. https://login.salesforce.com."
        )
    return f"{parts.scheme}://{parts.netloc}"


def login_url_for(environment: Environment, custom_url: str | None, *, require_https: bool) -> str:
    """The login URL for an environment choice."""
    if environment is Environment.CUSTOM:
        if not custom_url:
            raise InvalidLoginUrl("A custom environment needs a login URL.")
        return normalize_login_url(custom_url, require_https=require_https)
    return LOGIN_URLS[environment]


def oauth_url(login_url: str, endpoint: str) -> str:
    """``authorize``, ``token``, ``revoke`` or ``userinfo`` under the login host."""
    return f"{login_url}/services/oauth2/{endpoint}"


def soap_login_url(login_url: str, api_version: str) -> str:
    """The partner SOAP endpoint that username/password logins use."""
    return f"{login_url}/services/Soap/u/{api_version}"


def versions_url(base_url: str) -> str:
    """The versions resource, which answers without a session (REST API, "Versions")."""
    return f"{base_url}/services/data/"


def data_url(instance_url: str, api_version: str, path: str) -> str:
    """A REST data URL: ``path`` relative to ``/services/data/vXX.X/``, or absolute."""
    if path.startswith("/services/"):
        return f"{instance_url}{path}"
    return f"{instance_url}/services/data/v{api_version}/{path.lstrip('/')}"


def version_key(version: str) -> tuple[int, int]:
    """``"59.0"`` → ``(59, 0)`` for comparisons."""
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def choose_api_version(offered: list[str]) -> str:
    """The newest version both the org and crmbridge support."""
    usable = [v for v in offered if version_key(v) <= version_key(MAX_API_VERSION)]
    if not usable:
        return DEFAULT_API_VERSION
    return max(usable, key=version_key)
