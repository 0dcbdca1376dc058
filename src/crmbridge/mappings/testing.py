"""Test support for mappings: an emulated org with the custom fields mapping checks need.

``mapping_org`` is an :class:`~crmbridge.emulator.server.EmulatorServer` of its own (not
the shared session org, which other tests count records in) with the default schema
plus :data:`MAPPING_TEST_SCHEMA`: a custom object ``Membership_Card__c`` with a short
text field, a field that can be set on create only, a restricted picklist, an encrypted
field and a formula field. The standard objects are the emulator's defaults, so
auto-match counts on them are those of the default schema. ``mapping_api`` is the web
API with a tenant connected to that org. Both are re-exported by :mod:`crmbridge.testing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.engine import Engine

from crmbridge.connections.testing import api_trusting, org_settings
from crmbridge.emulator.server import EmulatorServer
from crmbridge.salesforce.auth import ConnectedApp, SalesforceAuth, tls_context
from crmbridge.salesforce.client import RetryConfig, SalesforceClient
from crmbridge.web.testing import ApiWorld

#: Custom fields the describe-driven checks are proven against.
MAPPING_TEST_SCHEMA: dict[str, Any] = {
    "objects": {
        "Membership_Card__c": {
            "label": "Membership Card",
            "fields": [
                {
                    "name": "Contact__c",
                    "type": "reference",
                    "reference_to": "Contact",
                    "relationship_name": "Contact__r",
                    "child_relationship_name": "Membership_Cards__r",
                },
                {"name": "Card_Code__c", "type": "string", "length": 10},
                {"name": "Issued_On__c", "type": "date", "updateable": False},
                {"name": "Last_Scan__c", "type": "datetime", "createable": False},
                {
                    "name": "Tier__c",
                    "type": "picklist",
                    "values": ["Gold", "Silver", "Bronze"],
                    "restricted": True,
                },
                {"name": "Pin__c", "type": "encryptedstring", "length": 20},
                {"name": "Holder_Name__c", "type": "string", "formula": "Contact__r.LastName"},
                {
                    "name": "Platform_Id__c",
                    "type": "string",
                    "length": 255,
                    "external_id": True,
                    "unique": True,
                },
            ],
        }
    }
}

#: Retries in tests wait (almost) nothing.
FAST_RETRY = RetryConfig(attempts=3, initial_delay=0.001, max_delay=0.01)


@pytest.fixture(scope="session")
def mapping_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """A running emulated org with :data:`MAPPING_TEST_SCHEMA` (no seed data)."""
    directory = tmp_path_factory.mktemp("mapping-org")
    schema_file = directory / "schema.yaml"
    schema_file.write_text(yaml.safe_dump(MAPPING_TEST_SCHEMA), encoding="utf-8")
    server = EmulatorServer(directory / "org", port=0, schema_file=schema_file)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def emulator_client(
    info: dict[str, Any], *, transport: httpx.BaseTransport | None = None
) -> Iterator[SalesforceClient]:
    """A Salesforce client on an emulated org, logged in with the password grant.

    Args:
        info: the emulator's connection info.
        transport: an httpx transport to send through (tests that lose answers).
    """
    verify = tls_context(info["ca_cert"])
    app = ConnectedApp(
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        login_url=info["login_url"],
    )
    tokens = SalesforceAuth(app, login_url=info["login_url"], verify=verify).password_grant(
        username=info["username"],
        password=info["password"],
        security_token=info["security_token"],
    )
    http = httpx.Client(verify=verify, timeout=30, transport=transport)
    try:
        yield SalesforceClient(
            tokens=tokens,
            http=http,
            api_version=info["api_version"],
            retry=FAST_RETRY,
            sleep=lambda _seconds: None,
        )
    finally:
        http.close()


@dataclass
class MappingWorld:
    """The API trusting :func:`mapping_org`, with a tenant connected to that org."""

    #: The API and its credential helpers.
    api: ApiWorld
    #: The tenant connected to the org.
    tenant_id: str
    #: The org's connection info.
    info: dict[str, Any]

    def headers(self, role: str = "CLIENT_ADMIN", tenant_id: str | None = None) -> dict[str, str]:
        """Authorization headers of ``role`` acting on ``tenant_id`` (default: the tenant)."""
        return self.api.headers_for(role, tenant_id or self.tenant_id)

    def connect(self, tenant_id: str) -> None:
        """Connect ``tenant_id`` to the org with the password flow."""
        headers = self.api.headers_for("CLIENT_ADMIN", tenant_id)
        settings = self.api.client.patch(
            "/api/v1/salesforce/settings", json=org_settings(self.info), headers=headers
        )
        assert settings.status_code == 200, settings.text
        login = self.api.client.post(
            "/api/v1/salesforce/password-login",
            json={
                "username": self.info["username"],
                "password": self.info["password"],
                "security_token": self.info["security_token"],
            },
            headers=headers,
        )
        assert login.status_code == 200, login.text


@pytest.fixture
def mapping_api(
    clean_db: Engine, database_url: str, mapping_org: EmulatorServer
) -> Iterator[MappingWorld]:
    """The API with a tenant connected to :func:`mapping_org` (database emptied after)."""
    info = dict(mapping_org.info)
    with api_trusting(info, engine=clean_db, database_url=database_url) as api:
        world = MappingWorld(api=api, tenant_id=api.new_tenant(), info=info)
        world.connect(world.tenant_id)
        yield world
