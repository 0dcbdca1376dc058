"""Reading Outbound Messages and webhook requests (pure code, no store)."""

from __future__ import annotations

import json

import pytest

from crmbridge.emulator.outbound_soap import (
    Notification,
    build_notifications_envelope,
    is_acknowledged,
)
from crmbridge.push.soap import (
    MalformedMessage,
    ack_response,
    fault_response,
    parse_outbound_message,
    same_org_id,
)
from crmbridge.push.webhook import (
    InvalidPayload,
    SignatureRejected,
    check_timestamp,
    parse_signature_header,
    parse_webhook_payload,
    signature_header,
    signature_matches,
)

pytestmark = pytest.mark.storeless

ORG = "00DHs0000000001AAA"

#: A message as the SOAP API Developer Guide shows one (prefixes as Salesforce sends them).
DOC_SAMPLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00DHs0000000001AAA</OrganizationId>
   <ActionId>04kHs0000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/59.0/00DHs0000000001</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/00DHs0000000001</PartnerUrl>
   <Notification>
    <Id>04lHs0000000001AAA</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>003Hs00000AbCdEIAV</sf:Id>
     <sf:LastName>Lovelace &amp; Co</sf:LastName>
     <sf:Phone xsi:nil="true"/>
     <sf:HasOptedOutOfEmail>false</sf:HasOptedOutOfEmail>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


def test_a_documented_message_is_read_with_every_field() -> None:
    message = parse_outbound_message(DOC_SAMPLE)
    assert message.organization_id == ORG
    assert message.action_id == "04kHs0000000001AAA"
    assert message.session_id is None
    assert message.partner_url.endswith("/services/Soap/u/59.0/00DHs0000000001")
    [note] = message.notifications
    assert note.notification_id == "04lHs0000000001AAA"
    assert note.sobject == "Contact"
    assert note.record_id == "003Hs00000AbCdEIAV"
    assert note.fields == {
        "Id": "003Hs00000AbCdEIAV",
        "LastName": "Lovelace & Co",
        "Phone": None,
        "HasOptedOutOfEmail": "false",
    }


def test_the_emulators_envelope_reads_the_same_way() -> None:
    body = build_notifications_envelope(
        organization_id=ORG,
        action_id="04kHs0000000002AAA",
        session_id="00DHs!AQ.session",
        enterprise_url="https://x/c",
        partner_url="https://x/u",
        notifications=[
            Notification(
                id=f"04lHs000000000{i}AAA",
                sobject="Account",
                fields={"Id": f"001Hs00000AbCd{i}IAV", "Name": f"Org {i}", "Phone": None},
            )
            for i in range(3)
        ],
    )
    message = parse_outbound_message(body)
    assert message.session_id == "00DHs!AQ.session"
    assert [n.sobject for n in message.notifications] == ["Account"] * 3
    assert [n.fields["Name"] for n in message.notifications] == ["Org 0", "Org 1", "Org 2"]
    assert "Phone" not in message.notifications[0].fields


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"not xml at all", "not acceptable XML"),
        (b"<a><b></a>", "not acceptable XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "not acceptable XML"),
        (b"<Envelope/>", "not a SOAP 1.1 envelope"),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>',
            "has no Body",
        ),
        (
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
            b"<notifications/></e:Body></e:Envelope>",
            "no notifications element",
        ),
        (DOC_SAMPLE.replace(b"00DHs0000000001AAA</Org", b"</Org"), "no OrganizationId"),
        (DOC_SAMPLE.replace(b"<sf:Id>003Hs00000AbCdEIAV</sf:Id>", b""), "no valid record Id"),
        (DOC_SAMPLE.replace(b'xsi:type="sf:Contact"', b""), "without a valid xsi:type"),
        (
            DOC_SAMPLE.replace(
                b"<sf:Phone xsi:nil",
                b"<sf:Account><sf:Name>x</sf:Name></sf:Account><sf:Phone xsi:nil",
            ),
            "nested element Account",
        ),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        parse_outbound_message(body)


def test_more_than_100_notifications_are_refused() -> None:
    one = DOC_SAMPLE.split(b"<Notification>")[1].split(b"</Notification>")[0]
    many = b"".join(b"<Notification>" + one + b"</Notification>" for _ in range(101))
    head, tail = DOC_SAMPLE.split(b"<Notification>")[0], DOC_SAMPLE.split(b"</Notification>")[1]
    with pytest.raises(MalformedMessage, match="at most 100"):
        parse_outbound_message(head + many + tail)


def test_the_ack_is_what_salesforce_counts_as_delivered() -> None:
    assert is_acknowledged(ack_response())
    assert not is_acknowledged(fault_response("db down", client=False))
    assert b"soapenv:Client" in fault_response("bad <xml>", client=True)
    assert b"bad &lt;xml&gt;" in fault_response("bad <xml>", client=True)


