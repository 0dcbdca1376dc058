"""Planner statistics kept current while a sync fills tables (``store.statistics``).

On PostgreSQL a table filled from empty within one run is planned as if still empty
until someone analyses it; the keeper does, each time the run's rows have doubled.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.services import factories
from crmbridge.store.models import Record
from crmbridge.store.repositories.sync_platform import lowered_field
from crmbridge.store.statistics import FIRST_ANALYZE_AT, StatisticsKeeper
from crmbridge.store.testing import is_postgres_run


def _analyze_count(session: Session) -> int:
    row = session.execute(
        sa.text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'records'")
    )
    return int(row.scalar() or 0)


def test_the_keeper_analyses_each_time_the_rows_written_have_doubled(
    db_session: Session,
) -> None:
    engine = db_session.get_bind()
    assert isinstance(engine, sa.Engine)
    keeper = StatisticsKeeper(engine)
    if not is_postgres_run():
        keeper.wrote(10**6)  # SQLite plans these lookups from the indexes alone
        assert keeper.analyzed == 0
        return
    tenant = factories.create_tenant(db_session).id
    factories.stage_members(db_session, tenant, FIRST_ANALYZE_AT + 500)
    db_session.commit()
    before = _analyze_count(db_session)
    db_session.commit()  # a statistics snapshot lasts as long as its transaction
    keeper.wrote(FIRST_ANALYZE_AT - 1)
    assert keeper.analyzed == 0
    keeper.wrote(1)
    assert keeper.analyzed == 1
    keeper.wrote(FIRST_ANALYZE_AT - 1)  # 3,999 written: the next is at 4,000
    assert keeper.analyzed == 1
    keeper.wrote(1)
    assert keeper.analyzed == 2
    # PostgreSQL's own counters agree (they reach other sessions within a moment).
    deadline = time.monotonic() + 5
    while _analyze_count(db_session) < before + 2 and time.monotonic() < deadline:
        db_session.commit()
        time.sleep(0.1)
    assert _analyze_count(db_session) >= before + 2
    # With statistics, the per-page e-mail lookup seeks on its index.
    column = lowered_field(db_session, "email")
    query = sa.select(column, Record.id).where(
        Record.tenant_id == tenant,
        Record.entity_type == "member",
        Record.deleted_at.is_(None),
        column.in_(["m7@x.org", "nobody@x.org"]),
    )
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(r[0] for r in db_session.execute(sa.text(f"EXPLAIN {compiled}")))
    assert "ix_records_match_email" in plan
    condition = plan.split("Index Cond", 1)[1].splitlines()[0]
    assert "lower" in condition
