"""Fixtures for tests that talk to the emulator through crmbridge's Salesforce client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sf_helpers import ClientFactory

from crmbridge.emulator.server import EmulatorServer


@pytest.fixture
def sf_client(emulator_info: dict[str, Any]) -> Iterator[ClientFactory]:
    """Clients on the shared session org (read-only use, or changes the test undoes)."""
    factory = ClientFactory(emulator_info)
    yield factory
    factory.close()


@pytest.fixture
def own_org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A private emulated org for tests that break things (faults, quota, passwords)."""
    server = EmulatorServer(tmp_path / "org", port=0)
    server.start()
    try:
        yield dict(server.info)
    finally:
        server.stop()


@pytest.fixture
def own_client(own_org: dict[str, Any]) -> Iterator[ClientFactory]:
    """Clients on :func:`own_org`."""
    factory = ClientFactory(own_org)
    yield factory
    factory.close()
