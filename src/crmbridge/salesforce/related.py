"""The Salesforce side of mapping lookups: find or create related records in batches.

The mapping domain collects every lookup a batch needs (``company`` → the Account whose
``Name`` matches) and asks :class:`SalesforceRelatedRecords` once. It answers with one
query per related object and field for the whole batch and one collection create for
the records that are missing, so two records that need the same missing Account create
it exactly once.

A create whose answer is lost (a timeout after the request left) may or may not have
happened; Salesforce collections are not idempotent, so the client does not replay it.
Instead the resolver queries again for what is still missing and creates only that,
so a retry never duplicates a record it already made. Two *processes* creating the same
name at the same moment can still both create it: Salesforce has no uniqueness on
``Name``; crmbridge runs one sync per tenant at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from crmbridge.domain.errors import CrmError, RetryableError
from crmbridge.domain.mapping.context import LookupKey, LookupRequest, RelatedValueKey
from crmbridge.salesforce import soql
from crmbridge.salesforce.client import SalesforceClient

log = structlog.get_logger(__name__)

#: Values per ``IN (...)`` list: 200 names of 255 characters stay far below SOQL's
#: 100,000-character statement limit (SOQL and SOSL Reference, "SOQL Limits").
QUERY_CHUNK = 200


@dataclass(frozen=True, kw_only=True)
class LookupFailure:
    """A related record that could not be created, and why."""

    #: The lookup.
    key: LookupKey
    #: Salesforce's error, classified.
    error: CrmError


@dataclass(kw_only=True)
class LookupReport:
    """What one resolver did, for logs and previews."""

    #: Lookups answered from existing records.
    found: list[LookupKey] = field(default_factory=list)
    #: Records created, with their new Ids.
    created: dict[LookupKey, str] = field(default_factory=dict)
    #: Lookups no existing record answered (created afterwards or not).
    not_found: list[LookupKey] = field(default_factory=list)
    #: Creates Salesforce refused.
    failures: list[LookupFailure] = field(default_factory=list)
    #: Creates retried after an ambiguous failure (the answer was lost).
    retries: int = 0


class SalesforceRelatedRecords:
    """A :class:`~crmbridge.domain.mapping.context.RelatedRecordResolver` on a live org.

    Args:
        client: the tenant's Salesforce client.
        allow_create: ``False`` for previews: nothing is created, whatever a lookup says.
        create_attempts: tries of a collection create whose answer gets lost.
    """

    def __init__(
        self, client: SalesforceClient, *, allow_create: bool = True, create_attempts: int = 3
    ) -> None:
        self._client = client
        self._allow_create = allow_create
        self._create_attempts = max(1, create_attempts)
        #: What the calls so far did.
        self.report = LookupReport()

    # --- lookups (outbound) -------------------------------------------------------------

    def resolve_related(self, requests: Sequence[LookupRequest]) -> Mapping[LookupKey, str | None]:
        """Find the related records of a batch, creating the missing ones it may create.

        Args:
            requests: distinct keys, each saying whether a missing record may be created.

        Returns:
            The Salesforce Id for every key; ``None`` when not found and not created.

        Raises:
            CrmError: the query failed, or a create kept failing without an answer.
        """
        result: dict[LookupKey, str | None] = {}
        for (object_name, match_field), group in _group_requests(requests).items():
            keys = [r.key for r in group]
            found = self._find(object_name, match_field, keys)
            self.report.found.extend(k for k in keys if k in found)
            self.report.not_found.extend(k for k in keys if k not in found)
            result.update({k: found.get(k) for k in keys})
            missing = [r.key for r in group if r.create_missing and r.key not in found]
            if missing and self._allow_create:
                result.update(self._create_missing(object_name, match_field, missing))
        return result

    def _find(
        self, object_name: str, match_field: str, keys: Sequence[LookupKey]
    ) -> dict[LookupKey, str]:
        by_identity = {k.identity[2]: k for k in keys}
        found: dict[LookupKey, str] = {}
        values = sorted({k.value.strip() for k in keys})
        for chunk in _chunks(values, QUERY_CHUNK):
            select = soql.Select(
                sobject=object_name,
                fields=(match_field,),
                where=soql.Comparison(field=match_field, operator="IN", value=tuple(chunk)),
                # Several matches: the oldest wins, the same one every time.
                order_by=(soql.OrderBy(field="CreatedDate"), soql.OrderBy(field="Id")),
            )
            for record in self._client.query(select.to_soql()):
                text = _field_value(record, match_field)
                key = by_identity.get(str(text).strip().casefold()) if text is not None else None
                if key is not None and key not in found:
                    found[key] = str(record["Id"])
        return found

    def _create_missing(
        self, object_name: str, match_field: str, missing: list[LookupKey]
    ) -> dict[LookupKey, str | None]:
        outcome: dict[LookupKey, str | None] = dict.fromkeys(missing)
        pending = list(missing)
        for attempt in range(1, self._create_attempts + 1):
            if attempt > 1:
                # The last create may have happened: look again before creating more.
                found = self._find(object_name, match_field, pending)
                outcome.update(found)
                pending = [k for k in pending if k not in found]
                if not pending:
                    break
                self.report.retries += 1
            try:
                results = self._client.create_collection(
                    object_name, [{match_field: k.value.strip()} for k in pending]
                )
            except RetryableError as error:
                log.warning(
                    "salesforce.lookup_create_unanswered",
                    sobject=object_name,
                    records=len(pending),
                    attempt=attempt,
                    error=str(error),
                )
                if attempt == self._create_attempts:
                    raise
                continue
            for key, created in zip(pending, results, strict=True):
                if created.success and created.id:
                    outcome[key] = created.id
                    self.report.created[key] = created.id
                else:
                    refusal = created.errors[0] if created.errors else CrmError("not created")
                    self.report.failures.append(LookupFailure(key=key, error=refusal))
            break
        return outcome

    # --- related values (inbound) -------------------------------------------------------

    def read_related_values(self, keys: Sequence[RelatedValueKey]) -> Mapping[RelatedValueKey, Any]:
        """Read one field of many related records, one query per object and field.

        Returns:
            The value for every key whose record exists (deleted ones are left out).
        """
        groups: dict[tuple[str, str], list[RelatedValueKey]] = {}
        for key in keys:
            groups.setdefault((key.object_name, key.field_name), []).append(key)
        result: dict[RelatedValueKey, Any] = {}
        for (object_name, field_name), group in groups.items():
            ids = sorted({k.record_id for k in group})
            values: dict[str, Any] = {}
            for chunk in _chunks(ids, QUERY_CHUNK):
                select = soql.Select(
                    sobject=object_name,
                    fields=(field_name,),
                    where=soql.Comparison(field="Id", operator="IN", value=tuple(chunk)),
                )
                for record in self._client.query(select.to_soql()):
                    # An id may be asked in its 15- or 18-character form.
                    values[str(record["Id"])[:15]] = _field_value(record, field_name)
            for key in group:
                if key.record_id[:15] in values:
                    result[key] = values[key.record_id[:15]]
        return result


def _group_requests(
    requests: Sequence[LookupRequest],
) -> dict[tuple[str, str], list[LookupRequest]]:
    groups: dict[tuple[str, str], list[LookupRequest]] = {}
    names: dict[tuple[str, str], tuple[str, str]] = {}
    for request in requests:
        folded = (request.key.object_name.casefold(), request.key.match_field.casefold())
        names.setdefault(folded, (request.key.object_name, request.key.match_field))
        groups.setdefault(names[folded], []).append(request)
    return groups


def _field_value(record: Mapping[str, Any], name: str) -> Any:
    """A field of a query result, whatever case the response spells it in."""
    if name in record:
        return record[name]
    folded = name.casefold()
    return next((v for k, v in record.items() if k.casefold() == folded), None)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
