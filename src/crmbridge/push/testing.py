"""Test support for push inbound: a crmbridge server the emulator can deliver to.

- :func:`outbound_admin` calls the emulator's Outbound Message admin endpoints
  (``/__emulator/outbound…``): :func:`add_outbound_rule`, :func:`deliver_now`,
  :func:`outbound_queue`.
- Fixtures: ``push_org`` (an emulated org of its own whose failed deliveries are
  retried after 0.2 s instead of 30 s) and ``push_world`` (crmbridge's API served over
  real HTTP from a thread on the test database, with a tenant connected to
  ``push_org`` and receiver secrets issued). Re-exported by :mod:`crmbridge.testing`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from crmbridge.connections.testing import api_trusting, org_settings
from crmbridge.demo.server import ApiServerThread
from crmbridge.emulator.server import EmulatorServer
from crmbridge.salesforce.auth import tls_context
from crmbridge.web.testing import ApiWorld

#: Delivery retry interval of the push test org (Salesforce: 30 s doubling to 2 h).
FAST_RETRY_SECONDS = 0.2
#: The default mappings the push and worker tests sync with (R-F1, R-F2).
MEMBERSHIP_PAIRS = (
    {"platform_entity": "organization", "salesforce_object": "Account"},
    {"platform_entity": "member", "salesforce_object": "Contact"},
)


def outbound_admin(
    info: dict[str, Any], method: str, path: str = "", **kwargs: Any
) -> httpx.Response:
    """Call ``{admin_url}/outbound{path}`` with the emulator's admin token."""
    with httpx.Client(verify=tls_context(info["ca_cert"]), timeout=30) as http:
        return http.request(
            method,
            f"{info['admin_url']}/outbound{path}",
            headers={"Authorization": f"Bearer {info['admin_token']}"},
            **kwargs,
        )


def add_outbound_rule(
    info: dict[str, Any],
    *,
    endpoint_url: str,
    sobject: str = "Contact",
    fields: tuple[str, ...] = ("LastName",),
    name: str | None = None,
    trigger: str = "created_or_edited",
    where: str | None = None,
) -> dict[str, Any]:
    """Register (or replace) an Outbound Message rule at the emulated org."""
    rule: dict[str, Any] = {
        "name": name or f"crmbridge_{sobject}",
        "object": sobject,
        "trigger": trigger,
        "fields": list(fields),
        "endpoint_url": endpoint_url,
        "send_session_id": False,
    }
    if where:
        rule["where"] = where
    response = outbound_admin(info, "POST", "/rules", json=rule)
    if response.status_code != 201:
        raise RuntimeError(f"the emulator refused the rule: {response.text}")
    return dict(response.json())


def deliver_now(info: dict[str, Any]) -> int:
    """Make every pending notification due and run one delivery round; acknowledged count."""
    response = outbound_admin(info, "POST", "/deliver")
    response.raise_for_status()
    return int(response.json()["acknowledged"])


def outbound_queue(info: dict[str, Any], *, pending_only: bool = False) -> list[dict[str, Any]]:
    """The emulator's notification queue (state, attempts, last_error per entry)."""
    response = outbound_admin(info, "GET", "", params={"pending": str(pending_only).lower()})
    response.raise_for_status()
    return list(response.json()["queue"])


def wait_for(condition: Callable[[], Any], *, timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy (the emulator delivers
    asynchronously; this is the only waiting push tests do)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


class AckDroppingProxy:
    """An HTTP proxy in front of crmbridge that forwards each request but loses the
    answer to the first ``drops`` of them: from Salesforce's side, crmbridge crashed
    after storing the message and before acknowledging it."""

    def __init__(self, target: str, *, drops: int) -> None:
        self.target = target
        self.drops = drops
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = httpx.post(
                    proxy.target + self.path,
                    content=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "text/xml")},
                )
                proxy.forwarded += 1
                if proxy.forwarded <= proxy.drops:
                    self.close_connection = True  # the Ack never reaches Salesforce
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers["content-type"])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> AckDroppingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def push_org(tmp_path: Path) -> Iterator[EmulatorServer]:
    """An emulated org of its own (no seed) retrying failed deliveries after 0.2 s."""
    server = EmulatorServer(
        tmp_path / "push-org",
        port=0,
        extra={"outbound_retry_base_seconds": FAST_RETRY_SECONDS, "outbound_retry_max_seconds": 1},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class PushWorld:
    """crmbridge served over HTTP with a tenant connected to :func:`push_org`."""

    #: The API (test client on the same app) and its credential helpers.
    api: ApiWorld
    #: The real HTTP server the emulator delivers to.
    server: ApiServerThread
    #: The emulated org's connection info.
    info: dict[str, Any]
    #: The emulated org.
    org: EmulatorServer
    #: The tenant connected to the org.
    tenant_id: str
    #: The receiver secrets issued for the tenant (``POST /inbound/secrets``'s answer).
    secrets: dict[str, Any]

    def admin_headers(self) -> dict[str, str]:
        return self.api.headers_for("CLIENT_ADMIN", self.tenant_id)

    def install_membership_mappings(self) -> None:
        """Install and enable the default organization/Account and member/Contact mappings."""
        installed = self.api.client.post(
            "/api/v1/mappings/defaults/install",
            json={"pairs": list(MEMBERSHIP_PAIRS)},
            headers=self.admin_headers(),
        )
        assert installed.status_code == 200, installed.text

    def member_of(self, contact_id: str) -> dict[str, Any]:
        """The platform member synced with a Contact (through the API)."""
        members = self.api.client.get(
            "/api/v1/members?limit=200", headers=self.admin_headers()
        ).json()
        [member] = [m for m in members["items"] if m["salesforce_id"] == contact_id]
        return dict(member)

    @property
    def outbound_message_url(self) -> str:
        """The receiver URL on the served address (secret included)."""
        path = self.secrets["outbound_message_url"].split("/", 3)[3]
        return f"{self.server.base_url}/{path}"


@pytest.fixture
def push_world(
    clean_db: Engine, database_url: str, push_org: EmulatorServer
) -> Iterator[PushWorld]:
    """The API on the test database, served over HTTP, a tenant connected to ``push_org``."""
    info = dict(push_org.info)
    with api_trusting(info, engine=clean_db, database_url=database_url) as api:
        tenant_id = api.new_tenant()
        headers = api.headers_for("CLIENT_ADMIN", tenant_id)
        assert api.client.patch(
            "/api/v1/salesforce/settings", json=org_settings(info), headers=headers
        ).is_success
        login = api.client.post(
            "/api/v1/salesforce/password-login",
            json={
                "username": info["username"],
                "password": info["password"],
                "security_token": info["security_token"],
            },
            headers=headers,
        )
        assert login.status_code == 200, login.text
        issued = api.client.post("/api/v1/inbound/secrets", json={}, headers=headers)
        assert issued.status_code == 201, issued.text
        server = ApiServerThread(api.app)
        server.start()
        try:
            yield PushWorld(
                api=api,
                server=server,
                info=info,
                org=push_org,
                tenant_id=tenant_id,
                secrets=issued.json(),
            )
        finally:
            server.stop()
