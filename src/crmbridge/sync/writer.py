"""Send an outbound plan's batches to Salesforce and report each record's result.

A :class:`~crmbridge.domain.sync.RecordWrite` holds canonical values; here they become
a request body: lookups by value (``company`` → ``AccountId``) are resolved through the
related-records resolver (one query, one collection create per batch), references to
synced parents go as the parent's Salesforce id when the engine knows it and otherwise
as a nested external-id reference (``"Account": {"Platform_Id__c": "org-1"}``, REST API
Developer Guide, "Upserting Records and Associating with an External ID"; a
``Account.Platform_Id__c`` column in Bulk API 2.0, "Relationship Fields in a Header
Row"). Upserts go on the external id, links and deletes by Salesforce id.

Whole-call failures that stop the run (the rate limit, a connection that needs
re-authorization) propagate; any other call failure fails every record of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crmbridge.domain.errors import (
    CrmError,
    RateLimitError,
    ReauthorizationRequired,
    RecordDeletedError,
    RecordError,
)
from crmbridge.domain.mapping import LookupKey, LookupRequest
from crmbridge.domain.mapping.transforms import MissingRecordRule
from crmbridge.domain.sync import RecordWrite, WriteApi, WriteBatch, WriteOperation
from crmbridge.salesforce.bulk import BulkClient, BulkIngestResult
from crmbridge.salesforce.client import RecordResult, SalesforceClient
from crmbridge.salesforce.related import SalesforceRelatedRecords
from crmbridge.sync.canonical import CanonicalKind, MappingCodec


@dataclass(frozen=True, kw_only=True)
class WriteResult:
    """The outcome of one record write."""

    #: The write.
    write: RecordWrite
    #: Whether Salesforce saved it.
    success: bool
    #: The record's Salesforce id, when known.
    salesforce_id: str | None = None
    #: For upserts: whether the record was created.
    created: bool | None = None
    #: Why it failed.
    error: CrmError | None = None
    #: The body sent (for dead letters).
    body: Mapping[str, Any] | None = None


class UnsentRecord(RecordError):
    """The record could not be turned into a request (a lookup or a link is missing)."""


#: ``(object, platform id) → Salesforce id`` for parents the engine knows.
LinkFinder = Callable[[str, Sequence[str]], Mapping[str, str]]


class BatchWriter:
    """Writes batches of one run.

    Args:
        client: the tenant's Salesforce client.
        codecs: the codec of each mapped Salesforce object.
        find_links: known Salesforce ids of parents, by object and platform ids.
        bulk: the Bulk API 2.0 client (created on first use when ``None``).
    """

    def __init__(
        self,
        client: SalesforceClient,
        *,
        codecs: Mapping[str, MappingCodec],
        find_links: LinkFinder,
        bulk: BulkClient | None = None,
    ) -> None:
        self._client = client
        self._codecs = codecs
        self._find_links = find_links
        self._bulk = bulk
        self._resolver = SalesforceRelatedRecords(client)

    def write(self, batch: WriteBatch) -> list[WriteResult]:
        """Send one batch; one result per write, in order."""
        bodies: list[dict[str, Any]] = []
        ready: list[RecordWrite] = []
        results: dict[int, WriteResult] = {}
        prepared = self._bodies(batch)
        for index, (write, body) in enumerate(zip(batch.writes, prepared, strict=True)):
            if isinstance(body, CrmError):
                results[index] = WriteResult(write=write, success=False, error=body)
            else:
                bodies.append(body)
                ready.append(write)
        sent = self._send(batch, ready, bodies) if ready else []
        iterator = iter(sent)
        return [results[i] if i in results else next(iterator) for i in range(len(batch.writes))]

    # --- bodies ---------------------------------------------------------------------------

    def _bodies(self, batch: WriteBatch) -> list[dict[str, Any] | CrmError]:
        if batch.operation is WriteOperation.DELETE:
            return [{"Id": w.salesforce_id} for w in batch.writes]
        if batch.operation is WriteOperation.LINK:
            return [
                {"Id": w.salesforce_id, batch.external_id_field: w.platform_id}
                for w in batch.writes
            ]
        codec = self._codecs[batch.object]
        lookups = self._resolve_lookups(codec, batch.writes)
        links = self._parent_links(codec, batch.writes)
        return [self._body(codec, batch, w, lookups, links) for w in batch.writes]

    def _body(
        self,
        codec: MappingCodec,
        batch: WriteBatch,
        write: RecordWrite,
        lookups: Mapping[LookupKey, str | None],
        links: Mapping[tuple[str, str], str],
    ) -> dict[str, Any] | CrmError:
        body: dict[str, Any] = {batch.external_id_field: write.platform_id}
        for name, value in write.fields.items():
            field = codec.fields.get(name)
            if field is None or field.kind is CanonicalKind.PLAIN or value is None:
                body[name] = value
            elif field.kind is CanonicalKind.LOOKUP and field.lookup is not None:
                key = field.lookup.key_for(value)
                found = lookups.get(key) if key is not None else None
                if found is None and field.lookup.if_missing is not MissingRecordRule.LEAVE_EMPTY:
                    return UnsentRecord(
                        f"no {field.lookup.object_name} with {field.lookup.match_field} "
                        f"{value!r} could be found or created for {name}"
                    )
                body[name] = found
            elif field.reference is not None:
                target = field.reference.object_name
                linked = links.get((target, str(value)))
                if linked is None and not field.reference.optional:
                    return UnsentRecord(
                        f"the {field.reference.entity} {value} has no {target} in Salesforce "
                        f"yet; it links once that record syncs"
                    )
                body[name] = linked
        for ref in write.references:
            linked = links.get((ref.target_object, ref.external_id))
            if linked is not None:
                body[ref.field] = linked
            elif batch.api is WriteApi.BULK:
                body[f"{ref.relationship_name}.{ref.external_id_field}"] = ref.external_id
            else:
                body[ref.relationship_name] = {ref.external_id_field: ref.external_id}
        return body

    def _resolve_lookups(
        self, codec: MappingCodec, writes: Sequence[RecordWrite]
    ) -> Mapping[LookupKey, str | None]:
        wanted: dict[LookupKey, bool] = {}
        for write in writes:
            for name, value in write.fields.items():
                field = codec.fields.get(name)
                if field is None or field.kind is not CanonicalKind.LOOKUP or field.lookup is None:
                    continue
                key = field.lookup.key_for(value)
                if key is not None:
                    create = field.lookup.if_missing is MissingRecordRule.CREATE
                    wanted[key] = wanted.get(key, False) or create
        if not wanted:
            return {}
        requests = [LookupRequest(key=k, create_missing=c) for k, c in wanted.items()]
        return self._resolver.resolve_related(requests)

    def _parent_links(
        self, codec: MappingCodec, writes: Sequence[RecordWrite]
    ) -> Mapping[tuple[str, str], str]:
        wanted: dict[str, set[str]] = {}
        for write in writes:
            for ref in write.references:
                wanted.setdefault(ref.target_object, set()).add(ref.external_id)
            for name, value in write.fields.items():
                field = codec.fields.get(name)
                if field is not None and field.reference is not None and value is not None:
                    wanted.setdefault(field.reference.object_name, set()).add(str(value))
        links: dict[tuple[str, str], str] = {}
        for target, platform_ids in wanted.items():
            for platform_id, salesforce_id in self._find_links(
                target, sorted(platform_ids)
            ).items():
                links[(target, platform_id)] = salesforce_id
        return links

    # --- sending --------------------------------------------------------------------------

    def _send(
        self, batch: WriteBatch, writes: list[RecordWrite], bodies: list[dict[str, Any]]
    ) -> list[WriteResult]:
        try:
            if batch.api is WriteApi.BULK:
                return self._send_bulk(batch, writes, bodies)
            if batch.operation is WriteOperation.UPSERT:
                raw = self._client.upsert_collection(batch.object, batch.external_id_field, bodies)
            elif batch.operation is WriteOperation.LINK:
                raw = self._client.update_collection(batch.object, bodies)
            else:
                raw = self._client.delete_collection([str(b["Id"]) for b in bodies])
        except (RateLimitError, ReauthorizationRequired):
            raise
        except CrmError as error:
            return [
                WriteResult(write=w, success=False, error=error, body=b)
                for w, b in zip(writes, bodies, strict=True)
            ]
        return [_result(batch, w, b, r) for w, b, r in zip(writes, bodies, raw, strict=True)]

    def _send_bulk(
        self, batch: WriteBatch, writes: list[RecordWrite], bodies: list[dict[str, Any]]
    ) -> list[WriteResult]:
        bulk = self._bulk or BulkClient(self._client)
        self._bulk = bulk
        operation = {
            WriteOperation.UPSERT: "upsert",
            WriteOperation.LINK: "update",
            WriteOperation.DELETE: "delete",
        }[batch.operation]
        outcome = bulk.ingest(
            batch.object,
            operation,
            bodies,
            external_id_field=batch.external_id_field if operation == "upsert" else None,
        )
        return _bulk_results(batch, writes, bodies, outcome)


def _result(
    batch: WriteBatch, write: RecordWrite, body: dict[str, Any], raw: RecordResult
) -> WriteResult:
    if raw.success:
        return WriteResult(
            write=write,
            success=True,
            salesforce_id=raw.id or write.salesforce_id,
            created=raw.created,
            body=body,
        )
    error = raw.errors[0] if raw.errors else CrmError("Salesforce did not save the record.")
    if batch.operation is WriteOperation.DELETE and isinstance(error, RecordDeletedError):
        # Already gone (deleted in Salesforce, or by a cascade): the delete is done.
        return WriteResult(write=write, success=True, salesforce_id=write.salesforce_id, body=body)
    return WriteResult(write=write, success=False, error=error, body=body)


def _bulk_results(
    batch: WriteBatch,
    writes: list[RecordWrite],
    bodies: list[dict[str, Any]],
    outcome: BulkIngestResult,
) -> list[WriteResult]:
    key = batch.external_id_field if batch.operation is WriteOperation.UPSERT else "Id"
    by_key = {str(row.row.get(key, "")): row for row in outcome.rows}
    results = []
    for write, body in zip(writes, bodies, strict=True):
        row = by_key.get(str(body.get(key, "")))
        if row is None:
            error = CrmError(f"the Bulk API job {outcome.job_id} ended {outcome.state}")
            results.append(WriteResult(write=write, success=False, error=error, body=body))
        elif row.success:
            results.append(
                WriteResult(
                    write=write,
                    success=True,
                    salesforce_id=row.id or write.salesforce_id,
                    created=row.created,
                    body=body,
                )
            )
        else:
            error = row.error or CrmError("Salesforce did not save the record.")
            if batch.operation is WriteOperation.DELETE and isinstance(error, RecordDeletedError):
                results.append(WriteResult(write=write, success=True, body=body))
            else:
                results.append(WriteResult(write=write, success=False, error=error, body=body))
    return results
