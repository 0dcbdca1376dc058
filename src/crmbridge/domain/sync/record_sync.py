"""Glue for the adapters: merge a platform change without reading Salesforce, and turn a
plan's Salesforce side into a write for the outbound planner.

Outbound sync is driven by the change log and does not read Salesforce back (that would
double the API calls). It merges against what the engine knows Salesforce holds: the
pair's base, as of the last inbound poll. A Salesforce edit made since that poll is
not seen here; it arrives with the next poll and is merged then, field by field, so
only an edit of the *same field* inside that window can be overwritten. Fields the pair
has no base for are left to the inbound side, which sees Salesforce's real value.
"""

from __future__ import annotations

from dataclasses import replace

from crmbridge.domain.sync.merge import merge_record
from crmbridge.domain.sync.outbound import RecordWrite, WriteOperation
from crmbridge.domain.sync.plan import SyncPlan, WriteAction
from crmbridge.domain.sync.rules import MergeRules
from crmbridge.domain.sync.values import RecordVersion, Side, SyncState


def assumed_salesforce_version(state: SyncState) -> RecordVersion:
    """What Salesforce holds as far as the engine knows: the pair's base values."""
    return RecordVersion(
        side=Side.SALESFORCE,
        object=state.object,
        id=state.salesforce_id or "",
        counterpart_id=state.platform_id,
        values=dict(state.values),
        modstamp=state.salesforce_modstamp,
    )


def plan_outbound_record(
    *,
    rules: MergeRules,
    base: SyncState | None,
    platform: RecordVersion | None,
) -> SyncPlan:
    """Merge a changed platform record against the pair's base, without a Salesforce read.

    Args:
        rules: the mapping's fields and policies.
        base: the pair's state, or ``None`` for a record never synced (it is created).
        platform: the platform record now (canonical values), or ``None`` if it is gone.

    Returns:
        The plan; its Salesforce side is what to send (see :func:`salesforce_record_write`).
    """
    if base is None or base.salesforce_id is None:
        # Not in Salesforce yet (or its create is still pending): create it.
        return merge_record(rules=rules, base=base, platform=platform, salesforce=None)
    # Fields without a base are left to the inbound merge, which sees Salesforce's value.
    known = replace(rules, fields=tuple(r for r in rules.fields if r.field in base.values))
    return merge_record(
        rules=known, base=base, platform=platform, salesforce=assumed_salesforce_version(base)
    )


def salesforce_record_write(
    plan: SyncPlan,
    *,
    object: str,
    platform_id: str,
    salesforce_id: str | None,
    change_seqs: tuple[int, ...] = (),
) -> RecordWrite | None:
    """The outbound write for the Salesforce side of a plan, or ``None`` if there is none.

    Args:
        plan: a plan from :func:`merge_record` or :func:`plan_outbound_record`.
        object: the Salesforce object.
        platform_id: the platform record id (the external-id value).
        salesforce_id: the Salesforce id, when known (needed for deletes).
        change_seqs: change-log entries the write settles.
    """
    write = plan.salesforce
    if write.action in (WriteAction.CREATE, WriteAction.UPDATE):
        return RecordWrite(
            object=object,
            operation=WriteOperation.UPSERT,
            platform_id=platform_id,
            salesforce_id=salesforce_id if write.action is WriteAction.UPDATE else None,
            fields=write.values,
            change_seqs=change_seqs,
        )
    if write.action is WriteAction.DELETE:
        return RecordWrite(
            object=object,
            operation=WriteOperation.DELETE,
            platform_id=platform_id,
            salesforce_id=salesforce_id,
            change_seqs=change_seqs,
        )
    return None
