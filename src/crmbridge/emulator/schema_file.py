"""Read a schema file (YAML or JSON) that adds custom fields, objects and rules.

Format (docs/emulator.md, "Schema files")::

    objects:
      Contact:                       # an existing object: add fields and rules
        fields:
          - {name: Favorite_Color__c, type: picklist, values: [Red, Blue], restricted: true}
        validation_rules:
          - name: Email_Required_For_Members
            require: Email
            when: {Membership_Status__c: Active}
            error_message: Active members need an email address.
          - name: Phone_Digits
            regex: {field: Phone, pattern: "^[0-9 +()-]+$"}
            error_message: Phone may only contain digits.
        duplicate_rules:
          - {name: Contact_Email, match_fields: [Email]}
      Membership__c:                 # a new custom object
        label: Membership
        key_prefix: a01              # optional; a0X prefixes are handed out otherwise
        fields:
          - {name: Contact__c, type: reference, reference_to: Contact,
             relationship_name: Contact__r, child_relationship_name: Memberships__r}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from crmbridge.emulator.schema import (
    FIELD_TYPES,
    DuplicateRule,
    FieldDef,
    Schema,
    SObjectDef,
    ValidationRule,
    label_from_api_name,
)
from crmbridge.emulator.schema_fields import sobject, text

_FIELD_KEYS = {
    "name",
    "type",
    "label",
    "length",
    "precision",
    "scale",
    "digits",
    "required",
    "unique",
    "case_sensitive",
    "external_id",
    "default",
    "values",
    "restricted",
    "formula",
    "reference_to",
    "relationship_name",
    "child_relationship_name",
    "cascade_delete",
    "encrypted",
    "createable",
    "updateable",
    "help_text",
}
_OBJECT_KEYS = {
    "label",
    "label_plural",
    "key_prefix",
    "fields",
    "validation_rules",
    "duplicate_rules",
    "owner",
}
_DEFAULT_LENGTHS = {
    "string": 255,
    "textarea": 32768,
    "email": 80,
    "phone": 40,
    "url": 255,
    "picklist": 255,
    "multipicklist": 4099,
    "combobox": 255,
    "encryptedstring": 175,
    "reference": 18,
}
_CUSTOM_PREFIX_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SchemaFileError(ValueError):
    """The schema file is not valid; the message names the offending entry."""


def extend_schema_from_file(schema: Schema, path: Path) -> Schema:
    """``schema`` with everything the file at ``path`` declares added to it."""
    raw = path.read_text(encoding="utf-8")
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise SchemaFileError(f"{path}: cannot parse: {exc}") from exc
    return extend_schema(schema, data or {}, source=str(path))


def extend_schema(schema: Schema, data: Mapping[str, Any], *, source: str = "schema") -> Schema:
    """``schema`` with the objects, fields and rules of an already parsed schema document."""
    # ``outbound_messages`` belongs to crmbridge.emulator.outbound, which reads it itself.
    if not isinstance(data, Mapping) or set(data) - {"objects", "outbound_messages"}:
        raise SchemaFileError(f"{source}: the top level must be a mapping with 'objects'")
    objects = data.get("objects") or {}
    if not isinstance(objects, Mapping):
        raise SchemaFileError(f"{source}: 'objects' must be a mapping of object names")
    used_prefixes = {o.key_prefix for o in schema}
    new_objects: list[SObjectDef] = []
    extra_fields: dict[str, list[FieldDef]] = {}
    validation: dict[str, list[ValidationRule]] = {}
    duplicates: dict[str, list[DuplicateRule]] = {}
    for name, spec in objects.items():
        where = f"{source}: {name}"
        spec = spec or {}
        if not isinstance(spec, Mapping) or set(spec) - _OBJECT_KEYS:
            raise SchemaFileError(f"{where}: unknown keys {sorted(set(spec) - _OBJECT_KEYS)}")
        fields = [_field(f, where) for f in spec.get("fields") or []]
        existing = schema.get(name)
        if existing is None:
            if not name.endswith("__c"):
                raise SchemaFileError(f"{where}: new objects must be custom (end with __c)")
            prefix = spec.get("key_prefix") or _next_prefix(used_prefixes)
            if prefix in used_prefixes and spec.get("key_prefix"):
                raise SchemaFileError(f"{where}: key prefix {prefix} is taken")
            used_prefixes.add(prefix)
            if not any(f.name.lower() == "name" for f in fields):
                fields.insert(
                    0,
                    text(
                        "Name",
                        80,
                        label=f"{spec.get('label') or name} Name",
                        nillable=False,
                        name_field=True,
                    ),
                )
            label = spec.get("label") or label_from_api_name(name)
            new_objects.append(
                sobject(
                    name,
                    prefix,
                    tuple(fields),
                    label=label,
                    label_plural=spec.get("label_plural") or f"{label}s",
                    owner=bool(spec.get("owner", True)),
                )
            )
            target = name
        else:
            for f in fields:
                if not f.name.endswith("__c"):
                    raise SchemaFileError(f"{where}.{f.name}: added fields must end with __c")
            extra_fields[existing.name] = fields
            target = existing.name
        validation[target] = [
            _validation_rule(r, where) for r in spec.get("validation_rules") or []
        ]
        duplicates[target] = [_duplicate_rule(r, where) for r in spec.get("duplicate_rules") or []]
    try:
        return schema.extended(
            new_objects=new_objects,
            extra_fields=extra_fields,
            validation_rules=validation,
            duplicate_rules=duplicates,
        )
    except ValueError as exc:
        raise SchemaFileError(f"{source}: {exc}") from exc


def _next_prefix(used: set[str]) -> str:
    """The next free ``a0X`` key prefix, the shape Salesforce gives custom objects."""
    for first in "a":
        for second in _CUSTOM_PREFIX_CHARS:
            for third in _CUSTOM_PREFIX_CHARS:
                prefix = f"{first}{second}{third}"
                if prefix not in used and prefix != "a00":
                    return prefix
    raise SchemaFileError("no free key prefix left")


def _field(spec: Any, where: str) -> FieldDef:
    if not isinstance(spec, Mapping) or "name" not in spec or "type" not in spec:
        raise SchemaFileError(f"{where}: each field needs at least a name and a type")
    where = f"{where}.{spec['name']}"
    unknown = set(spec) - _FIELD_KEYS
    if unknown:
        raise SchemaFileError(f"{where}: unknown keys {sorted(unknown)}")
    type_ = spec["type"]
    if type_ not in FIELD_TYPES or type_ in {"id", "address"}:
        raise SchemaFileError(f"{where}: unsupported type {type_!r}")
    name = str(spec["name"])
    values = tuple(str(v) for v in spec.get("values") or ())
    if type_ in {"picklist", "multipicklist"} and not values:
        raise SchemaFileError(f"{where}: a picklist needs values")
    reference_to = spec.get("reference_to") or ()
    if isinstance(reference_to, str):
        reference_to = (reference_to,)
    if type_ == "reference" and not reference_to:
        raise SchemaFileError(f"{where}: a reference needs reference_to")
    formula = spec.get("formula")
    default = spec.get("default")
    kwargs: dict[str, Any] = {
        "name": name,
        "label": spec.get("label") or label_from_api_name(name),
        "type": type_,
        "length": int(spec.get("length") or _DEFAULT_LENGTHS.get(type_, 0)),
        "precision": int(
            spec.get("precision") or (18 if type_ in {"double", "currency", "percent"} else 0)
        ),
        "scale": int(spec.get("scale") or 0),
        "digits": int(spec.get("digits") or (9 if type_ == "int" else 0)),
        "nillable": not spec.get("required", False) and type_ != "boolean",
        "unique": bool(spec.get("unique", False)),
        "case_sensitive": bool(spec.get("case_sensitive", False)),
        "external_id": bool(spec.get("external_id", False)),
        "picklist_values": values,
        "restricted_picklist": bool(spec.get("restricted", False)),
        "reference_to": tuple(reference_to),
        "relationship_name": spec.get("relationship_name")
        or (name[:-3] + "__r" if type_ == "reference" else None),
        "child_relationship_name": spec.get("child_relationship_name"),
        "cascade_delete": bool(spec.get("cascade_delete", False)),
        "encrypted": bool(spec.get("encrypted", type_ == "encryptedstring")),
        "help_text": spec.get("help_text"),
        "custom": name.endswith("__c"),
        "groupable": type_ not in {"multipicklist", "textarea"},
        "sortable": type_ != "multipicklist",
    }
    if formula:
        kwargs.update(calculated=True, formula=str(formula), createable=False, updateable=False)
    else:
        kwargs["createable"] = bool(spec.get("createable", True))
        kwargs["updateable"] = bool(spec.get("updateable", True))
    if type_ == "boolean":
        kwargs.update(default_value=bool(default), defaulted_on_create=True)
    elif type_ in {"picklist", "multipicklist"} and default is not None:
        kwargs.update(default_picklist_value=str(default), defaulted_on_create=True)
    elif default is not None:
        kwargs.update(default_value=default, defaulted_on_create=True)
    return FieldDef(**kwargs)


def _validation_rule(spec: Any, where: str) -> ValidationRule:
    if not isinstance(spec, Mapping) or "name" not in spec or "error_message" not in spec:
        raise SchemaFileError(f"{where}: a validation rule needs a name and an error_message")
    where = f"{where} rule {spec['name']}"
    when = spec.get("when") or {}
    if not isinstance(when, Mapping):
        raise SchemaFileError(f"{where}: 'when' must map field names to values")
    common: dict[str, Any] = {
        "name": str(spec["name"]),
        "error_message": str(spec["error_message"]),
        "error_field": spec.get("error_field"),
        "when": tuple(when.items()),
        "active": bool(spec.get("active", True)),
    }
    if "require" in spec:
        return ValidationRule(kind="required", field=str(spec["require"]), **common)
    regex = spec.get("regex")
    if isinstance(regex, Mapping) and "field" in regex and "pattern" in regex:
        return ValidationRule(
            kind="regex", field=str(regex["field"]), pattern=str(regex["pattern"]), **common
        )
    raise SchemaFileError(f"{where}: say either 'require: FIELD' or 'regex: {{field, pattern}}'")


def _duplicate_rule(spec: Any, where: str) -> DuplicateRule:
    if not isinstance(spec, Mapping) or "name" not in spec or not spec.get("match_fields"):
        raise SchemaFileError(f"{where}: a duplicate rule needs a name and match_fields")
    kwargs: dict[str, Any] = {
        "name": str(spec["name"]),
        "match_fields": tuple(str(f) for f in spec["match_fields"]),
        "on_edit": bool(spec.get("on_edit", True)),
        "active": bool(spec.get("active", True)),
    }
    if spec.get("error_message"):
        kwargs["error_message"] = str(spec["error_message"])
    return DuplicateRule(**kwargs)
