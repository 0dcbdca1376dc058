"""describeGlobal and sObject describe results built from the schema.

Key names and value shapes follow the REST API Developer Guide ("Describe Global",
"sObject Describe") and the SOAP API's DescribeSObjectResult / Field objects.
"""

from __future__ import annotations

from typing import Any

from crmbridge.emulator.schema import FieldDef, SObjectDef

#: The Master record type every object has (Object Reference, "RecordType").
MASTER_RECORD_TYPE_ID = "012000000000000AAA"

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "address": "urn:address",
}


def object_urls(sobj: SObjectDef, version: str) -> dict[str, str]:
    """The ``urls`` of an object entry."""
    base = f"/services/data/v{version}/sobjects/{sobj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "listviews": f"{base}/listviews",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def global_entry(sobj: SObjectDef, version: str) -> dict[str, Any]:
    """One ``sobjects`` entry of describeGlobal (also ``objectDescribe`` of basic info)."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": sobj.createable,
        "custom": sobj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": sobj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": not sobj.custom,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": sobj.key_prefix,
        "label": sobj.label,
        "labelPlural": sobj.label_plural,
        "layoutable": sobj.createable,
        "mergeable": sobj.name in {"Account", "Contact", "Lead"},
        "mruEnabled": sobj.createable,
        "name": sobj.name,
        "queryable": sobj.queryable,
        "replicateable": sobj.replicateable,
        "retrieveable": True,
        "searchable": sobj.createable,
        "triggerable": sobj.createable,
        "undeletable": sobj.deletable,
        "updateable": sobj.updateable,
        "urls": object_urls(sobj, version),
    }


def describe_global(objects: list[SObjectDef], version: str) -> dict[str, Any]:
    """The describeGlobal body."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [global_entry(o, version) for o in objects],
    }


def _extra_type_info(sobj: SObjectDef, field: FieldDef) -> str | None:
    if field.type == "textarea":
        return "plaintextarea"
    if field.name == "Name" and sobj.full_name_parts:
        return "personname"
    return None


def describe_field(sobj: SObjectDef, field: FieldDef) -> dict[str, Any]:
    """One entry of a describe's ``fields``."""
    text_like = field.is_text or field.type in {"id", "reference"}
    picklist_values = [
        {
            "active": True,
            "defaultValue": value == field.default_picklist_value,
            "label": value,
            "validFor": None,
            "value": value,
        }
        for value in field.picklist_values
    ]
    default_value = field.default_value if field.type == "boolean" else None
    if field.type == "boolean":
        default_value = bool(field.default_value)
    return {
        "aggregatable": field.type not in {"textarea", "multipicklist", "address", "boolean"}
        or (field.type == "textarea" and field.length <= 255),
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": field.length * 3 if text_like else 0,
        "calculated": field.calculated,
        "calculatedFormula": field.formula if field.calculated else None,
        "cascadeDelete": False,
        "caseSensitive": field.case_sensitive,
        "compoundFieldName": field.compound_field_name,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": default_value,
        "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted_on_create or field.type == "boolean",
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": field.digits,
        "displayLocationInDecimal": False,
        "encrypted": field.encrypted,
        "externalId": field.external_id,
        "extraTypeInfo": _extra_type_info(sobj, field),
        "filterable": field.filterable and field.type not in {"address", "encryptedstring"},
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": field.groupable and field.type not in {"address", "double", "currency"},
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": field.name == "Id"
        or field.external_id
        or field.name in {"Email", "Username"}
        or (field.name_field and not field.calculated),
        "inlineHelpText": field.help_text,
        "label": field.label,
        "length": field.length if text_like else 0,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": field.name_field,
        "namePointing": field.polymorphic,
        "nillable": field.nillable,
        "permissionable": field.custom and field.nillable,
        "picklistValues": picklist_values,
        "polymorphicForeignKey": field.polymorphic,
        "precision": field.precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": field.restricted_picklist,
        "scale": field.scale,
        "searchPrefilterable": field.type == "reference",
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": field.sortable and field.type not in {"address", "multipicklist"},
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def record_type_infos(
    sobj: SObjectDef, version: str, record_types: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``recordTypeInfos``: the object's record types (rows of RecordType) plus Master."""
    base = f"/services/data/v{version}/sobjects/{sobj.name}/describe/layouts"
    declared = {rt.developer_name: rt for rt in sobj.record_types}
    infos = []
    for row in record_types:
        spec = declared.get(row["DeveloperName"])
        infos.append(
            {
                "active": bool(row.get("IsActive")),
                "available": True,
                "defaultRecordTypeMapping": bool(spec and spec.default),
                "developerName": row["DeveloperName"],
                "master": False,
                "name": row["Name"],
                "recordTypeId": row["Id"],
                "urls": {"layout": f"{base}/{row['Id']}"},
            }
        )
    infos.append(
        {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": not any(i["defaultRecordTypeMapping"] for i in infos),
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": MASTER_RECORD_TYPE_ID,
            "urls": {"layout": f"{base}/{MASTER_RECORD_TYPE_ID}"},
        }
    )
    return infos


def describe_sobject(
    sobj: SObjectDef, version: str, record_types: list[dict[str, Any]]
) -> dict[str, Any]:
    """The full ``sobjects/{Type}/describe`` body."""
    body = global_entry(sobj, version)
    body.update(
        actionOverrides=[],
        childRelationships=[
            {
                "cascadeDelete": child.cascade_delete,
                "childSObject": child.child_sobject,
                "deprecatedAndHidden": False,
                "field": child.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": child.relationship_name,
                "restrictedDelete": False,
            }
            for child in sobj.child_relationships
        ],
        compactLayoutable=sobj.createable,
        defaultImplementation=None,
        extendedBy=None,
        extendsInterfaces=None,
        fields=[describe_field(sobj, f) for f in sobj.fields],
        implementedBy=None,
        implementsInterfaces=None,
        listviewable=None,
        lookupLayoutable=None,
        namedLayoutInfos=[],
        networkScopeFieldName=None,
        recordTypeInfos=record_type_infos(sobj, version, record_types),
        searchLayoutable=sobj.createable,
        supportedScopes=[
            {"label": "All " + sobj.label_plural.lower(), "name": "everything"},
            {"label": "My " + sobj.label_plural.lower(), "name": "mine"},
        ]
        if sobj.has_owner
        else [],
    )
    return dict(sorted(body.items()))
