"""Pending platform changes, collapsed to one per record (R-D3, R-S3).

The change log (transactional outbox) holds one entry per platform write. Outbound
sync reads the entries after its cursor and folds them per record: several updates
become one change with the union of the changed fields (latest value wins), a record
created and deleted before it ever reached Salesforce produces no write at all, and
entries the engine itself caused (source ``sync``) are not sent back (echo
suppression, :func:`crmbridge.domain.sync.echo.is_platform_echo`).

The folded values are for the audit trail and for choosing what to look at; the
write itself is decided by :func:`crmbridge.domain.sync.merge.merge_record` from the
record as it is now and the pair's base, so a stale entry can never overwrite a newer
value.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crmbridge.domain.sync.echo import SYNC_SOURCE, is_platform_echo

#: Identifies a platform record: (entity type, record id).
RecordRef = tuple[str, str]


class ChangeOperation(enum.StrEnum):
    """What a change-log entry did to its record (the store's ``operation`` column)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, kw_only=True)
class ChangeLogEntry:
    """One change-log row, as the store reads it."""

    #: Per-tenant, gap-free sequence number in commit order.
    seq: int
    #: Platform entity type (``member``, ``organization`` …).
    entity_type: str
    #: Platform record id.
    record_id: str
    #: What the change did.
    operation: ChangeOperation
    #: Names of the platform fields the change touched.
    changed_fields: tuple[str, ...] = ()
    #: Their values before the change (platform representation).
    old_values: Mapping[str, object] = field(default_factory=dict)
    #: Their values after the change (platform representation).
    new_values: Mapping[str, object] = field(default_factory=dict)
    #: Who wrote it: ``api``, ``ui``, ``import`` or ``sync``.
    source: str = "api"
    #: What caused it (a request id, or the sync run id for engine writes).
    origin: str = ""
    #: When it was written.
    created_at: datetime | None = None

    @property
    def ref(self) -> RecordRef:
        """The record this entry belongs to."""
        return (self.entity_type, self.record_id)


@dataclass(frozen=True, kw_only=True)
class PendingChange:
    """The net effect of a record's pending entries."""

    #: Platform entity type.
    entity_type: str
    #: Platform record id.
    record_id: str
    #: The net operation: ``create`` (new since the cursor), ``update`` or ``delete``.
    operation: ChangeOperation
    #: Fields with a net change, in order of first change (every field for a create).
    changed_fields: tuple[str, ...]
    #: Each changed field's value before the first pending change.
    old_values: Mapping[str, object]
    #: Each changed field's latest value.
    new_values: Mapping[str, object]
    #: Sequence numbers of the entries folded in (echoes excluded).
    seqs: tuple[int, ...]
    #: When the latest folded entry was written.
    last_changed_at: datetime | None

    @property
    def ref(self) -> RecordRef:
        """The record this change belongs to."""
        return (self.entity_type, self.record_id)


@dataclass(frozen=True, kw_only=True)
class CollapsedChanges:
    """The result of :func:`collapse_change_log`."""

    #: One net change per record that needs outbound work, oldest first.
    pending: tuple[PendingChange, ...]
    #: Entries that need no write: echoes and cancelled create-then-delete pairs.
    skipped_seqs: tuple[int, ...]
    #: The highest sequence number examined (the cursor to store once every pending
    #: change is written or parked), or ``None`` for no entries.
    last_seq: int | None


def collapse_change_log(
    entries: Iterable[ChangeLogEntry],
    *,
    already_synced: Collection[RecordRef],
    own_origins: Collection[str] = (),
) -> CollapsedChanges:
    """Fold pending change-log entries into one net change per record.

    Args:
        entries: change-log entries after the outbound cursor (any order; sorted here).
        already_synced: records that have a Salesforce counterpart (a stored pair), so a
            delete of theirs must reach Salesforce even when the create is pending too.
        own_origins: origins of the engine's own writes (run ids), treated as echoes
            whatever their source says.

    Returns:
        The pending changes, the entries needing no write, and the last sequence number.
    """
    by_record: dict[RecordRef, list[ChangeLogEntry]] = {}
    ordered = sorted(entries, key=lambda e: e.seq)
    for entry in ordered:
        by_record.setdefault(entry.ref, []).append(entry)
    pending: list[PendingChange] = []
    skipped: list[int] = []
    for ref, record_entries in by_record.items():
        change = _fold(ref, record_entries, already_synced=already_synced, own_origins=own_origins)
        folded = set(change.seqs) if change is not None else set()
        skipped.extend(e.seq for e in record_entries if e.seq not in folded)
        if change is not None:
            pending.append(change)
    pending.sort(key=lambda c: c.seqs[0])
    return CollapsedChanges(
        pending=tuple(pending),
        skipped_seqs=tuple(sorted(skipped)),
        last_seq=ordered[-1].seq if ordered else None,
    )


def _fold(
    ref: RecordRef,
    entries: list[ChangeLogEntry],
    *,
    already_synced: Collection[RecordRef],
    own_origins: Collection[str],
) -> PendingChange | None:
    echoes = [e for e in entries if is_platform_echo(e, own_origins=own_origins)]
    own = [e for e in entries if not is_platform_echo(e, own_origins=own_origins)]
    if not own:
        return None
    # A record the engine created from Salesforce has a counterpart even before its
    # pair is visible to the caller.
    created_by_sync = any(
        e.operation is ChangeOperation.CREATE and e.source == SYNC_SOURCE for e in echoes
    )
    synced = ref in already_synced or created_by_sync
    existed_before = own[0].operation is not ChangeOperation.CREATE
    exists_after = own[-1].operation is not ChangeOperation.DELETE
    if not exists_after:
        if not (existed_before or synced):
            return None  # created and deleted before Salesforce ever saw it
        operation = ChangeOperation.DELETE
    elif existed_before or synced:
        operation = ChangeOperation.UPDATE
    else:
        operation = ChangeOperation.CREATE
    old_values: dict[str, object] = {}
    new_values: dict[str, object] = {}
    for entry in own:
        for name in entry.changed_fields:
            if name not in old_values:
                old_values[name] = entry.old_values.get(name)
            new_values[name] = entry.new_values.get(name)
    # A field changed and changed back is kept: part of it may have reached Salesforce
    # before a crash, so only the merge against the base can tell whether to write.
    if operation is ChangeOperation.DELETE:
        old_values, new_values = {}, {}
    return PendingChange(
        entity_type=ref[0],
        record_id=ref[1],
        operation=operation,
        changed_fields=tuple(new_values),
        old_values=old_values,
        new_values=new_values,
        seqs=tuple(e.seq for e in own),
        last_changed_at=own[-1].created_at,
    )
