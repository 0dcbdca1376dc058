"""The plain values the sync engine decides over.

Every value here is a frozen, keyword-only dataclass (procrastinate's ``Job`` style).
Field values are compared in one *canonical* representation: the Salesforce side's
representation after mapping (Salesforce API field names, JSON wire values: dates as
``YYYY-MM-DD`` strings, numbers as numbers, multi-select picklists as ``a;b``). The
mapping layer turns a platform record into that form before the engine sees it, so
"changed since the last sync" is an exact comparison, never a guess.

Reference fields to mapped objects (``AccountId`` of a Contact) hold the *parent's
platform id* in canonical form; the outbound planner turns it into an external-id
reference (see :mod:`crmbridge.domain.sync.outbound`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

#: A frozen value class with init fields only (:func:`evolve`).
_Value = TypeVar("_Value")

#: One field's value in the canonical representation.
FieldValue = str | int | float | Decimal | bool | None


class Side(enum.StrEnum):
    """One of the two systems kept in step."""

    PLATFORM = "platform"
    SALESFORCE = "salesforce"

    @property
    def other(self) -> Side:
        """The opposite side."""
        return Side.SALESFORCE if self is Side.PLATFORM else Side.PLATFORM


def same_value(left: FieldValue, right: FieldValue) -> bool:
    """Whether two canonical values are the same value.

    Python's ``==`` says ``True == 1`` and ``1.1 != Decimal("1.1")``; neither is what a
    field comparison needs. Booleans equal only booleans; numbers compare by decimal
    value whatever their Python type (JSON has one number type); everything else
    compares by type and value.

    Args:
        left: a canonical value.
        right: another canonical value.

    Returns:
        ``True`` when writing ``right`` over ``left`` would change nothing.
    """
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return _as_decimal(left) == _as_decimal(right)
    return type(left) is type(right) and left == right


def _as_decimal(value: int | float | Decimal) -> Decimal:
    # str() first: Decimal(0.1) is 0.1000000000000000055…, Decimal("0.1") is what JSON said.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def evolve(obj: _Value, **changes: Any) -> _Value:
    """``dataclasses.replace`` for the merge's values, without its per-field checks.

    A merge makes several changed copies of each record's plan and state; the standard
    ``replace`` looked at every field's definition each time (7% of applying an inbound
    page, py-spy). These classes have init fields only and no ``__post_init__``, so a
    copy of the instance's fields with the changes applied is the same object; an
    unknown field name still fails in ``__init__``.
    """
    return type(obj)(**{**obj.__dict__, **changes})


def same_values(left: Mapping[str, FieldValue], right: Mapping[str, FieldValue]) -> bool:
    """Whether two value maps hold the same fields with the same values."""
    return left.keys() == right.keys() and all(same_value(left[k], right[k]) for k in left)


@dataclass(frozen=True, kw_only=True)
class RecordVersion:
    """One record as one side holds it now, already in the canonical representation."""

    #: Which system this version comes from.
    side: Side
    #: The Salesforce object API name (``Contact``) the record pair maps to.
    object: str
    #: The record's id on its own side (platform id or 18-character Salesforce id).
    id: str
    #: The id of the linked record on the other side, when known.
    counterpart_id: str | None = None
    #: Mapped field values, keyed by canonical (Salesforce API) field name.
    values: Mapping[str, FieldValue] = field(default_factory=dict)
    #: When a person or process last changed it (``LastModifiedDate`` / ``updated_at``);
    #: the "most recent" conflict policy compares these.
    modified_at: datetime | None = None
    #: Salesforce's ``SystemModstamp`` (Salesforce side only): the watermark key.
    modstamp: datetime | None = None
    #: Whether the record is deleted on its side (``IsDeleted`` / ``deleted_at``).
    deleted: bool = False


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    """One field going from one value to another (an audit line, R-S9)."""

    #: Canonical field name.
    field: str
    #: The value before the write on the side being written.
    old: FieldValue
    #: The value written.
    new: FieldValue


@dataclass(frozen=True, kw_only=True)
class SyncState:
    """What the engine remembers about one linked record pair: the merge base.

    ``values`` holds the last value of every mapped field that both sides agreed on
    (the *base snapshot*). A field missing from ``values`` has no known base (a new
    mapping field, or a pair linked by a match key); the merge treats it as changed on
    both sides.
    """

    #: The Salesforce object API name of the pair.
    object: str
    #: The platform record's id (also the value of the external-id field in Salesforce);
    #: ``None`` until the platform record created from a Salesforce one gets its id.
    platform_id: str | None = None
    #: The Salesforce record's id; ``None`` until the first write reports it.
    salesforce_id: str | None = None
    #: Last synced canonical value of each mapped field.
    values: Mapping[str, FieldValue] = field(default_factory=dict)
    #: ``SystemModstamp`` of the newest Salesforce version applied (inbound dedupe).
    salesforce_modstamp: datetime | None = None
    #: Values of a Salesforce write sent but not yet confirmed (``values`` still holds
    #: what Salesforce had before it). A Salesforce version showing them confirms them.
    pending: Mapping[str, FieldValue] = field(default_factory=dict)
    #: Salesforce's value of each field held for manual review (the base stays put),
    #: so a merge that does not read Salesforce still sees the conflict.
    held: Mapping[str, FieldValue] = field(default_factory=dict)
    #: The side that deleted the record in a delete-versus-edit conflict held for review.
    held_delete: Side | None = None
    #: Salesforce's record carries the platform id in the external-id field, so an
    #: upsert by external id reaches it. False for a record created in Salesforce until
    #: the engine has stamped it (see ``SyncPlan.link_salesforce``).
    linked: bool = False
    #: The link was deliberately cut (a delete handled by ``archive`` or ``ignore``):
    #: neither side's later changes are synced for this pair.
    detached: bool = False
