"""Roles, capabilities and who may do what (SPEC section 2), as plain data."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    CLIENT_ADMIN = "CLIENT_ADMIN"
    CLIENT_STAFF = "CLIENT_STAFF"
    CLIENT_VIEWER = "CLIENT_VIEWER"


#: Roles that belong to a tenant (everything but the operator).
TENANT_ROLES: tuple[Role, ...] = (Role.CLIENT_ADMIN, Role.CLIENT_STAFF, Role.CLIENT_VIEWER)


class Capability(enum.StrEnum):
    """One row of the capabilities matrix."""

    MANAGE_TENANTS = "manage_tenants"
    CONFIGURE_INTEGRATION = "configure_integration"
    RUN_SYNC = "run_sync"
    RUN_SYNC_SPECIFIC_RECORDS = "run_sync_specific_records"
    RESOLVE_REVIEW = "resolve_review"
    EDIT_RECORDS = "edit_records"
    VIEW = "view"
    MANAGE_USERS = "manage_users"


_ALL = frozenset(Role)
_ADMINS = frozenset({Role.SUPER_ADMIN, Role.CLIENT_ADMIN})
_WRITERS = _ADMINS | {Role.CLIENT_STAFF}

#: SPEC section 2, row by row.
CAPABILITIES: dict[Capability, frozenset[Role]] = {
    Capability.MANAGE_TENANTS: frozenset({Role.SUPER_ADMIN}),
    Capability.CONFIGURE_INTEGRATION: _ADMINS,
    Capability.RUN_SYNC: _ADMINS,
    Capability.RUN_SYNC_SPECIFIC_RECORDS: _WRITERS,
    Capability.RESOLVE_REVIEW: _WRITERS,
    Capability.EDIT_RECORDS: _WRITERS,
    Capability.VIEW: _ALL,
    Capability.MANAGE_USERS: _ADMINS,
}


def can(role: Role, capability: Capability) -> bool:
    """Whether ``role`` has ``capability``."""
    return role in CAPABILITIES[capability]


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is calling: a person (user) or the host application (API key), or the CLI."""

    #: ``user``, ``api_key`` or ``cli``.
    kind: str
    #: The user's or key's id (``cli`` for the command line).
    id: str
    #: E-mail of the user, name of the key; shown in the audit log.
    label: str
    role: Role
    #: The tenant the credential belongs to; ``None`` for the operator.
    tenant_id: str | None

    @property
    def actor(self) -> str:
        """Short identification for change-log entries (``user:<id>``)."""
        return f"{self.kind}:{self.id}"


#: The operator at the command line (``crmbridge tenant create`` and friends).
CLI_PRINCIPAL = Principal(kind="cli", id="cli", label="cli", role=Role.SUPER_ADMIN, tenant_id=None)
