"""Object mappings of a tenant: create, change, delete, read, with versions and audit.

Every save is checked against the org first (:func:`validate_draft`, which calls
Salesforce for the describe), then stored (:func:`store_new_mapping`,
:func:`store_mapping_change`): fetch, then write, so no write lock is held while
Salesforce is called. Every change writes an immutable version row (who, when, what
changed) and an audit entry in the caller's transaction (R-P5). The request or task
owns the transaction: nothing here commits. Uniqueness: one mapping per (tenant,
platform entity, Salesforce object, filter name); a second one is a
:class:`MappingConflict`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmbridge.domain.mapping import ObjectMapping, summarize_mapping_changes
from crmbridge.mappings.checks import CheckedMapping, check_mapping, parse_definition, refuse_errors
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.errors import MappingConflict, MappingNotFound, Problem
from crmbridge.services.access import Principal
from crmbridge.services.audit import record_audit
from crmbridge.services.errors import NotFound, StaleVersion
from crmbridge.store.db import utcnow
from crmbridge.store.mapping_models import StoredMapping, StoredMappingVersion
from crmbridge.store.repositories import mappings as repo

#: The audit log's target type for mappings.
AUDIT_TARGET = "mapping"


@dataclass(frozen=True, kw_only=True)
class SaveResult:
    """A saved mapping and what the checks said about it."""

    #: The mapping as stored.
    mapping: StoredMapping
    #: Warnings (and the errors a disabled draft keeps).
    problems: tuple[Problem, ...] = ()
    #: ``False`` when the save equalled the current definition (no new version).
    changed: bool = True


@dataclass(frozen=True, kw_only=True)
class ActiveMapping:
    """An enabled mapping as the sync engine runs it: which version, and what it says."""

    #: The mapping's id.
    id: str
    #: The version the definition is (record it with the run; reload it with
    #: :func:`load_mapping_version`).
    version: int
    #: The mapping's filter name.
    filter_name: str
    #: The definition.
    mapping: ObjectMapping


def mapping_view(stored: StoredMapping) -> dict[str, Any]:
    """The API representation of a stored mapping."""
    return {
        "id": stored.id,
        "platform_entity": stored.platform_entity,
        "salesforce_object": stored.salesforce_object,
        "filter_name": stored.filter_name,
        "enabled": stored.enabled,
        "version": stored.version,
        "definition": stored.definition,
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
        "created_by": stored.created_by,
        "updated_by": stored.updated_by,
    }


def version_view(version: StoredMappingVersion, *, with_definition: bool) -> dict[str, Any]:
    """The API representation of one version."""
    view: dict[str, Any] = {
        "mapping_id": version.mapping_id,
        "version": version.version,
        "action": version.action,
        "platform_entity": version.platform_entity,
        "salesforce_object": version.salesforce_object,
        "filter_name": version.filter_name,
        "enabled": version.enabled,
        "changes": list(version.changes),
        "actor_type": version.actor_type,
        "actor_id": version.actor_id,
        "actor_label": version.actor_label,
        "created_at": version.created_at,
    }
    if with_definition:
        view["definition"] = version.definition
    return view


# --- reading ------------------------------------------------------------------------------


def list_mappings(
    session: Session,
    *,
    tenant_id: str,
    platform_entity: str | None = None,
    salesforce_object: str | None = None,
    enabled: bool | None = None,
) -> list[StoredMapping]:
    """The tenant's mappings, ordered by entity, object and filter name."""
    return repo.list_mappings(
        session,
        tenant_id=tenant_id,
        platform_entity=platform_entity,
        salesforce_object=salesforce_object,
        enabled=enabled,
    )


def get_mapping(session: Session, *, tenant_id: str, mapping_id: str) -> StoredMapping:
    """One mapping; :class:`MappingNotFound` also for other tenants' ids."""
    stored = repo.get_mapping(session, tenant_id=tenant_id, mapping_id=mapping_id)
    if stored is None:
        raise MappingNotFound("No mapping with this id.")
    return stored


def list_versions(
    session: Session, *, tenant_id: str, mapping_id: str
) -> Sequence[StoredMappingVersion]:
    """Every version of a mapping, newest first (a deleted mapping's too)."""
    versions = repo.list_versions(session, tenant_id=tenant_id, mapping_id=mapping_id)
    if not versions:
        raise MappingNotFound("No mapping with this id.")
    return versions


