"""Auto-match (seed 002 "Properties"): suggest field mappings from names and types.

The admin sees "Found n matching fields, n partially matching fields and n unmatched
fields" and accepts the suggestions in one call. A platform field *matches* a
Salesforce field when their API names or labels are equal once case, underscores and
the ``__c`` suffix are ignored (``zip_code`` ~ ``PostalCode`` through a small synonym
table) and the types fit, possibly through a conversion step; it matches *partially*
when the names share most of their words or read alike. Each Salesforce field is
suggested at most once, best score first.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.mapping.compatibility import platform_value_kind, type_problem
from crmbridge.domain.mapping.describe import (
    NUMBER_FIELD_TYPES,
    TEXT_FIELD_TYPES,
    ObjectDescribe,
    SalesforceField,
)
from crmbridge.domain.mapping.model import Direction, FieldKind, FieldMapping
from crmbridge.domain.mapping.platform import PlatformField, PlatformType
from crmbridge.domain.mapping.transforms import (
    Coerce,
    Concatenate,
    DateFormat,
    DateKind,
    ScalarType,
    TransformStep,
    value_map,
)

#: Words that mean the same thing on the two sides.
_SYNONYMS = {"zip": "postal", "postcode": "postal", "mobile": "mobile", "cell": "mobile"}
_SKIPPED_PLATFORM_TYPES = frozenset({PlatformType.REFERENCE, PlatformType.FLAGS, PlatformType.ID})


class MatchQuality(enum.StrEnum):
    """How sure a suggestion is."""

    MATCHING = "matching"
    PARTIAL = "partial"


@dataclass(frozen=True, kw_only=True)
class FieldSuggestion:
    """A suggested field mapping and why."""

    #: The platform field.
    platform_field: str
    #: The Salesforce field's API name.
    salesforce_field: str
    #: Matching or partially matching.
    quality: MatchQuality
    #: 0..1, higher is better.
    score: float
    #: Why it was suggested, in words.
    reason: str
    #: The mapping the admin accepts.
    field_mapping: FieldMapping

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for the API."""
        return {
            "platform_field": self.platform_field,
            "salesforce_field": self.salesforce_field,
            "quality": self.quality.value,
            "score": round(self.score, 3),
            "reason": self.reason,
            "field_mapping": self.field_mapping.to_dict(),
        }


