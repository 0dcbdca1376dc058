"""Queries on object mappings and their versions (every query filters on the tenant)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmbridge.store.mapping_models import StoredMapping, StoredMappingVersion


def list_mappings(
    session: Session,
    *,
    tenant_id: str,
    platform_entity: str | None = None,
    salesforce_object: str | None = None,
    enabled: bool | None = None,
) -> list[StoredMapping]:
    """The tenant's mappings, ordered by entity, object and filter name."""
    query = (
        sa.select(StoredMapping)
        .where(StoredMapping.tenant_id == tenant_id)
        .order_by(
            StoredMapping.platform_entity,
            StoredMapping.salesforce_object,
            StoredMapping.filter_name,
            StoredMapping.id,
        )
    )
    if platform_entity is not None:
        query = query.where(StoredMapping.platform_entity == platform_entity)
    if salesforce_object is not None:
        query = query.where(
            sa.func.lower(StoredMapping.salesforce_object) == salesforce_object.lower()
        )
    if enabled is not None:
        query = query.where(StoredMapping.enabled.is_(enabled))
    return list(session.scalars(query))


def get_mapping(session: Session, *, tenant_id: str, mapping_id: str) -> StoredMapping | None:
    return session.scalar(
        sa.select(StoredMapping).where(
            StoredMapping.id == mapping_id, StoredMapping.tenant_id == tenant_id
        )
    )


def find_mapping_for_pair(
    session: Session,
    *,
    tenant_id: str,
    platform_entity: str,
    salesforce_object: str,
    filter_name: str,
) -> StoredMapping | None:
    """The mapping holding this (entity, object, filter name), if any (object name ignores case)."""
    return session.scalar(
        sa.select(StoredMapping).where(
            StoredMapping.tenant_id == tenant_id,
            StoredMapping.platform_entity == platform_entity,
            sa.func.lower(StoredMapping.salesforce_object) == salesforce_object.lower(),
            StoredMapping.filter_name == filter_name,
        )
    )


def add_mapping(session: Session, mapping: StoredMapping) -> StoredMapping:
    session.add(mapping)
    session.flush()
    return mapping


def delete_mapping(session: Session, mapping: StoredMapping) -> None:
    session.delete(mapping)
    session.flush()


def add_version(session: Session, version: StoredMappingVersion) -> StoredMappingVersion:
    session.add(version)
    session.flush()
    return version


def list_versions(
    session: Session, *, tenant_id: str, mapping_id: str
) -> Sequence[StoredMappingVersion]:
    """Every version of a mapping (deleted ones too), newest first."""
    return list(
        session.scalars(
            sa.select(StoredMappingVersion)
            .where(
                StoredMappingVersion.tenant_id == tenant_id,
                StoredMappingVersion.mapping_id == mapping_id,
            )
            .order_by(StoredMappingVersion.version.desc())
        )
    )


def get_version(
    session: Session, *, tenant_id: str, mapping_id: str, version: int
) -> StoredMappingVersion | None:
    return session.scalar(
        sa.select(StoredMappingVersion).where(
            StoredMappingVersion.tenant_id == tenant_id,
            StoredMappingVersion.mapping_id == mapping_id,
            StoredMappingVersion.version == version,
        )
    )


def count_mappings(session: Session, *, tenant_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(StoredMapping)
    if tenant_id is not None:
        query = query.where(StoredMapping.tenant_id == tenant_id)
    return int(session.scalar(query) or 0)


def count_versions(session: Session, *, tenant_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(StoredMappingVersion)
    if tenant_id is not None:
        query = query.where(StoredMappingVersion.tenant_id == tenant_id)
    return int(session.scalar(query) or 0)
