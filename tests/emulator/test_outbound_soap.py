"""Outbound Messaging SOAP shapes: the notifications envelope and the Ack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmbridge.emulator.outbound_queue import retry_delay
from crmbridge.emulator.outbound_rules import (
    Condition,
    OutboundRuleError,
    conditions_hold,
    parse_rule,
)
from crmbridge.emulator.outbound_soap import (
    Notification,
    build_ack_response,
    build_notifications_envelope,
    is_acknowledged,
    parse_notifications,
)


def _envelope(session_id: str | None = "00Dx!token") -> bytes:
    return build_notifications_envelope(
        organization_id="00D5g0000000001AAA",
        action_id="04k5g0000000001AAA",
        session_id=session_id,
        enterprise_url="https://127.0.0.1:8443/services/Soap/c/59.0/00D5g0000000001",
        partner_url="https://127.0.0.1:8443/services/Soap/u/59.0/00D5g0000000001",
        notifications=[
            Notification(
                id="04l5g0000000001AAA",
                sobject="Contact",
                fields={
                    "Id": "0035g0000000001AAA",
                    "LastName": "O'Brien & <Sons>",
                    "Movement_Exclude__c": False,
                    "LastModifiedDate": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                    "Email": None,
                },
            )
        ],
    )


def test_envelope_carries_the_documented_elements_and_typed_sobject() -> None:
    body = _envelope()
    assert b'xmlns="http://soap.sforce.com/2005/09/outbound"' in body
    assert b'xsi:type="sf:Contact"' in body
    parsed = parse_notifications(body)
    assert parsed.organization_id == "00D5g0000000001AAA"
    assert parsed.action_id == "04k5g0000000001AAA"
    assert parsed.session_id == "00Dx!token"
    assert parsed.partner_url.endswith("/services/Soap/u/59.0/00D5g0000000001")
    note_id, sobject, fields = parsed.notifications[0]
    assert (note_id, sobject) == ("04l5g0000000001AAA", "Contact")
    assert fields == {
        "Id": "0035g0000000001AAA",
        "LastName": "O'Brien & <Sons>",
        "Movement_Exclude__c": "false",
        "LastModifiedDate": "2024-01-02T03:04:05.000Z",
    }


def test_session_id_is_nil_when_the_rule_does_not_send_it() -> None:
    body = _envelope(session_id=None)
    assert b'<SessionId xsi:nil="true"/>' in body
    assert parse_notifications(body).session_id is None


def test_more_than_100_notifications_do_not_fit_one_message() -> None:
    notes = [Notification(id=f"n{i}", sobject="Lead", fields={"Id": "x"}) for i in range(101)]
    with pytest.raises(ValueError, match="100"):
        build_notifications_envelope(
            organization_id="o",
            action_id="a",
            session_id=None,
            enterprise_url="e",
            partner_url="p",
            notifications=notes,
        )


def test_only_a_true_ack_counts_as_delivered() -> None:
    assert is_acknowledged(build_ack_response(True))
    assert not is_acknowledged(build_ack_response(False))
    assert not is_acknowledged(b"<html>OK</html>")
    assert not is_acknowledged(b"not xml at all")
    assert not is_acknowledged(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_rules_are_validated_and_conditions_evaluated() -> None:
    rule = parse_rule(
        {
            "name": "members",
            "object": "Contact",
            "endpoint_url": "https://example.com/hook",
            "fields": ["Email", "LastName"],
            "conditions": [
                {"field": "Membership_Status__c", "operator": "in", "value": ["Active", "Expiring"]}
            ],
        },
        action_id="04k5g0000000001AAA",
    )
    assert rule.fields == ("Id", "Email", "LastName")
    assert conditions_hold(rule.conditions, {"membership_status__c": "active"})
    assert not conditions_hold(rule.conditions, {"Membership_Status__c": "Expired"})
    assert conditions_hold([Condition(field="Amount", operator=">=", value=10)], {"Amount": 12.5})
    assert not conditions_hold(
        [Condition(field="Amount", operator=">", value=10)], {"Amount": None}
    )
    with pytest.raises(OutboundRuleError):
        parse_rule({"name": "x", "object": "Contact", "endpoint_url": "ftp://x"}, action_id="a")
    with pytest.raises(OutboundRuleError):
        parse_rule(
            {"name": "x", "object": "Contact", "endpoint_url": "http://x", "trigger": "deleted"},
            action_id="a",
        )


def test_retry_intervals_double_up_to_the_ceiling() -> None:
    delays = [retry_delay(n, base=30, ceiling=7200) for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 7200
