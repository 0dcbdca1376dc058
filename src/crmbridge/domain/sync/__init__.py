"""The pure core of the sync engine (R-S1 … R-S10): it decides, adapters move bytes.

Nothing here touches the database, HTTP, the clock or randomness: time and random
sources come in as arguments. See docs/sync-engine.md for the algorithm.

Modules:
    values: ``RecordVersion``, ``FieldChange``, ``SyncState`` (the merge base).
    rules: directions, conflict and delete policies, ``MergeRules``.
    merge / plan: the per-field three-way merge and the ``SyncPlan`` it returns
        (``merge_fields`` and ``merge_lifecycle`` hold its parts).
    record_sync: outbound merges without a Salesforce read; plan → Salesforce write.
    watermark: ``SystemModstamp`` bookmark, look-back, signpost, inbound dedupe.
    echo: echo suppression on both sides.
    changelog: pending change-log entries collapsed per record.
    ordering / outbound: parents before children, collections of 200, Bulk API 2.0.
    retry: the retry policy (``RetryStrategy.get_retry_decision``).
    budget: the API budget (``ApiBudget.decide``).
    progress: run accounting (``RunProgress``).
"""

from __future__ import annotations

from crmbridge.domain.sync.budget import (
    ApiBudget,
    ApiUsageReading,
    BudgetDecision,
    CallCount,
    Urgency,
)
from crmbridge.domain.sync.changelog import (
    ChangeLogEntry,
    ChangeOperation,
    CollapsedChanges,
    PendingChange,
    collapse_change_log,
)
from crmbridge.domain.sync.echo import (
    SYNC_SOURCE,
    acknowledge_echo,
    is_platform_echo,
    is_salesforce_echo,
)
from crmbridge.domain.sync.merge import merge_record
from crmbridge.domain.sync.ordering import ReferenceField, order_objects, record_waves
from crmbridge.domain.sync.outbound import (
    DEFAULT_EXTERNAL_ID_FIELD,
    MAX_COLLECTION_SIZE,
    OutboundPlan,
    OutboundSettings,
    ParentReference,
    RecordWrite,
    WriteApi,
    WriteBatch,
    WriteOperation,
    plan_outbound_writes,
)
from crmbridge.domain.sync.plan import (
    DeleteConflict,
    FieldConflict,
    SideWrite,
    SyncPlan,
    WriteAction,
)
from crmbridge.domain.sync.progress import FlowDirection, RunProgress, StreamProgress
from crmbridge.domain.sync.record_sync import (
    assumed_salesforce_version,
    plan_outbound_record,
    salesforce_record_writes,
)
from crmbridge.domain.sync.retry import (
    RetryAction,
    RetryDecision,
    RetryScope,
    RetryStrategy,
)
from crmbridge.domain.sync.rules import (
    ConflictPolicy,
    DeletePolicy,
    Direction,
    FieldRule,
    MergeRules,
    field_rules,
)
from crmbridge.domain.sync.values import (
    FieldChange,
    FieldValue,
    RecordVersion,
    Side,
    SyncState,
    evolve,
    same_value,
    same_values,
)
from crmbridge.domain.sync.watermark import (
    SYSTEM_FIELDS,
    InboundQueryPlan,
    RecordKey,
    Watermark,
    WatermarkSettings,
    advance_watermark,
    compute_signpost,
    is_already_applied,
    is_formula_refresh_due,
    plan_inbound_query,
    record_key,
    select_versions_to_apply,
)

__all__ = [
    "DEFAULT_EXTERNAL_ID_FIELD",
    "MAX_COLLECTION_SIZE",
    "SYNC_SOURCE",
    "SYSTEM_FIELDS",
    "ApiBudget",
    "ApiUsageReading",
    "BudgetDecision",
    "CallCount",
    "ChangeLogEntry",
    "ChangeOperation",
    "CollapsedChanges",
    "ConflictPolicy",
    "DeleteConflict",
    "DeletePolicy",
    "Direction",
    "FieldChange",
    "FieldConflict",
    "FieldRule",
    "FieldValue",
    "FlowDirection",
    "InboundQueryPlan",
    "MergeRules",
    "OutboundPlan",
    "OutboundSettings",
    "ParentReference",
    "PendingChange",
    "RecordKey",
    "RecordVersion",
    "RecordWrite",
    "ReferenceField",
    "RetryAction",
    "RetryDecision",
    "RetryScope",
    "RetryStrategy",
    "RunProgress",
    "Side",
    "SideWrite",
    "StreamProgress",
    "SyncPlan",
    "SyncState",
    "Urgency",
    "Watermark",
    "WatermarkSettings",
    "WriteAction",
    "WriteApi",
    "WriteBatch",
    "WriteOperation",
    "acknowledge_echo",
    "advance_watermark",
    "assumed_salesforce_version",
    "collapse_change_log",
    "compute_signpost",
    "evolve",
    "field_rules",
    "is_already_applied",
    "is_formula_refresh_due",
    "is_platform_echo",
    "is_salesforce_echo",
    "merge_record",
    "order_objects",
    "plan_inbound_query",
    "plan_outbound_record",
    "plan_outbound_writes",
    "record_key",
    "record_waves",
    "salesforce_record_writes",
    "same_value",
    "same_values",
    "select_versions_to_apply",
]
