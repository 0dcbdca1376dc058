"""Pytest fixtures for connecting crmbridge to the emulated org.

- ``salesforce_api``: the API trusting the session emulator's CA.
- ``private_org``: a fresh emulated org per test, for tests that break it.
- ``private_salesforce_api``: the API trusting that org.

The browser and operator helpers (:func:`approve_consent`, :func:`emulator_admin`,
:func:`org_settings` …) live in :mod:`crmbridge.connections.consent` and are
re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from crmbridge.connections.consent import (
    ConsentFailed,
    approve_consent,
    callback_params,
    callback_path,
    emulator_admin,
    org_settings,
)
from crmbridge.emulator.server import EmulatorServer
from crmbridge.store.db import create_session_factory
from crmbridge.web.app import create_app
from crmbridge.web.testing import ApiWorld, test_settings

__all__ = [
    "ConsentFailed",
    "api_trusting",
    "approve_consent",
    "callback_params",
    "callback_path",
    "emulator_admin",
    "org_settings",
    "private_org",
    "private_salesforce_api",
    "salesforce_api",
]

#: The public base URL the test apps pretend to have (the callback URL is built from it).
TEST_BASE_URL = "https://crmbridge.test"


@contextmanager
def api_trusting(
    info: dict[str, Any], *, engine: Engine, database_url: str, **overrides: object
) -> Iterator[ApiWorld]:
    """The web API on the test database, trusting the CA of the emulated org ``info``."""
    settings = test_settings(
        database_url,
        SALESFORCE_CA_BUNDLE=info["ca_cert"],
        CRMBRIDGE_BASE_URL=TEST_BASE_URL,
        **overrides,
    )
    app = create_app(settings, engine=engine)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield ApiWorld(client=client, app=app, session_factory=create_session_factory(engine))


@pytest.fixture
def salesforce_api(
    clean_db: Engine, database_url: str, emulator_info: dict[str, Any]
) -> Iterator[ApiWorld]:
    """The API, trusting the shared session emulator (tests must not break that org)."""
    with api_trusting(emulator_info, engine=clean_db, database_url=database_url) as world:
        yield world


@pytest.fixture
def private_org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh emulated org of its own (password resets, faults, quota: break it freely)."""
    server = EmulatorServer(tmp_path / "private-org", port=0)
    server.start()
    try:
        yield dict(server.info)
    finally:
        server.stop()


@pytest.fixture
def private_salesforce_api(
    clean_db: Engine, database_url: str, private_org: dict[str, Any]
) -> Iterator[ApiWorld]:
    """The API, trusting :func:`private_org`."""
    with api_trusting(private_org, engine=clean_db, database_url=database_url) as world:
        yield world
