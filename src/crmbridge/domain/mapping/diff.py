"""What changed between two versions of an object mapping, in a few words (R-P5).

Each mapping version stores a short summary ("direction: both → to_salesforce", "added
field mapping email → Email") so the history reads without comparing JSON by hand.
Field mappings are told apart by the fields they join, so editing one field mapping
reads as a change of it rather than a removal and an addition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

#: Longest rendering of one value in a summary line.
_VALUE_WIDTH = 60


def summarize_mapping_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """Lines saying what changed from ``before`` to ``after`` (``to_dict()`` forms).

    Args:
        before: the previous definition, ``None`` for a creation.
        after: the new definition, ``None`` for a deletion.

    Returns:
        One line per change, ``("no change",)`` when the two are equal.
    """
    if before is None and after is None:
        return ("no change",)
    if before is None:
        assert after is not None
        return (f"created {_pair(after)} with {_count(after.get('fields') or [])}",)
    if after is None:
        return (f"deleted {_pair(before)}",)
    lines: list[str] = []
    for key in sorted(set(before) | set(after)):
        if key == "fields" or before.get(key) == after.get(key):
            continue
        lines.append(f"{key}: {_short(before.get(key))} → {_short(after.get(key))}")
    lines += _field_changes(before.get("fields") or [], after.get("fields") or [])
    return tuple(lines) or ("no change",)


def _field_changes(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> list[str]:
    old = {_field_key(f): f for f in before}
    new = {_field_key(f): f for f in after}
    lines: list[str] = []
    for key, field in new.items():
        if key not in old:
            lines.append(f"added field mapping {_label(field)}")
            continue
        changed = [
            name
            for name in sorted(set(field) | set(old[key]))
            if field.get(name) != old[key].get(name)
        ]
        if changed:
            lines.append(f"changed field mapping {_label(field)}: {', '.join(changed)}")
    lines += [f"removed field mapping {_label(f)}" for k, f in old.items() if k not in new]
    kept_old = [k for k in old if k in new]
    kept_new = [k for k in new if k in old]
    if kept_old != kept_new:
        lines.append("reordered field mappings")
    return lines


def _field_key(field: Mapping[str, Any]) -> tuple[Any, ...]:
    formula = field.get("formula") if not field.get("platform_fields") else None
    return (
        tuple(field.get("platform_fields") or ()),
        tuple(field.get("salesforce_fields") or ()),
        formula if not field.get("salesforce_fields") else None,
    )


def _label(field: Mapping[str, Any]) -> str:
    left = " + ".join(field.get("platform_fields") or ()) or "(formula)"
    right = " + ".join(field.get("salesforce_fields") or ()) or "(formula)"
    return f"{left} → {right}"


def _pair(definition: Mapping[str, Any]) -> str:
    return f"{definition.get('platform_entity')} ↔ {definition.get('salesforce_object')}"


def _count(fields: Sequence[Any]) -> str:
    return f"{len(fields)} field mapping{'s' if len(fields) != 1 else ''}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"