def get_mapping_version(
    session: Session, *, tenant_id: str, mapping_id: str, version: int
) -> StoredMappingVersion:
    """One version of a mapping, as it was saved.

    Raises:
        NotFound: no such mapping or version for this tenant.
    """
    found = repo.get_version(session, tenant_id=tenant_id, mapping_id=mapping_id, version=version)
    if found is None:
        raise NotFound("No such version of this mapping.")
    return found


def load_mapping_version(
    session: Session, *, tenant_id: str, mapping_id: str, version: int
) -> ObjectMapping:
    """The definition a sync run used, read back from the version it recorded."""
    stored = get_mapping_version(
        session, tenant_id=tenant_id, mapping_id=mapping_id, version=version
    )
    return ObjectMapping.from_dict(stored.definition)


def load_enabled_mappings(session: Session, *, tenant_id: str) -> list[ActiveMapping]:
    """The tenant's enabled mappings with their versions (what a sync run reads)."""
    return [
        ActiveMapping(
            id=stored.id,
            version=stored.version,
            filter_name=stored.filter_name,
            mapping=ObjectMapping.from_dict(stored.definition),
        )
        for stored in repo.list_mappings(session, tenant_id=tenant_id, enabled=True)
    ]


# --- writing ------------------------------------------------------------------------------


def validate_draft(
    session: Session, org: OrgSchema, *, tenant_id: str, definition: Mapping[str, Any]
) -> CheckedMapping:
    """Check a definition without saving it.

    Raises:
        MappingRejected: the definition is malformed (it cannot be checked further).
    """
    return check_mapping(session, org, tenant_id=tenant_id, mapping=parse_definition(definition))


def store_new_mapping(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    checked: CheckedMapping,
    filter_name: str = "",
) -> SaveResult:
    """Store an already checked mapping as version 1 (defaults, accepted suggestions)."""
    mapping = checked.mapping
    refuse_errors(checked, enabled=mapping.enabled)
    _ensure_pair_free(session, tenant_id=tenant_id, mapping=mapping, filter_name=filter_name)
    now = utcnow()
    stored = StoredMapping(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        platform_entity=mapping.platform_entity,
        salesforce_object=mapping.salesforce_object,
        filter_name=filter_name,
        enabled=mapping.enabled,
        definition=mapping.to_dict(),
        created_at=now,
        updated_at=now,
        created_by=principal.label[:254],
        updated_by=principal.label[:254],
    )
    try:
        with session.begin_nested():
            repo.add_mapping(session, stored)
    except IntegrityError:
        # Another request stored the same pair between the check and the insert.
        raise _conflict(mapping, filter_name) from None
    changes = summarize_mapping_changes(None, stored.definition)
    _write_version(session, principal, stored, action="create", changes=changes)
    _audit(session, principal, stored, action="mapping.create", before=None, changes=changes)
    return SaveResult(mapping=stored, problems=checked.problems)


