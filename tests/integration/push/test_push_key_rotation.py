"""Key rotation re-seals the webhook secret with the connections' secrets."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from crmbridge.connections.key_rotation import rotate_secrets as reseal_everything
from crmbridge.crypto import SecretBox, SecretUnreadable
from crmbridge.push.secrets import SecretKind, rotate_secrets
from crmbridge.services.access import CLI_PRINCIPAL
from crmbridge.services.factories import create_tenant
from crmbridge.store.repositories import inbox as repo
from crmbridge.web.testing import test_settings as settings_for

OLD = "an old key of at least thirty-two characters"
NEW = "a brand new key of at least 32 characters!"


def test_secrets_rotate_reseals_the_webhook_secret_under_the_new_key(
    db_session: Session, database_url: str
) -> None:
    tenant = create_tenant(db_session)
    issued = rotate_secrets(
        db_session,
        CLI_PRINCIPAL,
        tenant_id=tenant.id,
        settings=settings_for(database_url),
        box=SecretBox(OLD),
        kind=SecretKind.WEBHOOK,
    )
    assert issued.webhook_secret
    assert reseal_everything(db_session, SecretBox(NEW, [OLD])) == 1
    sealed = repo.get_endpoint(db_session, tenant.id).webhook_secret_sealed  # type: ignore[union-attr]
    assert SecretBox(NEW).open(sealed or "") == issued.webhook_secret
    with pytest.raises(SecretUnreadable):
        SecretBox(OLD).open(sealed or "")
