"""Salesforce records as the inbound merge needs them: canonical versions with the
links their references need, and platform values for the fields a plan writes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.mapping import MappingContext
from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.transforms import Reference
from crmbridge.domain.mapping.values import is_blank
from crmbridge.store.repositories import sync_pairs as pairs_repo
from crmbridge.sync.context import MappingRun


def reference_links(
    session: Session,
    *,
    tenant_id: str,
    mapping_run: MappingRun,
    records: Sequence[Mapping[str, Any]],
    mapping_ids_by_object: Mapping[str, Collection[str]],
) -> dict[tuple[str, str], str]:
    """Known links for the references a page of Salesforce records carries.

    A parent created in Salesforce is paired before its external id is stamped, so
    ``Parent.Platform_Id__c`` may still be empty; the pair knows the link.

    Returns:
        ``(object, platform id) → Salesforce id``, as ``MappingContext.links`` wants it.
    """
    links: dict[tuple[str, str], str] = {}
    wanted: dict[str, set[str]] = {}
    for field in mapping_run.active.mapping.inbound_fields():
        for step in field.steps:
            if not isinstance(step, Reference) or not field.salesforce_fields:
                continue
            name = field.salesforce_fields[0]
            for record in records:
                value = read_path(record, name, case_sensitive=False)
                if not is_blank(value):
                    wanted.setdefault(step.object_name, set()).add(str(value))
    for target, ids in wanted.items():
        mapping_ids = mapping_ids_by_object.get(target, ())
        if not mapping_ids:
            continue
        found = pairs_repo.linked_platform_ids(
            session, tenant_id=tenant_id, mapping_ids=mapping_ids, salesforce_ids=ids
        )
        for salesforce_id, platform_id in found.items():
            links[(target, platform_id)] = salesforce_id
    return links


def with_links(context: MappingContext, links: Mapping[tuple[str, str], str]) -> MappingContext:
    """The context with more known links."""
    if not links:
        return context
    return replace(context, links={**context.links, **links})


def platform_payload(
    mapping_run: MappingRun,
    sf_record: Mapping[str, Any],
    *,
    changed: set[str] | None,
    context: MappingContext,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The platform values to write for the canonical fields ``changed`` (all: ``None``).

    Args:
        mapping_run: the mapping.
        sf_record: the Salesforce record (REST JSON) the values come from.
        changed: canonical fields the plan writes on the platform; ``None`` for a create.
        context: the mapping context (links, time zone).

    Returns:
        The platform values and the field errors, by field mapping label.
    """
    mapper = mapping_run.codec.inbound_mapper(changed)
    if mapper is None:
        return {}, {}
    return mapper.map(sf_record, context)
