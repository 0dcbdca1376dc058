"""Suite-wide test configuration.

Tests under tests/unit and tests/emulator never touch crmbridge's own store, so they
are marked ``storeless`` and the PostgreSQL pass of ``./dev test`` skips them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