def test_org_ids_compare_in_15_and_18_character_forms() -> None:
    assert same_org_id(ORG, ORG)
    assert same_org_id(ORG, ORG[:15])
    assert not same_org_id(ORG, "00DHs0000000002AAA")
    assert not same_org_id(ORG, ORG[:15].lower())


# --- webhook ------------------------------------------------------------------------------

SECRET = "whsec_test_secret"


def test_a_signed_body_verifies_and_a_changed_body_does_not() -> None:
    body = b'{"object": "Contact"}'
    header = parse_signature_header(signature_header(SECRET, timestamp=1_700_000_000, body=body))
    assert signature_matches(SECRET, header, body=body)
    assert not signature_matches(SECRET, header, body=body + b" ")
    assert not signature_matches("another secret", header, body=body)


def test_the_timestamp_is_signed_too() -> None:
    body = b"{}"
    good = signature_header(SECRET, timestamp=1_700_000_000, body=body)
    moved = good.replace("t=1700000000", "t=1700000100")
    assert not signature_matches(SECRET, parse_signature_header(moved), body=body)


@pytest.mark.parametrize("value", [None, "", "v1=abc", "t=12", "t=x,v1=" + "a" * 64, "t=1,v1=zz"])
def test_malformed_signature_headers_are_refused(value: str | None) -> None:
    with pytest.raises(SignatureRejected):
        parse_signature_header(value)


def test_requests_outside_the_replay_window_are_refused() -> None:
    header = parse_signature_header(signature_header(SECRET, timestamp=1_000_000, body=b""))
    check_timestamp(header, now_seconds=1_000_000 + 299)
    check_timestamp(header, now_seconds=1_000_000 - 299)
    with pytest.raises(SignatureRejected, match="300 seconds"):
        check_timestamp(header, now_seconds=1_000_000 + 301)
    with pytest.raises(SignatureRejected):
        check_timestamp(header, now_seconds=1_000_000 - 301)


def _payload(**data: object) -> bytes:
    return json.dumps({"organization_id": ORG, "object": "Contact", **data}).encode()


def test_records_and_ids_payloads_are_read() -> None:
    records = parse_webhook_payload(
        _payload(
            records=[
                {
                    "attributes": {"type": "Contact"},
                    "Id": "003Hs00000AbCdEIAV",
                    "LastName": "X",
                    "Age__c": 3,
                    "Account": {"attributes": {"type": "Account"}, "Name": "Acme"},
                }
            ],
            event_id="evt-1",
        )
    )
    assert records.records == (
        (
            "003Hs00000AbCdEIAV",
            {"Id": "003Hs00000AbCdEIAV", "LastName": "X", "Age__c": 3, "Account": {"Name": "Acme"}},
        ),
    )
    assert records.event_id == "evt-1"
    ids = parse_webhook_payload(_payload(ids=["003Hs00000AbCdE", "003Hs00000AbCdFIAV"]))
    assert ids.records == (("003Hs00000AbCdE", {}), ("003Hs00000AbCdFIAV", {}))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not JSON"),
        (b"[]", "JSON object"),
        (_payload(ids=["003Hs00000AbCdEIAV"], extra=1), "unknown keys: extra"),
        (
            json.dumps({"object": "Contact", "ids": ["003Hs00000AbCdEIAV"]}).encode(),
            "organization_id",
        ),
        (_payload(object="Contact; DROP", ids=["003Hs00000AbCdEIAV"]), "API name"),
        (_payload(), "either records or ids"),
        (_payload(ids=[], records=[]), "either records or ids"),
        (_payload(ids=[]), "non-empty list"),
        (_payload(ids=["x"]), r"ids\[0\] is not a Salesforce id"),
        (_payload(ids=["003Hs00000AbCdEIAV"] * 201), "at most 200"),
        (_payload(records=[{"LastName": "x"}]), "no valid Id"),
        (_payload(records=[{"Id": "003Hs00000AbCdEIAV", "Contacts": [{"Id": "x"}]}]), "lists"),
        (
            _payload(
                records=[{"Id": "003Hs00000AbCdEIAV", "A": {"B": {"C": {"D": {"E": {"F": {}}}}}}}]
            ),
            "at most 5 levels",
        ),
        (_payload(records=[{"Id": "003Hs00000AbCdEIAV", "Account": {"bad name": 1}}]), "Account"),
        (_payload(records=[{"Id": "003Hs00000AbCdEIAV", "bad name": 1}]), "invalid field name"),
        (_payload(ids=["003Hs00000AbCdEIAV"], event_id=""), "event_id"),
    ],
)
def test_bad_webhook_payloads_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidPayload, match=reason):
        parse_webhook_payload(body)
