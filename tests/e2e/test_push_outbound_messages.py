"""Outbound Messages from the emulated org, over real HTTP, into crmbridge's inbox
(R-S2): stored before the Ack, once per notification, whatever the network does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from crmbridge.mappings.testing import emulator_client
from crmbridge.push.testing import (
    AckDroppingProxy,
    PushWorld,
    add_outbound_rule,
    deliver_now,
    outbound_queue,
    wait_for,
)
from crmbridge.store.push_models import InboxEntry


def _entries(world: PushWorld) -> list[InboxEntry]:
    with world.api.session() as session:
        statement = (
            sa.select(InboxEntry)
            .where(InboxEntry.tenant_id == world.tenant_id)
            .order_by(InboxEntry.id)
        )
        return list(session.scalars(statement))


def _create_contact(info: dict[str, Any], **values: Any) -> str:
    with emulator_client(info) as client:
        return client.create("Contact", values)


def _update_contact(info: dict[str, Any], contact_id: str, **values: Any) -> None:
    with emulator_client(info) as client:
        client.update("Contact", contact_id, values)


def test_a_change_in_salesforce_arrives_by_outbound_message_and_is_acknowledged(
    push_world: PushWorld,
) -> None:
    add_outbound_rule(
        push_world.info,
        endpoint_url=push_world.outbound_message_url,
        fields=("LastName", "Email", "Phone"),
    )
    contact_id = _create_contact(push_world.info, LastName="Hopper", Email="grace@example.org")
    [entry] = wait_for(lambda: _entries(push_world), what="the notification")
    assert entry.salesforce_id == contact_id
    assert entry.sobject == "Contact"
    assert entry.fields == {"Id": contact_id, "LastName": "Hopper", "Email": "grace@example.org"}
    assert entry.status == "pending"
    assert entry.dedupe_key.startswith("04l")
    # The emulator counts it delivered only because crmbridge answered the Ack.
    queue = wait_for(
        lambda: [q for q in outbound_queue(push_world.info) if q["state"] == "delivered"],
        what="the emulator to record the Ack",
    )
    assert len(queue) == 1
    # A second change is a second notification.
    _update_contact(push_world.info, contact_id, LastName="Hopper-Murray")
    entries = wait_for(lambda: (e := _entries(push_world)) and len(e) == 2 and e, what="second")
    assert entries[1].fields["LastName"] == "Hopper-Murray"


@pytest.fixture
def lossy_proxy(push_world: PushWorld) -> Iterator[AckDroppingProxy]:
    with AckDroppingProxy(push_world.server.base_url, drops=2) as proxy:
        yield proxy


def test_a_lost_ack_makes_salesforce_redeliver_and_the_entry_is_kept_once(
    push_world: PushWorld, lossy_proxy: AckDroppingProxy
) -> None:
    path = push_world.outbound_message_url.split("/", 3)[3]
    add_outbound_rule(push_world.info, endpoint_url=f"{lossy_proxy.url}/{path}")
    contact_id = _create_contact(push_world.info, LastName="Lamarr")
    # Stored at the first delivery, although Salesforce never heard the Ack.
    wait_for(lambda: _entries(push_world), what="the first delivery")
    wait_for(
        lambda: [q for q in outbound_queue(push_world.info) if q["state"] == "delivered"],
        what="redelivery until an Ack",
    )
    assert lossy_proxy.forwarded == 3
    [queued] = outbound_queue(push_world.info)
    assert queued["attempts"] == 3
    [entry] = _entries(push_world)
    assert entry.salesforce_id == contact_id


def test_a_receiver_that_refuses_leaves_the_notification_queued_at_salesforce(
    push_world: PushWorld,
) -> None:
    wrong = push_world.outbound_message_url.rsplit("/", 1)[0] + "/not-the-secret"
    add_outbound_rule(push_world.info, endpoint_url=wrong)
    _create_contact(push_world.info, LastName="Noether")
    retrying = wait_for(
        lambda: [q for q in outbound_queue(push_world.info) if q["attempts"] >= 1],
        what="a failed delivery",
    )
    assert retrying[0]["state"] == "retrying"
    assert "404" in (retrying[0]["last_error"] or "")
    assert deliver_now(push_world.info) == 0
    assert _entries(push_world) == []
