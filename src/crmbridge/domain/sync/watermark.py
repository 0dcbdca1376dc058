"""Inbound change detection by ``SystemModstamp`` watermark (R-S1).

The arithmetic follows singer-sdk: the bookmark advances only as far as a committed
page of records proves covered, and never past a *signpost* (the run's start minus a
safety margin), so changes made while a run is going are picked up by the next run
(singer-sdk ``Stream.get_replication_key_signpost``).

Three Salesforce facts shape it:

* ``SystemModstamp`` is not unique: a bulk update stamps many rows with one instant.
  The query orders by ``SystemModstamp, Id`` and reads with ``>=`` so rows sharing the
  boundary instant are never lost between pages or runs (supaglue issue #532).
* A row's ``SystemModstamp`` is set when its transaction starts but becomes visible
  when it commits, so a long transaction can surface *below* a watermark already
  passed (Airbyte source-salesforce issue #27146). Each query therefore starts a
  look-back window before the bookmark (tap-salesforce's ``lookback_window``), and the
  bookmark trails the run's start by a safety margin. As long as
  ``lookback + safety_margin`` exceeds the longest commit delay, nothing is skipped.
* Re-reading the overlap is harmless: a version is applied only when its
  ``SystemModstamp`` is newer than the one stored with the record pair, in the same
  transaction as the record write and the bookmark.

Deletions arrive through ``queryAll`` (REST API Developer Guide, "QueryAll"), whose
rows carry ``IsDeleted = true``. Formula fields do not bump ``SystemModstamp``
(Salesforce Help, "Formula Field Limits"): they are refreshed on their own schedule
(:func:`is_formula_refresh_due`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from crmbridge.domain.sync.values import RecordVersion

#: Fields every inbound query selects, whatever the mapping says.
SYSTEM_FIELDS = ("Id", "SystemModstamp", "IsDeleted")


@dataclass(frozen=True, kw_only=True, order=True)
class RecordKey:
    """A record's position in ``ORDER BY SystemModstamp ASC, Id ASC``."""

    #: The record's ``SystemModstamp``.
    modstamp: datetime
    #: The record's 18-character Id (tie-break among equal stamps).
    id: str


@dataclass(frozen=True, kw_only=True)
class Watermark:
    """How far inbound changes of one object are applied (stored per tenant and object).

    Every record version with a key up to (``modstamp``, ``last_id``) has been applied;
    ``last_id`` is ``None`` when nothing at exactly ``modstamp`` is known to be covered.
    """

    #: ``SystemModstamp`` up to which changes are applied.
    modstamp: datetime
    #: Id of the last record applied at exactly ``modstamp``, if any.
    last_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class WatermarkSettings:
    """How cautious the inbound query is (configurable per tenant)."""

    #: How far before the bookmark each query starts again (the overlap).
    lookback: timedelta = timedelta(minutes=5)
    #: How far the bookmark stays behind the run's start.
    safety_margin: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True)
class InboundQueryPlan:
    """A structured inbound query; the Salesforce client renders and escapes it.

    Read as::

        SELECT <fields> FROM <sobject>
        WHERE SystemModstamp >= <modstamp_from>
          AND (SystemModstamp > <after.modstamp>
               OR (SystemModstamp = <after.modstamp> AND Id > <after.id>))
          AND SystemModstamp < <modstamp_before>
        ORDER BY SystemModstamp ASC, Id ASC
        LIMIT <limit>

    where each condition is present only when its bound is set, sent to ``queryAll``
    when ``include_deleted`` is true.
    """

    #: The sObject API name.
    sobject: str
    #: Fields to select; always starts with :data:`SYSTEM_FIELDS`.
    fields: tuple[str, ...]
    #: Inclusive lower bound on ``SystemModstamp``; ``None`` reads from the beginning.
    modstamp_from: datetime | None
    #: Keyset continuation: only records strictly after this key.
    after: RecordKey | None = None
    #: Exclusive upper bound on ``SystemModstamp`` (sync by date range, R-O2).
    modstamp_before: datetime | None = None
    #: Use ``queryAll`` so deleted (recycle bin) records are returned too.
    include_deleted: bool = True
    #: ``ORDER BY`` fields, all ascending; ``Id`` breaks ties between equal stamps.
    order_by: tuple[str, ...] = ("SystemModstamp", "Id")
    #: ``LIMIT``, if any (test runs sync at most 25 records, R-O3).
    limit: int | None = None


