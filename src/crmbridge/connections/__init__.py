"""A tenant's connection to Salesforce: settings, OAuth and password logins, tokens,
health and the connection test (R-A1..R-A10).

What other parts of crmbridge use:

- :func:`open_salesforce_client` — the only way to get a
  :class:`~crmbridge.salesforce.client.SalesforceClient` for a tenant (sync engine,
  mapping describe, health).
- :func:`sync_gate` — whether the sync engine may run for a tenant (connected, not
  paused, Auto-sync for scheduled runs).
- :func:`record_inbound_entry` — the engine notes each inbound entry for the health.
- :func:`register_object_status_provider` — the engine fills the per-object lights.
"""

from __future__ import annotations

from crmbridge.connections.client_factory import open_salesforce_client
from crmbridge.connections.health import (
    ObjectStatus,
    register_object_status_provider,
)
from crmbridge.connections.lifecycle import SyncGate, record_inbound_entry, sync_gate

__all__ = [
    "ObjectStatus",
    "SyncGate",
    "open_salesforce_client",
    "record_inbound_entry",
    "register_object_status_provider",
    "sync_gate",
]
