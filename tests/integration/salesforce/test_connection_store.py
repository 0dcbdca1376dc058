"""The connection tables on the real databases: migration 0003 both ways, the
one-org-one-tenant index, single-use states, and the state machine of R-A5."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmbridge.connections.events import NEEDS_REAUTHORIZATION, list_events
from crmbridge.connections.lifecycle import mark_needs_reauthorization, sync_gate
from crmbridge.domain.errors import ReauthorizationRequired
from crmbridge.services import factories
from crmbridge.store import migrate
from crmbridge.store.connection_models import SalesforceOAuthState
from crmbridge.store.db import create_db_engine, utcnow
from crmbridge.store.repositories import salesforce_connections as repo
from crmbridge.store.testing import empty_database

NEW_TABLES = {"salesforce_connections", "salesforce_oauth_states", "tenant_events"}


def test_migration_0003_goes_down_and_up_keeping_other_data(tmp_path: Path) -> None:
    with empty_database(tmp_path) as url:
        migrate.upgrade(url, "0003")
        engine = create_db_engine(url)
        try:
            assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO tenants (id, name, status, created_at, updated_at, change_seq)"
                        " VALUES ('t1', 'Acme', 'active', :now, :now, 0)"
                    ),
                    {"now": "2025-01-01 00:00:00"},
                )
            migrate.downgrade(url, "0002")
            assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())
            migrate.upgrade(url, "0003")
            assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT name FROM tenants")).scalar_one() == "Acme"
        finally:
            engine.dispose()


def _connected(session: Session, *, org_id: str) -> str:
    tenant = factories.create_tenant(session)
    connection = repo.get_or_add_connection(session, tenant.id)
    connection.status = "connected"
    connection.org_id = connection.held_org_id = org_id
    connection.auth_flow = "oauth"
    session.flush()
    return tenant.id


def test_the_database_refuses_one_org_held_by_two_tenants(db_session: Session) -> None:
    _connected(db_session, org_id="00D000000000001AAA")
    db_session.commit()
    with pytest.raises(IntegrityError):
        _connected(db_session, org_id="00D000000000001AAA")
    db_session.rollback()
    # Released orgs (NULL) do not collide.
    first = repo.get_or_add_connection(db_session, factories.create_tenant(db_session).id)
    second = repo.get_or_add_connection(db_session, factories.create_tenant(db_session).id)
    assert first.held_org_id is None
    assert second.held_org_id is None
    db_session.commit()


def test_a_state_can_be_claimed_once(db_session: Session) -> None:
    tenant = factories.create_tenant(db_session)
    now = utcnow()
    flow = repo.add_oauth_state(
        db_session,
        SalesforceOAuthState(
            id="f1",
            tenant_id=tenant.id,
            state_hash="a" * 64,
            code_verifier_sealed="enc1:x",
            login_url="https://login.salesforce.com",
            consumer_key="key",
            redirect_uri="https://crmbridge.test/cb",
            environment="production",
            started_by_kind="api_key",
            started_by_id="k1",
            started_by_label="key",
            started_by_role="CLIENT_ADMIN",
            created_at=now,
            expires_at=now + timedelta(minutes=10),
            outcome="pending",
            outcome_detail="",
        ),
    )
    assert repo.claim_oauth_state(db_session, flow.id, now)
    assert not repo.claim_oauth_state(db_session, flow.id, now)
    assert repo.delete_expired_oauth_states(db_session, now + timedelta(minutes=11)) == 1
    db_session.commit()


def test_needs_reauthorization_pauses_sync_once_however_many_workers_see_it(
    db_session: Session,
) -> None:
    tenant = _connected(db_session, org_id="00D000000000002AAA")
    assert sync_gate(db_session, tenant).may_sync
    error = ReauthorizationRequired("expired access/refresh token", code="invalid_grant")
    assert mark_needs_reauthorization(db_session, tenant_id=tenant, error=error)
    assert not mark_needs_reauthorization(db_session, tenant_id=tenant, error=error)
    events = list_events(db_session, tenant_id=tenant)
    assert [e.kind for e in events] == [NEEDS_REAUTHORIZATION]
    gate = sync_gate(db_session, tenant)
    assert not gate.may_sync
    assert "needs re-authorization" in gate.reason
    connection = repo.get_connection(db_session, tenant)
    assert connection is not None
    assert connection.held_org_id == "00D000000000002AAA"  # still held while waiting
    db_session.commit()


def test_scheduled_syncs_wait_for_the_auto_sync_setting(db_session: Session) -> None:
    tenant = _connected(db_session, org_id="00D000000000003AAA")
    gate = sync_gate(db_session, tenant)
    assert gate.may_sync
    assert not gate.may_sync_automatically
    connection = repo.get_connection(db_session, tenant)
    assert connection is not None
    connection.auto_sync = True
    assert sync_gate(db_session, tenant).may_sync_automatically
    other = factories.create_tenant(db_session)
    assert "not connected" in sync_gate(db_session, other.id).reason
    db_session.commit()
