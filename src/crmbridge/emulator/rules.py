"""What Salesforce checks and fills in when a record is saved.

Order of checks follows Salesforce's order of execution (Apex Developer Guide,
"Triggers and Order of Execution"): system validation (required fields, types,
lengths, restricted picklists, lookups), then custom validation rules, then duplicate
rules, then the unique indexes at save time.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.schema import FieldDef, SObjectDef, ValidationRule
from crmbridge.emulator.values import coerce, format_datetime, parse_datetime

if TYPE_CHECKING:
    from crmbridge.emulator.store import OrgStore

_CLOSED_TASK_STATUSES = frozenset({"completed"})
_RESPONDED_MEMBER_STATUSES = frozenset({"responded"})


def quote(identifier: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + identifier.replace('"', '""') + '"'


def prepare_values(
    sobj: SObjectDef,
    values: Mapping[str, Any],
    *,
    creating: bool,
    system: bool,
    record_id: str | None = None,
) -> dict[str, Any]:
    """The stored form of the values a client sent, keyed by canonical API name.

    Raises INVALID_FIELD for an unknown field (naming the first one, as Salesforce
    does) and INVALID_FIELD_FOR_INSERT_UPDATE listing every read-only field sent.
    """
    prepared: dict[str, Any] = {}
    read_only: list[str] = []
    for key, raw in values.items():
        if key == "attributes":
            continue
        field = sobj.field(key)
        if field is None:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{key}' on sobject of type {sobj.name}",
                [key],
            )
        if field.name == "Id" and not system:
            if creating:
                raise SalesforceApiError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "Record ID: cannot specify Id in an insert call",
                    ["Id"],
                )
            continue
        writable = field.createable if creating else field.updateable
        if not writable and not system:
            read_only.append(field.name)
            continue
        prepared[field.name] = coerce(field, raw)
    if read_only:
        raise SalesforceApiError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(read_only)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            read_only,
        )
    return prepared


def new_record(sobj: SObjectDef, *, record_id: str, now: str, user_id: str) -> dict[str, Any]:
    """A record with every stored field at its create-time default."""
    record: dict[str, Any] = {}
    for field in sobj.stored_fields:
        value: Any = None
        if field.type == "boolean":
            value = int(bool(field.default_value))
        elif field.default_picklist_value is not None:
            value = field.default_picklist_value
        elif field.default_value is not None:
            value = coerce(field, field.default_value)
        record[field.name] = value
    record.update(
        Id=record_id,
        IsDeleted=0,
        CreatedDate=now,
        CreatedById=user_id,
        LastModifiedDate=now,
        LastModifiedById=user_id,
        SystemModstamp=now,
    )
    if sobj.has_owner:
        record["OwnerId"] = user_id
    return record


def derive(
    store: OrgStore, sobj: SObjectDef, record: dict[str, Any], changed: set[str], *, now: str
) -> None:
    """Fill the fields Salesforce computes on save (full names, stage flags …)."""
    if sobj.full_name_parts:
        parts = (record.get(p) for p in sobj.full_name_parts)
        record["Name"] = " ".join(str(p) for p in parts if p) or None
    name = sobj.name
    if name == "Opportunity" and ("StageName" in changed or record.get("IsClosed") is None):
        stage = store.stage(record.get("StageName"))
        if stage is not None:
            record["IsClosed"] = int(bool(stage["IsClosed"]))
            record["IsWon"] = int(bool(stage["IsWon"]))
            if "ForecastCategoryName" not in changed:
                record["ForecastCategoryName"] = stage["ForecastCategoryName"]
            if "Probability" not in changed:
                record["Probability"] = stage["DefaultProbability"]
    elif name == "Task" and "Status" in changed:
        closed = str(record.get("Status") or "").lower() in _CLOSED_TASK_STATUSES
        if closed and not record.get("IsClosed"):
            record["CompletedDateTime"] = now
        elif not closed:
            record["CompletedDateTime"] = None
        record["IsClosed"] = int(closed)
    elif name == "CampaignMember" and "Status" in changed:
        responded = str(record.get("Status") or "").lower() in _RESPONDED_MEMBER_STATUSES
        if responded and not record.get("FirstRespondedDate"):
            record["FirstRespondedDate"] = now[:10]
        record["HasResponded"] = int(responded)
    elif name == "Event":
        _derive_event_times(record)


def _derive_event_times(record: dict[str, Any]) -> None:
    """Keep an Event's ActivityDateTime/Start/End/Duration consistent, as Salesforce does."""
    start = record.get("StartDateTime") or record.get("ActivityDateTime")
    if start is None:
        return
    record["StartDateTime"] = record["ActivityDateTime"] = start
    record["ActivityDate"] = start[:10]
    start_at = parse_datetime(start)
    end = record.get("EndDateTime")
    duration = record.get("DurationInMinutes")
    if start_at is None:
        return
    if end is not None and (end_at := parse_datetime(end)) is not None:
        record["DurationInMinutes"] = int((end_at - start_at).total_seconds() // 60)
    elif duration is not None:
        record["EndDateTime"] = format_datetime(start_at + timedelta(minutes=int(duration)))


def check_record(
    store: OrgStore,
    conn: sqlite3.Connection,
    sobj: SObjectDef,
    record: dict[str, Any],
    changed: set[str],
    *,
    creating: bool,
) -> None:
    """Raise the first error Salesforce would report for saving ``record``."""
    _check_required(sobj, record)
    for name in sorted(changed):
        field = sobj.field(name)
        if field is None or record.get(field.name) is None:
            continue
        record[field.name] = _check_value(field, record[field.name])
        if field.type == "reference":
            _check_reference(store, conn, field, record[field.name])
    _check_validation_rules(sobj, record)
    _check_duplicate_rules(store, conn, sobj, record, changed, creating=creating)
    _check_unique_fields(conn, sobj, record, changed)
    if sobj.name == "CampaignMember":
        _check_campaign_member(conn, record, creating=creating)


def _check_required(sobj: SObjectDef, record: Mapping[str, Any]) -> None:
    missing = [
        f.name
        for f in sobj.stored_fields
        if not f.nillable
        and f.type != "boolean"
        and (f.createable or f.updateable)
        and record.get(f.name) is None
    ]
    if sobj.name == "Event" and record.get("StartDateTime") is None:
        missing.append("ActivityDateTime")
    elif sobj.name == "Event" and record.get("EndDateTime") is None:
        missing.append("DurationInMinutes")
    if missing:
        # REST API Developer Guide, "Status Codes and Error Responses".
        raise SalesforceApiError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )


