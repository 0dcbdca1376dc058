"""The pure core of the sync engine (R-S1 … R-S10): it decides, adapters move bytes.

Nothing here touches the database, HTTP, the clock or randomness: time and random
sources come in as arguments. See docs/sync-engine.md for the algorithm.
"""

from __future__ import annotations

from crmbridge.domain.sync.merge import merge_record
from crmbridge.domain.sync.plan import (
    DeleteConflict,
    FieldConflict,
    SideWrite,
    SyncPlan,
    WriteAction,
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
    same_value,
    same_values,
)

__all__ = [
    "ConflictPolicy",
    "DeleteConflict",
    "DeletePolicy",
    "Direction",
    "FieldChange",
    "FieldConflict",
    "FieldRule",
    "FieldValue",
    "MergeRules",
    "RecordVersion",
    "Side",
    "SideWrite",
    "SyncPlan",
    "SyncState",
    "WriteAction",
    "field_rules",
    "merge_record",
    "same_value",
    "same_values",
]
