"""A tenant in the store and its org (the mapping test org), for the mapping use cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mapping_world import OrgWorld
from sqlalchemy.engine import Engine

from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.testing import emulator_client
from crmbridge.services import factories
from crmbridge.store.db import create_session_factory


@pytest.fixture
def org_world(clean_db: Engine, mapping_org: EmulatorServer) -> Iterator[OrgWorld]:
    """A new tenant and an :class:`OrgSchema` on the mapping test org."""
    factory = create_session_factory(clean_db)
    with factory.begin() as session:
        tenant_id = factories.create_tenant(session).id
    with emulator_client(mapping_org.info) as client:
        yield OrgWorld(
            session_factory=factory,
            tenant_id=tenant_id,
            client=client,
            org=OrgSchema(factory, client, tenant_id=tenant_id),
        )
