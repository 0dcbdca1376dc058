"""Lead conversion: the SOAP API ``convertLead()`` call.

SOAP API Developer Guide, "convertLead()", "LeadConvert" and "LeadConvertResult":
each ``leadConverts`` entry (up to 100 per call) converts one lead into a contact on
an account, creating the account and contact unless ``accountId``/``contactId`` name
existing ones (existing records keep their values; only their blank fields are
filled from the lead), and creating an opportunity unless ``doNotCreateOpportunity``
is true or ``opportunityId`` names an existing one. The lead becomes read-only:
``IsConverted``, ``ConvertedDate``, ``ConvertedAccountId``, ``ConvertedContactId``,
``ConvertedOpportunityId`` and ``Status = convertedStatus`` are set, and later updates
fail with CANNOT_UPDATE_CONVERTED_LEAD (enforced by the store). Each entry succeeds or
fails on its own; the answer lists one ``result`` per entry in request order.

The call arrives on the SOAP endpoint (``/services/Soap/u|c/{version}[/orgId]``),
authenticated by the ``SessionHeader``'s ``sessionId``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.http import emulator
from crmbridge.emulator.ids import normalize_id

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext
    from crmbridge.emulator.store_writes import StoreTransaction

_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_NAMESPACES = {"u": "urn:partner.soap.sforce.com", "c": "urn:enterprise.soap.sforce.com"}
_FAULT_NAMESPACES = {
    "u": "urn:fault.partner.soap.sforce.com",
    "c": "urn:fault.enterprise.soap.sforce.com",
}
_XML_HEADERS = {"Content-Type": "text/xml;charset=UTF-8"}
#: convertLead accepts at most 100 LeadConvert objects per call.
MAX_CONVERTS = 100

#: Lead fields copied to the new Account (standard lead field mapping).
_ACCOUNT_MAP = {
    "Company": "Name",
    "Street": "BillingStreet",
    "City": "BillingCity",
    "State": "BillingState",
    "PostalCode": "BillingPostalCode",
    "Country": "BillingCountry",
    "Phone": "Phone",
    "Fax": "Fax",
    "Website": "Website",
    "Industry": "Industry",
    "AnnualRevenue": "AnnualRevenue",
    "NumberOfEmployees": "NumberOfEmployees",
    "Rating": "Rating",
    "LeadSource": "AccountSource",
}
#: Lead fields copied to the new Contact.
_CONTACT_MAP = {
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Salutation": "Salutation",
    "Title": "Title",
    "Email": "Email",
    "Phone": "Phone",
    "MobilePhone": "MobilePhone",
    "Fax": "Fax",
    "Street": "MailingStreet",
    "City": "MailingCity",
    "State": "MailingState",
    "PostalCode": "MailingPostalCode",
    "Country": "MailingCountry",
    "LeadSource": "LeadSource",
    "Description": "Description",
    "HasOptedOutOfEmail": "HasOptedOutOfEmail",
    "DoNotCall": "DoNotCall",
}
#: Custom fields never copied: the platform id identifies the lead, not the contact.
_NOT_COPIED = {"platform_id__c"}


@dataclass(frozen=True, kw_only=True)
class LeadConvert:
    """One ``leadConverts`` entry."""

    lead_id: str
    converted_status: str
    account_id: str | None = None
    contact_id: str | None = None
    opportunity_id: str | None = None
    opportunity_name: str | None = None
    owner_id: str | None = None
    do_not_create_opportunity: bool = False
    overwrite_lead_source: bool = False


@dataclass(frozen=True)
class LeadConvertResult:
    lead_id: str | None
    account_id: str | None = None
    contact_id: str | None = None
    opportunity_id: str | None = None
    error: SalesforceApiError | None = None


def converted_statuses(ctx: EmulatorContext) -> set[str]:
    """Lead statuses that mark a lead converted (LeadStatus.IsConverted)."""
    lead = ctx.schema.get("Lead")
    status = lead.field("Status") if lead is not None else None
    values = status.picklist_values if status is not None else ()
    return {v for v in values if "converted" in v.lower() and "not converted" not in v.lower()}


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _copy_custom_fields(
    ctx: EmulatorContext, lead: Mapping[str, Any], target: str
) -> dict[str, Any]:
    """Lead custom fields with a same-named custom field on ``target`` (the field mapping)."""
    sobj = ctx.schema.get(target)
    lead_def = ctx.schema.get("Lead")
    assert sobj is not None
    assert lead_def is not None
    copied = {}
    for name, value in lead.items():
        lead_field = lead_def.field(name)
        if lead_field is None or not lead_field.custom or name.lower() in _NOT_COPIED:
            continue
        target_field = sobj.field(name)
        if (
            target_field is not None
            and target_field.createable
            and target_field.type == lead_field.type
        ):
            copied[target_field.name] = value
    return copied


def _fill_blanks(
    tx: StoreTransaction, sobject: str, record_id: str, values: Mapping[str, Any]
) -> None:
    """Copy values into an existing record's blank fields only."""
    sobj = tx.store.sobject(sobject)
    existing = tx.fetch(sobj, record_id) or {}
    updates = {
        k: v
        for k, v in values.items()
        if not _blank(v)
        and _blank(existing.get(k))
        and (f := sobj.field(k)) is not None
        and f.updateable
        and f.type != "boolean"
    }
    if updates:
        tx.update(sobject, record_id, updates)


