"""The pair's ``SyncState`` as stored: JSON in ``sync_pairs.state``, ids in columns.

Values are canonical (JSON wire values), so they round-trip through JSON unchanged;
``SystemModstamp`` is kept as ISO 8601 text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.sync import Side, SyncState
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.sync_models import SyncPair


def state_to_json(state: SyncState) -> dict[str, Any]:
    """The JSON document of a state (ids are stored in their own columns too).

    Args:
        state: the state to store.

    Returns:
        A JSON-able dict read back by :func:`state_from_json`.
    """
    return {
        "object": state.object,
        "platform_id": state.platform_id,
        "salesforce_id": state.salesforce_id,
        "values": dict(state.values),
        "salesforce_modstamp": state.salesforce_modstamp.isoformat()
        if state.salesforce_modstamp
        else None,
        "pending": dict(state.pending),
        "held": dict(state.held),
        "held_delete": state.held_delete.value if state.held_delete else None,
        "linked": state.linked,
        "detached": state.detached,
    }


def state_from_json(data: dict[str, Any]) -> SyncState:
    """Read a state written by :func:`state_to_json`.

    Args:
        data: the stored document.

    Returns:
        The state.
    """
    stamp = data.get("salesforce_modstamp")
    held_delete = data.get("held_delete")
    return SyncState(
        object=str(data.get("object", "")),
        platform_id=data.get("platform_id"),
        salesforce_id=data.get("salesforce_id"),
        values=dict(data.get("values") or {}),
        salesforce_modstamp=datetime.fromisoformat(stamp) if stamp else None,
        pending=dict(data.get("pending") or {}),
        held=dict(data.get("held") or {}),
        held_delete=Side(held_delete) if held_delete else None,
        linked=bool(data.get("linked", False)),
        detached=bool(data.get("detached", False)),
    )


def pair_state(pair: SyncPair) -> SyncState:
    """The state of a stored pair, its ids taken from the columns."""
    state = state_from_json(dict(pair.state))
    return SyncState(
        object=state.object or pair.salesforce_object,
        platform_id=pair.platform_id,
        salesforce_id=pair.salesforce_id,
        values=state.values,
        salesforce_modstamp=state.salesforce_modstamp,
        pending=state.pending,
        held=state.held,
        held_delete=state.held_delete,
        linked=state.linked,
        detached=state.detached,
    )


def store_state(
    session: Session,
    *,
    pair: SyncPair | None,
    state: SyncState | None,
    tenant_id: str,
    mapping_id: str,
    platform_entity: str,
    needs_outbound: bool,
    in_review: bool,
    inbound: bool,
    defer: bool = False,
) -> SyncPair | None:
    """Write a pair's new state in the caller's transaction.

    Args:
        session: the caller's session (the state commits with the data it describes).
        pair: the stored pair, or ``None`` for a new one.
        state: the state to keep; ``None`` forgets the pair.
        tenant_id: the tenant.
        mapping_id: the mapping the pair belongs to.
        platform_entity: the platform entity type.
        needs_outbound: a Salesforce write of the pair is not confirmed yet.
        in_review: something is held for manual review.
        inbound: whether an inbound merge wrote it (for the pair's timestamps).
        defer: a new pair is written as a row with the page's next statement
            (``pairs_repo.defer_pair``) and ``None`` is returned: for inbound creates,
            which nothing in the page reads back.

    Returns:
        The stored pair, or ``None`` when it was forgotten or deferred.
    """
    now = utcnow()
    if state is None:
        if pair is not None:
            pairs_repo.delete_pair(session, pair)
        return None
    document = state_to_json(state)
    if pair is None and defer and inbound and not in_review:
        pairs_repo.defer_pair(
            session,
            tenant_id=tenant_id,
            mapping_id=mapping_id,
            salesforce_object=state.object,
            platform_entity=platform_entity,
            platform_id=state.platform_id,
            salesforce_id=state.salesforce_id,
            state=document,
            needs_outbound=needs_outbound,
            at=now,
        )
        return None
    if pair is None:
        return pairs_repo.add_pair(
            session,
            tenant_id=tenant_id,
            mapping_id=mapping_id,
            salesforce_object=state.object,
            platform_entity=platform_entity,
            platform_id=state.platform_id,
            salesforce_id=state.salesforce_id,
            state=document,
            needs_outbound=needs_outbound,
            in_review=in_review,
            at=now,
            inbound=inbound,
        )
    pair.platform_id = state.platform_id
    pair.salesforce_id = state.salesforce_id
    pair.state = document
    pair.needs_outbound = needs_outbound
    pair.in_review = in_review
    pair.updated_at = now
    if inbound:
        pair.last_inbound_at = now
    else:
        pair.last_outbound_at = now
    return pair
