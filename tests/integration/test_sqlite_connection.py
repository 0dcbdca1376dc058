"""Settings every SQLite connection of the store gets (crmbridge.store.db)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from crmbridge.store.db import SQLITE_CACHE_KIB


def test_each_sqlite_connection_gets_foreign_keys_wal_and_a_large_page_cache(
    db_engine: Engine,
) -> None:
    if db_engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings")
    with db_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