def _check_value(field: FieldDef, value: Any) -> Any:
    """The value with restricted picklist values in their canonical case; raise if invalid."""
    if field.type in {"picklist", "multipicklist"} and field.restricted_picklist:
        allowed = {v.lower(): v for v in field.picklist_values}
        items = value.split(";") if field.type == "multipicklist" else [value]
        canonical = []
        for item in items:
            if item.lower() not in allowed:
                raise SalesforceApiError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{field.label}: bad value for restricted picklist field: {item}",
                    [field.name],
                )
            canonical.append(allowed[item.lower()])
        value = ";".join(canonical)
    if field.is_text and field.length and len(value) > field.length:
        raise SalesforceApiError(
            400,
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {value} (max length={field.length})",
            [field.name],
        )
    return value


def _check_reference(
    store: OrgStore, conn: sqlite3.Connection, field: FieldDef, value: str
) -> None:
    target = store.schema.object_for_id(value)
    if target is None or target.name.lower() not in {t.lower() for t in field.reference_to}:
        raise SalesforceApiError(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            f"{field.label}: id value of incorrect type: {value}",
            [field.name],
        )
    row = conn.execute(
        f'SELECT "IsDeleted" FROM {quote(target.name)} WHERE "Id" = ?', (value,)
    ).fetchone()
    if row is None:
        raise SalesforceApiError(
            400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field.name]
        )
    if row[0]:
        raise SalesforceApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [field.name])


def _condition_holds(actual: Any, expected: Any) -> bool:
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return bool(actual) == expected
    if actual is None:
        return False
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    return str(actual).lower() == str(expected).lower()


def _rule_applies(rule: ValidationRule, record: Mapping[str, Any], sobj: SObjectDef) -> bool:
    for name, expected in rule.when:
        field = sobj.field(name)
        if field is None or not _condition_holds(record.get(field.name), expected):
            return False
    return True


