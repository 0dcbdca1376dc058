"""SystemModstamp watermark arithmetic, query plan and inbound dedupe (R-S1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_support import T0, at, salesforce

from crmbridge.domain.sync.watermark import (
    RecordKey,
    Watermark,
    WatermarkSettings,
    advance_watermark,
    compute_signpost,
    is_formula_refresh_due,
    plan_inbound_query,
    record_key,
    select_versions_to_apply,
)

SETTINGS = WatermarkSettings(lookback=timedelta(minutes=5), safety_margin=timedelta(minutes=1))


def key(minutes: float, id: str = "001A") -> RecordKey:
    return RecordKey(modstamp=at(minutes), id=id)


# --- the query plan --------------------------------------------------------------------


def test_an_initial_sync_reads_everything_through_query_all_in_modstamp_then_id_order() -> None:
    plan = plan_inbound_query(
        sobject="Contact", fields=["LastName", "Id"], watermark=None, settings=SETTINGS
    )
    assert plan.modstamp_from is None
    assert plan.include_deleted
    assert plan.order_by == ("SystemModstamp", "Id")
    assert plan.fields == ("Id", "SystemModstamp", "IsDeleted", "LastName")


def test_the_query_starts_a_look_back_window_before_the_bookmark() -> None:
    plan = plan_inbound_query(
        sobject="Contact",
        fields=["LastName"],
        watermark=Watermark(modstamp=at(60), last_id="003X"),
        settings=SETTINGS,
    )
    assert plan.modstamp_from == at(55)
    assert plan.after is None


def test_a_resumed_or_ranged_query_carries_its_bounds() -> None:
    plan = plan_inbound_query(
        sobject="Account",
        fields=[],
        watermark=None,
        settings=SETTINGS,
        resume_after=key(3, "001B"),
        until=at(10),
        limit=25,
        include_deleted=False,
    )
    assert (plan.after, plan.modstamp_before, plan.limit) == (key(3, "001B"), at(10), 25)
    assert not plan.include_deleted


# --- the bookmark ----------------------------------------------------------------------


def test_the_signpost_is_the_run_start_minus_the_safety_margin() -> None:
    assert compute_signpost(run_started_at=at(30), settings=SETTINGS) == at(29)


def test_the_bookmark_moves_to_the_last_key_of_a_committed_page() -> None:
    moved = advance_watermark(current=None, page=[key(1, "001A"), key(2, "001B")], signpost=at(9))
    assert moved == Watermark(modstamp=at(2), last_id="001B")


def test_the_bookmark_never_passes_the_signpost() -> None:
    moved = advance_watermark(current=None, page=[key(1), key(20)], signpost=at(9))
    assert moved == Watermark(modstamp=at(9), last_id=None)


def test_the_bookmark_never_moves_backwards() -> None:
    current = Watermark(modstamp=at(5), last_id="001Z")
    assert advance_watermark(current=current, page=[key(5, "001A")], signpost=at(9)) == current
    assert advance_watermark(current=current, page=[], signpost=at(9)) == current


def test_an_unordered_page_is_refused() -> None:
    with pytest.raises(ValueError, match="ordered"):
        advance_watermark(current=None, page=[key(2), key(1)], signpost=at(9))


def test_equal_stamps_are_ordered_by_id() -> None:
    assert key(1, "001A") < key(1, "001B") < key(2, "001A")


# --- dedupe ----------------------------------------------------------------------------


def test_the_same_id_and_modstamp_seen_twice_is_applied_once() -> None:
    version = salesforce({"LastName": "King"}, modstamp=4)
    fresh = select_versions_to_apply([version, version], applied={})
    assert fresh == [version]
    assert select_versions_to_apply([version], applied={version.id: at(4)}) == []


def test_a_version_newer_than_the_applied_one_is_applied() -> None:
    version = salesforce({"LastName": "King"}, modstamp=4)
    assert select_versions_to_apply([version], applied={version.id: at(3)}) == [version]


def test_overlapping_pages_keep_only_the_newest_version_of_a_record() -> None:
    old = salesforce({"LastName": "A"}, modstamp=1)
    new = salesforce({"LastName": "B"}, modstamp=2)
    other = salesforce({"LastName": "C"}, modstamp=1, id="003000000000002AAA")
    assert select_versions_to_apply([new, other, old], applied={}) == [other, new]


def test_an_inbound_record_without_system_modstamp_is_refused() -> None:
    version = salesforce({}, modified=None, modstamp=None)
    with pytest.raises(ValueError, match="SystemModstamp"):
        select_versions_to_apply([version], applied={})
    with pytest.raises(ValueError, match="SystemModstamp"):
        record_key(version)


def test_formula_fields_are_refreshed_on_their_own_schedule() -> None:
    hour = timedelta(hours=1)
    assert is_formula_refresh_due(last_refreshed_at=None, interval=hour, now=at(0))
    assert not is_formula_refresh_due(last_refreshed_at=at(0), interval=hour, now=at(59))
    assert is_formula_refresh_due(last_refreshed_at=at(0), interval=hour, now=at(60))


# --- a simulated org: any page split, crashes, late commits ----------------------------


@dataclass(frozen=True)
class Version:
    id: str
    modstamp: int  # seconds after T0
    visible_at: int  # when its transaction committed


MAX_COMMIT_DELAY = 10


@st.composite
def org_histories(draw: st.DrawFn) -> list[Version]:
    history: list[Version] = []
    for n in range(draw(st.integers(1, 6))):
        record_id = f"003{n:015d}"
        stamp = draw(st.integers(0, 20))
        visible = 0
        for _ in range(draw(st.integers(1, 3))):
            visible = max(visible, stamp + draw(st.integers(0, MAX_COMMIT_DELAY)))
            history.append(Version(record_id, stamp, visible))
            stamp += draw(st.integers(1, 8))
    return history


def _org_at(history: list[Version], now: int) -> list[Version]:
    """Each record's latest committed version at ``now``, as a query would see it."""
    latest: dict[str, Version] = {}
    for version in history:
        if version.visible_at <= now:
            latest[version.id] = version
    return list(latest.values())


