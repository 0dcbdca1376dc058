"""The default mappings (R-M4): list them, and install one or all after checking the org.

Installing checks every selected default against the org first. When any of them has
errors and they are to be installed enabled, nothing is installed and every error is
listed (with the pair it belongs to); installed disabled, they are saved as drafts with
their errors, to be fixed in the editor. A pair that already has a mapping is left as
it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from crmbridge.domain.mapping import ObjectMapping, default_object_mappings
from crmbridge.mappings.checks import CheckedMapping, check_mapping
from crmbridge.mappings.describes import OrgSchema
from crmbridge.mappings.errors import MappingRejected, Problem
from crmbridge.mappings.service import SaveResult, store_new_mapping
from crmbridge.services.access import Principal
from crmbridge.services.errors import NotFound
from crmbridge.store.mapping_models import StoredMapping
from crmbridge.store.repositories import mappings as repo


@dataclass(frozen=True, kw_only=True)
class DefaultMapping:
    """A shipped default and whether the tenant has a mapping of its pair."""

    #: The default definition.
    mapping: ObjectMapping
    #: The tenant's mapping of the same pair (no filter name), if any.
    installed: StoredMapping | None


@dataclass(frozen=True, kw_only=True)
class InstallOutcome:
    """What installing one default did."""

    #: ``entity ↔ Object``.
    pair: str
    #: ``installed`` or ``already_installed``.
    status: str
    #: The tenant's mapping of the pair.
    mapping: StoredMapping
    #: Warnings (and, installed disabled, errors).
    problems: tuple[Problem, ...] = ()


def pair_label(mapping: ObjectMapping) -> str:
    """``lead ↔ Lead``."""
    return f"{mapping.platform_entity} ↔ {mapping.salesforce_object}"


def list_default_mappings(session: Session, *, tenant_id: str) -> list[DefaultMapping]:
    """Every default mapping, parents before children, with the tenant's installed one."""
    return [
        DefaultMapping(
            mapping=mapping,
            installed=repo.find_mapping_for_pair(
                session,
                tenant_id=tenant_id,
                platform_entity=mapping.platform_entity,
                salesforce_object=mapping.salesforce_object,
                filter_name="",
            ),
        )
        for mapping in default_object_mappings()
    ]


@dataclass(frozen=True, kw_only=True)
class InstallPlan:
    """Selected defaults, checked against the org, ready to install."""

    #: Pairs the tenant already has a mapping of (left as they are).
    already_installed: tuple[InstallOutcome, ...]
    #: The defaults to install, checked.
    to_install: tuple[CheckedMapping, ...]


def check_default_mappings(
    session: Session,
    org: OrgSchema,
    *,
    tenant_id: str,
    pairs: Sequence[tuple[str, str]] | None = None,
    enabled: bool = True,
) -> InstallPlan:
    """Check the defaults of ``pairs`` (all when ``None``) against the org.

    Args:
        pairs: ``(platform entity, Salesforce object)`` pairs; object names ignore case.
        enabled: they are to be installed enabled (errors then block) or as drafts.

    Raises:
        NotFound: a pair has no default mapping.
        MappingRejected: to be installed enabled, and a selected default has errors.
    """
    defaults = list_default_mappings(session, tenant_id=tenant_id)
    selected = defaults if pairs is None else [_find(defaults, pair) for pair in pairs]
    already: list[InstallOutcome] = []
    to_install: list[CheckedMapping] = []
    unique = {pair_label(d.mapping): d for d in selected}
    for default in unique.values():
        if default.installed is not None:
            already.append(
                InstallOutcome(
                    pair=pair_label(default.mapping),
                    status="already_installed",
                    mapping=default.installed,
                )
            )
            continue
        wanted = replace(default.mapping, enabled=enabled)
        to_install.append(check_mapping(session, org, tenant_id=tenant_id, mapping=wanted))
    if enabled:
        errors = [
            replace(problem, pair=pair_label(checked.mapping))
            for checked in to_install
            for problem in checked.errors
        ]
        if errors:
            raise MappingRejected(
                errors,
                f"{len(errors)} error{'s' if len(errors) != 1 else ''} in the default mappings "
                "against this org; nothing was installed. Fix the org, or install them "
                "disabled and fix them in the editor.",
            )
    return InstallPlan(already_installed=tuple(already), to_install=tuple(to_install))


def install_default_mappings(
    session: Session, principal: Principal, plan: InstallPlan, *, tenant_id: str
) -> list[InstallOutcome]:
    """Store the checked defaults of a plan, each as version 1 of a new mapping."""
    outcomes = list(plan.already_installed)
    for checked in plan.to_install:
        saved: SaveResult = store_new_mapping(
            session, principal, tenant_id=tenant_id, checked=checked
        )
        outcomes.append(
            InstallOutcome(
                pair=pair_label(checked.mapping),
                status="installed",
                mapping=saved.mapping,
                problems=saved.problems,
            )
        )
    return outcomes


def _find(defaults: Sequence[DefaultMapping], pair: tuple[str, str]) -> DefaultMapping:
    entity, sobject = pair
    for default in defaults:
        if (default.mapping.platform_entity, default.mapping.salesforce_object.lower()) == (
            entity,
            sobject.lower(),
        ):
            return default
    raise NotFound(f"There is no default mapping of {entity} ↔ {sobject}.")
