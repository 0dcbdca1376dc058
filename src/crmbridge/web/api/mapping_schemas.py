"""Request and response bodies of the mapping API (docs/api.md, "Mappings").

Definitions follow ``ObjectMapping.to_dict()`` (docs/mapping.md). Request bodies refuse
unknown attributes (422); the mapping domain then checks what a schema cannot say
(steps' parameters, formulas, the org's describe).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from crmbridge.web.api.schemas import Input

DirectionName = Literal["both", "to_salesforce", "from_salesforce"]
CreationName = Literal["create_missing", "update_matched_only"]
DeletePolicyName = Literal["propagate", "archive", "ignore"]
ConflictPolicyName = Literal["platform_wins", "salesforce_wins", "most_recent", "manual_review"]
FieldKindName = Literal["direct", "transform", "formula"]
#: API names: letters, digits and underscores (``Account``, ``Member_Tags__c``).
API_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
#: A filter name: lower-case words joined by ``-`` or ``_`` (empty for the usual mapping).
FILTER_NAME = r"^([a-z0-9][a-z0-9_-]*)?$"
#: A Salesforce record Id, 15 or 18 characters.
SALESFORCE_ID = r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$"

_CONDITION_DOC = (
    'A filter: {"field": "Movement_Exclude__c", "op": "eq", "value": false}, or '
    '{"and": [...]}, {"or": [...]}, {"not": {...}}. Operators: eq, ne, lt, le, gt, ge, '
    "in, not_in (value is a list), like (% and _ wildcards)."
)


class TransformStepIn(Input):
    """One transform step: ``{"kind": "value_map", "params": {...}}``."""

    kind: str = Field(
        max_length=40,
        description="value_map, date_format, text_case, concatenate, split, lookup, "
        "reference, default or coerce.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The step's parameters (docs/mapping.md)."
    )


class FieldMappingIn(Input):
    """Platform field(s) ↔ Salesforce API field(s)."""

    platform_fields: list[str] | None = Field(default=None, max_length=20)
    salesforce_fields: list[str] | None = Field(default=None, max_length=20)
    platform_field: str | None = Field(
        default=None, max_length=100, description="Shorthand for one platform field."
    )
    salesforce_field: str | None = Field(
        default=None, max_length=100, description="Shorthand for one Salesforce field."
    )
    kind: FieldKindName | None = None
    direction: DirectionName | None = None
    steps: list[TransformStepIn] | None = Field(default=None, max_length=20)
    formula: str | None = Field(default=None, max_length=5000)
    default_value: str | int | float | bool | None = None


class MatchKeyIn(Input):
    platform_field: str = Field(max_length=100)
    salesforce_field: str = Field(max_length=100)


class MappingDefinitionIn(Input):
    """An object mapping (``ObjectMapping.to_dict()``); omitted attributes take defaults."""

    platform_entity: str = Field(max_length=50, examples=["member"])
    salesforce_object: str = Field(max_length=80, pattern=API_NAME, examples=["Contact"])
    enabled: bool | None = None
    direction: DirectionName | None = None
    creation_in_salesforce: CreationName | None = None
    creation_on_platform: CreationName | None = None
    external_id_field: str | None = Field(
        default="Platform_Id__c",
        max_length=80,
        description="The Salesforce external id holding the platform id; null: none.",
    )
    match_keys: list[MatchKeyIn] | None = Field(default=None, max_length=10)
    salesforce_filter: dict[str, Any] | None = Field(default=None, description=_CONDITION_DOC)
    platform_filter: dict[str, Any] | None = Field(default=None, description=_CONDITION_DOC)
    delete_policy: DeletePolicyName | None = None
    conflict_policy: ConflictPolicyName | None = None
    fields: list[FieldMappingIn] | None = Field(default=None, max_length=500)


class MappingIn(MappingDefinitionIn):
    """A new mapping: its definition and, to keep several of one pair, a filter name."""

    filter_name: str = Field(default="", max_length=63, pattern=FILTER_NAME)


class MappingUpdate(MappingIn):
    """The whole new definition; ``version`` (or If-Match) guards against lost updates."""

    filter_name: str | None = Field(default=None, max_length=63, pattern=FILTER_NAME)  # type: ignore[assignment]
    version: int | None = Field(default=None, ge=1)


class MappingPatch(Input):
    """Attributes to change; ``fields``, when sent, replaces every field mapping."""

    enabled: bool | None = None
    direction: DirectionName | None = None
    creation_in_salesforce: CreationName | None = None
    creation_on_platform: CreationName | None = None
    external_id_field: str | None = Field(default=None, max_length=80)
    match_keys: list[MatchKeyIn] | None = Field(default=None, max_length=10)
    salesforce_filter: dict[str, Any] | None = Field(default=None, description=_CONDITION_DOC)
    platform_filter: dict[str, Any] | None = Field(default=None, description=_CONDITION_DOC)
    delete_policy: DeletePolicyName | None = None
    conflict_policy: ConflictPolicyName | None = None
    fields: list[FieldMappingIn] | None = Field(default=None, max_length=500)
    filter_name: str | None = Field(default=None, max_length=63, pattern=FILTER_NAME)
    version: int | None = Field(default=None, ge=1)


class IssueOut(BaseModel):
    """One problem of a mapping against the org (also the items of a 422's ``errors``)."""

    field: str
    code: str
    message: str
    fix: str
    severity: Literal["error", "warning"]
    mapping: str = ""
    suggestions: list[str] = []
    pair: str | None = None


class MappingOut(BaseModel):
    id: str
    platform_entity: str
    salesforce_object: str
    filter_name: str
    enabled: bool
    version: int
    definition: dict[str, Any] = Field(description="ObjectMapping.to_dict() (docs/mapping.md).")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class MappingSaved(MappingOut):
    """A saved mapping with the warnings its checks found (errors block saving)."""

    issues: list[IssueOut]
    changed: bool = Field(description="False when the save equalled the stored version.")


class MappingVersionOut(BaseModel):
    mapping_id: str
    version: int
    action: Literal["create", "update", "delete"]
    platform_entity: str
    salesforce_object: str
    filter_name: str
    enabled: bool
    changes: list[str]
    actor_type: str
    actor_id: str
    actor_label: str
    created_at: datetime


class MappingVersionDetail(MappingVersionOut):
    definition: dict[str, Any]


class ValidationOut(BaseModel):
    valid: bool = Field(description="No error-severity issue.")
    issues: list[IssueOut]
    definition: dict[str, Any] = Field(description="The definition as it would be saved.")


class DefaultMappingOut(BaseModel):
    platform_entity: str
    salesforce_object: str
    definition: dict[str, Any]
    installed_mapping_id: str | None


class PairIn(Input):
    platform_entity: str = Field(max_length=50)
    salesforce_object: str = Field(max_length=80, pattern=API_NAME)


class InstallDefaultsIn(Input):
    """Which defaults to install (all when ``pairs`` is omitted), enabled or as drafts."""

    pairs: list[PairIn] | None = Field(default=None, max_length=50)
    enabled: bool = True


class InstallOutcomeOut(BaseModel):
    pair: str
    status: Literal["installed", "already_installed"]
    mapping: MappingOut
    issues: list[IssueOut]


class AutoMatchIn(Input):
    platform_entity: str = Field(max_length=50)
    salesforce_object: str = Field(max_length=80, pattern=API_NAME)
    mapping_id: str | None = Field(
        default=None, max_length=36, description="Leave out the fields this mapping maps."
    )


class SuggestionOut(BaseModel):
    platform_field: str
    salesforce_field: str
    quality: Literal["matching", "partial"]
    score: float
    reason: str
    field_mapping: dict[str, Any]


class AutoMatchCounts(BaseModel):
    matching: int
    partial: int
    unmatched: int


class AutoMatchOut(BaseModel):
    summary: str = Field(
        examples=["Found 5 matching fields, 2 partially matching fields and 3 unmatched fields"]
    )
    counts: AutoMatchCounts
    matching: list[SuggestionOut]
    partial: list[SuggestionOut]
    unmatched: list[str]
    unmatched_salesforce_fields: list[str]


class AcceptSuggestionsIn(Input):
    """Field mappings to add: as suggested (possibly edited), or every matching one."""

    fields: list[FieldMappingIn] | None = Field(default=None, max_length=500)
    include_partial: bool = False
    version: int | None = Field(default=None, ge=1)


class PreviewIn(Input):
    """Exactly one of: a platform record id, an inline platform record, a Salesforce Id."""

    record_id: str | None = Field(default=None, max_length=36)
    record: dict[str, Any] | None = None
    salesforce_id: str | None = Field(default=None, pattern=SALESFORCE_ID)


class DraftPreviewIn(PreviewIn):
    """A preview of an unsaved definition."""

    mapping: MappingDefinitionIn


class StepTraceOut(BaseModel):
    kind: str
    description: str
    input: Any
    output: Any
    notes: list[str]


class FieldResultOut(BaseModel):
    label: str
    source_fields: list[str]
    target_fields: list[str]
    input: Any
    steps: list[StepTraceOut]
    output: Any
    error: str | None
    skipped: str | None


class PreviewOut(BaseModel):
    direction: Literal["to_salesforce", "to_platform"]
    source: dict[str, Any]
    record: dict[str, Any] = Field(description="The record the preview read.")
    values: dict[str, Any] = Field(description="Target field → value, for fields that mapped.")
    fields: list[FieldResultOut]
    errors: dict[str, str]
    excluded_by_filter: bool
    salesforce_body: dict[str, Any] | None = Field(
        description="What an outbound write would send (references by external id nest)."
    )
    would_create: list[str] = Field(description="Related records a sync would create.")


class PicklistValueOut(BaseModel):
    value: Any
    label: Any
    active: bool


class EditorFieldOut(BaseModel):
    name: str
    label: str
    type: str
    length: int
    createable: bool
    updateable: bool
    nillable: bool
    writable: bool
    picklist_values: list[PicklistValueOut]
    restricted_picklist: bool
    encrypted: bool
    calculated: bool
    reference_to: list[str]
    relationship_name: str | None
    external_id: bool
    unique: bool
    flags: list[str] = Field(
        description="encrypted, calculated, relational, system, read_only, create_only, "
        "update_only, required_on_create, external_id."
    )
    notes: list[str]


class EditorObjectOut(BaseModel):
    name: str
    label: str
    custom: bool
    createable: bool
    updateable: bool
    queryable: bool
    fetched_at: datetime
    checked_at: datetime
    source: Literal["cache", "not_modified", "downloaded"]
    fields: list[EditorFieldOut]


class SalesforceObjectOut(BaseModel):
    name: str
    label: str
    custom: bool
    createable: bool
    updateable: bool
    queryable: bool
