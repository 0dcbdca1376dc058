"""The push receivers store what Salesforce sends, once, and refuse what they must."""

from __future__ import annotations

import io
import json
import logging
import time

import sqlalchemy as sa
import structlog
from push_world import ORG_ID, OTHER_ORG_ID, envelope, hold_org, issue_secrets, path_of

from crmbridge.logging import configure_logging
from crmbridge.push.webhook import signature_header
from crmbridge.store.push_models import InboxEntry
from crmbridge.store.repositories import salesforce_connections
from crmbridge.web.testing import ApiWorld

SOAP = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
CONTACT = "003Hs00000AbCdEIAV"


def _entries(api: ApiWorld, tenant_id: str) -> list[InboxEntry]:
    with api.session() as session:
        return list(
            session.scalars(
                sa.select(InboxEntry)
                .where(InboxEntry.tenant_id == tenant_id)
                .order_by(InboxEntry.id)
            )
        )


def _note(i: int, **fields: str | None) -> tuple[str, str, dict[str, str | None]]:
    return (f"04lHs00000000{i:02d}AAA", "Contact", {"Id": CONTACT, **fields})


def test_an_outbound_message_is_stored_then_acknowledged(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    url = issue_secrets(api, tenant)["outbound_message_url"]
    body = envelope([_note(1, LastName="Lovelace", Phone=None), _note(2, LastName="Byron")])
    response = api.client.post(path_of(url), content=body, headers=SOAP)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert b"<Ack>true</Ack>" in response.content
    entries = _entries(api, tenant)
    assert [(e.dedupe_key, e.status, e.source) for e in entries] == [
        ("04lHs0000000001AAA", "pending", "outbound_message"),
        ("04lHs0000000002AAA", "pending", "outbound_message"),
    ]
    assert entries[0].fields == {"Id": CONTACT, "LastName": "Lovelace", "Phone": None}
    assert entries[0].action_id == "04kHs0000000001AAA"
    assert entries[0].salesforce_id == CONTACT
    assert entries[0].sobject == "Contact"
    with api.session() as session:
        connection = salesforce_connections.get_connection(session, tenant)
        assert connection is not None
        assert connection.last_inbound_at is not None


def test_a_message_delivered_twice_is_stored_once(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    body = envelope([_note(1, LastName="A")])
    for _ in range(3):
        assert api.client.post(path, content=body, headers=SOAP).status_code == 200
    # A later message repeating one notification and adding another adds only the new one.
    again = envelope([_note(1, LastName="A"), _note(3, LastName="B")])
    assert api.client.post(path, content=again, headers=SOAP).status_code == 200
    assert [e.dedupe_key for e in _entries(api, tenant)] == [
        "04lHs0000000001AAA",
        "04lHs0000000003AAA",
    ]


def test_wrong_secret_unknown_tenant_and_no_secret_yet_answer_alike(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    body = envelope([_note(1, LastName="A")])
    never_issued = api.client.post(
        f"/api/v1/inbound/salesforce/outbound-messages/{tenant}/guess", content=body, headers=SOAP
    )
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    wrong = api.client.post(path[:-3] + "xyz", content=body, headers=SOAP)
    unknown = api.client.post(
        path.replace(tenant, "00000000-0000-0000-0000-000000000000"), content=body, headers=SOAP
    )
    for response in (never_issued, wrong, unknown):
        assert response.status_code == 404
        assert b"<faultcode>soapenv:Client</faultcode>" in response.content
        assert response.content == wrong.content
    assert _entries(api, tenant) == []


def test_a_message_from_another_org_is_refused(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    response = api.client.post(
        path, content=envelope([_note(1)], org_id=OTHER_ORG_ID), headers=SOAP
    )
    assert response.status_code == 403
    assert b"soapenv:Client" in response.content
    assert OTHER_ORG_ID.encode() in response.content
    assert ORG_ID.encode() not in response.content
    assert _entries(api, tenant) == []


def test_the_15_character_org_id_is_accepted(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    response = api.client.post(path, content=envelope([_note(1)], org_id=ORG_ID[:15]), headers=SOAP)
    assert response.status_code == 200


def test_malformed_soap_is_refused_and_nothing_is_stored(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    good = envelope([_note(1), _note(2)])
    for body in (
        b"",
        b"{}",
        good.replace(b"</soapenv:Envelope>", b""),
        good.replace(b"<sf:Id>" + CONTACT.encode() + b"</sf:Id>", b"", 1),
    ):
        response = api.client.post(path, content=body, headers=SOAP)
        assert response.status_code == 400, body
        assert b"soapenv:Client" in response.content
    assert _entries(api, tenant) == []


def test_a_suspended_tenant_receives_nothing(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    operator = api.headers_for("SUPER_ADMIN", None)
    assert api.client.post(
        f"/api/v1/operator/tenants/{tenant}/suspend", headers=operator
    ).is_success
    response = api.client.post(path, content=envelope([_note(1)]), headers=SOAP)
    assert response.status_code == 403
    assert _entries(api, tenant) == []


def test_rotating_the_outbound_secret_retires_the_old_url(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    old = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    rotated = api.client.post(
        "/api/v1/inbound/secrets", json={"rotate": "outbound_message"}, headers=admin
    ).json()
    assert rotated["webhook_secret"] is None
    new = path_of(rotated["outbound_message_url"])
    body = envelope([_note(1)])
    assert api.client.post(old, content=body, headers=SOAP).status_code == 404
    assert api.client.post(new, content=body, headers=SOAP).status_code == 200


# --- webhook ------------------------------------------------------------------------------


def _webhook(api: ApiWorld, tenant: str, secret: str, payload: object, *, at: int | None = None):
    body = json.dumps(payload).encode()
    header = signature_header(secret, timestamp=int(at or time.time()), body=body)
    return api.client.post(
        f"/api/v1/inbound/salesforce/webhook/{tenant}",
        content=body,
        headers={"Content-Type": "application/json", "X-Crmbridge-Signature": header},
    )


def test_a_signed_webhook_is_stored_once_per_event(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    secret = issue_secrets(api, tenant)["webhook_secret"]
    payload = {
        "organization_id": ORG_ID,
        "object": "Contact",
        "records": [{"Id": CONTACT, "LastName": "Hopper", "Age__c": 3}],
        "event_id": "flow-run-1",
    }
    first = _webhook(api, tenant, secret, payload)
    assert first.status_code == 202, first.text
    assert first.json() == {"received": 1, "new": 1}
    assert _webhook(api, tenant, secret, payload).json() == {"received": 1, "new": 0}
    ids_only = _webhook(
        api, tenant, secret, {"organization_id": ORG_ID, "object": "Contact", "ids": [CONTACT]}
    )
    assert ids_only.json() == {"received": 1, "new": 1}
    entries = _entries(api, tenant)
    assert [(e.source, e.fields) for e in entries] == [
        ("webhook", {"Id": CONTACT, "LastName": "Hopper", "Age__c": 3}),
        ("webhook", {}),
    ]


def test_webhook_signature_checks(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    secret = issue_secrets(api, tenant)["webhook_secret"]
    payload = {"organization_id": ORG_ID, "object": "Contact", "ids": [CONTACT]}
    bad_secret = _webhook(api, tenant, secret + "x", payload)
    stale = _webhook(api, tenant, secret, payload, at=int(time.time()) - 301)
    future = _webhook(api, tenant, secret, payload, at=int(time.time()) + 301)
    unknown_tenant = _webhook(api, "no-such-tenant", secret, payload)
    missing = api.client.post(
        f"/api/v1/inbound/salesforce/webhook/{tenant}", content=json.dumps(payload).encode()
    )
    for response in (bad_secret, stale, future, unknown_tenant, missing):
        assert response.status_code == 401, response.text
        assert response.json()["type"] == "urn:crmbridge:problem:invalid-signature"
    assert bad_secret.json()["detail"] == unknown_tenant.json()["detail"]
    assert "300 seconds" in stale.json()["detail"]
    wrong_org = _webhook(api, tenant, secret, {**payload, "organization_id": OTHER_ORG_ID})
    assert wrong_org.status_code == 403
    bad_shape = _webhook(api, tenant, secret, {**payload, "ids": []})
    assert bad_shape.status_code == 422
    assert _entries(api, tenant) == []


def test_receiver_settings_never_show_a_secret(api: ApiWorld) -> None:
    tenant = api.new_tenant()
    hold_org(api, tenant)
    admin = api.headers_for("CLIENT_ADMIN", tenant)
    before = api.client.get("/api/v1/inbound/settings", headers=admin).json()
    assert before["outbound_message_secret_set"] is False
    issued = issue_secrets(api, tenant)
    after = api.client.get("/api/v1/inbound/settings", headers=admin)
    text = after.text
    secret = issued["outbound_message_url"].rsplit("/", 1)[1]
    assert secret not in text
    assert issued["webhook_secret"] not in text
    assert after.json()["outbound_message_url"].endswith(f"/{tenant}/<secret>")
    assert after.json()["webhook_secret_set"] is True
    staff = api.headers_for("CLIENT_STAFF", tenant)
    assert api.client.get("/api/v1/inbound/settings", headers=staff).status_code == 403
    assert api.client.post("/api/v1/inbound/secrets", json={}, headers=staff).status_code == 403
    with api.session() as session:
        audit = session.execute(
            sa.text("SELECT action, after FROM audit_log WHERE tenant_id = :t"), {"t": tenant}
        ).all()
    assert any(row[0] == "inbound.secrets.rotate" for row in audit)
    assert all(secret not in str(row[1]) for row in audit)


def test_the_receiver_secret_never_reaches_the_logs(api: ApiWorld) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(level="DEBUG", json=True, stream=stream)
    try:
        tenant = api.new_tenant()
        hold_org(api, tenant)
        issued = issue_secrets(api, tenant)
        url = issued["outbound_message_url"]
        assert api.client.post(path_of(url), content=envelope([_note(1)]), headers=SOAP).is_success
        assert api.client.post(path_of(url), content=b"junk", headers=SOAP).status_code == 400
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers:
                root.removeHandler(handler)
        root.setLevel(saved_level)
        structlog.reset_defaults()
    output = stream.getvalue()
    secret = url.rsplit("/", 1)[1]
    assert "/outbound-messages/" in output  # the access lines are there...
    assert secret not in output  # ...without the secret
    assert issued["webhook_secret"] not in output


def test_entries_are_listed_per_tenant_and_another_tenants_answer_404(api: ApiWorld) -> None:
    tenant, other = api.new_tenant(), api.new_tenant()
    hold_org(api, tenant)
    path = path_of(issue_secrets(api, tenant)["outbound_message_url"])
    assert api.client.post(path, content=envelope([_note(1)]), headers=SOAP).is_success
    viewer = api.headers_for("CLIENT_VIEWER", tenant)
    [entry] = api.client.get("/api/v1/inbound/entries", headers=viewer).json()
    assert entry["status"] == "pending"
    assert entry["fields"] == {"Id": CONTACT}
    assert entry["ids_only"] is True
    assert api.client.get(f"/api/v1/inbound/entries/{entry['id']}", headers=viewer).is_success
    stranger = api.headers_for("CLIENT_ADMIN", other)
    assert api.client.get("/api/v1/inbound/entries", headers=stranger).json() == []
    assert (
        api.client.get(f"/api/v1/inbound/entries/{entry['id']}", headers=stranger).status_code
        == 404
    )
    retry = api.client.post(f"/api/v1/inbound/entries/{entry['id']}/retry", headers=stranger)
    assert retry.status_code == 404
    # A pending entry is not "retried"; a viewer may not retry at all.
    staff = api.headers_for("CLIENT_STAFF", tenant)
    assert (
        api.client.post(f"/api/v1/inbound/entries/{entry['id']}/retry", headers=staff).status_code
        == 409
    )
    assert (
        api.client.post(f"/api/v1/inbound/entries/{entry['id']}/retry", headers=viewer).status_code
        == 403
    )
