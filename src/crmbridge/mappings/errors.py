"""Why a mapping use case refuses, named by reason; web/api/mappings.py picks the status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.errors import CrmError
from crmbridge.domain.mapping import IssueKind, MappingDefinitionError, MappingIssue, Severity
from crmbridge.services.errors import Conflict, NotFound, ServiceError


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One reason a mapping cannot be saved, as the API lists it (``errors[]``)."""

    #: Where: a Salesforce API name, a platform field, or a definition path.
    field: str
    #: The issue kind (``unknown_field``, ``invalid_definition`` …).
    code: str
    #: What is wrong.
    message: str
    #: What to do about it.
    fix: str
    #: ``error`` or ``warning``.
    severity: str = Severity.ERROR.value
    #: The field mapping concerned (``first_name → FirstName``), if any.
    mapping: str = ""
    #: "Did you mean" candidates.
    suggestions: tuple[str, ...] = ()
    #: Which mapping of a batch (``lead ↔ Lead``), when several are checked at once.
    pair: str = ""

    @classmethod
    def from_issue(cls, issue: MappingIssue, *, pair: str = "") -> Problem:
        """The problem of a describe-driven issue."""
        return cls(
            field=issue.field,
            code=issue.kind.value,
            message=issue.message,
            fix=issue.fix,
            severity=issue.severity.value,
            mapping=issue.mapping,
            suggestions=issue.suggestions,
            pair=pair,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON of one ``errors[]`` / ``issues[]`` item."""
        data: dict[str, Any] = {
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "severity": self.severity,
            "mapping": self.mapping,
            "suggestions": list(self.suggestions),
        }
        if self.pair:
            data["pair"] = self.pair
        return data


def definition_problems(error: MappingDefinitionError) -> list[Problem]:
    """One problem per structural fault of a submitted definition (its path as field)."""
    problems = []
    for text in error.problems:
        path, _, message = text.partition(": ")
        problems.append(
            Problem(
                field=path if message else "",
                code=IssueKind.INVALID_DEFINITION.value,
                message=message or text,
                fix="correct the mapping definition (docs/mapping.md lists every attribute)",
            )
        )
    return problems


class MappingRejected(ServiceError):
    """The mapping has errors; nothing was saved."""

    def __init__(self, problems: Iterable[Problem], message: str | None = None) -> None:
        #: Every error (and warning) found.
        self.problems: Sequence[Problem] = tuple(problems)
        errors = sum(1 for p in self.problems if p.severity == Severity.ERROR.value)
        super().__init__(
            message
            or f"The mapping has {errors} error{'s' if errors != 1 else ''}; nothing was saved."
        )


class MappingNotFound(NotFound):
    """No mapping with this id for this tenant."""


class MappingConflict(Conflict):
    """Another mapping already holds this entity, object and filter name."""


class SalesforceNotConnected(Conflict):
    """This tenant has no working Salesforce connection; connect it first."""


class SalesforceObjectNotFound(NotFound):
    """The org has no such object, or the integration user cannot see it."""


class SalesforceUnavailable(ServiceError):
    """Salesforce could not answer; the message says why and what to do."""

    def __init__(self, error: CrmError) -> None:
        #: The classified Salesforce error.
        self.error = error
        super().__init__(f"Salesforce could not answer: {error}. {error.advice}")