def patched_definition(stored: StoredMapping, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A stored definition with some top-level attributes replaced (``fields`` wholly)."""
    return {**stored.definition, **changes}


def store_mapping_change(
    session: Session,
    principal: Principal,
    stored: StoredMapping,
    *,
    checked: CheckedMapping,
    filter_name: str,
) -> SaveResult:
    """Save an already checked definition over ``stored`` as a new version."""
    mapping = checked.mapping
    refuse_errors(checked, enabled=mapping.enabled)
    definition = mapping.to_dict()
    if definition == stored.definition and filter_name == stored.filter_name:
        return SaveResult(mapping=stored, problems=checked.problems, changed=False)
    moved = (mapping.platform_entity, mapping.salesforce_object.lower(), filter_name) != (
        stored.platform_entity,
        stored.salesforce_object.lower(),
        stored.filter_name,
    )
    if moved:
        _ensure_pair_free(
            session,
            tenant_id=stored.tenant_id,
            mapping=mapping,
            filter_name=filter_name,
            other_than=stored.id,
        )
    changes = summarize_mapping_changes(stored.definition, definition)
    if filter_name != stored.filter_name:
        changes = (f"filter_name: {stored.filter_name!r} → {filter_name!r}", *changes)
        changes = tuple(c for c in changes if c != "no change")
    before = _audit_state(stored)
    stored.platform_entity = mapping.platform_entity
    stored.salesforce_object = mapping.salesforce_object
    stored.filter_name = filter_name
    stored.enabled = mapping.enabled
    stored.definition = definition
    stored.updated_at = utcnow()
    stored.updated_by = principal.label[:254]
    try:
        with session.begin_nested():
            session.flush()  # the version column guards against a concurrent change
    except IntegrityError:
        raise _conflict(mapping, filter_name) from None
    _write_version(session, principal, stored, action="update", changes=changes)
    _audit(session, principal, stored, action="mapping.update", before=before, changes=changes)
    return SaveResult(mapping=stored, problems=checked.problems)


def delete_mapping(
    session: Session,
    principal: Principal,
    *,
    tenant_id: str,
    mapping_id: str,
    expected_version: int | None = None,
) -> None:
    """Delete a mapping; its versions stay readable (a last ``delete`` version is added)."""
    stored = get_mapping(session, tenant_id=tenant_id, mapping_id=mapping_id)
    check_expected_version(stored, expected_version)
    changes = summarize_mapping_changes(stored.definition, None)
    before = _audit_state(stored)
    repo.add_version(
        session,
        _version_row(
            principal, stored, action="delete", changes=changes, number=stored.version + 1
        ),
    )
    repo.delete_mapping(session, stored)
    record_audit(
        session,
        principal,
        action="mapping.delete",
        target_type=AUDIT_TARGET,
        target_id=stored.id,
        tenant_id=stored.tenant_id,
        before=before,
        after=None,
    )


# --- helpers --------------------------------------------------------------------------------


def check_expected_version(stored: StoredMapping, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != stored.version:
        raise StaleVersion(
            f"The mapping is at version {stored.version}, not {expected_version}; "
            "read it again and retry."
        )


def _ensure_pair_free(
    session: Session,
    *,
    tenant_id: str,
    mapping: ObjectMapping,
    filter_name: str,
    other_than: str | None = None,
) -> None:
    existing = repo.find_mapping_for_pair(
        session,
        tenant_id=tenant_id,
        platform_entity=mapping.platform_entity,
        salesforce_object=mapping.salesforce_object,
        filter_name=filter_name,
    )
    if existing is not None and existing.id != other_than:
        raise _conflict(mapping, filter_name, existing.id)


def _conflict(mapping: ObjectMapping, filter_name: str, existing_id: str = "") -> MappingConflict:
    named = f" named {filter_name!r}" if filter_name else ""
    which = f" ({existing_id})" if existing_id else ""
    return MappingConflict(
        f"A mapping of {mapping.platform_entity} ↔ {mapping.salesforce_object}{named} already "
        f"exists{which}; change that one, or give this one another filter_name."
    )


def _version_row(
    principal: Principal,
    stored: StoredMapping,
    *,
    action: str,
    changes: Sequence[str],
    number: int,
) -> StoredMappingVersion:
    return StoredMappingVersion(
        tenant_id=stored.tenant_id,
        mapping_id=stored.id,
        version=number,
        action=action,
        platform_entity=stored.platform_entity,
        salesforce_object=stored.salesforce_object,
        filter_name=stored.filter_name,
        enabled=stored.enabled,
        definition=dict(stored.definition),
        changes=list(changes),
        actor_type=principal.kind,
        actor_id=principal.id,
        actor_label=principal.label[:254],
        created_at=utcnow(),
    )


def _write_version(
    session: Session,
    principal: Principal,
    stored: StoredMapping,
    *,
    action: str,
    changes: Sequence[str],
) -> None:
    repo.add_version(
        session,
        _version_row(principal, stored, action=action, changes=changes, number=stored.version),
    )


def _audit_state(stored: StoredMapping) -> dict[str, Any]:
    return {
        "platform_entity": stored.platform_entity,
        "salesforce_object": stored.salesforce_object,
        "filter_name": stored.filter_name,
        "enabled": stored.enabled,
        "version": stored.version,
    }


def _audit(
    session: Session,
    principal: Principal,
    stored: StoredMapping,
    *,
    action: str,
    before: dict[str, Any] | None,
    changes: Sequence[str],
) -> None:
    # The definitions themselves are in the version rows; the audit says who and what.
    record_audit(
        session,
        principal,
        action=action,
        target_type=AUDIT_TARGET,
        target_id=stored.id,
        tenant_id=stored.tenant_id,
        before=before,
        after={**_audit_state(stored), "changes": list(changes)},
    )
