"""crmbridge's pytest plugin (registered through the ``pytest11`` entry point).

It re-exports the fixtures each part of the product ships for its own tests and for
projects that embed crmbridge: a running Salesforce emulator, migrated databases,
and a controllable clock. Each part keeps its fixtures next to its code.
"""

from __future__ import annotations

from crmbridge.connections.testing import private_org, private_salesforce_api, salesforce_api
from crmbridge.emulator.fixtures import emulator, emulator_info
from crmbridge.mappings.testing import mapping_api, mapping_org
from crmbridge.push.testing import push_org, push_world
from crmbridge.store.testing import clean_db, database_url, db_engine, db_session
from crmbridge.sync.testing import sync_org, sync_world
from crmbridge.web.testing import api

__all__ = [
    "api",
    "clean_db",
    "database_url",
    "db_engine",
    "db_session",
    "emulator",
    "emulator_info",
    "mapping_api",
    "mapping_org",
    "private_org",
    "private_salesforce_api",
    "push_org",
    "push_world",
    "salesforce_api",
    "sync_org",
    "sync_world",
]