def _end_of_quarter(today: dt.date) -> dt.date:
    quarter_end_month = ((today.month - 1) // 3 + 1) * 3
    next_month = dt.date(today.year + quarter_end_month // 12, quarter_end_month % 12 + 1, 1)
    return next_month - dt.timedelta(days=1)


def _existing(tx: StoreTransaction, sobject: str, raw_id: str, label: str) -> str:
    record_id = normalize_id(raw_id)
    sobj = tx.store.sobject(sobject)
    record = tx.fetch(sobj, record_id) if record_id else None
    if record_id is None or record is None or record["IsDeleted"]:
        raise SalesforceApiError(
            400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {label} {raw_id}"
        )
    return record_id


def convert_one(ctx: EmulatorContext, tx: StoreTransaction, item: LeadConvert) -> LeadConvertResult:
    """Convert one lead inside ``tx``; raise :class:`SalesforceApiError` on failure."""
    lead_def = tx.store.sobject("Lead")
    lead_id = normalize_id(item.lead_id)
    lead = tx.fetch(lead_def, lead_id) if lead_id else None
    if lead_id is None or lead is None or lead["IsDeleted"]:
        raise SalesforceApiError(
            400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: leadId {item.lead_id}"
        )
    if lead["IsConverted"]:
        raise SalesforceApiError(
            400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead"
        )
    statuses = converted_statuses(ctx)
    if item.converted_status not in statuses:
        raise SalesforceApiError(
            400, "INVALID_STATUS", f"invalid convertedStatus: {item.converted_status}"
        )
    owner = item.owner_id or lead.get("OwnerId")
    today = ctx.clock.now().date()

    account_values = {
        target: lead.get(source)
        for source, target in _ACCOUNT_MAP.items()
        if not _blank(lead.get(source))
    }
    account_values.update(_copy_custom_fields(ctx, lead, "Account"))
    if item.account_id:
        account_id = _existing(tx, "Account", item.account_id, "accountId")
        account_values.pop("Name", None)
        _fill_blanks(tx, "Account", account_id, account_values)
    else:
        account_id = tx.create("Account", {**account_values, "OwnerId": owner})

    contact_values = {
        target: lead.get(source)
        for source, target in _CONTACT_MAP.items()
        if not _blank(lead.get(source))
    }
    contact_values.update(_copy_custom_fields(ctx, lead, "Contact"))
    if item.contact_id:
        contact_id = _existing(tx, "Contact", item.contact_id, "contactId")
        contact = tx.fetch(tx.store.sobject("Contact"), contact_id) or {}
        if contact.get("AccountId") != account_id:
            raise SalesforceApiError(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                "Contact is not associated with the account specified in accountId",
            )
        lead_source = contact_values.pop("LeadSource", None)
        _fill_blanks(tx, "Contact", contact_id, contact_values)
        if item.overwrite_lead_source and lead_source:
            tx.update("Contact", contact_id, {"LeadSource": lead_source})
    else:
        contact_id = tx.create(
            "Contact", {**contact_values, "AccountId": account_id, "OwnerId": owner}
        )

    opportunity_id: str | None = None
    if item.opportunity_id:
        opportunity_id = _existing(tx, "Opportunity", item.opportunity_id, "opportunityId")
    elif not item.do_not_create_opportunity:
        opportunity_id = tx.create(
            "Opportunity",
            {
                # Salesforce's default opportunity name is the company followed by "-".
                "Name": item.opportunity_name or f"{lead.get('Company')}-",
                "AccountId": account_id,
                "StageName": _first_open_stage(ctx),
                "CloseDate": _end_of_quarter(today).isoformat(),
                "LeadSource": lead.get("LeadSource"),
                "OwnerId": owner,
            },
        )
    tx.update(
        "Lead",
        lead_id,
        {
            "Status": item.converted_status,
            "IsConverted": True,
            "ConvertedDate": today.isoformat(),
            "ConvertedAccountId": account_id,
            "ConvertedContactId": contact_id,
            "ConvertedOpportunityId": opportunity_id,
        },
        system=True,
    )
    return LeadConvertResult(
        lead_id=lead_id, account_id=account_id, contact_id=contact_id, opportunity_id=opportunity_id
    )


def _first_open_stage(ctx: EmulatorContext) -> str:
    from crmbridge.emulator.schema_default import DEFAULT_STAGES

    return next(name for name, _p, _f, closed, _w in DEFAULT_STAGES if not closed)


def convert_leads(
    ctx: EmulatorContext, user_id: str, items: list[LeadConvert]
) -> list[LeadConvertResult]:
    """Convert each entry in its own savepoint of one transaction."""
    results: list[LeadConvertResult] = []
    with ctx.store.transaction(user_id=user_id) as tx:
        for item in items:
            try:
                with tx.savepoint():
                    results.append(convert_one(ctx, tx, item))
            except SalesforceApiError as error:
                results.append(LeadConvertResult(lead_id=normalize_id(item.lead_id), error=error))
    return results


# --- SOAP ----------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _flag(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1")


def parse_convert_lead(call: Element) -> list[LeadConvert]:
    """The ``leadConverts`` of a ``convertLead`` element; ``ValueError`` if malformed."""
    items = []
    for entry in call:
        if _local(entry.tag) != "leadConverts":
            raise ValueError(f"Unexpected element {_local(entry.tag)} in convertLead")
        values = {
            _local(child.tag): (child.text or "").strip()
            for child in entry
            if child.get("{http://www.w3.org/2001/XMLSchema-instance}nil") != "true"
        }
        if not values.get("leadId"):
            raise ValueError("leadConverts requires leadId")
        if not values.get("convertedStatus"):
            raise ValueError("leadConverts requires convertedStatus")
        items.append(
            LeadConvert(
                lead_id=values["leadId"],
                converted_status=values["convertedStatus"],
                account_id=values.get("accountId") or None,
                contact_id=values.get("contactId") or None,
                opportunity_id=values.get("opportunityId") or None,
                opportunity_name=values.get("opportunityName") or None,
                owner_id=values.get("ownerId") or None,
                do_not_create_opportunity=_flag(values.get("doNotCreateOpportunity")),
                overwrite_lead_source=_flag(values.get("overwriteLeadSource")),
            )
        )
    if not items:
        raise ValueError("convertLead requires at least one leadConverts")
    if len(items) > MAX_CONVERTS:
        raise ValueError(f"convertLead accepts at most {MAX_CONVERTS} leadConverts")
    return items


def _fault(api: str, code: str, message: str, detail: str = "UnexpectedErrorFault") -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" xmlns:sf="{_FAULT_NAMESPACES[api]}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{escape(code)}</faultcode>"
        f"<faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:{detail} xsi:type="sf:{detail}">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{detail}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=500, headers=_XML_HEADERS)


def _id_tag(name: str, value: str | None) -> str:
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    return f"<{name}>{escape(value)}</{name}>"


def _result_xml(result: LeadConvertResult) -> str:
    errors = ""
    if result.error is not None:
        fields = "".join(f"<fields>{escape(f)}</fields>" for f in result.error.fields)
        errors = (
            f"<errors>{fields}<message>{escape(result.error.message)}</message>"
            f"<statusCode>{escape(result.error.error_code)}</statusCode></errors>"
        )
    return (
        "<result>"
        + _id_tag("accountId", result.account_id)
        + _id_tag("contactId", result.contact_id)
        + errors
        + _id_tag("leadId", result.lead_id)
        + _id_tag("opportunityId", result.opportunity_id)
        + f"<success>{'false' if result.error else 'true'}</success>"
        + "</result>"
    )


def _session_id(envelope: Element, api: str) -> str | None:
    header = envelope.find(f"{{{_SOAP_ENV}}}Header")
    if header is None:
        return None
    for element in header.iter():
        if _local(element.tag) == "sessionId":
            return (element.text or "").strip() or None
    return None


async def convert_lead_call(
    request: Request, envelope: Element, api: str, version: str
) -> Response:
    """Answer a ``convertLead`` SOAP call (``soap.py`` dispatches it here)."""
    ctx = emulator(request)
    token = _session_id(envelope, api)
    session = ctx.auth.session_for_token(token) if token else None
    if session is None:
        return _fault(
            api, "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
        )
    try:
        ctx.limits.count_call("soap/convertLead")
        await ctx.faults.before_call(write=True)
    except SalesforceApiError as error:
        return _fault(api, error.error_code, error.message)
    body = envelope.find(f"{{{_SOAP_ENV}}}Body")
    assert body is not None
    try:
        items = parse_convert_lead(body[0])
    except ValueError as exc:
        return _fault(api, "INVALID_XML", str(exc))
    results = await run_in_threadpool(convert_leads, ctx, session.user_id, items)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" xmlns="{_NAMESPACES[api]}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Header><LimitInfoHeader><limitInfo>"
        f"<current>{ctx.limits.used()}</current><limit>{ctx.limits.quota()}</limit>"
        "<type>API REQUESTS</type></limitInfo></LimitInfoHeader></soapenv:Header>"
        "<soapenv:Body><convertLeadResponse>"
        + "".join(_result_xml(r) for r in results)
        + "</convertLeadResponse></soapenv:Body></soapenv:Envelope>"
    )
    return Response(xml, headers=_XML_HEADERS)
