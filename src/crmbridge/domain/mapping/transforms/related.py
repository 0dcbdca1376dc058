"""Steps that point at other records: lookups by value and links to synced records.

- :class:`Lookup` turns a value into the Id of a related record found by one of its
  fields (platform ``company`` → ``AccountId`` of the Account whose ``Name`` matches),
  creating the record when it is missing. The lookups of a whole batch are resolved
  beforehand in one call of the :class:`~crmbridge.domain.mapping.context.RelatedRecordResolver`
  port, so a batch that needs the same missing Account twice creates it once.
- :class:`Reference` turns the platform id of another synced record (``organization_id``)
  into a reference Salesforce resolves itself through the external id: an upsert may
  carry ``"Account": {"Platform_Id__c": "…"}`` instead of ``AccountId`` (REST API
  Developer Guide, "Insert or Update (Upsert) a Record Using an External ID"), so a
  child never waits for its parent's Salesforce Id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Self

from crmbridge.domain.mapping.conditions import read_path
from crmbridge.domain.mapping.context import LookupKey, RelatedValueKey
from crmbridge.domain.mapping.errors import TransformError
from crmbridge.domain.mapping.reading import DefinitionReader
from crmbridge.domain.mapping.transforms.base import StepContext, TransformStep
from crmbridge.domain.mapping.values import coerce_string, is_blank

#: Id prefixes of standard objects, the same in every org (Salesforce Help, "Standard
#: Field Record ID Prefix Decoder"); they tell which object a polymorphic reference
#: such as ``Task.WhoId`` points at.
STANDARD_KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "User": "005",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Case": "500",
    "Task": "00T",
    "Event": "00U",
}


def relationship_name(reference_field: str) -> str:
    """The relationship name of a reference field: ``AccountId`` → ``Account``.

    Standard lookups drop the ``Id`` suffix and custom ones turn ``__c`` into ``__r``
    (SOQL and SOSL Reference, "Relationship Names for Custom Objects and Custom Fields").
    """
    if reference_field.endswith("__c"):
        return reference_field[:-3] + "__r"
    if reference_field.endswith("Id") and len(reference_field) > 2:
        return reference_field[:-2]
    return reference_field


@dataclass(frozen=True, kw_only=True)
class ExternalIdReference:
    """A reference sent as the related record's external id rather than its Id."""

    #: The relationship the reference travels in (``Account`` for ``AccountId``).
    relationship_name: str
    #: The related object's API name.
    object_name: str
    #: The related object's external-id field (``Platform_Id__c``).
    external_id_field: str
    #: The related record's platform id.
    value: str

    def to_json(self) -> dict[str, str]:
        """The nested form Salesforce accepts: ``{"Platform_Id__c": "…"}``."""
        return {self.external_id_field: self.value}


class MissingRecordRule(enum.StrEnum):
    """What a lookup does when no related record matches."""

    CREATE = "create"
    LEAVE_EMPTY = "leave_empty"
    ERROR = "error"


