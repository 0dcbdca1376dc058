"""Engines and sessions: the one place that knows how to open the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.jsontext import json_text, json_value

#: JSON everywhere; JSONB on PostgreSQL (indexable, compact, compared by value).
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

#: Seconds a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Page cache per SQLite connection, in KiB (see ``_configure_sqlite_connection``).
SQLITE_CACHE_KIB = 65_536


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored
    as naive UTC and given back their UTC zone when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with crmbridge's connection settings.

    SQLite gets foreign keys, WAL and a busy timeout on every connection; the file's
    directory is created when missing. PostgreSQL connections are pinged on checkout.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=json_text,
            json_deserializer=json_value,
            **kwargs,
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        json_serializer=json_text,
        json_deserializer=json_value,
        **kwargs,
    )


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite leaves foreign keys off unless asked, per connection (sqlite.org/foreignkeys.html).
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers run while one writer writes (sqlite.org/wal.html).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # The page cache per connection: 64 MB instead of SQLite's default 2 MB
    # (sqlite.org/pragma.html#pragma_cache_size; negative means KiB). A sync page looks
    # up thousands of records, pairs and change-log entries by key; with 2 MB the
    # index pages of an org of 100,000 records were read again and again (measured:
    # an initial sync of 30,000 contacts took 131 s instead of 168 s, 3.8 s of system
    # time instead of 14.1 s). It is filled only as pages are read.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (responses are built after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the store's only clock)."""
    return datetime.now(UTC)
