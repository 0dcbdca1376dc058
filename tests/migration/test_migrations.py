"""Alembic migrations run on an empty database of the kind under test, both ways."""

from __future__ import annotations

import warnings
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine
from crmbridge.store.models import Base
from crmbridge.store.testing import empty_database

EXPECTED_TABLES = {
    "alembic_version",
    "tenants",
    "users",
    "api_keys",
    "audit_log",
    "records",
    "custom_field_definitions",
    "change_log",
}

#: Indexes on expressions, made by migrations only: SQLAlchemy cannot reflect them on
#: SQLite, and the models cannot spell one expression for both databases. Their use is
#: tested in tests/integration/sync/test_sync_query_plans.py.
EXPRESSION_INDEXES = {"ix_records_match_email"}


def _not_an_expression_index(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_head_creates_every_table(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        assert _tables(url) == set()
        migrate.upgrade(url)
        assert _tables(url) >= EXPECTED_TABLES
        assert migrate.is_up_to_date(url)


def test_head_schema_matches_the_models(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        migrate.upgrade(url)
        engine = create_db_engine(url)
        try:
            with engine.connect() as conn, warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message="Skipped unsupported reflection of expression-based index"
                )
                context = MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_name": _not_an_expression_index}
                )
                diff = compare_metadata(context, Base.metadata)
        finally:
            engine.dispose()
        assert diff == []


def test_downgrade_one_step_and_up_again(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        migrate.upgrade(url)
        engine = create_db_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO tenants (id, name, status, created_at, updated_at, change_seq)"
                        " VALUES ('t1', 'Acme', 'active', :now, :now, 7)"
                    ),
                    {"now": "2025-01-01 00:00:00"},
                )
            head = migrate.current_revision(engine)
            migrate.downgrade(url, "0001")  # below the records migration
            previous = migrate.current_revision(engine)
            assert previous != head
            assert "records" not in _tables(url)
            assert "change_seq" not in {
                c["name"] for c in sa.inspect(engine).get_columns("tenants")
            }
            migrate.upgrade(url)
            assert migrate.current_revision(engine) == head
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT name, change_seq FROM tenants")).all()
            # Data of the surviving table is kept through the round trip.
            assert [tuple(r) for r in rows] == [("Acme", 0)]
        finally:
            engine.dispose()


def test_downgrade_to_base_removes_everything(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        migrate.upgrade(url)
        migrate.downgrade(url, "base")
        assert _tables(url) <= {"alembic_version"}


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_every_migration_steps_down_one_and_up_again(tmp_path: Path) -> None:
    """Walk from head to base one step at a time, going back up after each step."""
    with empty_database(tmp_path) as url:
        migrate.upgrade(url)
        engine = create_db_engine(url)
        try:
            head = migrate.current_revision(engine)
            tables_at_head = _tables(url)
            seen = []
            while (current := migrate.current_revision(engine)) is not None:
                migrate.downgrade(url, "-1")
                below = migrate.current_revision(engine)
                assert below != current
                migrate.upgrade(url, current)
                assert migrate.current_revision(engine) == current
                migrate.downgrade(url, "-1")
                seen.append(current)
            assert len(seen) >= 4
            migrate.upgrade(url)
            assert migrate.current_revision(engine) == head
            assert _tables(url) == tables_at_head
        finally:
            engine.dispose()
