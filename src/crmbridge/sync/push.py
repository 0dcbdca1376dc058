"""Entry points for records that arrive by push (Outbound Messages, the Flow webhook).

Pushed records take exactly the path polled ones take
(:func:`crmbridge.sync.inbound_apply.apply_salesforce_records`): the same versions,
pairs, dedupe by ``SystemModstamp``, merge, platform writes, state and audit, so push
and poll can never disagree. A pushed record may carry fewer fields than the mapping
reads: the fields it does not carry count as unchanged since the last sync. A
notification that carries only ids (or records without ``SystemModstamp``) is read
from Salesforce first with :func:`fetch_and_apply`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections import open_salesforce_client, record_inbound_entry
from crmbridge.mappings.service import ActiveMapping, load_enabled_mappings
from crmbridge.salesforce import soql
from crmbridge.store.db import utcnow
from crmbridge.sync.context import MappingRun, build_mapping_runs, mapping_context
from crmbridge.sync.inbound import ID_CHUNK
from crmbridge.sync.inbound_apply import InboundResult, InboundScope, apply_salesforce_records
from crmbridge.sync.settings import load_sync_settings

__all__ = ["InboundResult", "apply_inbound_records", "fetch_and_apply"]


def _mapping_run(
    session: Session, tenant_id: str, mapping: ActiveMapping | str, now: datetime
) -> tuple[MappingRun | None, list[MappingRun]]:
    settings = load_sync_settings(session, tenant_id=tenant_id)
    runs = build_mapping_runs(
        load_enabled_mappings(session, tenant_id=tenant_id), settings, now=now
    )
    wanted = mapping if isinstance(mapping, str) else mapping.id
    return next((r for r in runs if r.id == wanted), None), runs


def apply_inbound_records(
    session: Session,
    *,
    tenant_id: str,
    mapping: ActiveMapping | str,
    records: Sequence[Mapping[str, Any]],
    run_id: str | None = None,
    source_label: str = "push",
    now: datetime | None = None,
) -> InboundResult:
    """Apply pushed Salesforce records (REST JSON shape) in the caller's transaction.

    Args:
        session: the caller's transaction; commit it to keep the result (the push
            inbox entry should be marked processed in the same transaction).
        tenant_id: the tenant.
        mapping: the enabled mapping (or its id) the records belong to.
        records: Salesforce records with at least ``Id`` and ``SystemModstamp``
            (``IsDeleted`` for deletions); fields not carried count as unchanged.
        run_id: the run to file the changes under, a UUID (default: a new one),
            recorded as the change log's origin and on the audit rows.
        source_label: the audit rows' source (``push``, ``webhook`` …).
        now: the time (default: now).

    Raises:
        ValueError: ``run_id`` is longer than a UUID.

    Returns:
        Counts per outcome; ``needs_fetch`` lists the ids of records without
        ``SystemModstamp``, or without the fields the mapping's Salesforce filter reads
        (read them with :func:`fetch_and_apply`). A mapping that is
        not enabled, or does not read from Salesforce, skips every record.
    """
    if run_id is not None and len(run_id) > 36:
        raise ValueError("run_id must be a UUID (at most 36 characters)")
    moment = now or utcnow()
    mr, runs = _mapping_run(session, tenant_id, mapping, moment)
    result = InboundResult()
    if mr is None or not mr.inbound:
        result.add("skipped", len(records))
        return result
    complete = [r for r in records if r.get("SystemModstamp") and r.get("Id")]
    result.needs_fetch = [str(r["Id"]) for r in records if r.get("Id") and r not in complete]
    ids_by_object: dict[str, list[str]] = {}
    for run in runs:
        ids_by_object.setdefault(run.sobject, []).append(run.id)
    settings = load_sync_settings(session, tenant_id=tenant_id)
    scope = InboundScope(
        tenant_id=tenant_id,
        run_id=run_id or str(uuid.uuid4()),
        mapping_run=mr,
        mapping_ids_by_object=ids_by_object,
        context=mapping_context(settings, moment),
        strategy=settings.retry_strategy(),
        now=moment,
        rng=random.Random(),
        source=source_label,
    )
    applied = apply_salesforce_records(session, scope, complete)
    for outcome, n in applied.counts.items():
        result.add(outcome, n)
    result.pending_salesforce = applied.pending_salesforce
    result.needs_fetch.extend(applied.needs_fetch)
    if complete:
        record_inbound_entry(session, tenant_id=tenant_id, at=moment)
    return result


def fetch_and_apply(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    *,
    mapping: ActiveMapping | str,
    salesforce_ids: Sequence[str],
    run_id: str | None = None,
    source_label: str = "push",
) -> InboundResult:
    """Read records by id from Salesforce (deleted ones too), then apply them.

    Args:
        session_factory: opens the read and the write transactions.
        settings: the process settings (the Salesforce client's CA).
        tenant_id: the tenant.
        mapping: the enabled mapping (or its id).
        salesforce_ids: the records' ids.
        run_id: the run to file the changes under.
        source_label: the audit rows' source.

    Returns:
        Counts per outcome.

    Raises:
        CrmError: Salesforce could not be read (retry later).
        NotConnected: the tenant has no working connection.
    """
    now = utcnow()
    with session_factory() as session:
        mr, _ = _mapping_run(session, tenant_id, mapping, now)
    result = InboundResult()
    if mr is None or not mr.inbound or not salesforce_ids:
        result.add("skipped", len(salesforce_ids))
        return result
    unique = sorted(set(salesforce_ids))
    queries = [
        soql.Select(
            sobject=mr.sobject,
            fields=mr.codec.query_fields(),
            where=soql.Comparison(
                field="Id", operator="IN", value=tuple(unique[start : start + ID_CHUNK])
            ),
        ).to_soql()
        for start in range(0, len(unique), ID_CHUNK)
    ]
    with open_salesforce_client(session_factory, settings, tenant_id) as client:
        answers = client.query_each(queries, include_deleted=True)
    records = [record for records in answers for record in records]
    with session_factory.begin() as session:
        return apply_inbound_records(
            session,
            tenant_id=tenant_id,
            mapping=mr.id,
            records=records,
            run_id=run_id,
            source_label=source_label,
            now=now,
        )
