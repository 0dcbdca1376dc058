"""Preview (R-M3): what a record becomes on the other side, field by field.

Given a platform record (by id or inline) the preview maps it to Salesforce; given a
Salesforce record id it reads that record (the fields an inbound sync would select) and
maps it to the platform. Each field shows its input, every transform step's input and
output, and its output or error. Lookups are resolved against the org but never create
anything: a missing related record is reported as "would be created".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import ENTITY_TYPES
from crmbridge.domain.errors import CrmError, RecordDeletedError
from crmbridge.domain.mapping import (
    MappedRecord,
    MappingContext,
    ObjectMapping,
    collect_lookup_requests,
    map_records_to_platform,
    map_records_to_salesforce,
)
from crmbridge.domain.mapping.results import jsonable
from crmbridge.domain.mapping.transforms import Reference
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.errors import SalesforceUnavailable
from crmbridge.salesforce import soql
from crmbridge.salesforce.related import SalesforceRelatedRecords
from crmbridge.services.errors import NotFound, ServiceError
from crmbridge.services.records import fields_for
from crmbridge.store.db import utcnow
from crmbridge.store.repositories import records as records_repo


class PreviewNotPossible(ServiceError):
    """This mapping cannot preview in that direction."""


def preview_to_salesforce(
    session: Session,
    org: OrgSchema,
    *,
    tenant_id: str,
    mapping: ObjectMapping,
    record_id: str | None = None,
    record: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> dict[str, Any]:
    """A platform record (stored, by id, or inline) mapped to Salesforce.

    Raises:
        NotFound: no such platform record for this tenant.
        PreviewNotPossible: the mapping sends nothing to Salesforce.
        SalesforceUnavailable: a lookup could not be resolved.
    """
    mapping = replace(mapping, enabled=True)  # a disabled draft previews too
    if not mapping.outbound_fields():
        raise PreviewNotPossible(
            f"This mapping sends nothing to Salesforce (direction {mapping.direction.value})."
        )
    if record_id is not None:
        stored = records_repo.get_record(
            session, tenant_id=tenant_id, entity_type=mapping.platform_entity, record_id=record_id
        )
        if stored is None or stored.deleted_at is not None:
            raise NotFound(f"No {mapping.platform_entity} with this id.")
        # The whole record, as a create sends it: unset fields are null.
        fields = fields_for(
            session, tenant_id=tenant_id, entity=ENTITY_TYPES[mapping.platform_entity]
        )
        data: dict[str, Any] = {name: stored.data.get(name) for name in fields}
        data["id"] = stored.id
        source: dict[str, Any] = {"kind": "platform_record", "id": stored.id}
    else:
        data = dict(record or {})
        source = {"kind": "inline"}
    context = MappingContext(
        today=clock().date(),
        links=_outbound_links(session, tenant_id=tenant_id, mapping=mapping, record=data),
        preview=True,
    )
    resolver = SalesforceRelatedRecords(org.client, allow_create=False)
    try:
        (mapped,) = map_records_to_salesforce(
            [data], mapping, context=context, resolver=resolver, allow_create=False
        )
    except CrmError as error:
        raise SalesforceUnavailable(error) from error
    creating = {
        r.key for r in collect_lookup_requests([data], mapping, context=context) if r.create_missing
    }
    would_create = [
        f"{key.object_name} with {key.match_field} {key.value!r}"
        for key in resolver.report.not_found
        if key in creating
    ]
    return _result(
        "to_salesforce",
        source,
        data,
        mapped,
        excluded=not mapping.accepts_platform_record(data),
        salesforce_body=_jsonable_dict(mapped.salesforce_body()),
        would_create=would_create,
    )


def preview_to_platform(
    session: Session,
    org: OrgSchema,
    *,
    tenant_id: str,
    mapping: ObjectMapping,
    salesforce_id: str,
    clock: Callable[[], datetime] = utcnow,
) -> dict[str, Any]:
    """A Salesforce record, read as an inbound sync reads it, mapped to the platform.

    Raises:
        NotFound: no such record in the org.
        PreviewNotPossible: the mapping brings nothing to the platform.
        SalesforceUnavailable: Salesforce could not answer.
    """
    mapping = replace(mapping, enabled=True)
    if not mapping.inbound_fields():
        raise PreviewNotPossible(
            f"This mapping brings nothing to the platform (direction {mapping.direction.value})."
        )
    select = soql.Select(
        sobject=mapping.salesforce_object,
        fields=mapping.salesforce_read_fields(),
        where=soql.Comparison(field="Id", operator="=", value=salesforce_id),
    )
    try:
        found = list(org.client.query(select.to_soql()))
    except RecordDeletedError:
        found = []
    except CrmError as error:
        raise SalesforceUnavailable(error) from error
    if not found:
        raise NotFound(f"No {mapping.salesforce_object} with Id {salesforce_id} in the org.")
    sf_record = {k: v for k, v in found[0].items() if k != "attributes"}
    context = MappingContext(
        today=clock().date(),
        links=_inbound_links(session, tenant_id=tenant_id, mapping=mapping, record=sf_record),
        preview=True,
    )
    resolver = SalesforceRelatedRecords(org.client, allow_create=False)
    try:
        (mapped,) = map_records_to_platform(
            [sf_record], mapping, context=context, resolver=resolver
        )
    except CrmError as error:
        raise SalesforceUnavailable(error) from error
    return _result(
        "to_platform",
        {"kind": "salesforce_record", "id": sf_record.get("Id")},
        sf_record,
        mapped,
        excluded=not mapping.accepts_salesforce_record(sf_record),
    )


def _result(
    direction: str,
    source: dict[str, Any],
    record: Mapping[str, Any],
    mapped: MappedRecord,
    *,
    excluded: bool,
    salesforce_body: dict[str, Any] | None = None,
    would_create: list[str] | None = None,
) -> dict[str, Any]:
    result = mapped.to_dict()
    result["excluded_by_filter"] = excluded or mapped.excluded_by_filter
    return {
        "direction": direction,
        "source": source,
        "record": _jsonable_dict(record),
        **result,
        "salesforce_body": salesforce_body,
        "would_create": would_create or [],
    }


def _jsonable_dict(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: _jsonable_dict(v) if isinstance(v, Mapping) else jsonable(v) for k, v in values.items()
    }


def _references(mapping: ObjectMapping, *, outbound: bool) -> list[tuple[str, Reference]]:
    fields = mapping.outbound_fields() if outbound else mapping.inbound_fields()
    found = []
    for field in fields:
        for step in field.steps:
            if isinstance(step, Reference):
                name = field.platform_field if outbound else field.salesforce_field
                found.append((name, step))
    return found


def _outbound_links(
    session: Session, *, tenant_id: str, mapping: ObjectMapping, record: Mapping[str, Any]
) -> dict[tuple[str, str], str]:
    """Salesforce Ids of the platform records this record refers to, where synced."""
    links: dict[tuple[str, str], str] = {}
    for name, step in _references(mapping, outbound=True):
        value = record.get(name)
        if not isinstance(value, str) or not value:
            continue
        target = records_repo.get_record(
            session, tenant_id=tenant_id, entity_type=step.entity, record_id=value
        )
        if target is not None and target.salesforce_id:
            links[(step.object_name, value)] = target.salesforce_id
    return links


def _inbound_links(
    session: Session, *, tenant_id: str, mapping: ObjectMapping, record: Mapping[str, Any]
) -> dict[tuple[str, str], str]:
    """Platform ids of the Salesforce records this record refers to, where synced."""
    links: dict[tuple[str, str], str] = {}
    for name, step in _references(mapping, outbound=False):
        value = record.get(name)
        if not isinstance(value, str) or not value:
            continue
        target = records_repo.get_record_by_salesforce_id(
            session, tenant_id=tenant_id, entity_type=step.entity, salesforce_id=value
        )
        if target is not None:
            links[(step.object_name, target.id)] = value
    return links
