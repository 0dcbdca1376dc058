"""Auto-match (seed 002 "Properties", R-M5): suggest field mappings, accept them at once.

The admin asks for a platform entity and a Salesforce object (optionally of an existing
mapping, whose fields are then left out) and sees "Found n matching fields, n partially
matching fields and n unmatched fields" with a suggested field mapping for each match.
Accepting adds the chosen field mappings to the mapping as one new version, checked
like any other save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import ENTITY_TYPES
from crmbridge.domain.mapping import (
    AutoMatchResult,
    FieldMapping,
    MappingDefinitionError,
    ObjectMapping,
    auto_match,
)
from crmbridge.mappings.checks import (
    CheckedMapping,
    check_mapping,
    parse_definition,
    platform_fields_of,
)
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.errors import MappingRejected, definition_problems
from crmbridge.services.errors import NotFound
from crmbridge.store.mapping_models import StoredMapping


def suggest_field_mappings(
    session: Session,
    org: OrgSchema,
    *,
    tenant_id: str,
    platform_entity: str,
    salesforce_object: str,
    existing: ObjectMapping | None = None,
) -> AutoMatchResult:
    """Auto-match the entity's fields with the object's describe.

    Args:
        existing: a mapping whose mapped fields are left out of the suggestions.

    Raises:
        NotFound: no such platform entity.
        SalesforceObjectNotFound: no such object in the org.
    """
    if platform_entity not in ENTITY_TYPES:
        raise NotFound(f"There is no platform entity {platform_entity!r}.")
    describe = org.describe(salesforce_object).describe
    fields = platform_fields_of(session, tenant_id=tenant_id, entity=platform_entity)
    if existing is None:
        return auto_match(fields, describe)
    return auto_match(
        fields,
        describe,
        existing=existing.fields,
        external_id_field=existing.external_id_field,
    )


def check_with_accepted(
    session: Session,
    org: OrgSchema,
    stored: StoredMapping,
    *,
    fields: Sequence[Mapping[str, Any]] | None = None,
    include_partial: bool = False,
) -> CheckedMapping:
    """The mapping with suggested field mappings added, checked (save it with
    :func:`~crmbridge.mappings.service.store_mapping_change`: one new version).

    Args:
        stored: the mapping to add to.
        fields: the field mappings to add (suggestions as shown, possibly edited);
            ``None`` adds every current matching suggestion.
        include_partial: with ``fields=None``, also add the partial matches.

    Raises:
        MappingRejected: a field mapping is malformed.
    """
    current = ObjectMapping.from_dict(stored.definition)
    if fields is None:
        result = suggest_field_mappings(
            session,
            org,
            tenant_id=stored.tenant_id,
            platform_entity=current.platform_entity,
            salesforce_object=current.salesforce_object,
            existing=current,
        )
        added = result.accepted(include_partial=include_partial)
    else:
        added = _read_fields(fields)
    definition = {
        **stored.definition,
        "fields": [*stored.definition.get("fields", []), *(f.to_dict() for f in added)],
    }
    return check_mapping(
        session, org, tenant_id=stored.tenant_id, mapping=parse_definition(definition)
    )


def _read_fields(items: Sequence[Mapping[str, Any]]) -> tuple[FieldMapping, ...]:
    fields: list[FieldMapping] = []
    problems = []
    for index, item in enumerate(items):
        try:
            fields.append(FieldMapping.from_dict(item))
        except MappingDefinitionError as error:
            prefixed = MappingDefinitionError([f"fields[{index}].{p}" for p in error.problems])
            problems.extend(definition_problems(prefixed))
    if problems:
        raise MappingRejected(problems, "A suggested field mapping is invalid; nothing was saved.")
    return tuple(fields)
