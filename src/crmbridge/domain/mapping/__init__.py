"""The mapping domain: what corresponds to what between the platform and Salesforce.

Pure code (no database, HTTP or clock). The sync engine, the preview endpoint and the
mapping API use these entry points:

- :class:`ObjectMapping` / :class:`FieldMapping` and their ``to_dict``/``from_dict``;
- :func:`map_to_salesforce`, :func:`map_to_platform` and the batch forms
  :func:`map_records_to_salesforce` / :func:`map_records_to_platform`;
- :func:`validate_object_mapping` against an org's describe, :func:`auto_match`;
- :func:`default_object_mappings` (R-M4) and :data:`DEFAULT_PLATFORM_FIELDS`.

docs/mapping.md describes all of it.
"""

from __future__ import annotations

from crmbridge.domain.mapping.apply import map_to_platform, map_to_salesforce
from crmbridge.domain.mapping.automatch import AutoMatchResult, FieldSuggestion, auto_match
from crmbridge.domain.mapping.batches import (
    collect_lookup_requests,
    collect_related_value_keys,
    map_records_to_platform,
    map_records_to_salesforce,
)
from crmbridge.domain.mapping.conditions import (
    Condition,
    ConditionGroup,
    FieldCondition,
    Negation,
    Operator,
)
from crmbridge.domain.mapping.context import (
    LookupKey,
    LookupRequest,
    MappingContext,
    RelatedRecordResolver,
    RelatedValueKey,
)
from crmbridge.domain.mapping.defaults import (
    DEFAULT_PLATFORM_FIELDS,
    default_object_mapping,
    default_object_mappings,
)
from crmbridge.domain.mapping.describe import ObjectDescribe, SalesforceField
from crmbridge.domain.mapping.diff import summarize_mapping_changes
from crmbridge.domain.mapping.errors import (
    FormulaError,
    FormulaEvaluationError,
    FormulaSyntaxError,
    FormulaValidationError,
    MappingDefinitionError,
    MappingError,
    TransformError,
)
from crmbridge.domain.mapping.formula import Formula, compile_formula
from crmbridge.domain.mapping.issues import IssueKind, MappingIssue, Severity
from crmbridge.domain.mapping.model import (
    ConflictPolicy,
    CreationRule,
    DeletePolicy,
    Direction,
    FieldKind,
    FieldMapping,
    MatchKey,
    ObjectMapping,
)
from crmbridge.domain.mapping.platform import (
    PlatformField,
    PlatformType,
    platform_fields_from_dicts,
)
from crmbridge.domain.mapping.results import FieldResult, MappedRecord, StepTrace
from crmbridge.domain.mapping.transforms import STEP_TYPES, ExternalIdReference, TransformStep
from crmbridge.domain.mapping.validation import validate_object_mapping

__all__ = [
    "DEFAULT_PLATFORM_FIELDS",
    "STEP_TYPES",
    "AutoMatchResult",
    "Condition",
    "ConditionGroup",
    "ConflictPolicy",
    "CreationRule",
    "DeletePolicy",
    "Direction",
    "ExternalIdReference",
    "FieldCondition",
    "FieldKind",
    "FieldMapping",
    "FieldResult",
    "FieldSuggestion",
    "Formula",
    "FormulaError",
    "FormulaEvaluationError",
    "FormulaSyntaxError",
    "FormulaValidationError",
    "IssueKind",
    "LookupKey",
    "LookupRequest",
    "MappedRecord",
    "MappingContext",
    "MappingDefinitionError",
    "MappingError",
    "MappingIssue",
    "MatchKey",
    "Negation",
    "ObjectDescribe",
    "ObjectMapping",
    "Operator",
    "PlatformField",
    "PlatformType",
    "RelatedRecordResolver",
    "RelatedValueKey",
    "SalesforceField",
    "Severity",
    "StepTrace",
    "TransformError",
    "TransformStep",
    "auto_match",
    "collect_lookup_requests",
    "collect_related_value_keys",
    "compile_formula",
    "default_object_mapping",
    "default_object_mappings",
    "map_records_to_platform",
    "map_records_to_salesforce",
    "map_to_platform",
    "map_to_salesforce",
    "platform_fields_from_dicts",
    "summarize_mapping_changes",
    "validate_object_mapping",
]