@dataclass(frozen=True, kw_only=True)
class AutoMatchResult:
    """The suggestions, grouped as the admin sees them."""

    #: Confident suggestions.
    matching: tuple[FieldSuggestion, ...]
    #: Plausible suggestions the admin should check.
    partial: tuple[FieldSuggestion, ...]
    #: Platform fields with no suggestion.
    unmatched: tuple[str, ...]
    #: Salesforce fields no platform field was matched with (for a manual mapping).
    unmatched_salesforce_fields: tuple[str, ...] = ()

    def summary(self) -> str:
        """``Found 5 matching fields, 2 partially matching fields and 3 unmatched fields``."""

        def count(n: int, what: str) -> str:
            return f"{n} {what} field{'s' if n != 1 else ''}"

        return (
            f"Found {count(len(self.matching), 'matching')}, "
            f"{count(len(self.partial), 'partially matching')} and "
            f"{count(len(self.unmatched), 'unmatched')}"
        )

    def accepted(self, *, include_partial: bool = False) -> tuple[FieldMapping, ...]:
        """The field mappings to add when the admin accepts the suggestions."""
        chosen = self.matching + (self.partial if include_partial else ())
        return tuple(s.field_mapping for s in chosen)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for the API."""
        return {
            "summary": self.summary(),
            "counts": {
                "matching": len(self.matching),
                "partial": len(self.partial),
                "unmatched": len(self.unmatched),
            },
            "matching": [s.to_dict() for s in self.matching],
            "partial": [s.to_dict() for s in self.partial],
            "unmatched": list(self.unmatched),
            "unmatched_salesforce_fields": list(self.unmatched_salesforce_fields),
        }


def _words(text: str) -> tuple[str, ...]:
    text = re.sub(r"__c$", "", text)
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]
    return tuple(_SYNONYMS.get(w, w) for w in words)


def _key(text: str) -> str:
    return "".join(_words(text))


def _conversion(kind: str, sf: SalesforceField) -> tuple[TransformStep, ...] | None:
    """Steps that make ``kind`` fit ``sf`` (``()``: fits as is; ``None``: cannot)."""
    if type_problem(kind, sf.type) is None:
        return ()
    to_text = sf.type in TEXT_FIELD_TYPES and sf.type != "picklist"
    conversions: dict[tuple[str, bool], tuple[TransformStep, ...]] = {
        ("date", sf.type == "datetime"): (
            DateFormat(platform_kind=DateKind.DATE, salesforce_type=DateKind.DATETIME),
        ),
        ("datetime", sf.type == "date"): (
            DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATE),
        ),
        ("text", sf.type == "boolean"): (
            Coerce(salesforce_type=ScalarType.BOOLEAN, platform_type=ScalarType.TEXT),
        ),
        ("text", sf.type in NUMBER_FIELD_TYPES): (
            Coerce(salesforce_type=ScalarType.NUMBER, platform_type=ScalarType.TEXT),
        ),
        ("number", sf.type in ("int", "long")): (Coerce(salesforce_type=ScalarType.INTEGER),),
        ("integer", to_text): (
            Coerce(salesforce_type=ScalarType.TEXT, platform_type=ScalarType.INTEGER),
        ),
        ("number", to_text): (
            Coerce(salesforce_type=ScalarType.TEXT, platform_type=ScalarType.NUMBER),
        ),
        ("boolean", to_text): (
            Coerce(salesforce_type=ScalarType.TEXT, platform_type=ScalarType.BOOLEAN),
        ),
    }
    return conversions.get((kind, True))


def _picklist_translation(pf: PlatformField, sf: SalesforceField) -> tuple[TransformStep, ...]:
    """A value map between two picklists whose values differ only in spelling.

    ``PROPOSAL_SENT`` pairs with ``Proposal Sent``; values without a counterpart are
    left for the admin (validation names them).
    """
    if not pf.values or not sf.picklist_values or sf.type not in ("picklist", "multipicklist"):
        return ()
    pairs = [(pv, sv) for pv in pf.values for sv in sf.picklist_values if _key(pv) == _key(sv)]
    if not pairs or all(pv == sv for pv, sv in pairs):
        return ()
    steps: tuple[TransformStep, ...] = (value_map(pairs),)
    if pf.type is PlatformType.MULTI_PICKLIST:
        # Multi-select picklist values travel joined with ';' (SOAP API, multipicklist).
        steps += (Concatenate(separator=";"),)
    return steps


def _suggestion(
    pf: PlatformField, sf: SalesforceField, quality: MatchQuality, score: float, reason: str
) -> FieldSuggestion | None:
    steps = _picklist_translation(pf, sf) or _conversion(platform_value_kind(pf, pf.name), sf)
    if steps is None:
        return None
    writable = sf.createable or sf.updateable
    direction = Direction.BOTH if writable and not sf.calculated else Direction.FROM_SALESFORCE
    if steps:
        reason += f", with steps: {'; '.join(step.describe() for step in steps)}"
    mapping = FieldMapping(
        platform_fields=(pf.name,),
        salesforce_fields=(sf.name,),
        kind=FieldKind.TRANSFORM if steps else FieldKind.DIRECT,
        direction=direction,
        steps=steps,
    )
    return FieldSuggestion(
        platform_field=pf.name,
        salesforce_field=sf.name,
        quality=quality,
        score=score,
        reason=reason,
        field_mapping=mapping,
    )


def _score(pf: PlatformField, sf: SalesforceField) -> tuple[MatchQuality, float, str] | None:
    p_names = {_key(pf.name): pf.name, _key(pf.display_label): pf.display_label}
    s_names = {_key(sf.name): sf.name, _key(sf.label): sf.label}
    for key, shown in p_names.items():
        if key and key in s_names:
            return MatchQuality.MATCHING, 1.0, f"{shown!r} is {s_names[key]!r}"
    p_words, s_words = set(_words(pf.name)), set(_words(sf.name)) | set(_words(sf.label))
    overlap = len(p_words & s_words) / len(p_words | s_words) if p_words | s_words else 0.0
    ratio = max(difflib.SequenceMatcher(None, pk, sk).ratio() for pk in p_names for sk in s_names)
    score = max(overlap, ratio)
    if overlap >= 0.5 or ratio >= 0.8:
        return MatchQuality.PARTIAL, score * 0.9, f"{pf.name!r} resembles {sf.name!r}"
    return None


def auto_match(
    platform_fields: Sequence[PlatformField],
    describe: Mapping[str, Any] | ObjectDescribe,
    *,
    existing: Sequence[FieldMapping] = (),
    external_id_field: str | None = "Platform_Id__c",
) -> AutoMatchResult:
    """Suggest field mappings between an entity's fields and an object's describe.

    Args:
        platform_fields: the platform entity's fields.
        describe: the JSON of ``/sobjects/{Object}/describe`` (or its parsed form).
        existing: field mappings already configured; their fields are left out.
        external_id_field: never suggested (it holds the platform id).

    Returns:
        Matching and partially matching suggestions and the unmatched platform fields.
    """
    obj = (
        describe if isinstance(describe, ObjectDescribe) else ObjectDescribe.from_describe(describe)
    )
    taken_platform = {name.split(".")[0] for f in existing for name in f.platform_fields}
    taken_sf = {name.casefold() for f in existing for name in f.salesforce_fields}
    if external_id_field:
        taken_sf.add(external_id_field.casefold())
    candidates = [
        sf
        for sf in obj.fields
        if not sf.is_system
        and not sf.encrypted
        and sf.type not in ("reference", "address", "location", "base64", "id")
        and sf.name.casefold() not in taken_sf
    ]
    fields = [
        pf
        for pf in platform_fields
        if pf.name not in taken_platform and pf.type not in _SKIPPED_PLATFORM_TYPES
    ]
    scored: list[FieldSuggestion] = []
    for pf in fields:
        for sf in candidates:
            found = _score(pf, sf)
            if found is None:
                continue
            suggestion = _suggestion(pf, sf, *found)
            if suggestion is None and found[0] is MatchQuality.MATCHING:
                continue  # same name, types that no step reconciles
            if suggestion is not None:
                scored.append(suggestion)
    rank = {MatchQuality.MATCHING: 1, MatchQuality.PARTIAL: 0}
    scored.sort(key=lambda s: (rank[s.quality], s.score), reverse=True)
    used_platform: set[str] = set()
    used_sf: set[str] = set()
    chosen: list[FieldSuggestion] = []
    for suggestion in scored:
        if suggestion.platform_field in used_platform or suggestion.salesforce_field in used_sf:
            continue
        used_platform.add(suggestion.platform_field)
        used_sf.add(suggestion.salesforce_field)
        chosen.append(suggestion)
    order = {pf.name: i for i, pf in enumerate(fields)}
    chosen.sort(key=lambda s: order[s.platform_field])
    return AutoMatchResult(
        matching=tuple(s for s in chosen if s.quality is MatchQuality.MATCHING),
        partial=tuple(s for s in chosen if s.quality is MatchQuality.PARTIAL),
        unmatched=tuple(pf.name for pf in fields if pf.name not in used_platform),
        unmatched_salesforce_fields=tuple(sf.name for sf in candidates if sf.name not in used_sf),
    )
