"""Test support for mappings: an emulated org with the custom fields mapping checks need.

``mapping_org`` is an :class:`~crmbridge.emulator.server.EmulatorServer` of its own (not
the shared session org, which other tests count records in) with the default schema
plus :data:`MAPPING_TEST_SCHEMA`: a custom object ``Membership_Card__c`` with a short
text field, a field that can be set on create only, a restricted picklist, an encrypted
field and a formula field. The standard objects are the emulator's defaults, so
auto-match counts on them are those of the default schema. Re-exported by
:mod:`crmbridge.testing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import yaml

from crmbridge.emulator.server import EmulatorServer
from crmbridge.salesforce.auth import ConnectedApp, SalesforceAuth, tls_context
from crmbridge.salesforce.client import RetryConfig, SalesforceClient

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
