"""The sync engine's use cases: the adapters around the pure core (docs/sync-engine.md).

What other parts of crmbridge call:

- :func:`run_sync` (with :class:`RunRequest`, :class:`RunKind`) → :class:`RunSummary`:
  one run now; :func:`enqueue_run` + :func:`execute_run` to answer first and run later.
- :func:`apply_inbound_records`: records that arrived by push (Salesforce JSON) go
  through the same merge, state and audit path as polled ones;
  :func:`fetch_and_apply` when a notification carries only ids.
- :func:`purge_sync_records`: the audit trail's retention (the scheduler, daily).
- :func:`load_sync_settings` / :class:`SyncSettings`: the tenant's sync settings.
- :func:`object_statuses`: the per-object status lights (importing this package
  registers them with the connection health).
"""

from __future__ import annotations

from crmbridge.sync.audit import purge_sync_records
from crmbridge.sync.context import RunOptions
from crmbridge.sync.push import InboundResult, apply_inbound_records, fetch_and_apply
from crmbridge.sync.runs import (
    RunKind,
    RunRefused,
    RunRequest,
    RunSummary,
    cancel_run,
    enqueue_run,
    execute_run,
    run_sync,
)
from crmbridge.sync.settings import Frequency, SyncSettings, load_sync_settings
from crmbridge.sync.status import object_statuses
from crmbridge.sync.tracker import ProgressSnapshot

__all__ = [
    "Frequency",
    "InboundResult",
    "ProgressSnapshot",
    "RunKind",
    "RunOptions",
    "RunRefused",
    "RunRequest",
    "RunSummary",
    "SyncSettings",
    "apply_inbound_records",
    "cancel_run",
    "enqueue_run",
    "execute_run",
    "fetch_and_apply",
    "load_sync_settings",
    "object_statuses",
    "purge_sync_records",
    "run_sync",
]
