"""The sync's per-page reads seek an index instead of reading every record of a type
(migrations 0008, 0009 and 0010)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.domain.entities import get_entity_type
from crmbridge.services import factories
from crmbridge.services import records as records_service
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.store.repositories.sync_pairs import platform_ids_needing_outbound
from crmbridge.store.repositories.sync_platform import live_records_by_field, record_ids_page

MEMBER = get_entity_type("member")
API = ChangeContext(source="api", origin="test", actor="test")


def _member(session: Session, tenant: str, email: str | None) -> str:
    payload: dict[str, Any] = {"first_name": "Match", "last_name": "Key", "email": email}
    record = records_service.create_record(
        session, tenant_id=tenant, entity=MEMBER, payload=payload, context=API
    )
    return record.id


def test_e_mail_lookup_ignores_case_and_uses_the_expression_index(db_session: Session) -> None:
    tenant = factories.create_tenant(db_session).id
    other = factories.create_tenant(db_session).id
    ada = _member(db_session, tenant, "Ada.Lovelace@Example.org")
    twin_a = _member(db_session, tenant, "twin@example.org")
    twin_b = _member(db_session, tenant, "TWIN@example.org")
    _member(db_session, tenant, None)
    _member(db_session, other, "ada.lovelace@example.org")  # another tenant's
    gone = _member(db_session, tenant, "gone@example.org")
    records_service.delete_record(
        db_session, tenant_id=tenant, entity=MEMBER, record_id=gone, context=API
    )
    db_session.commit()

    engine = db_session.get_bind()
    with _captured(engine, lambda sql: "records" in sql and "lower" in sql.lower()) as statements:
        found = live_records_by_field(
            db_session,
            tenant_id=tenant,
            entity_type="member",
            field="email",
            values=[" ADA.lovelace@example.ORG ", "twin@example.org", "gone@example.org"],
        )
    assert found["ada.lovelace@example.org"] == [ada]
    assert sorted(found["twin@example.org"]) == sorted([twin_a, twin_b])
    assert "gone@example.org" not in found

    assert len(statements) == 1
    statement, parameters = statements[0]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            text = " ".join(str(row[-1]) for row in plan)
            # The e-mail expression is part of the seek, not only tenant and type.
            assert "USING INDEX ix_records_match_email" in text, text
            assert "<expr>=?" in text, text
        else:
            # PostgreSQL reads a table this small whole; what matters is that the query
            # spells the index's expression (PostgreSQL prints it in canonical form).
            definition = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_records_match_email'"
            ).scalar_one()
            assert "lower((data ->> 'email'::text))" in definition
            assert "lower(records.data ->> 'email')" in statement, statement


def test_a_walk_in_id_order_seeks_each_page_without_sorting(db_session: Session) -> None:
    tenant = factories.create_tenant(db_session).id
    ids = sorted(_member(db_session, tenant, f"walk{i}@example.org") for i in range(5))
    db_session.commit()
    engine = db_session.get_bind()
    with _captured(
        engine, lambda sql: sql.lstrip().upper().startswith("SELECT RECORDS.ID")
    ) as statements:
        first = record_ids_page(
            db_session, tenant_id=tenant, entity_type="member", after_id=None, limit=3
        )
        second = record_ids_page(
            db_session, tenant_id=tenant, entity_type="member", after_id=first[-1], limit=3
        )
    assert first + second == ids
    assert len(statements) == 2
    _assert_ordered_seeks(engine, statements, "ix_records_tenant_id_entity_type_id")


def test_waiting_pairs_are_paged_by_an_index_in_pair_id_order(db_session: Session) -> None:
    tenant = factories.create_tenant(db_session).id
    for n in range(6):
        factories.create_pair(
            db_session, tenant_id=tenant, platform_id=f"p-{n}", needs_outbound=n % 2 == 0
        )
    db_session.commit()
    engine = db_session.get_bind()
    with _captured(
        engine, lambda sql: sql.lstrip().upper().startswith("SELECT SYNC_PAIRS.ID")
    ) as statements:
        first = platform_ids_needing_outbound(
            db_session, tenant_id=tenant, mapping_id="m-1", limit=2
        )
        second = platform_ids_needing_outbound(
            db_session, tenant_id=tenant, mapping_id="m-1", limit=2, after=first[-1][0]
        )
    assert [p for _, p in first + second] == ["p-0", "p-2", "p-4"]
    assert len(statements) == 2
    _assert_ordered_seeks(
        engine, statements, "ix_sync_pairs_tenant_id_mapping_id_needs_outbound_id"
    )


@contextmanager
def _captured(engine: Any, wanted: Callable[[str], bool]) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) the engine sends while inside, if wanted."""
    statements: list[tuple[str, Any]] = []

    def capture(_c: object, _cur: object, statement: str, parameters: Any, *_a: object) -> None:
        if wanted(statement):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)


def _assert_ordered_seeks(engine: Any, statements: list[tuple[str, Any]], index: str) -> None:
    """Each statement reads ``index`` and gets its order from it, without a sort."""
    with engine.connect() as connection:
        for statement, parameters in statements:
            if engine.dialect.name == "sqlite":
                plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                text = " ".join(str(row[-1]) for row in plan)
                assert index in text, text
                assert "TEMP B-TREE" not in text, text
            else:
                # A table this small could be read or sorted whole; forbid both, so the
                # plan shows whether an index can give the order.
                connection.exec_driver_sql("SET enable_seqscan = off")
                connection.exec_driver_sql("SET enable_sort = off")
                plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
                text = " ".join(str(row[0]) for row in plan)
                assert index in text, text
                assert "Sort" not in text, text
