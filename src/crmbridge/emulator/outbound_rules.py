"""Outbound message rules: what fires, on which records, and what is sent.

A rule names an object, when it fires (``created`` or ``created_or_edited``, the two
workflow evaluation criteria that matter for integrations), a condition (field /
operator / value tests, all of which must hold, or a SOQL WHERE fragment evaluated by
the SOQL engine), the fields to send, the endpoint URL, and whether to include a
session id (Salesforce Help, "Define Outbound Messages").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

TRIGGERS = ("created", "created_or_edited")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "starts with")


class OutboundRuleError(ValueError):
    """A rule definition is invalid."""


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One test of a rule's condition: ``field operator value``."""

    field: str
    operator: str = "="
    value: Any = None


@dataclass(frozen=True, kw_only=True)
class OutboundRule:
    """An outbound message bound to a workflow rule."""

    #: Unique name; also the key for removing the rule at run time.
    name: str
    object: str
    endpoint_url: str
    #: Fields sent in each notification (``Id`` is always sent first).
    fields: tuple[str, ...] = ("Id",)
    #: ``created`` (only new records) or ``created_or_edited``.
    trigger: str = "created_or_edited"
    #: All must hold (ignored when ``where`` is set).
    conditions: tuple[Condition, ...] = ()
    #: A SOQL WHERE fragment, e.g. ``Email != null AND Movement_Exclude__c = false``.
    where: str | None = None
    send_session_id: bool = False
    #: 04k-prefixed id sent as ``ActionId``.
    action_id: str = ""
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = list(self.fields)
        data["conditions"] = [asdict(c) for c in self.conditions]
        return data


def parse_rule(spec: Mapping[str, Any], *, action_id: str) -> OutboundRule:
    """Build a rule from its YAML/JSON form; raise :class:`OutboundRuleError`."""
    known = {
        "name",
        "object",
        "endpoint_url",
        "fields",
        "trigger",
        "conditions",
        "condition",
        "where",
        "send_session_id",
        "active",
    }
    unknown = set(spec) - known
    if unknown:
        raise OutboundRuleError(f"unknown keys {sorted(unknown)}")
    for key in ("name", "object", "endpoint_url"):
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise OutboundRuleError(f"'{key}' is required")
    url = str(spec["endpoint_url"])
    if not url.startswith(("http://", "https://")):
        raise OutboundRuleError("endpoint_url must be an http or https URL")
    trigger = str(spec.get("trigger", "created_or_edited"))
    if trigger not in TRIGGERS:
        raise OutboundRuleError(f"trigger must be one of {', '.join(TRIGGERS)}")
    raw_fields = spec.get("fields") or ["Id"]
    if not isinstance(raw_fields, list) or not all(isinstance(f, str) for f in raw_fields):
        raise OutboundRuleError("'fields' must be a list of field names")
    fields = ["Id"] + [f for f in raw_fields if f.lower() != "id"]
    raw_conditions = spec.get("conditions", spec.get("condition")) or []
    if not isinstance(raw_conditions, list):
        raise OutboundRuleError("'conditions' must be a list")
    conditions = []
    for item in raw_conditions:
        if not isinstance(item, Mapping) or "field" not in item:
            raise OutboundRuleError("each condition needs 'field', 'operator' and 'value'")
        operator = str(item.get("operator", "=")).lower()
        if operator not in OPERATORS:
            raise OutboundRuleError(f"unknown operator {operator!r}")
        conditions.append(
            Condition(field=str(item["field"]), operator=operator, value=item.get("value"))
        )
    where = spec.get("where")
    if where is not None and not isinstance(where, str):
        raise OutboundRuleError("'where' must be a SOQL condition string")
    return OutboundRule(
        name=str(spec["name"]),
        object=str(spec["object"]),
        endpoint_url=url,
        fields=tuple(fields),
        trigger=trigger,
        conditions=tuple(conditions),
        where=where or None,
        send_session_id=bool(spec.get("send_session_id", False)),
        action_id=action_id,
        active=bool(spec.get("active", True)),
    )


def rules_from_schema_file(path: Path) -> list[dict[str, Any]]:
    """The ``outbound_messages`` list of a schema file (YAML or JSON), possibly empty."""
    raw = path.read_text(encoding="utf-8")
    data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    items = (data or {}).get("outbound_messages") or []
    if not isinstance(items, list):
        raise OutboundRuleError(f"{path}: 'outbound_messages' must be a list")
    return items


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    """One condition test; text compares case-insensitively, as SOQL does."""
    if isinstance(actual, str) and isinstance(expected, str):
        actual_cmp: Any = actual.lower()
        expected_cmp: Any = expected.lower()
    else:
        actual_cmp, expected_cmp = actual, expected
    if operator == "=":
        return bool(actual_cmp == expected_cmp)
    if operator == "!=":
        return bool(actual_cmp != expected_cmp)
    if operator in ("in", "not in"):
        options = expected if isinstance(expected, list) else [expected]
        lowered = [o.lower() if isinstance(o, str) else o for o in options]
        found = actual_cmp in lowered
        return found if operator == "in" else not found
    if operator == "contains":
        return isinstance(actual, str) and str(expected).lower() in actual.lower()
    if operator == "starts with":
        return isinstance(actual, str) and actual.lower().startswith(str(expected).lower())
    if actual is None or expected is None:
        return False
    try:
        if operator == "<":
            return bool(actual_cmp < expected_cmp)
        if operator == "<=":
            return bool(actual_cmp <= expected_cmp)
        if operator == ">":
            return bool(actual_cmp > expected_cmp)
        return bool(actual_cmp >= expected_cmp)
    except TypeError:
        return False


def conditions_hold(conditions: Sequence[Condition], record: Mapping[str, Any]) -> bool:
    """True when every condition holds for ``record`` (field names case-insensitive)."""
    lowered = {k.lower(): v for k, v in record.items()}
    return all(_compare(lowered.get(c.field.lower()), c.operator, c.value) for c in conditions)
