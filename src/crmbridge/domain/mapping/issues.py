"""Mapping issues: what is wrong with a mapping against an org, and the fix."""

from __future__ import annotations

import difflib
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.mapping.describe import ObjectDescribe
from crmbridge.domain.mapping.platform import PlatformField


class IssueKind(enum.StrEnum):
    """One kind per problem, so the UI and API clients can react to each."""

    INVALID_DEFINITION = "invalid_definition"
    WRONG_OBJECT = "wrong_object"
    #: The org has no such object, or the integration user cannot see it.
    UNKNOWN_OBJECT = "unknown_object"
    OBJECT_NOT_ACCESSIBLE = "object_not_accessible"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_PLATFORM_FIELD = "unknown_platform_field"
    INCOMPATIBLE_TYPE = "incompatible_type"
    NOT_CREATEABLE = "not_createable"
    NOT_UPDATEABLE = "not_updateable"
    RESTRICTED_PICKLIST_VALUE = "restricted_picklist_value"
    UNMAPPED_PICKLIST_VALUE = "unmapped_picklist_value"
    FIELD_TOO_SHORT = "field_too_short"
    ENCRYPTED_FIELD = "encrypted_field"
    RELATIONAL_FIELD = "relational_field"
    CALCULATED_FIELD = "calculated_field"
    MISSING_EXTERNAL_ID = "missing_external_id"
    REQUIRED_FIELD_UNMAPPED = "required_field_unmapped"
    INVALID_FORMULA = "invalid_formula"
    DUPLICATE_TARGET = "duplicate_target"
    ONE_WAY_TRANSFORM = "one_way_transform"


class Severity(enum.StrEnum):
    """Whether an issue blocks saving."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, kw_only=True)
class MappingIssue:
    """One problem of a mapping against an org."""

    #: What kind of problem.
    kind: IssueKind
    #: The field concerned (a Salesforce API name or a platform field name).
    field: str
    #: What is wrong.
    message: str
    #: What to do about it.
    fix: str
    #: Errors block saving; warnings do not.
    severity: Severity = Severity.ERROR
    #: The field mapping concerned (``first_name → FirstName``), if any.
    mapping: str = ""
    #: "Did you mean" candidates, for unknown names.
    suggestions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (the 422 body lists these as field errors)."""
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
            "mapping": self.mapping,
            "suggestions": list(self.suggestions),
        }


def suggest_salesforce_fields(name: str, describe: ObjectDescribe) -> tuple[str, ...]:
    """API names close to ``name``, by API name and by label (case and ``_`` ignored)."""

    def norm(text: str) -> str:
        return text.casefold().replace("_", "").replace(" ", "").removesuffix("c")

    by_key: dict[str, str] = {}
    for sf in describe.fields:
        by_key.setdefault(norm(sf.name), sf.name)
        by_key.setdefault(norm(sf.label), sf.name)
    close = difflib.get_close_matches(norm(name), list(by_key), n=5, cutoff=0.7)
    return tuple(dict.fromkeys(by_key[c] for c in close))[:3]


def suggest_platform_fields(name: str, fields: Sequence[PlatformField]) -> tuple[str, ...]:
    """Platform field names close to ``name``."""
    names = [f.name for f in fields]
    return tuple(difflib.get_close_matches(name, names, n=3, cutoff=0.75))


def unknown_salesforce_field(name: str, obj: ObjectDescribe, used_as: str) -> list[MappingIssue]:
    """An issue when ``name`` (or a ``Relationship.Field`` path's head) is not on ``obj``."""
    head = name.split(".")[0]
    known = obj.relationship(head) if "." in name else obj.field(name)
    if known is not None:
        return []
    suggestions = suggest_salesforce_fields(head, obj)
    hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
    return [
        MappingIssue(
            kind=IssueKind.UNKNOWN_FIELD,
            field=name,
            message=f"{obj.name} has no field {name}{hint}; the {used_as} cannot use it",
            fix="use the field's API name (Setup > Object Manager > Fields), not its label",
            suggestions=suggestions,
        )
    ]


def unknown_platform_field(
    name: str, platform_fields: Sequence[PlatformField], used_as: str
) -> MappingIssue:
    """The issue for a platform field name the entity does not have."""
    suggestions = suggest_platform_fields(name, platform_fields)
    hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
    return MappingIssue(
        kind=IssueKind.UNKNOWN_PLATFORM_FIELD,
        field=name,
        message=f"the platform entity has no field {name}{hint}; the {used_as} cannot use it",
        fix="pick an existing platform field or add it as a custom field",
        suggestions=suggestions,
    )
