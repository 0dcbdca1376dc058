"""Mapping whole batches: every lookup a batch needs is resolved in one call.

The sync engine maps records in batches; a lookup that two records of a batch need
(the same missing Account) is asked once, so the resolver creates it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from crmbridge.domain.mapping.apply import map_field, map_to_platform, map_to_salesforce
from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.context import (
    LookupKey,
    LookupRequest,
    MappingContext,
    RelatedRecordResolver,
    RelatedValueKey,
)
from crmbridge.domain.mapping.model import ObjectMapping
from crmbridge.domain.mapping.results import MappedRecord
from crmbridge.domain.mapping.transforms import Lookup, MissingRecordRule, relationship_name
from crmbridge.domain.mapping.values import is_blank


def collect_lookup_requests(
    records: Sequence[Mapping[str, Any]],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    allow_create: bool = True,
) -> tuple[LookupRequest, ...]:
    """The distinct related-record lookups a batch of platform records needs.

    Equal keys (same object, field and value ignoring case) are asked once; a key asked
    with creation by any field is asked with creation.
    """
    wanted: dict[LookupKey, bool] = {}
    for field in mapping.outbound_fields():
        for index, step in enumerate(field.steps):
            if not isinstance(step, Lookup):
                continue
            create = allow_create and step.if_missing is MissingRecordRule.CREATE
            for record in records:
                partial = map_field(record, field, context, outbound=True, stop_before=index)
                if partial.error or partial.skipped:
                    continue
                key = step.key_for(partial.output)
                if key is not None:
                    wanted[key] = wanted.get(key, False) or create
    return tuple(LookupRequest(key=k, create_missing=c) for k, c in wanted.items())


def map_records_to_salesforce(
    records: Sequence[Mapping[str, Any]],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    resolver: RelatedRecordResolver | None = None,
    allow_create: bool = True,
) -> list[MappedRecord]:
    """Map a batch, resolving all its lookups in one resolver call first.

    Args:
        records: platform records.
        mapping: the object mapping.
        context: the run's context.
        resolver: finds (and creates) related records; without one, lookups the
            context does not already hold fail on their field.
        allow_create: ``False`` for previews: nothing is created, fields that would
            create a record say so in their trace.
    """
    requests = collect_lookup_requests(records, mapping, context=context, allow_create=allow_create)
    pending = [r for r in requests if r.key not in context.lookups]
    if pending and resolver is not None:
        resolved = resolver.resolve_related(pending)
        context = replace(context, lookups={**context.lookups, **resolved})
    if not allow_create:
        context = replace(context, preview=True)
    return [map_to_salesforce(record, mapping, context=context) for record in records]


def collect_related_value_keys(
    sf_records: Sequence[Mapping[str, Any]], mapping: ObjectMapping
) -> tuple[RelatedValueKey, ...]:
    """Related values inbound lookups need that the records do not carry nested."""
    keys: dict[RelatedValueKey, None] = {}
    for field in mapping.inbound_fields():
        if not field.salesforce_fields:
            continue
        relationship = relationship_name(field.salesforce_fields[0])
        for step in field.steps:
            if not isinstance(step, Lookup):
                continue
            for record in sf_records:
                value = read_path(record, field.salesforce_fields[0], case_sensitive=False)
                nested = read_path(record, relationship, case_sensitive=False)
                if not is_blank(value) and not isinstance(nested, Mapping):
                    key = RelatedValueKey(
                        object_name=step.object_name,
                        field_name=step.match_field,
                        record_id=str(value),
                    )
                    keys[key] = None
    return tuple(keys)


def map_records_to_platform(
    sf_records: Sequence[Mapping[str, Any]],
    mapping: ObjectMapping,
    *,
    context: MappingContext,
    resolver: RelatedRecordResolver | None = None,
) -> list[MappedRecord]:
    """Map a batch of Salesforce records, reading missing related values in one call."""
    keys = collect_related_value_keys(sf_records, mapping)
    pending = [k for k in keys if k not in context.related_values]
    if pending and resolver is not None:
        found = resolver.read_related_values(pending)
        context = replace(context, related_values={**context.related_values, **found})
    return [map_to_platform(record, mapping, context=context) for record in sf_records]
