"""Echo suppression: a change the engine wrote on one side is not sent back (R-S3).

Two independent guards, one per direction:

* Platform side: every platform write the inbound sync makes is logged with source
  ``sync`` (and its run id as origin); outbound sync skips those entries.
* Salesforce side: after an outbound write Salesforce bumps ``SystemModstamp``, so the
  next poll returns the record again. Its mapped values equal the pair's base (we
  stored what we wrote), so it carries nothing new: the engine only records the new
  stamp. The three-way merge would find nothing to do anyway; recognising the echo
  early saves loading the platform record.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING

from crmbridge.domain.sync.rules import MergeRules
from crmbridge.domain.sync.values import RecordVersion, Side, SyncState, same_value

if TYPE_CHECKING:
    from crmbridge.domain.sync.changelog import ChangeLogEntry

#: The change-log ``source`` of platform writes made by the sync engine.
SYNC_SOURCE = "sync"


def is_platform_echo(entry: ChangeLogEntry, *, own_origins: Collection[str] = ()) -> bool:
    """Whether a change-log entry was caused by the engine itself.

    Args:
        entry: a platform change-log entry.
        own_origins: run ids of the engine's own writes (extra guard for a writer
            that logged another source by mistake).
    """
    return entry.source == SYNC_SOURCE or bool(entry.origin and entry.origin in own_origins)


def is_salesforce_echo(
    *, incoming: RecordVersion, state: SyncState | None, rules: MergeRules
) -> bool:
    """Whether an incoming Salesforce version only reflects what the pair already agreed on.

    Args:
        incoming: the Salesforce version from a poll or a push (canonical values).
        state: the pair's stored state, if any.
        rules: the mapping; only fields whose Salesforce changes flow are compared.

    Returns:
        ``True`` when the version is live, the pair is linked, and every field that
        carries Salesforce changes equals the base: nothing in it needs the platform.
    """
    if state is None or state.detached or incoming.deleted:
        return False
    if incoming.side is not Side.SALESFORCE:
        raise ValueError("is_salesforce_echo takes a Salesforce record version")
    for rule in rules.fields:
        if not rules.field_flows_from(rule, Side.SALESFORCE):
            continue
        if rule.field not in state.values:
            return False
        if not same_value(incoming.values.get(rule.field), state.values[rule.field]):
            return False
    return True


def acknowledge_echo(state: SyncState, incoming: RecordVersion) -> SyncState:
    """The pair's state after an echo: only the applied ``SystemModstamp`` moves."""
    stamps = [s for s in (state.salesforce_modstamp, incoming.modstamp) if s is not None]
    return replace(state, salesforce_modstamp=max(stamps) if stamps else None)
