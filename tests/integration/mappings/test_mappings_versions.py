"""Mappings in the store: every change is a new immutable version, audited (R-P5)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from mapping_world import OrgWorld
from sqlalchemy.orm.exc import StaleDataError

from crmbridge.domain.mapping import ObjectMapping, default_object_mapping
from crmbridge.mappings import service
from crmbridge.mappings.errors import MappingConflict, MappingNotFound, MappingRejected
from crmbridge.services.access import Principal, Role
from crmbridge.services.errors import StaleVersion
from crmbridge.store.mapping_models import StoredMapping
from crmbridge.store.models import AuditLogEntry
from crmbridge.store.repositories import mappings as repo

ADA = Principal(
    kind="user", id="u-1", label="ada@example.org", role=Role.CLIENT_ADMIN, tenant_id=None
)


def _lead() -> dict[str, Any]:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    return mapping.to_dict()


def _create(world: OrgWorld, definition: dict[str, Any], filter_name: str = "") -> str:
    with world.session_factory.begin() as session:
        checked = service.validate_draft(
            session, world.org, tenant_id=world.tenant_id, definition=definition
        )
        return service.store_new_mapping(
            session, ADA, tenant_id=world.tenant_id, checked=checked, filter_name=filter_name
        ).mapping.id


def _update(
    world: OrgWorld, mapping_id: str, definition: dict[str, Any], version: int | None = None
) -> service.SaveResult:
    with world.session_factory.begin() as session:
        stored = service.get_mapping(session, tenant_id=world.tenant_id, mapping_id=mapping_id)
        service.check_expected_version(stored, version)
        checked = service.validate_draft(
            session, world.org, tenant_id=world.tenant_id, definition=definition
        )
        result = service.store_mapping_change(
            session, ADA, stored, checked=checked, filter_name=stored.filter_name
        )
        session.flush()
        return result


def _audit(world: OrgWorld) -> list[AuditLogEntry]:
    with world.session_factory() as session:
        return list(
            session.scalars(
                sa.select(AuditLogEntry)
                .where(AuditLogEntry.tenant_id == world.tenant_id)
                .order_by(AuditLogEntry.id)
            )
        )


def test_create_update_and_delete_each_write_a_version_and_an_audit_entry(
    org_world: OrgWorld,
) -> None:
    mapping_id = _create(org_world, _lead())
    changed = {**_lead(), "delete_policy": "propagate"}
    result = _update(org_world, mapping_id, changed, version=1)
    assert result.changed
    assert result.mapping.version == 2
    with org_world.session_factory.begin() as session:
        service.delete_mapping(
            session, ADA, tenant_id=org_world.tenant_id, mapping_id=mapping_id, expected_version=2
        )
    with org_world.session_factory() as session:
        versions = service.list_versions(
            session, tenant_id=org_world.tenant_id, mapping_id=mapping_id
        )
        assert [(v.version, v.action) for v in versions] == [
            (3, "delete"),
            (2, "update"),
            (1, "create"),
        ]
        assert versions[2].changes == ["created lead ↔ Lead with 17 field mappings"]
        assert versions[1].changes == ['delete_policy: "archive" → "propagate"']
        assert versions[0].changes == ["deleted lead ↔ Lead"]
        assert {v.actor_label for v in versions} == {"ada@example.org"}
        assert (
            repo.get_mapping(session, tenant_id=org_world.tenant_id, mapping_id=mapping_id) is None
        )
    entries = _audit(org_world)
    assert [(e.action, e.target_id, e.actor_label) for e in entries] == [
        ("mapping.create", mapping_id, "ada@example.org"),
        ("mapping.update", mapping_id, "ada@example.org"),
        ("mapping.delete", mapping_id, "ada@example.org"),
    ]
    assert entries[1].before == {
        "platform_entity": "lead",
        "salesforce_object": "Lead",
        "filter_name": "",
        "enabled": True,
        "version": 1,
    }
    assert entries[1].after is not None
    assert entries[1].after["version"] == 2
    assert entries[1].after["changes"] == ['delete_policy: "archive" → "propagate"']


def test_a_sync_run_reloads_the_exact_version_it_used(org_world: OrgWorld) -> None:
    mapping_id = _create(org_world, _lead())
    with org_world.session_factory() as session:
        (active,) = service.load_enabled_mappings(session, tenant_id=org_world.tenant_id)
    assert (active.id, active.version) == (mapping_id, 1)
    _update(org_world, mapping_id, {**_lead(), "delete_policy": "propagate"})
    with org_world.session_factory() as session:
        used = service.load_mapping_version(
            session, tenant_id=org_world.tenant_id, mapping_id=mapping_id, version=active.version
        )
        latest = service.load_mapping_version(
            session, tenant_id=org_world.tenant_id, mapping_id=mapping_id, version=2
        )
    assert used == active.mapping == ObjectMapping.from_dict(_lead())
    assert latest.delete_policy.value == "propagate"


def test_a_save_equal_to_the_stored_version_writes_nothing(org_world: OrgWorld) -> None:
    mapping_id = _create(org_world, _lead())
    result = _update(org_world, mapping_id, _lead())
    assert not result.changed
    assert result.mapping.version == 1
    with org_world.session_factory() as session:
        assert repo.count_versions(session, tenant_id=org_world.tenant_id) == 1
    assert [e.action for e in _audit(org_world)] == ["mapping.create"]


def test_a_second_mapping_of_the_same_pair_needs_another_filter_name(org_world: OrgWorld) -> None:
    _create(org_world, _lead())
    with pytest.raises(MappingConflict, match="already exists"):
        _create(org_world, {**_lead(), "salesforce_object": "lead"})  # names ignore case
    _create(org_world, _lead(), filter_name="web-leads")
    with org_world.session_factory() as session:
        stored = service.list_mappings(session, tenant_id=org_world.tenant_id)
        assert [(m.salesforce_object, m.filter_name) for m in stored] == [
            ("Lead", ""),
            ("Lead", "web-leads"),
        ]


def test_the_database_refuses_a_duplicate_pair_a_race_slipped_past_the_check(
    org_world: OrgWorld,
) -> None:
    mapping_id = _create(org_world, _lead())
    with org_world.session_factory() as session:
        original = service.get_mapping(
            session, tenant_id=org_world.tenant_id, mapping_id=mapping_id
        )
        copy = StoredMapping(
            id="race",
            tenant_id=original.tenant_id,
            platform_entity="lead",
            salesforce_object="Lead",
            filter_name="",
            enabled=True,
            definition=original.definition,
            created_at=original.created_at,
            updated_at=original.updated_at,
        )
        session.add(copy)
        with pytest.raises(sa.exc.IntegrityError):
            session.flush()
        session.rollback()


def test_an_update_from_an_old_version_is_refused(org_world: OrgWorld) -> None:
    mapping_id = _create(org_world, _lead())
    _update(org_world, mapping_id, {**_lead(), "enabled": False}, version=1)
    with pytest.raises(StaleVersion, match="version 2, not 1"):
        _update(org_world, mapping_id, {**_lead(), "delete_policy": "ignore"}, version=1)


def test_two_concurrent_saves_of_one_mapping_cannot_both_win(org_world: OrgWorld) -> None:
    mapping_id = _create(org_world, _lead())
    factory = org_world.session_factory
    first, second = factory(), factory()
    try:
        a = service.get_mapping(first, tenant_id=org_world.tenant_id, mapping_id=mapping_id)
        b = service.get_mapping(second, tenant_id=org_world.tenant_id, mapping_id=mapping_id)
        a.definition = {**a.definition, "enabled": False}
        first.commit()
        b.definition = {**b.definition, "direction": "to_salesforce"}
        with pytest.raises(StaleDataError):
            second.flush()  # the version it read is gone
    finally:
        first.close()
        second.rollback()
        second.close()


def test_an_enabled_mapping_with_errors_is_refused_and_nothing_is_written(
    org_world: OrgWorld,
) -> None:
    broken = {
        **_lead(),
        "fields": [
            *_lead()["fields"],
            {
                "platform_field": "first_name",
                "salesforce_field": "Nickname",
                "direction": "to_salesforce",
            },
        ],
    }
    with pytest.raises(MappingRejected) as caught:
        _create(org_world, broken)
    assert [(p.code, p.field) for p in caught.value.problems] == [("unknown_field", "Nickname")]
    with org_world.session_factory() as session:
        assert repo.count_mappings(session, tenant_id=org_world.tenant_id) == 0
        assert repo.count_versions(session, tenant_id=org_world.tenant_id) == 0
    assert _audit(org_world) == []


def test_a_disabled_draft_is_saved_with_its_errors_listed(org_world: OrgWorld) -> None:
    draft = {
        **_lead(),
        "enabled": False,
        "fields": [
            *_lead()["fields"],
            {
                "platform_field": "first_name",
                "salesforce_field": "Nickname",
                "direction": "to_salesforce",
            },
        ],
    }
    with org_world.session_factory.begin() as session:
        checked = service.validate_draft(
            session, org_world.org, tenant_id=org_world.tenant_id, definition=draft
        )
        result = service.store_new_mapping(
            session, ADA, tenant_id=org_world.tenant_id, checked=checked
        )
        assert not result.mapping.enabled
        assert [(p.code, p.field) for p in result.problems] == [("unknown_field", "Nickname")]
    # ... and it cannot be enabled while the error remains.
    with pytest.raises(MappingRejected):
        _update(org_world, result.mapping.id, {**draft, "enabled": True})


def test_versions_of_another_tenant_are_not_found(org_world: OrgWorld) -> None:
    mapping_id = _create(org_world, _lead())
    with org_world.session_factory() as session, pytest.raises(MappingNotFound):
        service.list_versions(session, tenant_id="another-tenant", mapping_id=mapping_id)
