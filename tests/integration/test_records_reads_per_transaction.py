"""The records service reads field definitions and referenced records once per
transaction (a sync page writes hundreds of records), and never acts on a stale read."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from crmbridge.domain.entities import RecordValidationError, get_entity_type
from crmbridge.services import custom_fields, factories
from crmbridge.services import records as service
from crmbridge.services.access import CLI_PRINCIPAL
from crmbridge.store.repositories.change_log import ChangeContext

MEMBER = get_entity_type("member")
ORGANIZATION = get_entity_type("organization")
API = ChangeContext(source="api", origin="request:1", actor="user:u1")


def test_a_custom_field_defined_in_the_transaction_is_seen_by_the_next_write(
    db_session: Session,
) -> None:
    tenant = factories.create_tenant(db_session).id
    db_session.commit()
    payload = {"first_name": "Ada", "last_name": "Lovelace", "card_code": "X1"}
    with pytest.raises(RecordValidationError):
        service.create_record(
            db_session, tenant_id=tenant, entity=MEMBER, payload=payload, context=API
        )
    custom_fields.create_definition(
        db_session,
        CLI_PRINCIPAL,
        tenant_id=tenant,
        attributes={"entity_type": "member", "name": "card_code", "type": "string"},
    )
    record = service.create_record(
        db_session, tenant_id=tenant, entity=MEMBER, payload=payload, context=API
    )
    assert record.data["card_code"] == "X1"


def test_a_reference_to_a_record_deleted_in_the_transaction_is_refused(
    db_session: Session,
) -> None:
    tenant = factories.create_tenant(db_session).id
    db_session.commit()
    org = service.create_record(
        db_session, tenant_id=tenant, entity=ORGANIZATION, payload={"name": "Acme"}, context=API
    )
    member = {"first_name": "Ada", "last_name": "Lovelace", "organization_id": org.id}
    service.create_record(db_session, tenant_id=tenant, entity=MEMBER, payload=member, context=API)
    service.delete_record(
        db_session, tenant_id=tenant, entity=ORGANIZATION, record_id=org.id, context=API
    )
    with pytest.raises(RecordValidationError) as refused:
        service.create_record(
            db_session, tenant_id=tenant, entity=MEMBER, payload=member, context=API
        )
    assert [e.field for e in refused.value.errors] == ["organization_id"]
