"""Re-sealing every stored secret under the current key (``crmbridge secrets rotate``).

Rotation (docs/security.md): set the new key in ``CRMBRIDGE_SECRET_KEY`` and the old
one in ``CRMBRIDGE_SECRET_KEY_PREVIOUS``, restart, run ``crmbridge secrets rotate``,
then drop the old key. Until the rotation runs, values sealed under the old key still
open; afterwards only the new key is needed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmbridge.crypto import SecretBox
from crmbridge.store.repositories import salesforce_connections as repo


def rotate_secrets(session: Session, box: SecretBox) -> int:
    """Re-seal every stored secret under the box's current key; returns how many.

    Raises:
        SecretUnreadable: a value opens with none of the configured keys (nothing is
            changed: the caller's transaction rolls back).
    """
    count = 0
    for row, column, sealed in list(repo.sealed_values(session)):
        setattr(row, column, box.reseal(sealed))
        count += 1
    session.flush()
    return count
