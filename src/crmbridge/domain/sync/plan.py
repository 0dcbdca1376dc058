"""What a merge decides for one record pair: writes on each side, conflicts, new base."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from crmbridge.domain.sync.values import FieldChange, FieldValue, Side, SyncState


class WriteAction(enum.StrEnum):
    """What to do to the record on one side."""

    #: Nothing to write.
    NONE = "none"
    #: Create the record (on Salesforce an upsert on the external id; on the platform,
    #: restore the same id when it exists deleted).
    CREATE = "create"
    #: Write the changed fields.
    UPDATE = "update"
    #: Delete the record.
    DELETE = "delete"
    #: Archive the platform record (soft delete, restorable). Never on Salesforce.
    ARCHIVE = "archive"


@dataclass(frozen=True, kw_only=True)
class SideWrite:
    """The write planned on one side."""

    #: The side written.
    side: Side
    #: The kind of write.
    action: WriteAction = WriteAction.NONE
    #: The fields written, each with the value it replaces there (for the audit trail).
    changes: tuple[FieldChange, ...] = ()

    @property
    def values(self) -> dict[str, FieldValue]:
        """The field values to send, by canonical field name."""
        return {change.field: change.new for change in self.changes}


@dataclass(frozen=True, kw_only=True)
class FieldConflict:
    """A field changed differently on both sides since the last sync (R-S4)."""

    #: Canonical field name.
    field: str
    #: The last synced value; meaningless when ``base_known`` is false.
    base: FieldValue
    #: Whether the pair had a synced value for the field (false for a pair just linked
    #: by a match key, or a field newly added to the mapping).
    base_known: bool
    #: The platform's current value.
    platform: FieldValue
    #: Salesforce's current value.
    salesforce: FieldValue
    #: The side whose value was taken; ``None`` when held for manual review.
    winner: Side | None


@dataclass(frozen=True, kw_only=True)
class DeleteConflict:
    """One side deleted the record while the other edited it since the last sync."""

    #: The side where the record was deleted.
    deleted_side: Side
    #: Fields the other side changed since the last sync.
    edited_fields: tuple[str, ...]
    #: ``deleted_side`` when the delete won, the other side when the edit won (the
    #: record is recreated), ``None`` when held for manual review.
    winner: Side | None


@dataclass(frozen=True, kw_only=True)
class SyncPlan:
    """Everything to do for one record pair, decided by :func:`merge_record`."""

    #: The write on the platform side.
    platform: SideWrite = field(default_factory=lambda: SideWrite(side=Side.PLATFORM))
    #: The write on the Salesforce side.
    salesforce: SideWrite = field(default_factory=lambda: SideWrite(side=Side.SALESFORCE))
    #: Every same-field conflict found, resolved (``winner`` set) or held.
    conflicts: tuple[FieldConflict, ...] = ()
    #: A delete-versus-edit conflict, if there was one.
    delete_conflict: DeleteConflict | None = None
    #: The state to store once the writes succeed; ``None`` means the pair no longer
    #: exists (or never did) and nothing is stored.
    state: SyncState | None = None
    #: The Salesforce record lacks the platform id in its external-id field (it was
    #: created in Salesforce): stamp it, by Salesforce id, before any upsert reaches it.
    link_salesforce: bool = False
    #: The state to store with the platform writes while the Salesforce write is not yet
    #: confirmed (the same as ``state`` when nothing goes to Salesforce); a merge from
    #: it plans the same Salesforce write again, so a crash in between loses nothing.
    pending_state: SyncState | None = None

    def write_on(self, side: Side) -> SideWrite:
        """The write planned on ``side``."""
        return self.platform if side is Side.PLATFORM else self.salesforce

    @property
    def held_conflicts(self) -> tuple[FieldConflict, ...]:
        """Conflicts waiting for an administrator (manual review)."""
        return tuple(c for c in self.conflicts if c.winner is None)

    @property
    def needs_review(self) -> bool:
        """Whether anything is held for an administrator."""
        if self.delete_conflict is not None and self.delete_conflict.winner is None:
            return True
        # Asked several times per record: no tuple built when nothing conflicts.
        return bool(self.conflicts) and any(c.winner is None for c in self.conflicts)

    @property
    def writes_nothing(self) -> bool:
        """Whether neither side is written (a link stamp counts as a write)."""
        return (
            self.platform.action is WriteAction.NONE
            and self.salesforce.action is WriteAction.NONE
            and not self.link_salesforce
        )
