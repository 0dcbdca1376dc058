"""The settings a merge obeys: per-field direction, conflict policy, delete policy.

The enum values are the same strings the mapping model (``domain.mapping``) and the
settings API use, so an adapter converts with ``Direction(mapping.direction.value)``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from crmbridge.domain.sync.values import Side


class Direction(enum.StrEnum):
    """Which way changes of an object or a field flow (R-M1, R-M2, R-O1)."""

    BOTH = "both"
    TO_SALESFORCE = "to_salesforce"
    FROM_SALESFORCE = "from_salesforce"

    def flows_from(self, side: Side) -> bool:
        """Whether a change made on ``side`` is carried to the other side."""
        if self is Direction.BOTH:
            return True
        return (self is Direction.TO_SALESFORCE) == (side is Side.PLATFORM)

    def mirrored(self) -> Direction:
        """The same rule with the two sides swapped."""
        if self is Direction.TO_SALESFORCE:
            return Direction.FROM_SALESFORCE
        if self is Direction.FROM_SALESFORCE:
            return Direction.TO_SALESFORCE
        return self


class ConflictPolicy(enum.StrEnum):
    """How a field changed differently on both sides is settled (R-S4, seed 004)."""

    PLATFORM_WINS = "platform_wins"
    SALESFORCE_WINS = "salesforce_wins"
    MOST_RECENT = "most_recent"
    MANUAL_REVIEW = "manual_review"

    def mirrored(self) -> ConflictPolicy:
        """The same policy with the two sides swapped."""
        if self is ConflictPolicy.PLATFORM_WINS:
            return ConflictPolicy.SALESFORCE_WINS
        if self is ConflictPolicy.SALESFORCE_WINS:
            return ConflictPolicy.PLATFORM_WINS
        return self


class DeletePolicy(enum.StrEnum):
    """What a delete on one side does to the linked record on the other (R-S5).

    ``propagate`` deletes the counterpart. ``archive`` archives the platform record
    (soft delete, restorable); Salesforce has no generic archive state, so on the
    Salesforce side it keeps the record and cuts the link. ``ignore`` keeps the
    counterpart untouched and cuts the link.
    """

    PROPAGATE = "propagate"
    ARCHIVE = "archive"
    IGNORE = "ignore"


@dataclass(frozen=True, kw_only=True)
class FieldRule:
    """One mapped field as the merge sees it."""

    #: Canonical (Salesforce API) field name.
    field: str
    #: Which way this field's changes flow.
    direction: Direction = Direction.BOTH


@dataclass(frozen=True, kw_only=True)
class MergeRules:
    """Everything the merge of one record pair needs to know about the mapping."""

    #: The mapped fields.
    fields: tuple[FieldRule, ...]
    #: The object mapping's direction; it bounds every field's direction, creates
    #: and deletes.
    direction: Direction = Direction.BOTH
    #: How same-field conflicts (and delete-versus-edit conflicts) are settled.
    conflict_policy: ConflictPolicy = ConflictPolicy.MOST_RECENT
    #: Who wins a "most recent" conflict when both modification times are equal
    #: (or both unknown). Salesforce by default: it is the system of record for CRM
    #: data, and a deterministic answer beats a coin toss.
    tie_winner: Side = Side.SALESFORCE
    #: What a delete on one side does to the other.
    delete_policy: DeletePolicy = DeletePolicy.PROPAGATE
    #: Whether a platform record without a counterpart creates a Salesforce record.
    create_in_salesforce: bool = True
    #: Whether a Salesforce record without a counterpart creates a platform record.
    create_on_platform: bool = True

    def field_flows_from(self, rule: FieldRule, side: Side) -> bool:
        """Whether ``rule``'s field carries changes made on ``side`` (object bound applied)."""
        return (rule.direction, side) in self._flows

    def field_flows(self, source: Side) -> tuple[tuple[str, bool, bool], ...]:
        """Each field with whether it carries changes from ``source`` and from the other
        side (as :meth:`field_flows_from`), in the fields' order."""
        return self._field_flows[source]

    @cached_property
    def _field_flows(self) -> dict[Side, tuple[tuple[str, bool, bool], ...]]:
        return {
            side: tuple(
                (
                    rule.field,
                    self.field_flows_from(rule, side),
                    self.field_flows_from(rule, side.other),
                )
                for rule in self.fields
            )
            for side in Side
        }

    @cached_property
    def _flows(self) -> frozenset[tuple[Direction, Side]]:
        # Asked for every field of every record merged: answered once per rule kind.
        return frozenset(
            (direction, side)
            for direction in Direction
            for side in Side
            if self.direction.flows_from(side) and direction.flows_from(side)
        )

    def creates_on(self, side: Side) -> bool:
        """Whether a record only the other side has is created on ``side``."""
        if not self.direction.flows_from(side.other):
            return False
        return self.create_in_salesforce if side is Side.SALESFORCE else self.create_on_platform

    def mirrored(self) -> MergeRules:
        """The same rules with the two sides swapped (used to prove the merge symmetric)."""
        return replace(
            self,
            fields=tuple(replace(r, direction=r.direction.mirrored()) for r in self.fields),
            direction=self.direction.mirrored(),
            conflict_policy=self.conflict_policy.mirrored(),
            tie_winner=self.tie_winner.other,
            create_in_salesforce=self.create_on_platform,
            create_on_platform=self.create_in_salesforce,
        )


def field_rules(
    names: Sequence[str], direction: Direction = Direction.BOTH
) -> tuple[FieldRule, ...]:
    """Rules for ``names``, all flowing ``direction`` (a shorthand for callers and tests)."""
    return tuple(FieldRule(field=name, direction=direction) for name in names)
