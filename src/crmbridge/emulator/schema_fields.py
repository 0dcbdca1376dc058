"""Small constructors for field definitions, so object declarations read like a field list.

Lengths, precisions and defaults follow the standard objects' describe results
(Object Reference for the Salesforce Platform).
"""

from __future__ import annotations

from typing import Any

from crmbridge.emulator.schema import FieldDef, SObjectDef, label_from_api_name


def _custom(name: str) -> bool:
    return name.endswith("__c")


def text(name: str, length: int = 255, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``string`` field."""
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type="string",
        length=length,
        custom=_custom(name),
        **kw,
    )


def typed_text(
    name: str, type_: str, length: int, *, label: str | None = None, **kw: Any
) -> FieldDef:
    """A text-like field of another type (email, phone, url, textarea, encryptedstring)."""
    if type_ == "textarea":
        kw.setdefault("filterable", length <= 255)
        kw.setdefault("sortable", length <= 255)
        kw.setdefault("groupable", False)
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type=type_,
        length=length,
        custom=_custom(name),
        **kw,
    )


def email(name: str, *, label: str | None = None, **kw: Any) -> FieldDef:
    """An ``email`` field (80 characters, like Contact.Email)."""
    return typed_text(name, "email", 80, label=label, **kw)


def phone(name: str, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``phone`` field (40 characters)."""
    return typed_text(name, "phone", 40, label=label, **kw)


def url(name: str, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``url`` field (255 characters)."""
    return typed_text(name, "url", 255, label=label, **kw)


def textarea(name: str, length: int = 32000, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``textarea`` field; long ones cannot be filtered or sorted, as in SOQL."""
    return typed_text(name, "textarea", length, label=label, **kw)


def picklist(
    name: str,
    values: tuple[str, ...],
    *,
    restricted: bool = False,
    default: str | None = None,
    label: str | None = None,
    multi: bool = False,
    **kw: Any,
) -> FieldDef:
    """A ``picklist`` (or ``multipicklist``) field."""
    if default is not None:
        kw.setdefault("defaulted_on_create", True)
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type="multipicklist" if multi else "picklist",
        length=4099 if multi else 255,
        picklist_values=values,
        restricted_picklist=restricted,
        default_picklist_value=default,
        custom=_custom(name),
        groupable=not multi,
        sortable=not multi,
        **kw,
    )


def boolean(name: str, default: bool = False, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``boolean`` (checkbox) field: never null, defaulted on create."""
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type="boolean",
        nillable=False,
        defaulted_on_create=True,
        default_value=default,
        custom=_custom(name),
        **kw,
    )


def number(
    name: str,
    type_: str = "double",
    precision: int = 18,
    scale: int = 0,
    *,
    label: str | None = None,
    **kw: Any,
) -> FieldDef:
    """A ``double``, ``currency`` or ``percent`` field."""
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type=type_,
        precision=precision,
        scale=scale,
        custom=_custom(name),
        **kw,
    )


def integer(name: str, digits: int = 9, *, label: str | None = None, **kw: Any) -> FieldDef:
    """An ``int`` field."""
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type="int",
        digits=digits,
        custom=_custom(name),
        **kw,
    )


def date(name: str, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``date`` field."""
    return FieldDef(
        name=name, label=label or label_from_api_name(name), type="date", custom=_custom(name), **kw
    )


def datetime_(name: str, *, label: str | None = None, **kw: Any) -> FieldDef:
    """A ``datetime`` field."""
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type="datetime",
        custom=_custom(name),
        **kw,
    )


def reference(
    name: str,
    to: tuple[str, ...] | str,
    relationship: str,
    *,
    child: str | None = None,
    cascade: bool = False,
    label: str | None = None,
    **kw: Any,
) -> FieldDef:
    """A ``reference`` (lookup) field with its parent and child relationship names."""
    targets = (to,) if isinstance(to, str) else to
    return FieldDef(
        name=name,
        label=label or label_from_api_name(name),
        type="reference",
        length=18,
        reference_to=targets,
        relationship_name=relationship,
        child_relationship_name=child,
        cascade_delete=cascade,
        custom=_custom(name),
        **kw,
    )


def read_only(field_def: FieldDef) -> FieldDef:
    """The field, neither createable nor updateable (set by the emulator itself)."""
    from dataclasses import replace

    return replace(field_def, createable=False, updateable=False, defaulted_on_create=True)


def formula(name: str, path: str, type_: str = "string", length: int = 255, **kw: Any) -> FieldDef:
    """A formula field that reads ``path`` (``Account.Name``) when the record is read."""
    return FieldDef(
        name=name,
        label=kw.pop("label", None) or label_from_api_name(name),
        type=type_,
        length=length,
        calculated=True,
        formula=path,
        createable=False,
        updateable=False,
        groupable=False,
        custom=_custom(name),
        **kw,
    )


def address(prefix: str, *, label: str, state_length: int = 80) -> tuple[FieldDef, ...]:
    """The components of a compound address plus the compound ``address`` field itself.

    ``prefix`` is ``Billing``, ``Mailing`` or empty (Lead, User).
    """
    compound = f"{prefix}Address"
    comp: dict[str, Any] = {"compound_field_name": compound}
    return (
        textarea(f"{prefix}Street", 255, label=f"{label} Street".strip(), **comp),
        text(f"{prefix}City", 40, label=f"{label} City".strip(), **comp),
        text(f"{prefix}State", state_length, label=f"{label} State/Province".strip(), **comp),
        text(f"{prefix}PostalCode", 20, label=f"{label} Zip/Postal Code".strip(), **comp),
        text(f"{prefix}Country", 80, label=f"{label} Country".strip(), **comp),
        number(
            f"{prefix}Latitude", precision=18, scale=15, label=f"{label} Latitude".strip(), **comp
        ),
        number(
            f"{prefix}Longitude", precision=18, scale=15, label=f"{label} Longitude".strip(), **comp
        ),
        picklist(
            f"{prefix}GeocodeAccuracy",
            (
                "Address",
                "NearAddress",
                "Block",
                "Street",
                "ExtendedZip",
                "Zip",
                "Neighborhood",
                "City",
                "County",
                "State",
                "Unknown",
            ),
            restricted=True,
            label=f"{label} Geocode Accuracy".strip(),
            **comp,
        ),
        FieldDef(
            name=compound,
            label=f"{label} Address".strip(),
            type="address",
            createable=False,
            updateable=False,
            filterable=False,
            sortable=False,
            groupable=False,
        ),
    )


def system_fields() -> tuple[FieldDef, ...]:
    """Id, IsDeleted and the audit fields every object carries."""
    return (
        FieldDef(
            name="Id",
            label="Record ID",
            type="id",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
        ),
        read_only(boolean("IsDeleted", label="Deleted")),
        read_only(datetime_("CreatedDate", label="Created Date", nillable=False)),
        read_only(
            reference("CreatedById", "User", "CreatedBy", label="Created By ID", nillable=False)
        ),
        read_only(datetime_("LastModifiedDate", label="Last Modified Date", nillable=False)),
        read_only(
            reference(
                "LastModifiedById",
                "User",
                "LastModifiedBy",
                label="Last Modified By ID",
                nillable=False,
            )
        ),
        read_only(datetime_("SystemModstamp", label="System Modstamp", nillable=False)),
    )


def owner_field() -> FieldDef:
    """``OwnerId``: a lookup to User that defaults to the running user."""
    return reference(
        "OwnerId", "User", "Owner", label="Owner ID", nillable=False, defaulted_on_create=True
    )


def platform_id() -> FieldDef:
    """``Platform_Id__c``: the unique external id crmbridge upserts by (R-S3)."""
    return text(
        "Platform_Id__c",
        255,
        label="Platform Id",
        external_id=True,
        unique=True,
        help_text="The record's id on the membership platform; crmbridge upserts by it.",
    )


def sobject(
    name: str,
    key_prefix: str,
    fields: tuple[FieldDef, ...],
    *,
    label: str | None = None,
    label_plural: str | None = None,
    owner: bool = True,
    **kw: Any,
) -> SObjectDef:
    """An object with the system fields first and OwnerId where the object has an owner."""
    system = system_fields()
    own = (owner_field(),) if owner else ()
    readable = label or label_from_api_name(name)
    return SObjectDef(
        name=name,
        label=readable,
        label_plural=label_plural or f"{readable}s",
        key_prefix=key_prefix,
        custom=name.endswith("__c"),
        fields=system[:2] + fields + own + system[2:],
        **kw,
    )
