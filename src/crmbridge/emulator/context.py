"""The running org: store, schema, sessions, limits, faults and options in one object.

Every route reaches it as ``request.app.state.emulator`` (see
:func:`crmbridge.emulator.http.emulator`).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmbridge.emulator.bootstrap import OrgIdentity, bootstrap_org
from crmbridge.emulator.schema import Schema, load_schema
from crmbridge.emulator.store import OrgStore

if TYPE_CHECKING:
    from crmbridge.emulator.faults import Faults
    from crmbridge.emulator.limits import ApiLimits
    from crmbridge.emulator.sessions import AuthService

#: The API version answered when a client does not say (and the one simple-salesforce uses).
DEFAULT_API_VERSION = "59.0"
#: Every REST version served: 40.0 through 64.0.
API_VERSIONS = tuple(f"{major}.0" for major in range(40, 65))


class Clock:
    """The org's clock: real time plus an offset that fault injection can move."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The org's current time (aware, UTC)."""
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    __call__ = now

    @property
    def offset(self) -> timedelta:
        """How far the org's clock is ahead of real time."""
        return self._offset

    def set_offset(self, offset: timedelta) -> None:
        """Move the org's clock ``offset`` away from real time."""
        with self._lock:
            self._offset = offset


@dataclass(kw_only=True)
class EmulatorOptions:
    """Everything configurable at start (CLI flags and ``EmulatorServer`` arguments)."""

    #: Daily API request allowance (DailyApiRequests.Max).
    api_quota: int = 100_000
    #: Lifetime of access tokens and SOAP sessions, in seconds.
    token_ttl_seconds: int = 7200
    #: Issue a new refresh token on every refresh (the old one stops working).
    rotate_refresh_tokens: bool = False
    #: Added latency of every API call, in milliseconds.
    latency_ms: int = 0
    #: Share (0..1) of API calls answered 503.
    error_503_rate: float = 0.0
    #: Share (0..1) of writes answered UNABLE_TO_LOCK_ROW.
    lock_error_rate: float = 0.0
    #: Seed of the fault dice, so a fault pattern is reproducible.
    fault_seed: int | None = None
    org_name: str = "crmbridge Emulated Org"
    username: str = "admin@crmbridge-emulator.example"
    #: Fixed credentials; when None they are generated on first start and kept.
    password: str | None = None
    security_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    #: Allowed OAuth redirect URIs; empty allows any (a convenience of the emulator).
    callback_urls: tuple[str, ...] = ()
    #: Extra custom fields, objects and rules (YAML/JSON, see docs/emulator.md).
    schema_file: Path | None = None
    #: Extra options other modules read (e.g. outbound message rules).
    extra: dict[str, Any] = field(default_factory=dict)


class EmulatorContext:
    """One running org."""

    def __init__(self, data_dir: Path, options: EmulatorOptions | None = None) -> None:
        from crmbridge.emulator.faults import Faults
        from crmbridge.emulator.limits import ApiLimits
        from crmbridge.emulator.sessions import AuthService

        self.options = options or EmulatorOptions()
        self.data_dir = Path(data_dir)
        self.clock = Clock()
        self.schema: Schema = load_schema(self.options.schema_file)
        self.store = OrgStore.open(self.data_dir, self.schema, clock=self.clock)
        self.identity: OrgIdentity = bootstrap_org(
            self.store, org_name=self.options.org_name, username=self.options.username
        )
        self.auth: AuthService = AuthService(self)
        self.limits: ApiLimits = ApiLimits(self)
        self.faults: Faults = Faults(self)
        #: Token that unlocks the ``/__emulator`` admin endpoints (loopback only).
        self.admin_token = self.store.meta_get("admin_token") or secrets.token_urlsafe(24)
        self.store.meta_set("admin_token", self.admin_token)
        #: ``https://host:port`` once the server listens (set by EmulatorServer).
        self.base_url = "https://127.0.0.1"
        self._query_engine: Any = None
        #: Per-org state other modules keep (OAuth web sessions, bulk jobs …), by name.
        self.services: dict[str, Any] = {}
        #: Hooks other modules register for server start/stop (e.g. outbound delivery).
        self.on_start: list[Any] = []
        self.on_stop: list[Any] = []

    @property
    def org_id(self) -> str:
        """The 18-character Organization id."""
        return self.identity.org_id

    @property
    def org_id_15(self) -> str:
        """The 15-character org id (the prefix of session ids)."""
        return self.identity.org_id[:15]

    @property
    def query_engine(self) -> Any:
        """The SOQL engine (``crmbridge.emulator.soql.QueryEngine``), built on first use."""
        if self._query_engine is None:
            from crmbridge.emulator.soql import QueryEngine

            self._query_engine = QueryEngine(self.store, self.schema, clock=self.clock)
        return self._query_engine

    def close(self) -> None:
        """Release the store."""
        self.store.close()
