"""Planner statistics for tables a sync fills quickly (PostgreSQL).

PostgreSQL picks a query plan from what it last learned about a table (``ANALYZE``).
Autovacuum refreshes that only after about 10% of the table changed
(``autovacuum_analyze_scale_factor``) and looks at most once a minute
(``autovacuum_naptime``): PostgreSQL documentation, "Routine Vacuuming", section "Updating
Planner Statistics". An initial sync fills ``records`` and ``sync_pairs`` from empty
within seconds, so for the whole run the planner treats them as empty: the per-page
lookup by e-mail (the match-key index on ``lower(data ->> 'email')``) then scanned every
record of the tenant instead of seeking (measured with ``EXPLAIN ANALYZE`` on 100,000
records: 42 ms a lookup before ``ANALYZE``, 0.07 ms after), and each page got slower as
the run went on.

:class:`StatisticsKeeper` analyses those tables itself, each time the rows a run wrote
have doubled since the last time (after 2,000, 4,000, 8,000 … rows: about ten times for a
1,000,000-record sync, each sampling at most 30,000 rows of a table). SQLite plans these
lookups from the indexes alone and needs none of this.
"""

from __future__ import annotations

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

log = structlog.get_logger(__name__)

#: The tables a sync page reads by key while it fills them.
SYNC_LOOKUP_TABLES = ("records", "sync_pairs", "sync_failures")
#: Rows written before the first ``ANALYZE`` (one inbound page).
FIRST_ANALYZE_AT = 2000


class StatisticsKeeper:
    """Refreshes the planner's statistics of the sync's lookup tables as a run fills
    them (PostgreSQL only; a no-op elsewhere)."""

    def __init__(self, engine: Engine | None) -> None:
        self._engine = (
            engine if engine is not None and engine.dialect.name == "postgresql" else None
        )
        self._written = 0
        self._next = FIRST_ANALYZE_AT
        #: How many times this keeper ran ``ANALYZE`` (for tests and logs).
        self.analyzed = 0

    def wrote(self, rows: int) -> None:
        """Count ``rows`` written (and committed); analyse when they have doubled.

        Call it outside the transaction that wrote them: ``ANALYZE`` samples committed
        rows only.
        """
        if self._engine is None or rows <= 0:
            return
        self._written += rows
        if self._written < self._next:
            return
        self._next = self._written * 2
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"ANALYZE {', '.join(SYNC_LOOKUP_TABLES)}")
        except DBAPIError as exc:
            # Only a table's owner may analyse it: without that right the plans stay as
            # autovacuum leaves them, slower but correct.
            log.warning("analyze_failed", error=type(exc.orig).__name__)
            self._engine = None
            return
        self.analyzed += 1
