"""Queries on conflicts held for manual review (``sync_reviews``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.sync_models import SyncReview


def open_review_for_pair(session: Session, *, tenant_id: str, pair_id: int) -> SyncReview | None:
    """The open review of a pair, if any."""
    return session.scalar(
        sa.select(SyncReview).where(
            SyncReview.tenant_id == tenant_id,
            SyncReview.pair_id == pair_id,
            SyncReview.status == "open",
        )
    )


def pending_decisions(session: Session, *, tenant_id: str, mapping_id: str) -> list[SyncReview]:
    """Reviews an admin resolved whose picks the next run applies."""
    return list(
        session.scalars(
            sa.select(SyncReview)
            .where(
                SyncReview.tenant_id == tenant_id,
                SyncReview.mapping_id == mapping_id,
                SyncReview.decisions_pending.is_(True),
            )
            .order_by(SyncReview.created_at, SyncReview.id)
        )
    )


def add_review(session: Session, review: SyncReview) -> SyncReview:
    """Insert a review."""
    session.add(review)
    session.flush()
    return review


def get_review(session: Session, *, tenant_id: str, review_id: str) -> SyncReview | None:
    """One review (``None`` for another tenant's)."""
    row = session.get(SyncReview, review_id)
    return row if row is not None and row.tenant_id == tenant_id else None


def list_reviews(
    session: Session,
    *,
    tenant_id: str,
    limit: int,
    status: str | None,
    before: tuple[datetime, str] | None = None,
    salesforce_object: str | None = None,
) -> list[SyncReview]:
    """Reviews newest first, continuing before the ``before`` position."""
    query = (
        sa.select(SyncReview)
        .where(SyncReview.tenant_id == tenant_id)
        .order_by(SyncReview.created_at.desc(), SyncReview.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(SyncReview.status == status)
    if salesforce_object is not None:
        query = query.where(SyncReview.salesforce_object == salesforce_object)
    if before is not None:
        at, row_id = before
        query = query.where(
            sa.or_(
                SyncReview.created_at < at,
                sa.and_(SyncReview.created_at == at, SyncReview.id < row_id),
            )
        )
    return list(session.scalars(query))
