"""Pytest fixtures for the web API: an app on the test database and credentials per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.services import factories
from crmbridge.services.access import Role
from crmbridge.store.db import create_session_factory
from crmbridge.web.app import create_app
from crmbridge.web.deps import TENANT_HEADER

TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789"


def test_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "CRMBRIDGE_SECRET_KEY": TEST_SECRET_KEY,
        "CRMBRIDGE_MAX_BODY_BYTES": 64 * 1024,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class ApiWorld:
    """A test client plus helpers that create tenants and credentials directly in the store."""

    client: TestClient
    app: FastAPI
    session_factory: sessionmaker[Session]
    _keys: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def session(self) -> Session:
        return self.session_factory()

    def new_tenant(self, name: str | None = None) -> str:
        with self.session_factory.begin() as session:
            tenant = factories.create_tenant(session, **({"name": name} if name else {}))
            return tenant.id

    def key_for(
        self, role: Role | str, tenant_id: str | None, *, allowed_ips: list[str] | None = None
    ) -> str:
        """A fresh API key secret; SUPER_ADMIN keys have no tenant."""
        role = Role(role)
        with self.session_factory.begin() as session:
            created = factories.create_api_key(
                session,
                role=role,
                tenant_id=None if role is Role.SUPER_ADMIN else tenant_id,
                allowed_ips=allowed_ips,
            )
            return created.secret

    def headers_for(self, role: Role | str, tenant_id: str | None) -> dict[str, str]:
        """Authorization headers acting on ``tenant_id`` (cached per role and tenant)."""
        role = Role(role)
        cache_key = (role.value, None if role is Role.SUPER_ADMIN else tenant_id)
        if cache_key not in self._keys:
            self._keys[cache_key] = self.key_for(role, tenant_id)
        headers = {"Authorization": f"Bearer {self._keys[cache_key]}"}
        if role is Role.SUPER_ADMIN and tenant_id is not None:
            headers[TENANT_HEADER] = tenant_id
        return headers


@pytest.fixture
def api(clean_db: Engine, database_url: str) -> Iterator[ApiWorld]:
    """The API on the (emptied after use) test database, with credential helpers."""
    app = create_app(test_settings(database_url), engine=clean_db)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield ApiWorld(client=client, app=app, session_factory=create_session_factory(clean_db))
