"""Test-data factories, one style: ``create_x(session, **overrides)``; they flush, never commit.

Used by crmbridge's own tests and by projects embedding it (through crmbridge.testing).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import get_entity_type
from crmbridge.services import api_keys, tenants, users
from crmbridge.services import records as records_service
from crmbridge.services.access import CLI_PRINCIPAL, Role
from crmbridge.services.api_keys import NewApiKey
from crmbridge.services.passwords import hash_password
from crmbridge.store.db import utcnow
from crmbridge.store.models import Record, Tenant, User
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.store.sync_models import SyncPair

#: The password of every user a factory creates.
TEST_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@lru_cache(maxsize=1)
def test_password_hash() -> str:
    """Argon2 is slow on purpose; hash the shared test password once per process."""
    return hash_password(TEST_PASSWORD)


def create_tenant(session: Session, **overrides: Any) -> Tenant:
    name = overrides.pop("name", f"Tenant {next(_counter)}")
    tenant = tenants.create_tenant(session, CLI_PRINCIPAL, name=name)
    for key, value in overrides.items():
        setattr(tenant, key, value)
    session.flush()
    return tenant


def create_user(session: Session, **overrides: Any) -> User:
    role = Role(overrides.pop("role", Role.CLIENT_STAFF))
    tenant_id = overrides.pop("tenant_id", None)
    if tenant_id is None and role is not Role.SUPER_ADMIN:
        tenant_id = create_tenant(session).id
    return users.create_user(
        session,
        CLI_PRINCIPAL,
        tenant_id=tenant_id,
        email=overrides.pop("email", f"user{next(_counter)}@example.com"),
        role=role,
        name=overrides.pop("name", "Test User"),
        password_hash=overrides.pop("password_hash", test_password_hash()),
        **overrides,
    )


def create_api_key(session: Session, **overrides: Any) -> NewApiKey:
    role = Role(overrides.pop("role", Role.CLIENT_ADMIN))
    tenant_id = overrides.pop("tenant_id", None)
    if tenant_id is None and role is not Role.SUPER_ADMIN:
        tenant_id = create_tenant(session).id
    return api_keys.create_api_key(
        session,
        CLI_PRINCIPAL,
        tenant_id=tenant_id,
        name=overrides.pop("name", f"key {next(_counter)}"),
        role=role,
        allowed_ips=overrides.pop("allowed_ips", None),
    )


#: Smallest valid payload per entity type (references are created on demand).
def _minimal_payload(session: Session, tenant_id: str, entity_type: str) -> dict[str, Any]:
    n = next(_counter)
    if entity_type in ("member", "lead", "platform_user", "referral"):
        payload: dict[str, Any] = {"first_name": "Ada", "last_name": f"Lovelace {n}"}
        if entity_type == "platform_user":
            payload["email"] = f"owner{n}@example.com"
        if entity_type == "referral":
            payload["program_id"] = create_record(
                session, tenant_id=tenant_id, entity_type="program"
            ).id
        return payload
    if entity_type == "opportunity":
        return {"name": f"Deal {n}", "stage": "Prospecting"}
    if entity_type == "activity":
        return {"kind": "NOTE", "subject": f"Note {n}"}
    if entity_type == "goal":
        campaign = create_record(session, tenant_id=tenant_id, entity_type="campaign")
        return {"campaign_id": campaign.id}
    if entity_type in ("event_registration", "course_enrollment"):
        member = create_record(session, tenant_id=tenant_id, entity_type="member")
        key = "event_name" if entity_type == "event_registration" else "course_name"
        return {"member_id": member.id, key: f"Thing {n}"}
    if entity_type == "support_ticket":
        return {"ticket_number": f"T-{n}", "subject": "Help"}
    return {"name": f"{entity_type} {n}"}


def create_record(session: Session, **overrides: Any) -> Record:
    """A valid record of ``entity_type`` (default member); ``data`` overrides fields."""
    entity = get_entity_type(overrides.pop("entity_type", "member"))
    tenant_id = overrides.pop("tenant_id", None) or create_tenant(session).id
    payload = {**_minimal_payload(session, tenant_id, entity.name), **overrides.pop("data", {})}
    context = overrides.pop("context", ChangeContext(source="api", actor="factory"))
    return records_service.create_record(
        session, tenant_id=tenant_id, entity=entity, payload=payload, context=context, **overrides
    )


def stage_members(session: Session, tenant_id: str, count: int, *, start: int = 0) -> list[str]:
    """``count`` members staged as a sync page stages them (``create_record_deferred``:
    written with the transaction's next statement), numbered from ``start``: e-mail
    ``m<i>@x.org`` and Salesforce id ``003`` and ``i`` in 15 digits. Returns their ids."""
    context = ChangeContext(source="sync", origin="run-1", actor="sync")
    return [
        records_service.create_record_deferred(
            session,
            tenant_id=tenant_id,
            entity=get_entity_type("member"),
            payload={"first_name": "Row", "last_name": f"Member {i}", "email": f"m{i}@x.org"},
            context=context,
            salesforce_id=f"003{i:015d}",
            sync_status="synced",
        )
        for i in range(start, start + count)
    ]


def create_pair(session: Session, **overrides: Any) -> SyncPair:
    """A record pair (``tenant_id`` required); mapping ``m-1``, a member and a Contact."""
    now = utcnow()
    values: dict[str, Any] = {
        "mapping_id": "m-1",
        "salesforce_object": "Contact",
        "platform_entity": "member",
        "platform_id": f"p-{next(_counter)}",
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    pair = SyncPair(**values)
    session.add(pair)
    session.flush()
    return pair
