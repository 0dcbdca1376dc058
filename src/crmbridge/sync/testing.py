"""Test support for the sync engine: a tenant connected to a fresh emulated org.

``sync_world`` gives each test its own :class:`~crmbridge.emulator.server.EmulatorServer`
(no seed data; faults and quota may be broken freely), the API trusting it, and a
tenant connected to it with the password flow. :class:`SyncWorld` installs default
mappings, edits records on either side, and runs syncs with a clock, sleep and dice
that tests control.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections.consent import emulator_admin, org_settings
from crmbridge.connections.testing import api_trusting
from crmbridge.domain.entities import get_entity_type
from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.testing import FAST_RETRY, emulator_client
from crmbridge.salesforce.auth import tls_context
from crmbridge.salesforce.client import SalesforceClient
from crmbridge.services import records as records_service
from crmbridge.store.models import Record
from crmbridge.store.repositories import records as records_repo
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.sync.context import RunOptions
from crmbridge.sync.runs import RunKind, RunRequest, RunSummary, run_sync
from crmbridge.web.testing import ApiWorld

#: The default pairs most sync tests install.
MEMBERSHIP_PAIRS = (("organization", "Account"), ("member", "Contact"))


@dataclass
class OffsetClock:
    """The real time plus an offset; ``sleep`` moves the offset instead of waiting."""

    offset: timedelta = timedelta(0)
    #: Every sleep asked for, in seconds.
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        """Pretend to wait."""
        self.slept.append(seconds)
        self.offset += timedelta(seconds=seconds)

    def advance(self, **delta: float) -> None:
        """Move the clock forward (``advance(minutes=20)``)."""
        self.offset += timedelta(**delta)


@dataclass
class SyncWorld:
    """A tenant connected to its own emulated org, with helpers for both sides."""

    api: ApiWorld
    tenant_id: str
    info: dict[str, Any]
    #: The runs' clock: real time plus what runs "slept" and what tests advanced.
    clock: OffsetClock = field(default_factory=OffsetClock)
    seed: int = 7

    @property
    def settings(self) -> Settings:
        """The process settings the app runs with."""
        settings: Settings = self.api.app.state.settings
        return settings

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """Sessions on the test database."""
        return self.api.session_factory

    def headers(self, role: str = "CLIENT_ADMIN") -> dict[str, str]:
        """API headers of ``role`` in the tenant."""
        return self.api.headers_for(role, self.tenant_id)

    # --- set-up ------------------------------------------------------------------------

    def install(self, pairs: Sequence[tuple[str, str]] = MEMBERSHIP_PAIRS) -> dict[str, str]:
        """Install default mappings enabled; returns mapping id by Salesforce object."""
        response = self.api.client.post(
            "/api/v1/mappings/defaults/install",
            json={
                "pairs": [{"platform_entity": e, "salesforce_object": o} for e, o in pairs],
                "enabled": True,
            },
            headers=self.headers(),
        )
        assert response.status_code == 200, response.text
        return {o["mapping"]["salesforce_object"]: o["mapping"]["id"] for o in response.json()}

    def patch_mapping(self, mapping_id: str, **changes: Any) -> None:
        """Change a mapping's attributes through the API."""
        response = self.api.client.patch(
            f"/api/v1/mappings/{mapping_id}", json=changes, headers=self.headers()
        )
        assert response.status_code == 200, response.text

    def put_settings(self, **changes: Any) -> dict[str, Any]:
        """Change the tenant's sync settings through the API."""
        response = self.api.client.put(
            "/api/v1/sync/settings", json=changes, headers=self.headers()
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    # --- runs --------------------------------------------------------------------------

    def options(self, **overrides: Any) -> RunOptions:
        """Run options that never really sleep and draw reproducible jitter."""
        values: dict[str, Any] = {
            "clock": self.clock,
            "sleep": self.clock.sleep,
            "rng": random.Random(self.seed),
            "client_retry": FAST_RETRY,
        }
        values.update(overrides)
        return RunOptions(**values)

    def run(self, kind: RunKind = RunKind.NOW, **request: Any) -> RunSummary:
        """Run a sync now and return its summary."""
        options = request.pop("options", None) or self.options()
        return run_sync(
            self.session_factory,
            self.settings,
            self.tenant_id,
            request=RunRequest(kind=kind, trigger="test", requested_by="test", **request),
            options=options,
        )

    # --- the platform side ---------------------------------------------------------------

    def create(self, entity: str, **values: Any) -> str:
        """Create a platform record (as the API would) and return its id."""
        with self.session_factory.begin() as session:
            record = records_service.create_record(
                session,
                tenant_id=self.tenant_id,
                entity=get_entity_type(entity),
                payload=values,
                context=ChangeContext(source="api", origin="test", actor="test"),
            )
            return record.id

    def update(self, entity: str, record_id: str, **values: Any) -> None:
        """Update a platform record (as the API would)."""
        with self.session_factory.begin() as session:
            records_service.update_record(
                session,
                tenant_id=self.tenant_id,
                entity=get_entity_type(entity),
                record_id=record_id,
                payload=values,
                context=ChangeContext(source="api", origin="test", actor="test"),
            )

    def delete(self, entity: str, record_id: str) -> None:
        """Delete a platform record (as the API would)."""
        with self.session_factory.begin() as session:
            records_service.delete_record(
                session,
                tenant_id=self.tenant_id,
                entity=get_entity_type(entity),
                record_id=record_id,
                context=ChangeContext(source="api", origin="test", actor="test"),
            )

    def record(self, entity: str, record_id: str) -> Record | None:
        """A platform record (deleted ones too)."""
        with self.session_factory() as session:
            return records_repo.get_record(
                session,
                tenant_id=self.tenant_id,
                entity_type=entity,
                record_id=record_id,
                include_deleted=True,
            )

    def records(self, entity: str) -> list[Record]:
        """Every live platform record of an entity."""
        with self.session_factory() as session:
            return records_repo.list_records(
                session, tenant_id=self.tenant_id, entity_type=entity, limit=100_000
            )

    # --- the Salesforce side ---------------------------------------------------------------

    @contextmanager
    def salesforce(self) -> Iterator[SalesforceClient]:
        """A client on the org (its own session, not the tenant's)."""
        with emulator_client(self.info) as client:
            yield client

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every record of a query."""
        with self.salesforce() as client:
            return list(client.query(soql, include_deleted=include_deleted))

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Change the org's faults (``POST /__emulator/faults``)."""
        return emulator_admin(self.info, **changes)

    def calls(self, *, reset: bool = False) -> dict[str, Any]:
        """API calls the org counted (``GET /__emulator/calls``); ``reset`` zeroes them."""
        with httpx.Client(verify=tls_context(self.info["ca_cert"]), timeout=30) as http:
            response = http.request(
                "DELETE" if reset else "GET",
                self.info["admin_url"] + "/calls",
                headers={"Authorization": f"Bearer {self.info['admin_token']}"},
            )
        response.raise_for_status()
        return dict(response.json()) if response.content else {}


@pytest.fixture
def sync_org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh emulated org without seed data (break it freely)."""
    server = EmulatorServer(tmp_path / "sync-org", port=0)
    server.start()
    try:
        yield dict(server.info)
    finally:
        server.stop()


@pytest.fixture
def sync_world(
    clean_db: Engine, database_url: str, sync_org: dict[str, Any]
) -> Iterator[SyncWorld]:
    """A tenant connected (password flow) to :func:`sync_org`, through the API."""
    with api_trusting(sync_org, engine=clean_db, database_url=database_url) as api:
        tenant_id = api.new_tenant()
        headers = api.headers_for("CLIENT_ADMIN", tenant_id)
        settings = api.client.patch(
            "/api/v1/salesforce/settings", json=org_settings(sync_org), headers=headers
        )
        assert settings.status_code == 200, settings.text
        login = api.client.post(
            "/api/v1/salesforce/password-login",
            json={
                "username": sync_org["username"],
                "password": sync_org["password"],
                "security_token": sync_org["security_token"],
            },
            headers=headers,
        )
        assert login.status_code == 200, login.text
        yield SyncWorld(api=api, tenant_id=tenant_id, info=sync_org)
