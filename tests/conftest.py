"""Suite-wide test configuration.

Tests under tests/unit and tests/emulator never touch crmbridge's own store, so they
are marked ``storeless`` and the PostgreSQL pass of ``./dev test`` skips them.

Hypothesis runs without its per-example deadline (200 ms by default): on a shared
2-core machine, CI included, one example can stall past it while the property holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("crmbridge", deadline=None)
settings.load_profile("crmbridge")

_STORELESS_DIRS = ("unit", "emulator")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        try:
            top = Path(item.fspath).relative_to(root).parts[0]
        except ValueError:
            continue
        if top in _STORELESS_DIRS:
            item.add_marker(pytest.mark.storeless)
