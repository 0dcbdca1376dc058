"""Reading a submitted mapping and checking it against the org and the platform fields.

Two stages: the definition must be well formed (:func:`parse_definition`, structural
faults are errors whatever the org), then it is validated against the describe of its
Salesforce object and the tenant's platform fields (:func:`check_mapping`). Errors
block saving an enabled mapping; warnings are saved and returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from crmbridge.domain.entities import ENTITY_TYPES
from crmbridge.domain.mapping import (
    IssueKind,
    MappingDefinitionError,
    ObjectMapping,
    PlatformField,
    Severity,
    platform_fields_from_dicts,
    validate_object_mapping,
)
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.errors import (
    MappingRejected,
    Problem,
    SalesforceObjectNotFound,
    definition_problems,
)
from crmbridge.services.records import fields_for


@dataclass(frozen=True, kw_only=True)
class CheckedMapping:
    """A mapping after checking: its object name as the org spells it, and its problems."""

    #: The mapping, with ``salesforce_object`` spelled as the describe spells it.
    mapping: ObjectMapping
    #: Errors and warnings, in mapping order.
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that block saving an enabled mapping."""
        return tuple(p for p in self.problems if p.severity == Severity.ERROR.value)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems that do not block saving."""
        return tuple(p for p in self.problems if p.severity != Severity.ERROR.value)


def parse_definition(data: Mapping[str, Any]) -> ObjectMapping:
    """The object mapping a request describes.

    Raises:
        MappingRejected: listing every structural fault, each with its path.
    """
    try:
        return ObjectMapping.from_dict(data)
    except MappingDefinitionError as error:
        raise MappingRejected(
            definition_problems(error),
            "The mapping definition is invalid; nothing was saved.",
        ) from None


def platform_fields_of(
    session: Session, *, tenant_id: str, entity: str
) -> tuple[PlatformField, ...]:
    """The entity's core and custom fields, as the mapping domain takes them."""
    specs = fields_for(session, tenant_id=tenant_id, entity=ENTITY_TYPES[entity])
    return platform_fields_from_dicts(spec.describe() for spec in specs.values())


def check_mapping(
    session: Session, org: OrgSchema, *, tenant_id: str, mapping: ObjectMapping
) -> CheckedMapping:
    """Every problem of ``mapping`` against the org's describe and the platform fields.

    Raises:
        SalesforceUnavailable: the describe could not be read.
    """
    if mapping.platform_entity not in ENTITY_TYPES:
        known = ", ".join(sorted(ENTITY_TYPES))
        problem = Problem(
            field="platform_entity",
            code=IssueKind.INVALID_DEFINITION.value,
            message=f"there is no platform entity {mapping.platform_entity!r}",
            fix=f"use one of: {known}",
        )
        return CheckedMapping(mapping=mapping, problems=(problem,))
    try:
        snapshot = org.describe(mapping.salesforce_object)
    except SalesforceObjectNotFound:
        problem = Problem(
            field="salesforce_object",
            code=IssueKind.UNKNOWN_OBJECT.value,
            message=f"the org has no object {mapping.salesforce_object!r} the integration "
            f"user can see",
            fix="use the object's API name (custom objects end in __c) and give the "
            "integration user access to it",
        )
        return CheckedMapping(mapping=mapping, problems=(problem,))
    named = replace(mapping, salesforce_object=str(snapshot.describe["name"]))
    fields = platform_fields_of(session, tenant_id=tenant_id, entity=mapping.platform_entity)
    # A disabled draft is checked as it would run once enabled.
    issues = validate_object_mapping(replace(named, enabled=True), snapshot.describe, fields)
    return CheckedMapping(mapping=named, problems=tuple(Problem.from_issue(i) for i in issues))


#: Problems that block even a disabled draft: without them it cannot be checked at all.
_ALWAYS_BLOCKING = frozenset({IssueKind.INVALID_DEFINITION.value, IssueKind.UNKNOWN_OBJECT.value})


def refuse_errors(checked: CheckedMapping, *, enabled: bool) -> None:
    """Raise when an enabled mapping has errors.

    A disabled mapping is a draft: it is saved with its describe-driven errors listed
    (it does not sync), but never with an unknown entity or object.

    Raises:
        MappingRejected: listing the errors and the warnings.
    """
    blocking = [p for p in checked.errors if enabled or p.code in _ALWAYS_BLOCKING]
    if blocking:
        raise MappingRejected(checked.problems)