def _run_sync(
    history: list[Version],
    *,
    now: int,
    cfg: WatermarkSettings,
    watermark: Watermark | None,
    applied: dict[str, int],
    log: list[tuple[str, int]],
    page_sizes: list[int],
    crash_after: int | None,
) -> Watermark | None:
    plan = plan_inbound_query(sobject="Contact", fields=[], watermark=watermark, settings=cfg)
    rows = sorted(
        (
            v
            for v in _org_at(history, now)
            if plan.modstamp_from is None
            or T0 + timedelta(seconds=v.modstamp) >= plan.modstamp_from
        ),
        key=lambda v: (v.modstamp, v.id),
    )
    signpost = compute_signpost(run_started_at=T0 + timedelta(seconds=now), settings=cfg)
    sizes = iter(page_sizes)
    page_number = 0
    while rows:
        size = next(sizes, 2000)
        page, rows = rows[:size], rows[size:]
        versions = [salesforce({}, modified=None, modstamp=v.modstamp / 60, id=v.id) for v in page]
        applied_stamps = {i: at(s / 60) for i, s in applied.items()}
        # One transaction: the records, their applied stamps and the bookmark.
        for version in select_versions_to_apply(versions, applied=applied_stamps):
            assert version.modstamp is not None
            seconds = round((version.modstamp - T0).total_seconds())
            log.append((version.id, seconds))
            applied[version.id] = seconds
        watermark = advance_watermark(
            current=watermark, page=[record_key(v) for v in versions], signpost=signpost
        )
        if crash_after is not None and page_number == crash_after:
            break
        page_number += 1
    return watermark


@settings(max_examples=300)
@given(
    org_histories(),
    st.lists(st.integers(0, 45), max_size=8),
    st.lists(st.integers(1, 4), max_size=10),
    st.lists(st.none() | st.integers(0, 3), min_size=8, max_size=8),
    st.integers(0, MAX_COMMIT_DELAY),
)
def test_no_change_is_skipped_or_applied_twice_whatever_the_pages_and_crashes(
    history: list[Version],
    run_times: list[int],
    page_sizes: list[int],
    crashes: list[int | None],
    lookback_seconds: int,
) -> None:
    cfg = WatermarkSettings(
        lookback=timedelta(seconds=lookback_seconds),
        safety_margin=timedelta(seconds=MAX_COMMIT_DELAY - lookback_seconds),
    )
    watermark: Watermark | None = None
    applied: dict[str, int] = {}
    log: list[tuple[str, int]] = []
    for now, crash_after in zip(sorted(run_times), crashes, strict=False):
        watermark = _run_sync(
            history,
            now=now,
            cfg=cfg,
            watermark=watermark,
            applied=applied,
            log=log,
            page_sizes=page_sizes,
            crash_after=crash_after,
        )
    # A last, uninterrupted run long after every commit.
    _run_sync(
        history,
        now=1000,
        cfg=cfg,
        watermark=watermark,
        applied=applied,
        log=log,
        page_sizes=page_sizes,
        crash_after=None,
    )
    assert len(log) == len(set(log)), "a version was applied twice"
    final = {v.id: v.modstamp for v in history}  # the last version of each record wins
    assert applied == final, "a change was skipped"


def test_without_look_back_or_margin_a_late_commit_would_be_skipped() -> None:
    """The negative control: the protection above is what makes the property hold."""
    history = [Version("003A", 5, 5), Version("003B", 3, 9)]  # B commits 6 s late
    bare = WatermarkSettings(lookback=timedelta(0), safety_margin=timedelta(0))
    applied: dict[str, int] = {}
    log: list[tuple[str, int]] = []
    watermark = _run_sync(
        history,
        now=6,
        cfg=bare,
        watermark=None,
        applied=applied,
        log=log,
        page_sizes=[],
        crash_after=None,
    )
    _run_sync(
        history,
        now=1000,
        cfg=bare,
        watermark=watermark,
        applied=applied,
        log=log,
        page_sizes=[],
        crash_after=None,
    )
    assert "003B" not in applied
