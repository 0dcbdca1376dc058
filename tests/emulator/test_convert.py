"""Lead conversion through the SOAP API's convertLead() over HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from emulator_http import API, RestClient, error_codes

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@pytest.fixture(scope="module")
def rest(emulator_info: dict[str, Any]) -> Iterator[RestClient]:
    client = RestClient(emulator_info)
    yield client
    client.http.close()


def _convert(
    rest: RestClient, converts: list[dict[str, Any]], session_id: str | None = None
) -> requests.Response:
    entries = "".join(
        "<urn:leadConverts>"
        + "".join(f"<urn:{key}>{value}</urn:{key}>" for key, value in item.items())
        + "</urn:leadConverts>"
        for item in converts
    )
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:urn="{PARTNER}">'
        "<soapenv:Header><urn:SessionHeader>"
        f"<urn:sessionId>{session_id or rest.token}</urn:sessionId>"
        "</urn:SessionHeader></soapenv:Header>"
        f"<soapenv:Body><urn:convertLead>{entries}</urn:convertLead></soapenv:Body>"
        "</soapenv:Envelope>"
    )
    return rest.http.post(
        rest.base + "/services/Soap/u/59.0",
        data=envelope.encode(),
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        timeout=30,
    )


def _results(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.content)
    results = []
    for node in root.iter(f"{{{PARTNER}}}result"):
        result: dict[str, Any] = {}
        for child in node:
            name = child.tag.split("}")[-1]
            if name == "errors":
                result["errors"] = {c.tag.split("}")[-1]: c.text for c in child}
            else:
                result[name] = None if child.get(XSI_NIL) == "true" else child.text
        results.append(result)
    return results


def _lead(rest: RestClient, **values: Any) -> str:
    tag = uuid.uuid4().hex[:8]
    body = {
        "FirstName": "Lena",
        "LastName": f"Lead {tag}",
        "Company": f"Company {tag}",
        "Email": f"lena.{tag}@example.org",
        "LeadSource": "Web",
        "City": "Springfield",
        "Membership_Status__c": "Active",
        "Platform_Id__c": f"lead-{tag}",
        **values,
    }
    response = rest.post(f"{API}/sobjects/Lead", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_convert_creates_account_contact_and_opportunity(rest: RestClient) -> None:
    lead_id = _lead(rest)
    lead = rest.get(f"{API}/sobjects/Lead/{lead_id}").json()
    (result,) = _results(
        _convert(rest, [{"leadId": lead_id, "convertedStatus": "Closed - Converted"}])
    )
    assert result["success"] == "true"
    assert result["leadId"] == lead_id
    account = rest.get(f"{API}/sobjects/Account/{result['accountId']}").json()
    assert account["Name"] == lead["Company"]
    assert account["BillingCity"] == "Springfield"
    contact = rest.get(f"{API}/sobjects/Contact/{result['contactId']}").json()
    assert contact["AccountId"] == result["accountId"]
    assert (contact["FirstName"], contact["LastName"], contact["Email"]) == (
        "Lena",
        lead["LastName"],
        lead["Email"],
    )
    assert contact["Membership_Status__c"] == "Active"
    assert contact["Platform_Id__c"] is None
    opportunity = rest.get(f"{API}/sobjects/Opportunity/{result['opportunityId']}").json()
    assert opportunity["Name"] == f"{lead['Company']}-"
    assert opportunity["StageName"] == "Prospecting"
    assert opportunity["AccountId"] == result["accountId"]
    converted = rest.get(f"{API}/sobjects/Lead/{lead_id}").json()
    assert converted["IsConverted"] is True
    assert converted["Status"] == "Closed - Converted"
    assert converted["ConvertedContactId"] == result["contactId"]
    assert converted["ConvertedAccountId"] == result["accountId"]
    assert converted["ConvertedOpportunityId"] == result["opportunityId"]
    assert converted["ConvertedDate"]


def test_converted_lead_is_read_only(rest: RestClient) -> None:
    lead_id = _lead(rest)
    _results(_convert(rest, [{"leadId": lead_id, "convertedStatus": "Closed - Converted"}]))
    update = rest.patch(f"{API}/sobjects/Lead/{lead_id}", json={"FirstName": "Changed"})
    assert update.status_code == 400
    assert error_codes(update) == ["CANNOT_UPDATE_CONVERTED_LEAD"]
    (again,) = _results(
        _convert(rest, [{"leadId": lead_id, "convertedStatus": "Closed - Converted"}])
    )
    assert again["success"] == "false"
    assert again["errors"]["statusCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_convert_into_existing_account_and_contact_without_opportunity(rest: RestClient) -> None:
    account = rest.post(f"{API}/sobjects/Account", json={"Name": "Existing Co"}).json()["id"]
    contact = rest.post(
        f"{API}/sobjects/Contact", json={"LastName": "Kept", "AccountId": account}
    ).json()["id"]
    lead_id = _lead(rest, Phone="(555) 010-0000")
    (result,) = _results(
        _convert(
            rest,
            [
                {
                    "leadId": lead_id,
                    "convertedStatus": "Closed - Converted",
                    "accountId": account,
                    "contactId": contact,
                    "doNotCreateOpportunity": "true",
                }
            ],
        )
    )
    assert result["success"] == "true"
    assert (result["accountId"], result["contactId"], result["opportunityId"]) == (
        account,
        contact,
        None,
    )
    merged = rest.get(f"{API}/sobjects/Contact/{contact}").json()
    assert merged["LastName"] == "Kept"  # existing values stay
    assert merged["Phone"] == "(555) 010-0000"  # blanks are filled from the lead
    assert rest.get(f"{API}/sobjects/Account/{account}").json()["Name"] == "Existing Co"


def test_each_entry_fails_on_its_own(rest: RestClient) -> None:
    good = _lead(rest)
    other_account = rest.post(f"{API}/sobjects/Account", json={"Name": "Other"}).json()["id"]
    stray_contact = rest.post(f"{API}/sobjects/Contact", json={"LastName": "Stray"}).json()["id"]
    results = _results(
        _convert(
            rest,
            [
                {"leadId": _lead(rest), "convertedStatus": "Working - Contacted"},
                {
                    "leadId": _lead(rest),
                    "convertedStatus": "Closed - Converted",
                    "accountId": other_account,
                    "contactId": stray_contact,
                },
                {"leadId": "00Q5g0000000000AAA", "convertedStatus": "Closed - Converted"},
                {"leadId": good, "convertedStatus": "Closed - Converted"},
            ],
        )
    )
    assert [r["success"] for r in results] == ["false", "false", "false", "true"]
    assert [r.get("errors", {}).get("statusCode") for r in results[:3]] == [
        "INVALID_STATUS",
        "INVALID_CROSS_REFERENCE_KEY",
        "INVALID_CROSS_REFERENCE_KEY",
    ]
    count = rest.get(
        f"{API}/query", params={"q": "SELECT COUNT() FROM Account WHERE Name = 'Other'"}
    ).json()["totalSize"]
    assert count == 1  # the failed entry created nothing


def test_bad_session_and_malformed_calls_get_soap_faults(rest: RestClient) -> None:
    lead_id = _lead(rest)
    denied = _convert(rest, [{"leadId": lead_id, "convertedStatus": "Closed - Converted"}], "nope")
    assert denied.status_code == 500
    assert b"<faultcode>sf:INVALID_SESSION_ID</faultcode>" in denied.content
    malformed = _convert(rest, [{"convertedStatus": "Closed - Converted"}])
    assert malformed.status_code == 500
    assert b"leadId" in malformed.content
    lead = rest.get(f"{API}/sobjects/Lead/{lead_id}").json()
    assert lead["IsConverted"] is False