@dataclass(frozen=True, kw_only=True)
class Lookup(TransformStep):
    """Find (or create) a related record by a field value and send its Id."""

    kind = "lookup"

    #: The related object (``Account``).
    object_name: str
    #: The related object's field compared with the value (``Name``).
    match_field: str = "Name"
    #: What to do when nothing matches.
    if_missing: MissingRecordRule = MissingRecordRule.CREATE

    def key_for(self, value: Any) -> LookupKey | None:
        """The lookup a platform value needs, ``None`` for an empty value."""
        if is_blank(value):
            return None
        text = coerce_string(value) or ""
        return LookupKey(object_name=self.object_name, match_field=self.match_field, value=text)

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        key = self.key_for(value)
        if key is None:
            return None
        lookups = ctx.context.lookups
        if key not in lookups:
            raise TransformError(
                f"the {self.object_name} with {self.match_field} {key.value!r} was not looked "
                f"up; resolve the batch's lookups before mapping it"
            )
        found = lookups[key]
        if found:
            return found
        label = f"{self.object_name} with {self.match_field} {key.value!r}"
        if self.if_missing is MissingRecordRule.CREATE:
            if ctx.context.preview:
                ctx.notes.append(f"no {label} yet: it would be created")
                return None
            raise TransformError(f"the {label} was not found and could not be created")
        if self.if_missing is MissingRecordRule.ERROR:
            raise TransformError(
                f"no {label} exists; create it in Salesforce or let the lookup create it"
            )
        return None

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        if is_blank(value):
            return None
        relationship = relationship_name(ctx.salesforce_fields[0])
        parent = ctx.record_value(relationship)
        if isinstance(parent, dict):
            return read_path(parent, self.match_field, case_sensitive=False)
        key = RelatedValueKey(
            object_name=self.object_name, field_name=self.match_field, record_id=str(value)
        )
        if key in ctx.context.related_values:
            return ctx.context.related_values[key]
        raise TransformError(
            f"the {self.match_field} of {self.object_name} {value} is unknown; read "
            f"{relationship}.{self.match_field} with the record"
        )

    def params(self) -> dict[str, Any]:
        return {
            "object": self.object_name,
            "match_field": self.match_field,
            "if_missing": self.if_missing.value,
        }

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"object", "match_field", "if_missing"})
        return cls(
            object_name=reader.string("object"),
            match_field=reader.string("match_field", "Name"),
            if_missing=reader.choice("if_missing", MissingRecordRule, MissingRecordRule.CREATE),
        )

    def salesforce_value_type(self) -> str | None:
        return "reference"

    def describe(self) -> str:
        action = "find or create" if self.if_missing is MissingRecordRule.CREATE else "find"
        return f"{action} {self.object_name} by {self.match_field}"


@dataclass(frozen=True, kw_only=True)
class Reference(TransformStep):
    """A link to another synced record: platform id ↔ Salesforce reference."""

    kind = "reference"

    #: The Salesforce object referred to (``Account``).
    object_name: str
    #: The platform entity referred to (``organization``).
    entity: str
    #: The referred object's external-id field; ``None``: only known links resolve.
    external_id_field: str | None = "Platform_Id__c"
    #: A reference to a record that is not linked (an owner who is no platform user)
    #: leaves the field empty instead of failing the field.
    optional: bool = False

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        if is_blank(value):
            return None
        platform_id = str(value)
        linked = ctx.context.salesforce_id_for(self.object_name, platform_id)
        if linked:
            return linked
        if self.external_id_field:
            return ExternalIdReference(
                relationship_name=relationship_name(ctx.salesforce_fields[0]),
                object_name=self.object_name,
                external_id_field=self.external_id_field,
                value=platform_id,
            )
        if self.optional:
            return None
        raise TransformError(
            f"the {self.entity} {platform_id} has no {self.object_name} in Salesforce yet; "
            f"it links once that record syncs"
        )

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        if is_blank(value):
            return None
        prefix = STANDARD_KEY_PREFIXES.get(self.object_name)
        if prefix and not str(value).startswith(prefix):
            # A polymorphic reference (WhoId: Contact or Lead) pointing at another
            # object: not this mapping's link.
            return None
        if self.external_id_field:
            path = f"{relationship_name(ctx.salesforce_fields[0])}.{self.external_id_field}"
            carried = read_path(ctx.record, path, case_sensitive=False)
            if not is_blank(carried):
                return carried
        linked = ctx.context.platform_id_for(self.object_name, str(value))
        if linked:
            return linked
        if self.optional:
            return None
        raise TransformError(
            f"the {self.object_name} {value} is not linked to a platform {self.entity} yet; "
            f"it links once that record syncs"
        )

    def params(self) -> dict[str, Any]:
        return {
            "object": self.object_name,
            "entity": self.entity,
            "external_id_field": self.external_id_field,
            "optional": self.optional,
        }

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown({"object", "entity", "external_id_field", "optional"})
        external_id = (
            reader.optional_string("external_id_field")
            if reader.has("external_id_field")
            else "Platform_Id__c"
        )
        return cls(
            object_name=reader.string("object"),
            entity=reader.string("entity"),
            external_id_field=external_id,
            optional=reader.boolean("optional", False),
        )

    def salesforce_value_type(self) -> str | None:
        return "reference"

    def describe(self) -> str:
        return f"link to {self.entity} ({self.object_name})"
