"""Outbound write planning: order, batch, choose the API (R-S3, R-S6).

Every write is an upsert on the external-id field (``Platform_Id__c``) holding the
platform id, so a retried write updates the record it created instead of duplicating
it (REST API Developer Guide, "Insert or Update (Upsert) a Record Using an External
ID"). Lookups to mapped parents are sent as relationship references by the parent's
external id, ``"Account": {"Platform_Id__c": "org-1"}`` in REST (same guide, "Upserting
Records and Associating with an External ID") and an ``Account.Platform_Id__c`` column
in Bulk API 2.0 ("Relationship Fields in a Header Row"), so a child never waits for its
parent's Salesforce id, only for the parent to exist: parents are written in an
earlier step.

Writes of one object and operation go in sObject Collections of up to 200 records
(REST API Developer Guide, "sObject Collections"); above a threshold (by default 2,000,
the size at which the Bulk API 2.0 guide recommends it, "Introduction to Bulk API 2.0")
one Bulk API 2.0 ingest job replaces them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from crmbridge.domain.sync.ordering import ReferenceField, order_objects, record_waves
from crmbridge.domain.sync.values import FieldValue

#: The external-id field every synced object carries, holding the platform id.
DEFAULT_EXTERNAL_ID_FIELD = "Platform_Id__c"
#: sObject Collections take at most 200 records per request.
MAX_COLLECTION_SIZE = 200


class WriteOperation(enum.StrEnum):
    """What is done to a Salesforce record."""

    #: Create or update by the external id (every data write).
    UPSERT = "upsert"
    #: Update by Salesforce id that only stamps the external id on a record created in
    #: Salesforce, so later upserts reach it instead of creating a duplicate.
    LINK = "link"
    #: Delete by Salesforce id.
    DELETE = "delete"


class WriteApi(enum.StrEnum):
    """Which Salesforce API carries a batch."""

    COLLECTIONS = "collections"
    BULK = "bulk"


@dataclass(frozen=True, kw_only=True)
class ParentReference:
    """A lookup set through the parent's external id."""

    #: The lookup field (``AccountId``).
    field: str
    #: Its relationship name (``Account``): the key of the nested reference.
    relationship_name: str
    #: The parent object (``Account``).
    target_object: str
    #: The parent's external-id field.
    external_id_field: str
    #: The parent's platform id.
    external_id: str


@dataclass(frozen=True, kw_only=True)
class RecordWrite:
    """One record to write to Salesforce."""

    #: The Salesforce object.
    object: str
    #: Upsert or delete.
    operation: WriteOperation
    #: The platform record id: the external-id value of the upsert.
    platform_id: str
    #: The Salesforce id, when known (deletes need it).
    salesforce_id: str | None = None
    #: Field values to send, canonical; lookups to mapped objects hold the parent's
    #: platform id until :func:`plan_outbound_writes` turns them into references.
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    #: Lookups set by the parent's external id.
    references: tuple[ParentReference, ...] = ()
    #: Change-log sequence numbers this write settles.
    change_seqs: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WriteBatch:
    """One Salesforce request (a collection) or one Bulk API 2.0 ingest job."""

    #: Execution step: every batch of a step may run once all earlier steps finished;
    #: batches of the same step do not depend on each other.
    step: int
    #: The Salesforce object.
    object: str
    #: Upsert or delete.
    operation: WriteOperation
    #: Collections or Bulk API 2.0.
    api: WriteApi
    #: The external-id field upserts match on.
    external_id_field: str
    #: The records, in the order to send them.
    writes: tuple[RecordWrite, ...]


@dataclass(frozen=True, kw_only=True)
class OutboundSettings:
    """Batching knobs (configurable per tenant)."""

    #: Records per sObject Collections request (at most 200).
    collection_size: int = MAX_COLLECTION_SIZE
    #: An object with more records than this in one step goes through Bulk API 2.0.
    bulk_threshold: int = 2000
    #: Records per Bulk API 2.0 job, keeping each upload well under its size limit.
    bulk_job_size: int = 100_000
    #: The external-id field holding the platform id.
    external_id_field: str = DEFAULT_EXTERNAL_ID_FIELD

    def __post_init__(self) -> None:
        if not 1 <= self.collection_size <= MAX_COLLECTION_SIZE:
            raise ValueError(f"collection_size must be between 1 and {MAX_COLLECTION_SIZE}")
        if self.bulk_threshold < 0 or self.bulk_job_size < 1:
            raise ValueError("bulk_threshold must be >= 0 and bulk_job_size >= 1")


@dataclass(frozen=True, kw_only=True)
class OutboundPlan:
    """Every batch to send, in execution order."""

    #: The batches, ordered by step.
    batches: tuple[WriteBatch, ...]

    @property
    def record_count(self) -> int:
        """Records written, deferred reference updates included."""
        return sum(len(b.writes) for b in self.batches)


