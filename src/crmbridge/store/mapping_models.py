"""Tables of the mappings (R-M1..R-M6): object mappings, their immutable versions, and
the per-tenant cache of Salesforce describes the mappings are validated against.

An object mapping's whole definition is the JSON of ``ObjectMapping.to_dict()``; the
columns beside it (entity, object, filter name, enabled) are copies for listing and
uniqueness. Every change writes a new row of ``object_mapping_versions`` that is never
updated afterwards, so a sync run can record the version it used and read it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crmbridge.store.db import JSONType
from crmbridge.store.models import Base, BigIntKey

#: What a version row records.
VERSION_ACTIONS = ("create", "update", "delete")


class StoredMapping(Base):
    """A tenant's mapping of a platform entity to a Salesforce object (current state)."""

    __tablename__ = "object_mappings"
    __table_args__ = (
        # One mapping per entity, object and filter name (docs/mapping.md, "Storage").
        sa.UniqueConstraint(
            "tenant_id",
            "platform_entity",
            "salesforce_object",
            "filter_name",
            # The generated name would pass PostgreSQL's 63-character limit.
            name="uq_object_mappings_tenant_pair",
        ),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    platform_entity: Mapped[str] = mapped_column(sa.String(50))
    #: The object's API name as the org's describe spells it.
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    #: Tells apart several mappings of one pair, each with its own platform filter
    #: (e.g. ``notes`` and ``calls`` for activity ↔ Task); empty for the usual single one.
    filter_name: Mapped[str] = mapped_column(sa.String(63), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    #: ``ObjectMapping.to_dict()``.
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Starts at 1, +1 per change; the number of the newest version row.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Audit labels (e-mail, key name or ``cli``) of who created / last changed it.
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    updated_by: Mapped[str] = mapped_column(sa.String(254), default="")

    __mapper_args__ = {"version_id_col": version}


class StoredMappingVersion(Base):
    """One immutable version of an object mapping: the definition and what changed."""

    __tablename__ = "object_mapping_versions"
    __table_args__ = (
        sa.UniqueConstraint("mapping_id", "version"),
        sa.CheckConstraint(
            "action IN (" + ", ".join(f"'{a}'" for a in VERSION_ACTIONS) + ")", name="action"
        ),
        sa.Index(None, "tenant_id", "mapping_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    #: No foreign key: the history outlives a deleted mapping (sync runs refer to it).
    mapping_id: Mapped[str] = mapped_column(sa.String(36))
    version: Mapped[int]
    #: ``create``, ``update`` or ``delete``.
    action: Mapped[str] = mapped_column(sa.String(20))
    platform_entity: Mapped[str] = mapped_column(sa.String(50))
    salesforce_object: Mapped[str] = mapped_column(sa.String(80))
    filter_name: Mapped[str] = mapped_column(sa.String(63), default="")
    enabled: Mapped[bool]
    #: The definition as of this version (for a deletion: the last one).
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: A short summary of what changed since the previous version, in words.
    changes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    actor_type: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[str] = mapped_column(sa.String(36))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime]


class CachedDescribe(Base):
    """The describe of one sObject of one org, cached for one tenant."""

    __tablename__ = "salesforce_describes"

    tenant_id: Mapped[str] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    #: The org the describe came from: reconnecting to another org never reuses it.
    org_id: Mapped[str] = mapped_column(sa.String(18), primary_key=True)
    #: The object's API name, lower-cased (Salesforce names ignore case).
    sobject_key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    #: The object's API name as the describe spells it.
    sobject_name: Mapped[str] = mapped_column(sa.String(80))
    #: The JSON of ``sobjects/{name}/describe``.
    describe: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: ``Last-Modified`` of the describe response, sent back as ``If-Modified-Since``.
    schema_modified_at: Mapped[datetime | None]
    #: When the describe was downloaded.
    fetched_at: Mapped[datetime]
    #: When Salesforce last confirmed it current (a download or a 304).
    checked_at: Mapped[datetime]