def _check_validation_rules(sobj: SObjectDef, record: Mapping[str, Any]) -> None:
    for rule in sobj.validation_rules:
        if not rule.active or not _rule_applies(rule, record, sobj):
            continue
        field = sobj.field(rule.field)
        value = record.get(field.name) if field else None
        violated = False
        if rule.kind == "required":
            violated = value is None
        elif rule.kind == "regex" and value is not None:
            violated = re.fullmatch(rule.pattern or "", str(value)) is None
        if violated:
            raise SalesforceApiError(
                400,
                "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                rule.error_message,
                [rule.error_field] if rule.error_field else [],
            )


def _check_duplicate_rules(
    store: OrgStore,
    conn: sqlite3.Connection,
    sobj: SObjectDef,
    record: Mapping[str, Any],
    changed: set[str],
    *,
    creating: bool,
) -> None:
    for rule in sobj.duplicate_rules:
        if not rule.active or (not creating and not rule.on_edit):
            continue
        fields = [sobj.field(n) for n in rule.match_fields]
        if any(f is None for f in fields):
            continue
        names = [f.name for f in fields if f is not None]
        if not creating and not changed.intersection(names):
            continue
        values = [record.get(n) for n in names]
        if any(v is None for v in values):
            continue
        where = " AND ".join(f"{quote(n)} = ? COLLATE NOCASE" for n in names)
        rows = conn.execute(
            f'SELECT "Id" FROM {quote(sobj.name)} WHERE "IsDeleted" = 0 AND "Id" != ? '
            f"AND {where} LIMIT 10",
            (record["Id"], *values),
        ).fetchall()
        if rows:
            raise duplicates_detected(sobj, rule.name, rule.error_message, [r[0] for r in rows])


def duplicates_detected(
    sobj: SObjectDef, rule_name: str, message: str, matching_ids: list[str]
) -> SalesforceApiError:
    """DUPLICATES_DETECTED with the ``duplicateResult`` Salesforce attaches to it.

    Shape from the SOAP/REST ``DuplicateResult`` and ``MatchResult`` objects (SOAP API
    Developer Guide, "DuplicateResult").
    """
    match_records = [
        {
            "additionalInformation": [],
            "fieldDiffs": [],
            "matchConfidence": 100.0,
            "record": {"attributes": {"type": sobj.name}, "Id": record_id},
        }
        for record_id in matching_ids
    ]
    duplicate_result = {
        "allowSave": False,
        "duplicateRule": rule_name,
        "duplicateRuleEntityType": sobj.name,
        "errorMessage": message,
        "matchResults": [
            {
                "entityType": sobj.name,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": match_records,
                "rule": f"{rule_name}_Match",
                "size": len(match_records),
                "success": True,
            }
        ],
    }
    return SalesforceApiError(
        400,
        "DUPLICATES_DETECTED",
        message,
        [],
        extra={"duplicateResult": duplicate_result},
        matching_ids=matching_ids,
    )


def _check_unique_fields(
    conn: sqlite3.Connection, sobj: SObjectDef, record: Mapping[str, Any], changed: set[str]
) -> None:
    for name in changed:
        field = sobj.field(name)
        if field is None or not field.unique or record.get(field.name) is None:
            continue
        collate = "" if field.case_sensitive else " COLLATE NOCASE"
        row = conn.execute(
            f'SELECT "Id" FROM {quote(sobj.name)} WHERE "IsDeleted" = 0 AND "Id" != ? '
            f"AND {quote(field.name)} = ?{collate} LIMIT 1",
            (record["Id"], record[field.name]),
        ).fetchone()
        if row is not None:
            raise SalesforceApiError(
                400,
                "DUPLICATE_VALUE",
                f"duplicate value found: {field.name} duplicates value on record with id: {row[0]}",
                [],
            )


def _check_campaign_member(
    conn: sqlite3.Connection, record: Mapping[str, Any], *, creating: bool
) -> None:
    if record.get("ContactId") is None and record.get("LeadId") is None:
        raise SalesforceApiError(
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [ContactId, LeadId]",
            ["ContactId", "LeadId"],
        )
    if not creating:
        return
    for person in ("ContactId", "LeadId"):
        if record.get(person) is None:
            continue
        row = conn.execute(
            f'SELECT "Id" FROM "CampaignMember" WHERE "IsDeleted" = 0 AND "CampaignId" = ? '
            f"AND {quote(person)} = ? LIMIT 1",
            (record["CampaignId"], record[person]),
        ).fetchone()
        if row is not None:
            raise SalesforceApiError(400, "DUPLICATE_VALUE", "Already a campaign member.", [])
