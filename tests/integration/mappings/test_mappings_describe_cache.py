"""The describe cache: kept per tenant, org and object; revalidated with If-Modified-Since."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from mapping_world import OrgWorld
from sqlalchemy.engine import Engine

from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.describes import DESCRIBE_MAX_AGE, OrgSchema
from crmbridge.mappings.errors import SalesforceObjectNotFound
from crmbridge.mappings.testing import emulator_client
from crmbridge.services import factories
from crmbridge.store.db import create_session_factory, utcnow
from crmbridge.store.repositories import describes as repo


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def _describe_calls(world: OrgWorld) -> int:
    return world.client.usage.calls_by_resource.get("sobjects", 0)


def test_a_describe_is_downloaded_once_then_served_from_the_cache(org_world: OrgWorld) -> None:
    clock = Clock()
    org = OrgSchema(
        org_world.session_factory, org_world.client, tenant_id=org_world.tenant_id, clock=clock
    )
    first = org.describe("contact")
    assert first.source == "downloaded"
    assert first.describe["name"] == "Contact"
    assert _describe_calls(org_world) == 1

    # A new request (a new OrgSchema) within the maximum age reads the store only.
    clock.now += DESCRIBE_MAX_AGE - timedelta(seconds=1)
    again = OrgSchema(
        org_world.session_factory, org_world.client, tenant_id=org_world.tenant_id, clock=clock
    ).describe("Contact")
    assert again.source == "cache"
    assert again.fetched_at == first.fetched_at
    assert _describe_calls(org_world) == 1

    # Older than that, Salesforce is asked whether it changed: 304, nothing downloaded.
    clock.now += timedelta(seconds=2)
    revalidated = OrgSchema(
        org_world.session_factory, org_world.client, tenant_id=org_world.tenant_id, clock=clock
    ).describe("Contact")
    assert revalidated.source == "not_modified"
    assert revalidated.checked_at == clock.now
    assert revalidated.fetched_at == first.fetched_at
    assert _describe_calls(org_world) == 2
    with org_world.session_factory() as session:
        entry = repo.get_cached_describe(
            session, tenant_id=org_world.tenant_id, org_id=org.org_id, sobject="CONTACT"
        )
        assert entry is not None
        assert entry.checked_at == clock.now

    # An explicit refresh downloads it whatever the cache holds.
    refreshed = OrgSchema(
        org_world.session_factory, org_world.client, tenant_id=org_world.tenant_id, clock=clock
    ).describe("Contact", refresh=True)
    assert refreshed.source == "downloaded"
    assert _describe_calls(org_world) == 3


def test_describes_are_kept_per_tenant(org_world: OrgWorld) -> None:
    org_world.org.describe("Lead")
    with org_world.session_factory.begin() as session:
        other = factories.create_tenant(session).id
    other_org = OrgSchema(org_world.session_factory, org_world.client, tenant_id=other)
    assert other_org.describe("Lead").source == "downloaded"
    assert _describe_calls(org_world) == 2


def test_an_unknown_object_is_not_found(org_world: OrgWorld) -> None:
    with pytest.raises(SalesforceObjectNotFound, match="Nope__c"):
        org_world.org.describe("Nope__c")


def _schema(directory: Path, *fields: dict[str, object]) -> Path:
    path = directory / "schema.yaml"
    document = {"objects": {"Contact": {"fields": list(fields)}}}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_a_schema_change_in_the_org_is_seen_when_the_describe_is_revalidated(
    clean_db: Engine, tmp_path: Path
) -> None:
    factory = create_session_factory(clean_db)
    with factory.begin() as session:
        tenant_id = factories.create_tenant(session).id
    clock = Clock()
    schema = _schema(tmp_path, {"name": "Shoe_Size__c", "type": "string", "length": 5})
    server = EmulatorServer(tmp_path / "org", port=0, schema_file=schema)
    server.start()
    try:
        with emulator_client(server.info) as client:
            org = OrgSchema(factory, client, tenant_id=tenant_id, clock=clock)
            # The org stamps its schema (in whole seconds) at the first describe.
            fields = {f["name"] for f in org.describe("Contact").describe["fields"]}
            described = time.monotonic()
            assert "Shoe_Size__c" in fields
            assert "Hat_Size__c" not in fields
    finally:
        server.stop()
    # HTTP dates have whole seconds: let the org's schema change fall in a later one.
    time.sleep(max(0.0, 1.1 - (time.monotonic() - described)))
    _schema(
        tmp_path,
        {"name": "Shoe_Size__c", "type": "string", "length": 5},
        {"name": "Hat_Size__c", "type": "string", "length": 5},
    )
    server = EmulatorServer(tmp_path / "org", port=0, schema_file=schema)
    server.start()
    try:
        with emulator_client(server.info) as client:
            clock.now += DESCRIBE_MAX_AGE + timedelta(seconds=1)
            org = OrgSchema(factory, client, tenant_id=tenant_id, clock=clock)
            changed = org.describe("Contact")
            assert changed.source == "downloaded"  # 200 to If-Modified-Since
            assert "Hat_Size__c" in {f["name"] for f in changed.describe["fields"]}
            clock.now += DESCRIBE_MAX_AGE + timedelta(seconds=1)
            unchanged = OrgSchema(factory, client, tenant_id=tenant_id, clock=clock)
            assert unchanged.describe("Contact").source == "not_modified"
    finally:
        server.stop()