def plan_outbound_writes(
    writes: Iterable[RecordWrite],
    *,
    references: Sequence[ReferenceField],
    settings: OutboundSettings,
) -> OutboundPlan:
    """Order and batch the writes of one outbound run.

    Args:
        writes: one write per record (a second write for the same record is merged into
            the first: fields united, the later value and operation winning).
        references: the lookups between mapped objects (from the mappings).
        settings: batch sizes and the Bulk API threshold.

    Returns:
        Links first (external-id stamps), then upserts parents first (objects in
        dependency order, self-referencing records in waves), then deferred lookups
        that closed a cycle, then deletes children first.
    """
    merged = _merge_duplicates(writes)
    # Links only stamp the external id on existing records: they depend on nothing, and
    # every upsert of those records (and every reference to them) depends on them.
    links = [
        replace(w, fields={}, references=()) for w in merged if w.operation is WriteOperation.LINK
    ]
    upserts = [w for w in merged if w.operation is WriteOperation.UPSERT]
    # A delete sends only the record's id: whatever fields came along are irrelevant.
    deletes = [
        replace(w, fields={}, references=()) for w in merged if w.operation is WriteOperation.DELETE
    ]
    order = order_objects({w.object for w in upserts}, references)
    batches: list[WriteBatch] = []
    fixups: list[RecordWrite] = []
    step = 0
    for object_name in sorted({w.object for w in links}):
        group = [w for w in links if w.object == object_name]
        batches.extend(_batches(group, step, WriteOperation.LINK, settings))
    step += 1 if links else 0
    for object_name in order.objects:
        records = [w for w in upserts if w.object == object_name]
        lookups = [r for r in references if r.object == object_name]
        resolved = [_resolve_references(w, lookups, settings.external_id_field) for w in records]
        self_refs = {r.field for r in lookups if r.target_object == object_name}
        deferred_fields = {f for (o, f) in order.deferred if o == object_name}
        waves, deferred_links = record_waves(
            {
                w.platform_id: {ref.external_id for ref in w.references if ref.field in self_refs}
                for w in resolved
            }
        )
        groups: dict[int, list[RecordWrite]] = {}
        for write in resolved:
            kept, later = _split_deferred(write, deferred_fields, deferred_links, self_refs)
            groups.setdefault(waves[write.platform_id], []).append(kept)
            if later is not None:
                fixups.append(later)
        for wave in sorted(groups):
            batches.extend(_batches(groups[wave], step, WriteOperation.UPSERT, settings))
            step += 1
    if fixups:
        for object_name in sorted({w.object for w in fixups}):
            group = [w for w in fixups if w.object == object_name]
            batches.extend(_batches(group, step, WriteOperation.UPSERT, settings))
        step += 1
    # Deletes go children first: deleting a parent may cascade to its children, and a
    # child deleted by cascade would then fail with ENTITY_IS_DELETED.
    delete_order = order_objects({w.object for w in deletes}, references).objects
    for object_name in reversed(delete_order):
        group = [w for w in deletes if w.object == object_name]
        batches.extend(_batches(group, step, WriteOperation.DELETE, settings))
        step += 1
    return OutboundPlan(batches=tuple(batches))


def _merge_duplicates(writes: Iterable[RecordWrite]) -> list[RecordWrite]:
    merged: dict[tuple[str, str, bool], RecordWrite] = {}
    for write in writes:
        # A link and a data write of one record are two requests; never fold them.
        key = (write.object, write.platform_id, write.operation is WriteOperation.LINK)
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = write
            continue
        merged[key] = replace(
            write,
            salesforce_id=write.salesforce_id or earlier.salesforce_id,
            fields={**earlier.fields, **write.fields},
            references=tuple(
                {r.field: r for r in (*earlier.references, *write.references)}.values()
            ),
            change_seqs=tuple(sorted({*earlier.change_seqs, *write.change_seqs})),
        )
    return sorted(merged.values(), key=lambda w: (w.object, w.platform_id))


def _resolve_references(
    write: RecordWrite, lookups: Sequence[ReferenceField], external_id_field: str
) -> RecordWrite:
    """Turn lookups holding a parent's platform id into external-id references."""
    fields = dict(write.fields)
    refs = {r.field: r for r in write.references}
    for lookup in lookups:
        value = fields.get(lookup.field)
        if lookup.field not in fields or value is None:
            continue  # absent: unchanged; None: sent as a plain null to clear it
        refs[lookup.field] = ParentReference(
            field=lookup.field,
            relationship_name=lookup.relationship_name,
            target_object=lookup.target_object,
            external_id_field=external_id_field,
            external_id=str(value),
        )
        del fields[lookup.field]
    return replace(write, fields=fields, references=tuple(refs.values()))


def _split_deferred(
    write: RecordWrite,
    deferred_fields: set[str],
    deferred_links: frozenset[tuple[str, str]],
    self_refs: set[str],
) -> tuple[RecordWrite, RecordWrite | None]:
    """Split off the references that must wait until every record of the plan exists."""
    later = [
        r
        for r in write.references
        if r.field in deferred_fields
        or (r.field in self_refs and (write.platform_id, r.external_id) in deferred_links)
    ]
    if not later:
        return write, None
    now = tuple(r for r in write.references if r not in later)
    fixup = RecordWrite(
        object=write.object,
        operation=WriteOperation.UPSERT,
        platform_id=write.platform_id,
        salesforce_id=write.salesforce_id,
        references=tuple(later),
        change_seqs=write.change_seqs,
    )
    return replace(write, references=now), fixup


def _batches(
    writes: Sequence[RecordWrite],
    step: int,
    operation: WriteOperation,
    settings: OutboundSettings,
) -> list[WriteBatch]:
    if not writes:
        return []
    use_bulk = len(writes) > settings.bulk_threshold
    size = settings.bulk_job_size if use_bulk else settings.collection_size
    return [
        WriteBatch(
            step=step,
            object=writes[0].object,
            operation=operation,
            api=WriteApi.BULK if use_bulk else WriteApi.COLLECTIONS,
            external_id_field=settings.external_id_field,
            writes=tuple(writes[start : start + size]),
        )
        for start in range(0, len(writes), size)
    ]
