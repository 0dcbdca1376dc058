"""The store's tables as typed SQLAlchemy models.

Every query lives in ``crmbridge.store.repositories``; other packages import these
classes for their types only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column, orm_insert_sentinel

from crmbridge.store.db import JSONType, UTCDateTime

#: Constraint names Alembic can find again on every database (needed by SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: An autoincrementing 64-bit key; SQLite autoincrements only ``INTEGER PRIMARY KEY``.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def insert_sentinel() -> MappedColumn[int | None]:
    """A column that lets a flush insert many rows of a table keyed by autoincrement
    in one multi-row ``INSERT … RETURNING``.

    The ORM must match each returned id to its object. SQLite does not promise the
    order of RETURNING rows, so without a sentinel column SQLAlchemy sends one INSERT
    per row there (a sync page of 2,000 records made 4,000 statements); with it, the
    rows go in batches and are matched by the sentinel's per-batch counter
    (SQLAlchemy 2.0 documentation, "Configuring Sentinel Columns"). The column is left
    out of every other statement and holds NULL.
    """
    return orm_insert_sentinel("insert_sentinel")


ROLES = ("SUPER_ADMIN", "CLIENT_ADMIN", "CLIENT_STAFF", "CLIENT_VIEWER")
TENANT_STATUSES = ("active", "suspended")
SYNC_STATUSES = ("pending", "synced", "failed", "skipped")
OPERATIONS = ("create", "update", "delete")
CHANGE_SOURCES = ("api", "ui", "import", "sync")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class Tenant(Base):
    __tablename__ = "tenants"
    __table_args__ = (sa.CheckConstraint(_in("status", TENANT_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    #: Last change-log sequence number given out for this tenant (see change_log.seq).
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        # The operator role is the only one not bound to a tenant.
        sa.CheckConstraint(
            "(role = 'SUPER_ADMIN') = (tenant_id IS NULL)", name="tenant_matches_role"
        ),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    #: Lower-cased; unique across the installation because people log in with it.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    #: Argon2 hash (pwdlib); ``None`` means the user cannot log in with a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(20))
    #: The key's first characters, shown so people can tell keys apart.
    prefix: Mapped[str] = mapped_column(sa.String(20))
    #: SHA-256 hex of the whole key; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: IP addresses or CIDR networks the key may be used from; empty means anywhere.
    allowed_ips: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditLogEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index(None, "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: ``None`` for installation-wide actions (tenants).
    tenant_id: Mapped[str | None] = mapped_column(sa.String(36))
    actor_type: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[str] = mapped_column(sa.String(36))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(100))
    target_type: Mapped[str] = mapped_column(sa.String(50))
    target_id: Mapped[str] = mapped_column(sa.String(100))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime]


class Record(Base):
    """One platform record of any entity type; its fields live in ``data``."""

    __tablename__ = "records"
    __table_args__ = (
        sa.CheckConstraint(_in("sync_status", SYNC_STATUSES), name="sync_status"),
        sa.Index(None, "tenant_id", "entity_type", "updated_at", "id"),
        sa.Index(None, "tenant_id", "entity_type", "salesforce_id", unique=True),
        # Walks in id order (an outbound first pass, a full resync) seek each page.
        sa.Index(None, "tenant_id", "entity_type", "id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    #: Core and custom field values by name; absent keys are null.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Starts at 1, +1 per write; guards against lost updates (optimistic locking).
    version: Mapped[int] = mapped_column(default=1)
    salesforce_id: Mapped[str | None] = mapped_column(sa.String(18))
    sync_status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Set by a delete: the record disappears from the API but the sync still sees it.
    deleted_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class CustomFieldDefinition(Base):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "entity_type", "name"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    name: Mapped[str] = mapped_column(sa.String(63))
    type: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(255), default="")
    required: Mapped[bool] = mapped_column(default=False)
    max_length: Mapped[int | None]
    values: Mapped[list[str]] = mapped_column(JSONType, default=list)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChangeLogEntry(Base):
    """One change to one platform record, written with it (transactional outbox)."""

    __tablename__ = "change_log"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "seq"),
        sa.CheckConstraint(_in("operation", OPERATIONS), name="operation"),
        sa.CheckConstraint(_in("source", CHANGE_SOURCES), name="source"),
        sa.Index(None, "tenant_id", "entity_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: Per-tenant, gap-free, in commit order (the tenant row is locked while writing).
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    record_id: Mapped[str] = mapped_column(sa.String(36))
    operation: Mapped[str] = mapped_column(sa.String(10))
    #: The record's version after this change.
    record_version: Mapped[int]
    changed_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    old_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    new_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(sa.String(10))
    #: What caused the change, e.g. a sync run id (echo suppression) or a request id.
    origin: Mapped[str] = mapped_column(sa.String(255), default="")
    #: Who made it: ``user:<id>``, ``api_key:<id>``, ``sync`` …
    actor: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime]
    insert_sentinel: Mapped[int | None] = insert_sentinel()


# Tables kept in their own modules register on Base.metadata when models is imported.
from crmbridge.store import connection_models as _connection_models  # noqa: E402, F401
from crmbridge.store import mapping_models as _mapping_models  # noqa: E402, F401
from crmbridge.store import push_models as _push_models  # noqa: E402, F401
from crmbridge.store import sync_models as _sync_models  # noqa: E402, F401
