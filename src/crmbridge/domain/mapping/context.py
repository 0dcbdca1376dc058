"""What a mapping needs from outside when it runs: time zone, today, resolved lookups.

Nothing here reads a clock or calls Salesforce: the tenant's time zone and today's date
come in as values, and related-record lookups are resolved beforehand through the
:class:`RelatedRecordResolver` port (one call for a whole batch) and passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class LookupKey:
    """A related record looked up by a field value, e.g. the Account named "Acme".

    Salesforce compares text case-insensitively in SOQL, so keys that differ only in
    case or surrounding blanks are equal: a batch that needs "Acme" and "ACME " asks
    (and creates) once.
    """

    #: API name of the related object (``Account``).
    object_name: str = field(compare=False)
    #: API name of the field matched (``Name``).
    match_field: str = field(compare=False)
    #: The value as first seen; used when the record has to be created.
    value: str = field(compare=False)
    #: Normalised identity: (object, field, value) case-folded and stripped.
    identity: tuple[str, str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        identity = (
            self.object_name.casefold(),
            self.match_field.casefold(),
            self.value.strip().casefold(),
        )
        object.__setattr__(self, "identity", identity)


@dataclass(frozen=True, kw_only=True)
class LookupRequest:
    """One lookup a batch needs, and whether a missing record may be created."""

    #: What to look up.
    key: LookupKey
    #: Create the related record when none matches.
    create_missing: bool


@dataclass(frozen=True, kw_only=True)
class RelatedValueKey:
    """The value of one field of a related record, e.g. the Name of Account 001…."""

    #: API name of the related object.
    object_name: str
    #: API name of the field wanted.
    field_name: str
    #: The related record's Salesforce Id.
    record_id: str


class RelatedRecordResolver(Protocol):
    """The port through which lookups reach Salesforce (the adapter lives elsewhere)."""

    def resolve_related(self, requests: Sequence[LookupRequest]) -> Mapping[LookupKey, str | None]:
        """Find the related records for many keys at once, creating missing ones if asked.

        Args:
            requests: distinct keys (no two are equal); each says whether it may create.

        Returns:
            The Salesforce Id for every key, ``None`` when not found and not created.
        """
        ...

    def read_related_values(self, keys: Sequence[RelatedValueKey]) -> Mapping[RelatedValueKey, Any]:
        """Read one field of many related records at once (Id → value, for inbound).

        Returns:
            The value for every key whose record exists.
        """
        ...


@dataclass(frozen=True, kw_only=True)
class MappingContext:
    """Everything a mapping run needs besides the record and the mapping."""

    #: The tenant's IANA time zone; decides the day of a datetime sent to a date field.
    time_zone: str = "UTC"
    #: Today's date in the tenant's time zone, for ``TODAY()`` in formulas.
    today: date | None = None
    #: Resolved lookups: related record Id per key (``None``: not found).
    lookups: Mapping[LookupKey, str | None] = field(default_factory=dict)
    #: Resolved inbound lookups: the related record's field value per key.
    related_values: Mapping[RelatedValueKey, Any] = field(default_factory=dict)
    #: Known record links: (Salesforce object, platform id) → Salesforce Id.
    links: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: A preview: nothing is created, lookups that would create say so instead.
    preview: bool = False

    def salesforce_id_for(self, object_name: str, platform_id: str) -> str | None:
        """The Salesforce Id linked to a platform id, if known."""
        return self.links.get((object_name, platform_id))

    @cached_property
    def _platform_ids(self) -> dict[tuple[str, str], str]:
        # Salesforce Ids compare on their case-sensitive 15-character form.
        return {(obj, sf_id[:15]): pid for (obj, pid), sf_id in self.links.items()}

    def platform_id_for(self, object_name: str, salesforce_id: str) -> str | None:
        """The platform id linked to a Salesforce Id (15- or 18-character), if known."""
        return self._platform_ids.get((object_name, salesforce_id[:15]))
