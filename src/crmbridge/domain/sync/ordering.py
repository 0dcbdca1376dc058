"""Parents before children: the order in which objects and records are written (R-S6).

Objects are ordered by the reference fields of their mappings (Account before Contact
before Opportunity). A reference from an object to itself (``Account.ParentId``) orders
the records of that object in waves: a record whose parent is written in the same plan
goes one wave after it. Cycles (two objects referencing each other, or records pointing
at each other) are broken deterministically: the reference that closes the cycle is
*deferred*, written afterwards as a separate update, once both records exist.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ReferenceField:
    """A lookup from one mapped Salesforce object to another (from the mappings)."""

    #: The child object (``Contact``).
    object: str
    #: The lookup field on the child (``AccountId``).
    field: str
    #: The relationship name Salesforce uses for it (``Account``), from describe.
    relationship_name: str
    #: The parent object (``Account``).
    target_object: str


@dataclass(frozen=True, kw_only=True)
class ObjectOrder:
    """The result of :func:`order_objects`."""

    #: Objects, parents first.
    objects: tuple[str, ...]
    #: References that point forward in that order (a cycle was broken there); the
    #: planner writes them as follow-up updates.
    deferred: frozenset[tuple[str, str]]


def order_objects(objects: Iterable[str], references: Iterable[ReferenceField]) -> ObjectOrder:
    """Order objects so every parent comes before its children.

    Args:
        objects: the objects with writes in this plan.
        references: every reference field of the mappings; those between objects of the
            plan constrain the order, self references are handled by :func:`record_waves`.

    Returns:
        The order (ties broken by name, so it is deterministic) and the
        ``(object, field)`` references deferred to break cycles.
    """
    remaining = set(objects)
    edges = [
        r
        for r in references
        if r.object in remaining and r.target_object in remaining and r.object != r.target_object
    ]
    ordered: list[str] = []
    deferred: set[tuple[str, str]] = set()
    while remaining:
        ready = sorted(
            o
            for o in remaining
            if not any(e.object == o and e.target_object in remaining for e in edges)
        )
        # Nothing ready means a cycle: take the first by name and defer its references
        # to the objects still waiting.
        chosen = ready[0] if ready else min(remaining)
        if not ready:
            deferred.update(
                (e.object, e.field)
                for e in edges
                if e.object == chosen and e.target_object in remaining
            )
        ordered.append(chosen)
        remaining.discard(chosen)
    return ObjectOrder(objects=tuple(ordered), deferred=frozenset(deferred))


def record_waves(
    parents: Mapping[str, Collection[str]],
) -> tuple[dict[str, int], frozenset[tuple[str, str]]]:
    """Waves for records of one self-referencing object.

    Args:
        parents: for each record (platform id) written in the plan, the platform ids
            its self references point at (only those also written in the plan matter).

    Returns:
        The wave of each record (0 for records whose parents are not in the plan) and
        the ``(child, parent)`` links deferred because they close a cycle.
    """
    wave: dict[str, int] = {}
    deferred: set[tuple[str, str]] = set()
    # Iterative depth-first search: hierarchies can be deeper than Python's recursion.
    for root in sorted(parents):
        if root in wave:
            continue
        visiting = {root}
        stack = [(root, iter(sorted(parents[root])), 0)]
        while stack:
            record, pending, level = stack[-1]
            descended = False
            for parent in pending:
                if parent == record or parent in visiting:
                    deferred.add((record, parent))  # closes a cycle
                elif parent in wave:
                    level = max(level, wave[parent] + 1)
                elif parent in parents:
                    stack[-1] = (record, pending, level)
                    visiting.add(parent)
                    stack.append((parent, iter(sorted(parents[parent])), 0))
                    descended = True
                    break
            if descended:
                continue
            stack.pop()
            visiting.discard(record)
            wave[record] = level
            if stack:
                child, child_pending, child_level = stack[-1]
                stack[-1] = (child, child_pending, max(child_level, level + 1))
    return wave, frozenset(deferred)
