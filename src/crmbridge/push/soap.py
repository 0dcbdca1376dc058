"""Salesforce Outbound Messages on the receiving side: read ``notifications``, answer.

Our own reading of the documented shapes (crmbridge shares no code with its emulator,
so a bug in one cannot hide the same bug in the other). Sources: SOAP API Developer
Guide, "Outbound Messaging", "Understanding Notifications" and "Understanding the
Outbound Messaging WSDL":

- the request is a SOAP 1.1 envelope whose body holds ``notifications`` in the
  namespace ``http://soap.sforce.com/2005/09/outbound``: ``OrganizationId``,
  ``ActionId``, ``SessionId`` (nillable), ``EnterpriseUrl``, ``PartnerUrl`` and 1 to
  100 ``Notification`` elements, each an ``Id`` (the notification id, to de-duplicate
  on) and an ``sObject`` typed ``sf:<Object>`` carrying the chosen fields;
- the listener answers ``notificationsResponse`` with ``<Ack>true</Ack>``; anything
  else (a fault, another status) makes Salesforce retry, with growing intervals, for
  up to 24 hours.

Errors are SOAP 1.1 faults (SOAP 1.1, section 4.4): ``soapenv:Client`` when the
message is wrong (retrying it cannot help), ``soapenv:Server`` when crmbridge failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
#: The media type of SOAP 1.1 messages (SOAP 1.1, section 6.1.1).
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
#: A message carries at most 100 notifications ("Understanding Notifications").
MAX_NOTIFICATIONS = 100


class MalformedMessage(ValueError):
    """The request is not a well-formed Outbound Message ``notifications`` envelope."""


@dataclass(frozen=True, kw_only=True)
class ReceivedNotification:
    """One notification: a record of one object and the fields the rule sends."""

    #: The notification id (``04l…``); Salesforce may deliver it more than once.
    notification_id: str
    #: The sObject type, e.g. ``Contact``.
    sobject: str
    #: The record's Salesforce id.
    record_id: str
    #: Field name → text as sent (``None`` for ``xsi:nil``), ``Id`` included.
    fields: dict[str, str | None]


@dataclass(frozen=True, kw_only=True)
class OutboundMessage:
    """A parsed ``notifications`` request."""

    #: The org that sent it; compared with the connected org.
    organization_id: str
    #: The outbound message (workflow action) id, ``04k…``.
    action_id: str
    #: A session of the sending user when the rule sends one, else ``None``.
    session_id: str | None
    enterprise_url: str
    partner_url: str
    notifications: tuple[ReceivedNotification, ...]


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_nil(element: Element) -> bool:
    return (element.get(_q(XSI_NS, "nil")) or "").strip().lower() in ("true", "1")


def _required_text(parent: Element, tag: str, what: str) -> str:
    element = parent.find(_q(OUTBOUND_NS, tag))
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        raise MalformedMessage(f"{what} has no {tag}")
    return text


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """Read an Outbound Message request.

    Args:
        body: the raw HTTP request body.

    Returns:
        The message with every notification, in the order sent.

    Raises:
        MalformedMessage: not XML, not a SOAP 1.1 envelope, no ``notifications`` body,
            a missing required element, no or more than 100 notifications, or a
            notification without an ``sObject`` and its ``Id``. XML with a DTD or
            entity declarations is refused (defusedxml).
    """
    if not body.strip():
        raise MalformedMessage("the request body is empty")
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise MalformedMessage(f"the body is not acceptable XML: {exc}") from None
    if root.tag != _q(SOAPENV_NS, "Envelope"):
        raise MalformedMessage("the body is not a SOAP 1.1 envelope")
    soap_body = root.find(_q(SOAPENV_NS, "Body"))
    if soap_body is None:
        raise MalformedMessage("the SOAP envelope has no Body")
    node = soap_body.find(_q(OUTBOUND_NS, "notifications"))
    if node is None:
        raise MalformedMessage(f"the SOAP Body holds no notifications element of {OUTBOUND_NS}")
    session = node.find(_q(OUTBOUND_NS, "SessionId"))
    session_id = None
    if session is not None and not _is_nil(session):
        session_id = (session.text or "").strip() or None
    items = node.findall(_q(OUTBOUND_NS, "Notification"))
    if not items:
        raise MalformedMessage("the message carries no Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise MalformedMessage(
            f"the message carries {len(items)} notifications; at most {MAX_NOTIFICATIONS}"
        )
    return OutboundMessage(
        organization_id=_required_text(node, "OrganizationId", "the message"),
        action_id=_required_text(node, "ActionId", "the message"),
        session_id=session_id,
        enterprise_url=(node.findtext(_q(OUTBOUND_NS, "EnterpriseUrl")) or "").strip(),
        partner_url=(node.findtext(_q(OUTBOUND_NS, "PartnerUrl")) or "").strip(),
        notifications=tuple(_notification(item, index) for index, item in enumerate(items, 1)),
    )


def _notification(item: Element, index: int) -> ReceivedNotification:
    what = f"Notification {index}"
    notification_id = _required_text(item, "Id", what)
    sobject = item.find(_q(OUTBOUND_NS, "sObject"))
    if sobject is None:
        raise MalformedMessage(f"{what} has no sObject")
    # xsi:type is a QName such as "sf:Contact"; the prefix is the sender's choice.
    sobject_type = (sobject.get(_q(XSI_NS, "type")) or "").rsplit(":", 1)[-1].strip()
    if not sobject_type.replace("_", "").isalnum():
        raise MalformedMessage(f"{what} has an sObject without a valid xsi:type")
    fields: dict[str, str | None] = {}
    for child in sobject:
        if len(child):
            # Outbound Messages carry the object's own fields only; a nested element
            # is not something the engine could use.
            raise MalformedMessage(f"{what} has a nested element {_local(child.tag)}")
        fields[_local(child.tag)] = None if _is_nil(child) else (child.text or "")
    record_id = (fields.get("Id") or "").strip()
    if len(record_id) not in (15, 18) or not record_id.isalnum():
        raise MalformedMessage(f"{what} has no valid record Id")
    return ReceivedNotification(
        notification_id=notification_id, sobject=sobject_type, record_id=record_id, fields=fields
    )


def same_org_id(a: str, b: str) -> bool:
    """Whether two org ids name the same org (15- and 18-character forms compare)."""
    a, b = a.strip(), b.strip()
    if len(a) == len(b):
        return a == b
    # The 15-character id is case-sensitive; the 18-character one adds a checksum.
    return len(a) in (15, 18) and len(b) in (15, 18) and a[:15] == b[:15]


def ack_response() -> bytes:
    """The ``notificationsResponse`` that tells Salesforce the message was received."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}"><soapenv:Body>'
        f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def fault_response(message: str, *, client: bool) -> bytes:
    """A SOAP 1.1 fault; ``client`` says the message, not crmbridge, is at fault."""
    code = "soapenv:Client" if client else "soapenv:Server"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()