def plan_inbound_query(
    *,
    sobject: str,
    fields: Iterable[str],
    watermark: Watermark | None,
    settings: WatermarkSettings,
    include_deleted: bool = True,
    resume_after: RecordKey | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> InboundQueryPlan:
    """Build the inbound query for one object.

    Args:
        sobject: the sObject API name.
        fields: the mapped Salesforce fields to read.
        watermark: the stored bookmark, or ``None`` for an initial (full) sync.
        settings: look-back window.
        include_deleted: read through ``queryAll`` so deletions are seen.
        resume_after: continue a run past this key (when a query locator expired).
        until: exclusive upper bound for a sync by date range.
        limit: cap the number of records.

    Returns:
        The plan; ``modstamp_from`` is the bookmark minus the look-back.
    """
    start = None if watermark is None else watermark.modstamp - settings.lookback
    return InboundQueryPlan(
        sobject=sobject,
        fields=tuple(dict.fromkeys((*SYSTEM_FIELDS, *fields))),
        modstamp_from=start,
        after=resume_after,
        modstamp_before=until,
        include_deleted=include_deleted,
        limit=limit,
    )


def compute_signpost(*, run_started_at: datetime, settings: WatermarkSettings) -> datetime:
    """The furthest a run may move the bookmark: its start minus the safety margin.

    Args:
        run_started_at: when the run began, preferably by Salesforce's clock (the
            ``Date`` header of the first response), so clock skew cannot push the
            bookmark past rows Salesforce has not committed yet.
        settings: the safety margin.
    """
    return run_started_at - settings.safety_margin


def advance_watermark(
    *,
    current: Watermark | None,
    page: Sequence[RecordKey],
    signpost: datetime,
) -> Watermark | None:
    """The bookmark after a page of records is durably applied.

    Call it in the transaction that stores the page's records, so the bookmark never
    gets ahead of the data it covers.

    Args:
        current: the bookmark before the page.
        page: the keys of every record the query returned in this page, in query order
            (whether applied or skipped as already applied).
        signpost: from :func:`compute_signpost`.

    Returns:
        The new bookmark: the page's last key, capped at ``signpost``, and never
        earlier than ``current``.

    Raises:
        ValueError: when ``page`` is not in ``SystemModstamp, Id`` order; a bookmark
            computed from an unordered page could claim records it never saw.
    """
    if any(later < earlier for earlier, later in pairwise(page)):
        raise ValueError("page must be ordered by SystemModstamp ASC, Id ASC")
    if not page:
        return current
    last = page[-1]
    if last.modstamp >= signpost:
        candidate = Watermark(modstamp=signpost, last_id=None)
    else:
        candidate = Watermark(modstamp=last.modstamp, last_id=last.id)
    if current is not None and _key(current) >= _key(candidate):
        return current
    return candidate


def _key(watermark: Watermark) -> tuple[datetime, str]:
    # An unknown last id sorts before every real id at the same instant.
    return (watermark.modstamp, watermark.last_id or "")


def is_already_applied(*, modstamp: datetime, applied_modstamp: datetime | None) -> bool:
    """Whether a Salesforce version is one the pair has already taken in.

    Args:
        modstamp: the incoming version's ``SystemModstamp``.
        applied_modstamp: :attr:`SyncState.salesforce_modstamp` of the pair, if any.
    """
    return applied_modstamp is not None and modstamp <= applied_modstamp


def select_versions_to_apply(
    versions: Iterable[RecordVersion],
    *,
    applied: Mapping[str, datetime | None],
) -> list[RecordVersion]:
    """The Salesforce versions of a page (or of overlapping pages) still to apply.

    Keeps one version per Id (the newest), drops versions whose ``SystemModstamp`` is
    not newer than the one already applied, and returns them in query order.

    Args:
        versions: Salesforce record versions, each with ``modstamp`` set.
        applied: per Salesforce Id, the ``SystemModstamp`` already applied (from the
            pairs' :class:`SyncState`); missing Ids were never applied.

    Raises:
        ValueError: for a version without ``SystemModstamp``.
    """
    newest: dict[str, RecordVersion] = {}
    for version in versions:
        if version.modstamp is None:
            raise ValueError(f"inbound record {version.id} has no SystemModstamp")
        seen = newest.get(version.id)
        if seen is None or (seen.modstamp is not None and version.modstamp > seen.modstamp):
            newest[version.id] = version
    fresh = [
        v
        for v in newest.values()
        if v.modstamp is not None
        and not is_already_applied(modstamp=v.modstamp, applied_modstamp=applied.get(v.id))
    ]
    return sorted(fresh, key=record_key)


def record_key(version: RecordVersion) -> RecordKey:
    """The query-order key of a Salesforce version.

    Raises:
        ValueError: for a version without ``SystemModstamp``.
    """
    if version.modstamp is None:
        raise ValueError(f"inbound record {version.id} has no SystemModstamp")
    return RecordKey(modstamp=version.modstamp, id=version.id)


def is_formula_refresh_due(
    *, last_refreshed_at: datetime | None, interval: timedelta, now: datetime
) -> bool:
    """Whether the formula fields of an object should be re-read in full.

    Formula values change without a ``SystemModstamp`` bump, so the watermark query
    cannot see them; a slower, separate full read keeps them current.
    """
    return last_refreshed_at is None or now - last_refreshed_at >= interval
