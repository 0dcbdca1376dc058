"""Logs are structured, carry request ids, and never contain secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from crmbridge.logging import configure_logging
from crmbridge.web.testing import ApiWorld

PASSWORD = "hunter2-but-much-longer"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(level="DEBUG", json=True, stream=stream)
    yield stream
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)
    structlog.reset_defaults()


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_passwords_and_api_keys_never_reach_the_logs(
    api: ApiWorld, log_stream: io.StringIO
) -> None:
    tenant = api.new_tenant()
    admin_key = api.key_for("CLIENT_ADMIN", tenant)
    headers = {"Authorization": f"Bearer {admin_key}"}
    created = api.client.post(
        "/api/v1/users",
        json={"email": "p@example.com", "role": "CLIENT_STAFF", "password": PASSWORD},
        headers=headers,
    )
    assert created.status_code == 201
    new_key = api.client.post(
        "/api/v1/api-keys", json={"name": "k", "role": "CLIENT_STAFF"}, headers=headers
    ).json()["key"]
    api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_key}"})
    login_page = api.client.get("/login")
    csrf = login_page.text.split('name="csrf_token" value="')[1].split('"')[0]
    api.client.post(
        "/login", data={"email": "p@example.com", "password": PASSWORD, "csrf_token": csrf}
    )
    # Even code that logs secrets by mistake has them masked.
    log = structlog.get_logger("test")
    log.warning(
        "careless",
        password=PASSWORD,
        headers={"Authorization": f"Bearer {new_key}", "Cookie": "crmbridge_session=abc"},
        note=f"the key is {admin_key}",
    )
    logging.getLogger("some.library").warning("connecting with api_key=%s", new_key)
    output = log_stream.getvalue()
    assert "careless" in output
    for secret in (PASSWORD, admin_key, new_key, admin_key[10:], new_key[10:]):
        assert secret not in output
    careless = next(line for line in _lines(log_stream) if line["event"] == "careless")
    assert careless["password"] == "***"
    assert careless["headers"] == {"Authorization": "***", "Cookie": "***"}


def test_each_request_logs_one_line_with_its_request_id(
    api: ApiWorld, log_stream: io.StringIO
) -> None:
    response = api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = api.client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    bad = api.client.get("/healthz", headers={"X-Request-ID": "has spaces\tand tabs"})
    assert bad.headers["x-request-id"] != "has spaces\tand tabs"
    requests = [line for line in _lines(log_stream) if line["event"] == "request"]
    assert [r["request_id"] for r in requests][:2] == ["abc-123", generated]
    assert requests[0]["status"] == 200
    assert requests[0]["path"] == "/healthz"
