"""Queries on record pairs (``sync_pairs``): the engine's per-record state."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.db import utcnow
from crmbridge.store.deferred import defer_insert
from crmbridge.store.sync_models import SyncPair

#: Ids per ``IN (...)`` list; well below every database's parameter limit.
_CHUNK = 500


def _chunks(values: Collection[str]) -> list[list[str]]:
    items = sorted(set(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def pairs_by_salesforce_id(
    session: Session, *, tenant_id: str, mapping_id: str, salesforce_ids: Collection[str]
) -> dict[str, SyncPair]:
    """Pairs of a mapping by Salesforce id."""
    found: dict[str, SyncPair] = {}
    for chunk in _chunks(salesforce_ids):
        for pair in session.scalars(
            sa.select(SyncPair).where(
                SyncPair.tenant_id == tenant_id,
                SyncPair.mapping_id == mapping_id,
                SyncPair.salesforce_id.in_(chunk),
            )
        ):
            assert pair.salesforce_id is not None
            found[pair.salesforce_id] = pair
    return found


def pairs_by_platform_id(
    session: Session, *, tenant_id: str, mapping_id: str, platform_ids: Collection[str]
) -> dict[str, SyncPair]:
    """Pairs of a mapping by platform id."""
    found: dict[str, SyncPair] = {}
    for chunk in _chunks(platform_ids):
        for pair in session.scalars(
            sa.select(SyncPair).where(
                SyncPair.tenant_id == tenant_id,
                SyncPair.mapping_id == mapping_id,
                SyncPair.platform_id.in_(chunk),
            )
        ):
            assert pair.platform_id is not None
            found[pair.platform_id] = pair
    return found


def paired_platform_ids(
    session: Session, *, tenant_id: str, mapping_id: str, platform_ids: Collection[str]
) -> set[str]:
    """Which of ``platform_ids`` have a pair under the mapping (ids only, no pair objects)."""
    found: set[str] = set()
    for chunk in _chunks(platform_ids):
        found.update(
            session.scalars(
                sa.select(SyncPair.platform_id).where(
                    SyncPair.tenant_id == tenant_id,
                    SyncPair.mapping_id == mapping_id,
                    SyncPair.platform_id.in_(chunk),
                )
            )
        )
    return found


def get_pair(session: Session, *, tenant_id: str, pair_id: int) -> SyncPair | None:
    """One pair by its id (``None`` for another tenant's)."""
    pair = session.get(SyncPair, pair_id)
    return pair if pair is not None and pair.tenant_id == tenant_id else None


def platform_ids_needing_outbound(
    session: Session, *, tenant_id: str, mapping_id: str, limit: int, after: int | None = None
) -> list[tuple[int, str]]:
    """Pairs whose Salesforce write is planned but not confirmed: ``(pair id, platform id)``
    in pair id order, at most ``limit``, after pair ``after``.

    Only the ids: after an initial sync every pair waits for its link stamp, and
    loading the pairs themselves (their state documents) would take memory in
    proportion to the org (about 5 KB a pair). A caller pages with ``after``.
    """
    query = sa.select(SyncPair.id, SyncPair.platform_id).where(
        SyncPair.tenant_id == tenant_id,
        SyncPair.mapping_id == mapping_id,
        SyncPair.needs_outbound.is_(True),
        SyncPair.platform_id.is_not(None),
    )
    if after is not None:
        query = query.where(SyncPair.id > after)
    rows = session.execute(query.order_by(SyncPair.id).limit(limit))
    return [(int(pair_id), str(platform_id)) for pair_id, platform_id in rows]


def add_pair(
    session: Session,
    *,
    tenant_id: str,
    mapping_id: str,
    salesforce_object: str,
    platform_entity: str,
    platform_id: str | None,
    salesforce_id: str | None,
    state: dict[str, Any],
    needs_outbound: bool,
    in_review: bool,
    at: datetime,
    inbound: bool,
) -> SyncPair:
    """Add a new pair; its ``id`` is known after the session's next flush."""
    pair = SyncPair(
        tenant_id=tenant_id,
        mapping_id=mapping_id,
        salesforce_object=salesforce_object,
        platform_entity=platform_entity,
        platform_id=platform_id,
        salesforce_id=salesforce_id,
        state=state,
        needs_outbound=needs_outbound,
        in_review=in_review,
        last_inbound_at=at if inbound else None,
        last_outbound_at=None if inbound else at,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(pair)  # inserted at the next flush, with the records it describes
    return pair


def defer_pair(
    session: Session,
    *,
    tenant_id: str,
    mapping_id: str,
    salesforce_object: str,
    platform_entity: str,
    platform_id: str | None,
    salesforce_id: str | None,
    state: dict[str, Any],
    needs_outbound: bool,
    at: datetime,
) -> None:
    """:func:`add_pair` for an inbound page's new pairs, as a row (``store.deferred``):
    written with the page's next statement or commit; no object, no id until then."""
    defer_insert(
        session,
        _PAIRS,
        {
            "tenant_id": tenant_id,
            "mapping_id": mapping_id,
            "salesforce_object": salesforce_object,
            "platform_entity": platform_entity,
            "platform_id": platform_id,
            "salesforce_id": salesforce_id,
            "state": state,
            "needs_outbound": needs_outbound,
            "in_review": False,
            "last_inbound_at": at,
            "last_outbound_at": None,
            "created_at": at,
            "updated_at": at,
        },
    )


_PAIRS: sa.Table = SyncPair.__table__  # type: ignore[assignment]


def delete_pair(session: Session, pair: SyncPair) -> None:
    """Forget a pair (both records are gone)."""
    session.delete(pair)
    session.flush()


def linked_salesforce_ids(
    session: Session, *, tenant_id: str, mapping_ids: Collection[str], platform_ids: Collection[str]
) -> dict[str, str]:
    """Platform id → Salesforce id of the pairs of some mappings (for known links)."""
    found: dict[str, str] = {}
    if not mapping_ids:
        return found
    for chunk in _chunks(platform_ids):
        rows = session.execute(
            sa.select(SyncPair.platform_id, SyncPair.salesforce_id).where(
                SyncPair.tenant_id == tenant_id,
                SyncPair.mapping_id.in_(list(mapping_ids)),
                SyncPair.platform_id.in_(chunk),
                SyncPair.salesforce_id.is_not(None),
            )
        )
        for platform_id, salesforce_id in rows:
            found[str(platform_id)] = str(salesforce_id)
    return found


def linked_platform_ids(
    session: Session,
    *,
    tenant_id: str,
    mapping_ids: Collection[str],
    salesforce_ids: Collection[str],
) -> dict[str, str]:
    """Salesforce id → platform id of the pairs of some mappings (for known links)."""
    found: dict[str, str] = {}
    if not mapping_ids:
        return found
    for chunk in _chunks(salesforce_ids):
        rows = session.execute(
            sa.select(SyncPair.salesforce_id, SyncPair.platform_id).where(
                SyncPair.tenant_id == tenant_id,
                SyncPair.mapping_id.in_(list(mapping_ids)),
                SyncPair.salesforce_id.in_(chunk),
                SyncPair.platform_id.is_not(None),
            )
        )
        for salesforce_id, platform_id in rows:
            found[str(salesforce_id)] = str(platform_id)
    return found


def count_pairs(session: Session, *, tenant_id: str, mapping_id: str) -> dict[str, int]:
    """How many pairs a mapping has: in all, waiting for Salesforce, held for review."""
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(SyncPair.needs_outbound.is_(True)),
            sa.func.count().filter(SyncPair.in_review.is_(True)),
        ).where(SyncPair.tenant_id == tenant_id, SyncPair.mapping_id == mapping_id)
    ).one()
    return {"pairs": int(row[0]), "pending": int(row[1]), "in_review": int(row[2])}
