"""Tables of the Salesforce connection (R-A*): one connection per tenant, OAuth states
in flight, and events for the tenant's admins.

Columns ending in ``_sealed`` hold values sealed with :class:`crmbridge.crypto.SecretBox`
(never clear text); :data:`SEALED_COLUMNS` lists them for key rotation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crmbridge.store.models import Base, BigIntKey

ENVIRONMENTS = ("production", "sandbox", "custom")
AUTH_FLOWS = ("oauth", "password")
CONNECTION_STATUSES = ("not_connected", "connected", "needs_reauthorization", "disconnected")
OAUTH_OUTCOMES = ("pending", "connected", "failed")
EVENT_SEVERITIES = ("info", "warning", "error")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class SalesforceConnection(Base):
    """A tenant's Salesforce settings and, once connected, its org and session."""

    __tablename__ = "salesforce_connections"
    __table_args__ = (
        sa.CheckConstraint(_in("environment", ENVIRONMENTS), name="environment"),
        sa.CheckConstraint(_in("status", CONNECTION_STATUSES), name="status"),
        sa.CheckConstraint(f"auth_flow IS NULL OR {_in('auth_flow', AUTH_FLOWS)}", name="flow"),
    )

    #: One connection per tenant (R-A7 seen from the tenant's side).
    tenant_id: Mapped[str] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # --- settings (R-A1, R-A2) -----------------------------------------------------------
    #: ``None``: the operator's SALESFORCE_LOGIN_URL decides.
    environment: Mapped[str | None] = mapped_column(sa.String(20))
    #: Login URL of a ``custom`` environment (My Domain).
    custom_login_url: Mapped[str | None] = mapped_column(sa.String(2048))
    #: Consumer Key; ``None`` falls back on SALESFORCE_CLIENT_ID.
    consumer_key: Mapped[str | None] = mapped_column(sa.String(255))
    #: Consumer Secret, sealed; ``None`` falls back on SALESFORCE_CLIENT_SECRET.
    consumer_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    auto_sync: Mapped[bool] = mapped_column(default=False)
    # --- state --------------------------------------------------------------------------
    status: Mapped[str] = mapped_column(sa.String(30), default="not_connected")
    #: Why the connection is in this state and what to do, in words.
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    status_changed_at: Mapped[datetime | None]
    #: The sync engine runs nothing for this tenant while set (R-A5).
    sync_paused: Mapped[bool] = mapped_column(default=False)
    sync_paused_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # --- the connected org ---------------------------------------------------------------
    auth_flow: Mapped[str | None] = mapped_column(sa.String(20))
    #: The login URL the session came from (refreshes go there).
    login_url: Mapped[str | None] = mapped_column(sa.String(2048))
    org_id: Mapped[str | None] = mapped_column(sa.String(18))
    #: ``org_id`` while the org is held (connected or waiting for re-authorization),
    #: else ``None``: the unique index makes "one org, one tenant" hold under races.
    held_org_id: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    org_name: Mapped[str] = mapped_column(sa.String(255), default="")
    instance_url: Mapped[str | None] = mapped_column(sa.String(2048))
    api_version: Mapped[str | None] = mapped_column(sa.String(10))
    identity_url: Mapped[str | None] = mapped_column(sa.String(2048))
    sf_user_id: Mapped[str | None] = mapped_column(sa.String(18))
    username: Mapped[str] = mapped_column(sa.String(255), default="")
    user_display_name: Mapped[str] = mapped_column(sa.String(255), default="")
    access_token_sealed: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_sealed: Mapped[str | None] = mapped_column(sa.Text)
    #: Password flow only: what a renewal logs in with.
    password_sealed: Mapped[str | None] = mapped_column(sa.Text)
    security_token_sealed: Mapped[str | None] = mapped_column(sa.Text)
    #: When crmbridge stored the current session (crmbridge's clock).
    token_issued_at: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    #: Who connected it (audit label: e-mail, key name or ``cli``).
    connected_by: Mapped[str] = mapped_column(sa.String(254), default="")
    # --- health (R-A8) -------------------------------------------------------------------
    last_success_at: Mapped[datetime | None]
    #: Set by the sync engine when an inbound entry (poll or push) arrives.
    last_inbound_at: Mapped[datetime | None]
    api_usage_used: Mapped[int | None]
    api_usage_limit: Mapped[int | None]
    api_usage_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SalesforceOAuthState(Base):
    """One OAuth web-server flow in flight: single use, 10 minutes, bound to its starter."""

    __tablename__ = "salesforce_oauth_states"
    __table_args__ = (
        sa.CheckConstraint(_in("outcome", OAUTH_OUTCOMES), name="outcome"),
        sa.Index(None, "tenant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: SHA-256 hex of the ``state`` value; the value itself is never stored.
    state_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The PKCE code verifier, sealed.
    code_verifier_sealed: Mapped[str] = mapped_column(sa.Text)
    #: Login URL, Consumer Key and callback URL the flow started with.
    login_url: Mapped[str] = mapped_column(sa.String(2048))
    consumer_key: Mapped[str] = mapped_column(sa.String(255))
    redirect_uri: Mapped[str] = mapped_column(sa.String(2048))
    environment: Mapped[str] = mapped_column(sa.String(20))
    #: ``user``, ``api_key`` or ``cli``; a ``user`` flow must return in that user's session.
    started_by_kind: Mapped[str] = mapped_column(sa.String(20))
    started_by_id: Mapped[str] = mapped_column(sa.String(36))
    started_by_label: Mapped[str] = mapped_column(sa.String(254))
    started_by_role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(20), default="pending")
    #: What happened, in words (shown on the result page and to ``crmbridge connect``).
    outcome_detail: Mapped[str] = mapped_column(sa.Text, default="")


class TenantEvent(Base):
    """Something a tenant's admins must know (R-A5 notifications)."""

    __tablename__ = "tenant_events"
    __table_args__ = (
        sa.CheckConstraint(_in("severity", EVENT_SEVERITIES), name="severity"),
        sa.Index(None, "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: Dotted kind, e.g. ``salesforce.needs_reauthorization``.
    kind: Mapped[str] = mapped_column(sa.String(100))
    severity: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(255))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    #: What to do about it.
    action: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


#: Every column holding a sealed secret, for ``crmbridge secrets rotate``.
SEALED_COLUMNS: tuple[tuple[type[Base], tuple[str, ...]], ...] = (
    (
        SalesforceConnection,
        (
            "consumer_secret_sealed",
            "access_token_sealed",
            "refresh_token_sealed",
            "password_sealed",
            "security_token_sealed",
        ),
    ),
    (SalesforceOAuthState, ("code_verifier_sealed",)),
)
