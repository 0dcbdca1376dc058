"""Fixtures of the sync engine's integration tests (from crmbridge.sync.testing)."""

from crmbridge.sync.testing import sync_org, sync_world

__all__ = ["sync_org", "sync_world"]
