"""Outbound Messages delivered to a real listener over HTTPS and HTTP, retried until acked."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_http import API, RestClient

from crmbridge.emulator.certs import ensure_certificates
from crmbridge.emulator.outbound_soap import (
    ParsedNotifications,
    build_ack_response,
    parse_notifications,
)
from crmbridge.emulator.server import EmulatorServer


class Listener:
    """A SOAP listener: answers the first ``failures`` messages badly, then acknowledges."""

    def __init__(self, *, tls: tuple[Path, Path] | None = None) -> None:
        self.received: list[ParsedNotifications] = []
        self.headers: list[dict[str, str]] = []
        self.failures = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with owner.lock:
                    owner.received.append(parse_notifications(body))
                    owner.headers.append(dict(self.headers))
                    attempt = len(owner.received)
                    failing = attempt <= owner.failures
                if failing and attempt % 2:
                    self.send_response(503)
                    self.end_headers()
                    return
                answer = build_ack_response(not failing)
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/sfdc/outbound"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def notifications(self) -> list[tuple[str, str, dict[str, str]]]:
        with self.lock:
            return [n for message in self.received for n in message.notifications]


def _eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    return tmp_path / "org"


@pytest.fixture
def https_listener(tls_dir: Path) -> Iterator[Listener]:
    # The emulator's own CA and 127.0.0.1 certificate also serve the listener.
    files = ensure_certificates(tls_dir / "tls", ("127.0.0.1",))
    listener = Listener(tls=(files.server_cert, files.server_key))
    yield listener
    listener.close()


def _start(data_dir: Path, listener_url: str, **extra: Any) -> EmulatorServer:
    schema = data_dir.parent / "schema.yaml"
    schema.write_text(
        "outbound_messages:\n"
        "  - name: Active_Members\n"
        "    object: Contact\n"
        "    fields: [LastName, Email, Membership_Status__c, Movement_Exclude__c]\n"
        f"    endpoint_url: {listener_url}\n"
        "    conditions:\n"
        "      - {field: Membership_Status__c, operator: '=', value: Active}\n",
        encoding="utf-8",
    )
    options = {
        "outbound_retry_base_seconds": 0.2,
        "outbound_verify": str(data_dir / "tls" / "ca.pem"),
        **extra,
    }
    server = EmulatorServer(data_dir, port=0, schema_file=schema, extra=options)
    server.start()
    return server


def test_matching_change_is_delivered_over_https_after_retries(
    tls_dir: Path, https_listener: Listener
) -> None:
    https_listener.failures = 2  # a 503, then <Ack>false</Ack>, then the real Ack
    server = _start(tls_dir, https_listener.url)
    rest = RestClient(server.info)
    try:
        member = rest.post(
            f"{API}/sobjects/Contact",
            json={"LastName": "Member", "Email": "m@example.org", "Membership_Status__c": "Active"},
        ).json()["id"]
        rest.post(
            f"{API}/sobjects/Contact",
            json={"LastName": "Lapsed", "Membership_Status__c": "Expired"},
        )
        _eventually(lambda: len(https_listener.received) >= 3)
        time.sleep(0.5)
        assert len(https_listener.received) == 3
        message = https_listener.received[-1]
        assert message.organization_id == server.info["org_id"]
        assert message.action_id.startswith("04k")
        assert message.session_id is None
        assert message.partner_url.startswith(server.info["instance_url"] + "/services/Soap/u/")
        assert message.enterprise_url.startswith(server.info["instance_url"] + "/services/Soap/c/")
        ((note_id, sobject, fields),) = message.notifications
        assert note_id.startswith("04l")
        assert sobject == "Contact"
        assert fields == {
            "Id": member,
            "LastName": "Member",
            "Email": "m@example.org",
            "Membership_Status__c": "Active",
            "Movement_Exclude__c": "false",
        }
        assert https_listener.headers[-1]["Content-Type"].startswith("text/xml")
        queue = rest.admin("GET", "/outbound").json()
        (entry,) = queue["queue"]
        assert entry["state"] == "delivered"
        assert entry["attempts"] == 3
        assert [r["name"] for r in queue["rules"]] == ["Active_Members"]
    finally:
        rest.http.close()
        server.stop()


def test_runtime_rule_with_soql_condition_session_id_and_100_per_message(tmp_path: Path) -> None:
    listener = Listener()
    server = _start(tmp_path / "org", listener.url)
    rest = RestClient(server.info)
    try:
        added = rest.admin(
            "POST",
            "/outbound/rules",
            json={
                "name": "Hot_Leads",
                "object": "Lead",
                "trigger": "created",
                "where": "Lead_Score__c >= 50 AND Status != 'Closed - Not Converted'",
                "fields": ["Company", "Lead_Score__c"],
                "endpoint_url": listener.url,
                "send_session_id": True,
            },
        )
        assert added.status_code == 201, added.text
        bad = rest.admin(
            "POST",
            "/outbound/rules",
            json={
                "name": "Bad",
                "object": "Lead",
                "where": "Nope__c = 1",
                "endpoint_url": listener.url,
            },
        )
        assert bad.status_code == 400
        records = [
            {
                "attributes": {"type": "Lead"},
                "LastName": f"L{i}",
                "Company": "Hot",
                "Lead_Score__c": 50 + i,
            }
            for i in range(150)
        ] + [
            {
                "attributes": {"type": "Lead"},
                "LastName": "Cold",
                "Company": "Cold",
                "Lead_Score__c": 10,
            }
        ]
        response = rest.post(f"{API}/composite/sobjects", json={"records": records[:150]})
        assert all(r["success"] for r in response.json())
        rest.post(f"{API}/composite/sobjects", json={"records": records[150:]})
        _eventually(lambda: len(listener.notifications()) >= 150)
        time.sleep(0.3)
        sizes = sorted(len(m.notifications) for m in listener.received)
        assert sizes == [50, 100]
        assert {fields["Company"] for _, _, fields in listener.notifications()} == {"Hot"}
        session_id = listener.received[0].session_id
        assert session_id
        limits = rest.http.get(
            server.info["instance_url"] + f"{API}/limits",
            headers={"Authorization": f"Bearer {session_id}"},
        )
        assert limits.status_code == 200
        # An edit does not fire a "created" rule.
        first = listener.notifications()[0][2]["Id"]
        rest.patch(f"{API}/sobjects/Lead/{first}", json={"Lead_Score__c": 99})
        time.sleep(0.3)
        assert len(listener.notifications()) == 150
        assert rest.admin("DELETE", "/outbound/rules/Hot_Leads").status_code == 204
    finally:
        rest.http.close()
        server.stop()
        listener.close()


def test_undelivered_messages_survive_a_restart(tmp_path: Path) -> None:
    listener = Listener()
    listener.failures = 10**6  # never acknowledges
    data_dir = tmp_path / "org"
    server = _start(data_dir, listener.url, outbound_retry_base_seconds=60)
    rest = RestClient(server.info)
    try:
        rest.post(
            f"{API}/sobjects/Contact",
            json={"LastName": "Patient", "Membership_Status__c": "Active"},
        )
        _eventually(lambda: len(listener.received) >= 1)
        pending = rest.admin("GET", "/outbound", params={"pending": "true"}).json()["queue"]
        assert [p["state"] for p in pending] == ["retrying"]
    finally:
        rest.http.close()
        server.stop()
    listener.failures = 0
    restarted = EmulatorServer(
        data_dir,
        port=0,
        schema_file=data_dir.parent / "schema.yaml",
        extra={"outbound_retry_base_seconds": 60},
    )
    restarted.start()
    rest = RestClient(restarted.info)
    try:
        delivered = rest.admin("POST", "/outbound/deliver").json()
        assert delivered == {"acknowledged": 1}
        assert listener.notifications()[-1][2]["LastName"] == "Patient"
        assert rest.admin("GET", "/outbound", params={"pending": "true"}).json()["queue"] == []
    finally:
        rest.http.close()
        restarted.stop()
        listener.close()


def test_admin_endpoints_need_the_admin_token(emulator_info: dict[str, Any]) -> None:
    rest = RestClient(emulator_info)
    try:
        denied = rest.http.get(emulator_info["admin_url"] + "/outbound")
        assert denied.status_code == 403
        assert rest.admin("GET", "/outbound").status_code == 200
        invalid = rest.admin("POST", "/outbound/rules", json={"name": "x", "object": "Contact"})
        assert invalid.status_code == 400
    finally:
        rest.http.close()
