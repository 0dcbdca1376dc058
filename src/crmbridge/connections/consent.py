"""Driving the emulator like a browser and an operator: consent, faults, settings.

:func:`approve_consent` drives the emulator's authorize page over HTTP like a browser
(GET the page, POST the login form, POST Allow or Deny) and returns the redirect URL
carrying ``code`` and ``state`` (or ``error``). Tests and ``crmbridge demo`` use it;
it needs only httpx (no test framework).
"""

from __future__ import annotations

import ssl
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from crmbridge.salesforce.auth import tls_context


class ConsentFailed(RuntimeError):
    """The authorize page did not behave as a browser expects (the message says where)."""


class _PageForm(HTMLParser):
    """The first form of a page: its action, hidden inputs, element ids and error text."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.ids: set[str] = set()
        self.error = ""
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.hidden[values["name"]] = values.get("value", "")
        self._in_error = values.get("id") == "error"

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error += data

    def handle_endtag(self, tag: str) -> None:
        self._in_error = False


def _form(html: str) -> _PageForm:
    parser = _PageForm()
    parser.feed(html)
    return parser


def approve_consent(
    authorize_url: str,
    *,
    username: str,
    password: str,
    verify: ssl.SSLContext | str | bool,
    allow: bool = True,
    timeout: float = 30.0,
) -> str:
    """Log in on the emulator's authorize page and click Allow (or Deny).

    Args:
        authorize_url: the URL crmbridge's connect answered.
        username: the Salesforce username.
        password: the password (web logins take no security token).
        verify: TLS trust: an SSL context, a CA file path, or a bool.
        allow: click Allow (true) or Deny (false).

    Returns:
        The URL the org redirects the browser to: crmbridge's callback with ``code`` and
        ``state``, or with ``error`` and ``error_description``.

    Raises:
        ConsentFailed: the page refused the login or looked unexpected.
    """
    if isinstance(verify, str):
        verify = tls_context(verify)
    with httpx.Client(verify=verify, timeout=timeout, follow_redirects=False) as browser:
        page = browser.get(authorize_url)
        if page.status_code != 200:
            raise ConsentFailed(f"the authorize page answered {page.status_code}: {page.text}")
        form = _form(page.text)
        if "Login" in form.ids:
            page = browser.post(
                urljoin(authorize_url, form.action or ""),
                data={**form.hidden, "username": username, "pw": password, "action": "login"},
            )
            form = _form(page.text)
            if form.error:
                raise ConsentFailed(f"the login was refused: {form.error.strip()}")
        if not {"oaapprove", "oadeny"} <= form.ids:
            raise ConsentFailed("no Allow/Deny form after the login")
        decision = browser.post(
            urljoin(authorize_url, form.action or ""),
            data={**form.hidden, "action": "allow" if allow else "deny"},
        )
        if decision.status_code not in {301, 302, 303} or "location" not in decision.headers:
            raise ConsentFailed(f"no redirect after the decision ({decision.status_code})")
        return str(decision.headers["location"])


def callback_path(redirect_url: str) -> str:
    """The path and query of a callback URL (to replay it against a test client)."""
    parts = urlsplit(redirect_url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def callback_params(redirect_url: str) -> dict[str, str]:
    """The query parameters of a callback URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(redirect_url).query).items()}


def emulator_admin(info: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Change the emulator's faults (``POST /__emulator/faults``) and return its answer."""
    with httpx.Client(verify=tls_context(info["ca_cert"]), timeout=30) as http:
        response = http.post(
            info["admin_url"] + "/faults",
            json=changes,
            headers={"Authorization": f"Bearer {info['admin_token']}"},
        )
    if response.status_code != 200:
        raise RuntimeError(f"the emulator refused {changes}: {response.text}")
    return dict(response.json())


def org_settings(info: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A settings body (``PATCH /api/v1/salesforce/settings``) pointing at an emulated org."""
    return {
        "environment": "custom",
        "custom_login_url": info["login_url"],
        "consumer_key": info["client_id"],
        "consumer_secret": info["client_secret"],
        **extra,
    }
