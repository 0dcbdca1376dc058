"""The review queue (R-S4 manual review): conflicts held with both values until an
administrator picks a side per field (or for a delete); the next run applies the picks.
Fields that are not in conflict keep syncing meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.sync import Side, SyncPlan
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import Conflict, NotFound
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.store.repositories import sync_reviews as repo
from crmbridge.store.sync_models import SyncPair, SyncReview
from crmbridge.sync.context import MappingRun

#: The key of a delete-versus-edit pick in ``decisions``.
DELETE_DECISION = "_delete"


class ReviewRejected(Conflict):
    """The picks do not fit the review (unknown field, missing pick, bad side)."""


def hold_for_review(
    session: Session,
    *,
    tenant_id: str,
    mapping_run: MappingRun,
    pair: SyncPair,
    plan: SyncPlan,
    now: datetime,
) -> SyncReview:
    """Open (or refresh) the pair's review with the conflicts ``plan`` holds."""
    conflicts = [
        {
            "field": c.field,
            "base": c.base,
            "base_known": c.base_known,
            "platform": c.platform,
            "salesforce": c.salesforce,
        }
        for c in plan.held_conflicts
    ]
    delete = plan.delete_conflict
    delete_json = (
        {"deleted_side": delete.deleted_side.value, "edited_fields": list(delete.edited_fields)}
        if delete is not None and delete.winner is None
        else None
    )
    if pair.id is None:
        session.flush()  # a pair added in this transaction gets its id
    review = repo.open_review_for_pair(session, tenant_id=tenant_id, pair_id=pair.id)
    if review is None:
        review = repo.add_review(
            session,
            SyncReview(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                pair_id=pair.id,
                mapping_id=mapping_run.id,
                salesforce_object=mapping_run.sobject,
                platform_entity=mapping_run.entity_name,
                conflicts=[],
                decisions={},
                decisions_pending=False,
                status="open",
                created_at=now,
                updated_at=now,
            ),
        )
    review.platform_id = pair.platform_id
    review.salesforce_id = pair.salesforce_id
    review.conflicts = conflicts
    review.delete_conflict = delete_json
    review.updated_at = now
    session.flush()
    return review


def close_review(session: Session, *, tenant_id: str, pair_id: int, now: datetime) -> None:
    """Nothing is held for the pair any more: its review (if any) is resolved."""
    review = repo.open_review_for_pair(session, tenant_id=tenant_id, pair_id=pair_id)
    if review is not None:
        review.status = "resolved"
        review.decisions_pending = False
        review.resolved_at = review.resolved_at or now
        review.resolved_by = review.resolved_by or "sync"
        review.updated_at = now
        session.flush()


def decisions_of(review: SyncReview) -> tuple[dict[str, Side], Side | None]:
    """The picks of a review as the merge takes them."""
    fields = {k: Side(v) for k, v in review.decisions.items() if k != DELETE_DECISION}
    delete = review.decisions.get(DELETE_DECISION)
    return fields, Side(delete) if delete else None


def applied_decisions(session: Session, review: SyncReview, *, now: datetime) -> None:
    """The next run applied the picks."""
    review.decisions_pending = False
    review.updated_at = now
    session.flush()


def review_view(review: SyncReview) -> dict[str, Any]:
    """The API representation of a review."""
    return {
        "id": review.id,
        "status": review.status,
        "mapping_id": review.mapping_id,
        "object": review.salesforce_object,
        "platform_entity": review.platform_entity,
        "platform_id": review.platform_id,
        "salesforce_id": review.salesforce_id,
        "conflicts": list(review.conflicts),
        "delete_conflict": review.delete_conflict,
        "decisions": dict(review.decisions),
        "decisions_pending": review.decisions_pending,
        "resolved_by": review.resolved_by,
        "resolved_at": review.resolved_at,
        "created_at": review.created_at,
        "updated_at": review.updated_at,
    }


def get_review(session: Session, *, tenant_id: str, review_id: str) -> SyncReview:
    """One review of the tenant.

    Raises:
        NotFound: no such review for this tenant.
    """
    review = repo.get_review(session, tenant_id=tenant_id, review_id=review_id)
    if review is None:
        raise NotFound("No review with this id.")
    return review


def resolve_review(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    review_id: str,
    picks: Mapping[str, str],
) -> SyncReview:
    """Record an administrator's picks; the next run writes them to both sides.

    Args:
        session: the request's transaction.
        principal: who picks.
        tenant_id: the tenant.
        review_id: the review.
        picks: ``{field: "platform" | "salesforce"}`` for every held field, and
            ``{"_delete": side}`` for a held delete-versus-edit conflict (the side whose
            action wins: the deleting side deletes, the other side keeps the record).

    Raises:
        NotFound: no such review for this tenant.
        ReviewRejected: a pick is missing, unknown or not a side.
    """
    review = get_review(session, tenant_id=tenant_id, review_id=review_id)
    if review.status != "open":
        raise ReviewRejected("This review is already resolved.")
    held = {c["field"] for c in review.conflicts}
    wanted = set(held)
    if review.delete_conflict is not None:
        wanted.add(DELETE_DECISION)
    unknown = sorted(set(picks) - wanted)
    missing = sorted(wanted - set(picks))
    bad = sorted(
        k for k, v in picks.items() if v not in (Side.PLATFORM.value, Side.SALESFORCE.value)
    )
    if unknown or missing or bad:
        parts = []
        if unknown:
            parts.append(f"not held: {', '.join(unknown)}")
        if missing:
            parts.append(f"no pick for: {', '.join(missing)}")
        if bad:
            parts.append(f"pick 'platform' or 'salesforce' for: {', '.join(bad)}")
        raise ReviewRejected("; ".join(parts) + ".")
    before = review_view(review)
    now = utcnow()
    review.decisions = dict(picks)
    review.decisions_pending = True
    review.status = "resolved"
    review.resolved_by = principal.label[:254]
    review.resolved_at = now
    review.updated_at = now
    pair = pairs_repo.get_pair(session, tenant_id=tenant_id, pair_id=review.pair_id)
    if pair is not None:
        pair.in_review = False
    session.flush()
    record_audit(
        session,
        principal,
        action="sync_review.resolve",
        target_type="sync_review",
        target_id=review.id,
        tenant_id=tenant_id,
        before=before,
        after=review_view(review),
    )
    return review
