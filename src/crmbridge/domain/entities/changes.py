"""What an update changes, field by field (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ValueChange:
    """The old and new value of one field (``None`` means absent/cleared)."""

    #: Field name.
    field: str
    #: Value before the write.
    old: Any
    #: Value after the write.
    new: Any


def apply_changes(
    current: Mapping[str, Any], updates: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[ValueChange, ...]]:
    """Merge ``updates`` into ``current`` and say which fields really changed.

    Args:
        current: the stored values (absent keys are null).
        updates: normalised new values; ``None`` clears a field.

    Returns:
        The new stored values (nulls dropped, keys sorted) and the changes, by field
        name; setting a field to the value it has is not a change.
    """
    merged = dict(current)
    changes: list[ValueChange] = []
    for name in sorted(updates):
        new = updates[name]
        old = current.get(name)
        if old == new and type(old) is type(new):
            continue
        changes.append(ValueChange(field=name, old=old, new=new))
        if new is None:
            merged.pop(name, None)
        else:
            merged[name] = new
    return {k: merged[k] for k in sorted(merged)}, tuple(changes)
