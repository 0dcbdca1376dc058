"""The SOAP messages of Outbound Messaging: the ``notifications`` envelope and its Ack.

Shapes from the SOAP API Developer Guide, "Outbound Messaging" and "Understanding the
Outbound Messaging WSDL": the body element ``notifications`` in the namespace
``http://soap.sforce.com/2005/09/outbound`` holds OrganizationId, ActionId, SessionId
(nillable), EnterpriseUrl, PartnerUrl and up to 100 ``Notification`` elements, each an
``Id`` and an ``sObject`` typed ``sf:<Object>`` in ``urn:sobject.enterprise.soap.sforce.com``.
The listener answers ``notificationsResponse`` with ``<Ack>true</Ack>``; anything else
means "not delivered, try again".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: A single SOAP message carries at most 100 notifications (Understanding Notifications).
MAX_NOTIFICATIONS_PER_MESSAGE = 100


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One record change to announce."""

    #: 04l-prefixed notification id; listeners de-duplicate on it.
    id: str
    #: The sObject type, e.g. ``Contact``.
    sobject: str
    #: The fields to send, ``Id`` first, in the rule's order; ``None`` values are left out.
    fields: Mapping[str, object]


def format_soap_value(value: object) -> str:
    """Render a field value as the enterprise WSDL's XML types write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def build_notifications_envelope(
    *,
    organization_id: str,
    action_id: str,
    session_id: str | None,
    enterprise_url: str,
    partner_url: str,
    notifications: Sequence[Notification],
) -> bytes:
    """Build the SOAP request Salesforce POSTs to an outbound message's endpoint."""
    if not 1 <= len(notifications) <= MAX_NOTIFICATIONS_PER_MESSAGE:
        raise ValueError("a message carries between 1 and 100 notifications")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:xsi="{XSI_NS}">',
        "<soapenv:Body>",
        f'<notifications xmlns="{OUTBOUND_NS}">',
        f"<OrganizationId>{escape(organization_id)}</OrganizationId>",
        f"<ActionId>{escape(action_id)}</ActionId>",
        (
            f"<SessionId>{escape(session_id)}</SessionId>"
            if session_id
            else '<SessionId xsi:nil="true"/>'
        ),
        f"<EnterpriseUrl>{escape(enterprise_url)}</EnterpriseUrl>",
        f"<PartnerUrl>{escape(partner_url)}</PartnerUrl>",
    ]
    for note in notifications:
        parts.append("<Notification>")
        parts.append(f"<Id>{escape(note.id)}</Id>")
        parts.append(
            f'<sObject xsi:type={quoteattr("sf:" + note.sobject)} xmlns:sf="{SOBJECT_NS}">'
        )
        for name, value in note.fields.items():
            if value is None:
                continue
            parts.append(f"<sf:{name}>{escape(format_soap_value(value))}</sf:{name}>")
        parts.append("</sObject>")
        parts.append("</Notification>")
    parts.append("</notifications></soapenv:Body></soapenv:Envelope>")
    return "".join(parts).encode("utf-8")


def build_ack_response(ack: bool = True) -> bytes:
    """The ``notificationsResponse`` a listener returns (used by tests and docs)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}"><soapenv:Body>'
        f'<notificationsResponse xmlns="{OUTBOUND_NS}">'
        f"<Ack>{'true' if ack else 'false'}</Ack>"
        "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


def is_acknowledged(body: bytes) -> bool:
    """True only for a well-formed ``notificationsResponse`` whose ``Ack`` is true."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return False
    if root.tag != f"{{{SOAPENV_NS}}}Envelope":
        return False
    ack = root.find(
        f"{{{SOAPENV_NS}}}Body/{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack"
    )
    return ack is not None and (ack.text or "").strip().lower() in ("true", "1")


@dataclass(frozen=True)
class ParsedNotifications:
    """A ``notifications`` message read back (the receiving side of tests)."""

    organization_id: str
    action_id: str
    session_id: str | None
    enterprise_url: str
    partner_url: str
    #: (notification id, sObject type, fields) per notification.
    notifications: list[tuple[str, str, dict[str, str]]]


def parse_notifications(body: bytes) -> ParsedNotifications:
    """Parse a ``notifications`` envelope; raise ``ValueError`` when it is not one."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise ValueError(f"not XML: {exc}") from exc
    node = root.find(f"{{{SOAPENV_NS}}}Body/{{{OUTBOUND_NS}}}notifications")
    if node is None:
        raise ValueError("no notifications element in the SOAP body")

    def text(tag: str) -> str:
        element = node.find(f"{{{OUTBOUND_NS}}}{tag}")
        return (element.text or "") if element is not None else ""

    session = node.find(f"{{{OUTBOUND_NS}}}SessionId")
    session_id = None
    if session is not None and session.get(f"{{{XSI_NS}}}nil") != "true":
        session_id = session.text or None
    notes: list[tuple[str, str, dict[str, str]]] = []
    for item in node.findall(f"{{{OUTBOUND_NS}}}Notification"):
        note_id = item.findtext(f"{{{OUTBOUND_NS}}}Id") or ""
        sobject = item.find(f"{{{OUTBOUND_NS}}}sObject")
        if sobject is None:
            raise ValueError("a Notification without sObject")
        sobject_type = (sobject.get(f"{{{XSI_NS}}}type") or "").removeprefix("sf:")
        fields = {child.tag.split("}", 1)[-1]: child.text or "" for child in list(sobject)}
        notes.append((note_id, sobject_type, fields))
    return ParsedNotifications(
        organization_id=text("OrganizationId"),
        action_id=text("ActionId"),
        session_id=session_id,
        enterprise_url=text("EnterpriseUrl"),
        partner_url=text("PartnerUrl"),
        notifications=notes,
    )
