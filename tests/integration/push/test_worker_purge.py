"""The worker's purge: settled inbox entries go after a week, held ones stay."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from crmbridge.store.push_models import InboxEntry
from crmbridge.store.repositories import inbox
from crmbridge.web.testing import ApiWorld
from crmbridge.worker.tasks import INBOX_RETENTION, build_worker
from crmbridge.worker.testing import ManualClock


def _entry(tenant: str, key: str, status: str, received_at: object) -> dict[str, object]:
    return {
        "tenant_id": tenant,
        "source": "webhook",
        "dedupe_key": key,
        "sobject": "Contact",
        "salesforce_id": "003Hs00000AbCdEIAV",
        "fields": {},
        "action_id": "",
        "status": status,
        "attempts": 1,
        "error_category": "",
        "error_message": "",
        "received_at": received_at,
    }


def test_the_purge_deletes_settled_entries_older_than_a_week(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    clock = ManualClock()
    old = clock() - INBOX_RETENTION - timedelta(minutes=1)
    recent = clock() - INBOX_RETENTION + timedelta(minutes=1)
    with api.session_factory.begin() as session:
        inbox.add_entries_once(
            session,
            [
                _entry(tenant, "old-processed", "processed", old),
                _entry(tenant, "old-skipped", "skipped", old),
                _entry(tenant, "old-failed", "failed", old),
                _entry(tenant, "old-pending", "pending", old),
                _entry(tenant, "recent-processed", "processed", recent),
            ],
        )
    worker = build_worker(api.session_factory, api.app.state.settings, clock=clock)
    assert worker.run_once().purged == 2
    with api.session() as session:
        kept = session.scalars(sa.select(InboxEntry.dedupe_key).order_by(InboxEntry.id)).all()
    assert kept == ["old-failed", "old-pending", "recent-processed"]
