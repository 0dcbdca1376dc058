"""Pytest fixtures for the store: a migrated database per test session, clean per test.

The database under test is chosen by ``CRMBRIDGE_TEST_DATABASE``: ``sqlite`` (the
default, a fresh file in a temporary directory) or a PostgreSQL admin URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, in which case a uniquely
named database is created, migrated with Alembic and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine, create_session_factory
from crmbridge.store.models import Base

TEST_DATABASE_ENV = "CRMBRIDGE_TEST_DATABASE"


def test_database_choice() -> str:
    """``sqlite`` or the PostgreSQL admin URL the suite runs against."""
    return os.environ.get(TEST_DATABASE_ENV, "").strip() or "sqlite"


def is_postgres_run() -> bool:
    """Whether this test run uses PostgreSQL."""
    return test_database_choice().startswith("postgresql")


@contextmanager
def empty_database(directory: Path, choice: str | None = None) -> Iterator[str]:
    """A brand-new, empty database of the kind under test (or ``choice``: ``sqlite`` or
    a PostgreSQL admin URL); yields its URL.

    SQLite: a file in ``directory``. PostgreSQL: a database with a unique name, created
    through the admin URL and dropped (with its connections) on exit.
    """
    choice = choice or test_database_choice()
    if not choice.startswith("postgresql"):
        path = directory / f"crmbridge-{uuid.uuid4().hex[:8]}.sqlite3"
        yield f"sqlite:///{path}"
        return
    admin_url = sa.make_url(choice)
    name = f"crmbridge_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def delete_all_rows(engine: Engine) -> None:
    """Empty every table crmbridge's models know, children first."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a database migrated to head, shared by the whole test session."""
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    """The engine of :func:`database_url`."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(db_engine: Engine) -> Iterator[Engine]:
    """The session database, emptied after the test (tests see an empty store)."""
    yield db_engine
    delete_all_rows(db_engine)


@pytest.fixture
def db_session(clean_db: Engine) -> Iterator[Session]:
    """A session on an empty database; the test commits or rolls back as it likes."""
    session = create_session_factory(clean_db)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def counting_inserts(engine: Engine) -> Iterator[dict[str, int]]:
    """The INSERT statements ``engine`` sends while the block runs, per table (a ``COPY
    … FROM STDIN``, which ``store.deferred`` sends on PostgreSQL, counts as one)."""
    inserts: dict[str, int] = {}

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        words = statement.split()
        if statement.startswith(("INSERT INTO", "COPY ")):
            table = words[2] if words[0] == "INSERT" else words[1]
            inserts[table] = inserts.get(table, 0) + 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield inserts
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
