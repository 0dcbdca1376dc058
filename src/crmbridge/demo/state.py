"""What the demo remembers between runs (``CRMBRIDGE_DATA_DIR/demo-state.json``, 0600).

Running ``crmbridge demo`` again reuses the org, the tenant, the admin's password, the
API key and the receiver URL kept here, so the printed login keeps working.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "demo-state.json"


@dataclass
class DemoState:
    """The demo's remembered values (empty strings: not created yet)."""

    tenant_id: str = ""
    admin_password: str = ""
    api_key: str = ""
    #: The emulated org's port (its URLs are stored in the tenant's settings).
    emulator_port: int = 0
    #: The Outbound Message receiver URL registered at the emulated org.
    outbound_message_url: str = ""

    @classmethod
    def load(cls, data_dir: Path) -> DemoState:
        """The state kept in ``data_dir``, or a fresh one."""
        path = data_dir / STATE_FILE
        if not path.exists():
            return cls()
        known = {k: v for k, v in json.loads(path.read_text("utf-8")).items() if k in asdict(cls())}
        return cls(**known)

    def save(self, data_dir: Path) -> None:
        """Write the state (mode 0600: it holds a password and an API key)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / STATE_FILE
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        path.chmod(0o600)
