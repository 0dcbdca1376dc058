"""What one run knows: the tenant's mappings as the engine runs them, the clock, and
the knobs tests turn (sleep, randomness, page sizes).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crmbridge.domain.entities import EntityType, get_entity_type
from crmbridge.domain.mapping import CreationRule, MappingContext
from crmbridge.domain.mapping import Direction as MappingDirection
from crmbridge.domain.mapping.transforms import Lookup, Reference
from crmbridge.domain.sync import (
    ConflictPolicy,
    DeletePolicy,
    Direction,
    MergeRules,
    ReferenceField,
    order_objects,
)
from crmbridge.mappings.service import ActiveMapping
from crmbridge.salesforce.client import RetryConfig
from crmbridge.store.db import utcnow
from crmbridge.sync.canonical import MappingCodec
from crmbridge.sync.settings import SyncSettings


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a run meets the outside world; tests replace the clock, sleep and dice."""

    #: The time source (aware UTC).
    clock: Callable[[], datetime] = utcnow
    #: How the run waits (between retries inside a run).
    sleep: Callable[[float], None] = time.sleep
    #: Random source of the retry jitter.
    rng: random.Random = field(default_factory=random.Random)
    #: Records per inbound query page (``Sforce-Query-Options: batchSize``; 200..2,000).
    page_size: int = 2000
    #: Change-log entries (and records) handled per outbound chunk.
    outbound_chunk: int = 2000
    #: Failed records due for a retry within this window are retried in the same run.
    in_run_retry_window: timedelta = timedelta(seconds=30)
    #: Rounds of in-run retries at most.
    in_run_retry_rounds: int = 3
    #: The Salesforce client's own retries of one call (``None``: its defaults).
    client_retry: RetryConfig | None = None


@dataclass(frozen=True, kw_only=True)
class MappingRun:
    """One enabled mapping as a run executes it."""

    #: The mapping and the version in force.
    active: ActiveMapping
    #: The platform entity type.
    entity: EntityType
    #: Canonical representation of both sides.
    codec: MappingCodec
    #: What the merge obeys.
    rules: MergeRules

    @property
    def id(self) -> str:
        """The mapping's id."""
        return self.active.id

    @property
    def sobject(self) -> str:
        """The Salesforce object."""
        return self.active.mapping.salesforce_object

    @property
    def entity_name(self) -> str:
        """The platform entity type's name."""
        return self.active.mapping.platform_entity

    @property
    def inbound(self) -> bool:
        """Whether Salesforce changes come to the platform."""
        return self.rules.direction is not Direction.TO_SALESFORCE

    @property
    def outbound(self) -> bool:
        """Whether platform changes go to Salesforce."""
        return self.rules.direction is not Direction.FROM_SALESFORCE

    @property
    def label(self) -> str:
        """``member ↔ Contact``."""
        return f"{self.entity_name} ↔ {self.sobject}"


def mapping_context(settings: SyncSettings, now: datetime) -> MappingContext:
    """The transforms' context: the tenant's time zone and today's date there."""
    zone = ZoneInfo(settings.time_zone)
    today: date = now.astimezone(zone).date()
    return MappingContext(time_zone=settings.time_zone, today=today)


def build_mapping_runs(
    mappings: Sequence[ActiveMapping], settings: SyncSettings, *, now: datetime
) -> list[MappingRun]:
    """The mappings as a run executes them, parents first (Account before Contact).

    Mappings whose direction contradicts the tenant's direction are left out.
    """
    mapped_objects = frozenset(m.mapping.salesforce_object for m in mappings)
    context = mapping_context(settings, now)
    runs: list[MappingRun] = []
    for active in mappings:
        mapping = active.mapping
        bound = mapping.direction.narrowed_by(MappingDirection(settings.direction.value))
        if bound is None:
            continue
        direction = Direction(bound.value)
        codec = MappingCodec(
            mapping, direction=direction, context=context, mapped_objects=mapped_objects
        )
        policy = (
            ConflictPolicy(mapping.conflict_policy.value)
            if mapping.conflict_policy is not None
            else settings.conflict_policy
        )
        rules = MergeRules(
            fields=codec.field_rules(),
            direction=direction,
            conflict_policy=policy,
            delete_policy=DeletePolicy(mapping.delete_policy.value),
            create_in_salesforce=mapping.creation_in_salesforce is CreationRule.CREATE_MISSING,
            create_on_platform=mapping.creation_on_platform is CreationRule.CREATE_MISSING,
        )
        runs.append(
            MappingRun(
                active=active,
                entity=get_entity_type(mapping.platform_entity),
                codec=codec,
                rules=rules,
            )
        )
    order = order_objects({r.sobject for r in runs}, dependency_fields(runs)).objects
    position = {name: index for index, name in enumerate(order)}
    return sorted(runs, key=lambda r: (position[r.sobject], r.active.filter_name, r.id))


def dependency_fields(runs: Sequence[MappingRun]) -> list[ReferenceField]:
    """Every lookup between mapped objects, whatever its direction (for ordering)."""
    found: list[ReferenceField] = []
    for run in runs:
        for field_mapping in run.active.mapping.fields:
            for step in field_mapping.steps:
                if isinstance(step, Reference | Lookup) and field_mapping.salesforce_fields:
                    name = field_mapping.salesforce_fields[0]
                    found.append(
                        ReferenceField(
                            object=run.sobject,
                            field=name,
                            relationship_name=name,
                            target_object=step.object_name,
                        )
                    )
    return found
