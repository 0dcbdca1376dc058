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
    """What Salesforce holds as far as the engine knows.

    The base values, overlaid with Salesforce's values of fields held for review, and
    deleted when a Salesforce delete is held against a platform edit.
    """
    return RecordVersion(
        side=Side.SALESFORCE,
        object=state.object,
        id=state.salesforce_id or "",
        # Only a record known to carry our external id has it as its counterpart.
        counterpart_id=state.platform_id if state.linked else None,
        values={**state.values, **state.held},
        modstamp=state.salesforce_modstamp,
        deleted=state.held_delete is Side.SALESFORCE,
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
        The plan; its Salesforce side is what to send (see :func:`salesforce_record_writes`).
    """
    if base is None or base.salesforce_id is None:
        # Not in Salesforce yet (or its create is still pending): create it.
        return merge_record(rules=rules, base=base, platform=platform, salesforce=None)
    # Fields without a base are left to the inbound merge, which sees Salesforce's value.
    known = replace(rules, fields=tuple(r for r in rules.fields if r.field in base.values))
    return merge_record(
        rules=known, base=base, platform=platform, salesforce=assumed_salesforce_version(base)
    )


def salesforce_record_writes(
    plan: SyncPlan,
    *,
    object: str,
    platform_id: str,
    salesforce_id: str | None,
    change_seqs: tuple[int, ...] = (),
) -> tuple[RecordWrite, ...]:
    """The outbound writes for the Salesforce side of a plan (none, one or two).

    A record created in Salesforce first gets a ``LINK`` write (an update by Salesforce
    id stamping the external id); its field changes follow as an ordinary upsert, which
    the planner puts after the link.

    Args:
        plan: a plan from :func:`merge_record` or :func:`plan_outbound_record`.
        object: the Salesforce object.
        platform_id: the platform record id (the external-id value); for a platform
            record just created from Salesforce, the id it was given.
        salesforce_id: the Salesforce id, when known (links and deletes need it).
        change_seqs: change-log entries the writes settle.

    Raises:
        ValueError: when a link or delete is planned without a Salesforce id.
    """
    write = plan.salesforce
    writes: list[RecordWrite] = []
    if plan.link_salesforce:
        if salesforce_id is None:
            raise ValueError("stamping the external id needs the Salesforce id")
        writes.append(
            RecordWrite(
                object=object,
                operation=WriteOperation.LINK,
                platform_id=platform_id,
                salesforce_id=salesforce_id,
                change_seqs=change_seqs,
            )
        )
    if write.action in (WriteAction.CREATE, WriteAction.UPDATE):
        writes.append(
            RecordWrite(
                object=object,
                operation=WriteOperation.UPSERT,
                platform_id=platform_id,
                salesforce_id=salesforce_id if write.action is WriteAction.UPDATE else None,
                fields=write.values,
                change_seqs=change_seqs,
            )
        )
    elif write.action is WriteAction.DELETE:
        if salesforce_id is None:
            raise ValueError("a Salesforce delete needs the Salesforce id")
        writes.append(
            RecordWrite(
                object=object,
                operation=WriteOperation.DELETE,
                platform_id=platform_id,
                salesforce_id=salesforce_id,
                change_seqs=change_seqs,
            )
        )
    return tuple(writes)
