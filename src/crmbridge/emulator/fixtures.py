"""pytest fixtures: a running emulated org for the whole test session.

``emulator`` is an :class:`~crmbridge.emulator.server.EmulatorServer` on a free port with
a fixed seed (small, so the session starts fast); ``emulator_info`` is its connection
info (login_url, instance_url, ca_cert, credentials, admin_url/admin_token).
Re-exported by :mod:`crmbridge.testing`, the project's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmbridge.emulator.server import EmulatorServer

#: Contacts the shared session org is seeded with (plus related accounts, leads …).
SESSION_SEED_CONTACTS = 200
#: The seed number of the shared session org.
SESSION_SEED = 7


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """A running emulated org shared by the test session (seeded, fixed seed)."""
    server = EmulatorServer(
        tmp_path_factory.mktemp("emulator-org"),
        port=0,
        seed_contacts=SESSION_SEED_CONTACTS,
        seed=SESSION_SEED,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def emulator_info(emulator: EmulatorServer) -> dict[str, Any]:
    """Connection info of the session org (as the ``--info-file`` JSON holds it)."""
    return dict(emulator.info)
