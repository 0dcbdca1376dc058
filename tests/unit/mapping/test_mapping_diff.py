"""Version summaries say what changed in a mapping, in words."""

from __future__ import annotations

from dataclasses import replace

from crmbridge.domain.mapping import (
    Direction,
    default_object_mapping,
    summarize_mapping_changes,
)
from crmbridge.domain.mapping.model import direct


def _lead() -> dict:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    return mapping.to_dict()


def test_a_creation_names_the_pair_and_counts_the_fields() -> None:
    assert summarize_mapping_changes(None, _lead()) == (
        "created lead ↔ Lead with 17 field mappings",
    )


def test_a_deletion_names_the_pair() -> None:
    assert summarize_mapping_changes(_lead(), None) == ("deleted lead ↔ Lead",)


def test_equal_definitions_are_no_change() -> None:
    assert summarize_mapping_changes(_lead(), _lead()) == ("no change",)


def test_object_settings_and_field_mappings_are_listed_one_line_each() -> None:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    fields = list(mapping.fields)
    removed = fields.pop(0)  # first_name → FirstName
    fields[0] = replace(fields[0], direction=Direction.TO_SALESFORCE)  # last_name
    fields.append(direct("external_id", "Referral_ID__c"))
    changed = replace(mapping, direction=Direction.TO_SALESFORCE, fields=tuple(fields))
    assert summarize_mapping_changes(mapping.to_dict(), changed.to_dict()) == (
        'direction: "both" → "to_salesforce"',
        "changed field mapping last_name → LastName: direction",
        "added field mapping external_id → Referral_ID__c",
        f"removed field mapping {removed.platform_field} → {removed.salesforce_field}",
    )


def test_a_new_order_alone_reads_as_reordered() -> None:
    mapping = default_object_mapping("lead", "Lead")
    assert mapping is not None
    reordered = replace(mapping, fields=tuple(reversed(mapping.fields)))
    assert summarize_mapping_changes(mapping.to_dict(), reordered.to_dict()) == (
        "reordered field mappings",
    )


def test_long_values_are_shortened() -> None:
    before = _lead()
    after = {**before, "platform_filter": {"field": "company", "op": "eq", "value": "x" * 200}}
    (line,) = summarize_mapping_changes(before, after)
    assert line.startswith("platform_filter: null → {")
    assert line.endswith("…")
    assert len(line) < 100
