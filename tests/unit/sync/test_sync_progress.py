"""Run accounting: counts per object and direction, rate and ETA (R-O5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sync_support import T0, at

from crmbridge.domain.sync.progress import FlowDirection, RunProgress

IN, OUT = FlowDirection.INBOUND, FlowDirection.OUTBOUND


def test_counts_are_kept_per_object_and_direction() -> None:
    progress = (
        RunProgress(started_at=T0)
        .with_total(object="Contact", direction=IN, total=100, at=at(0))
        .record(object="Contact", direction=IN, done=40, failed=2, at=at(1))
        .record(object="Account", direction=OUT, done=5, at=at(1))
        .record(object="Contact", direction=IN, done=10, at=at(2))
    )
    contact = progress.stream("Contact", IN)
    assert (contact.total, contact.done, contact.failed) == (100, 50, 2)
    assert [(s.object, s.direction) for s in progress.streams] == [
        ("Contact", IN),
        ("Account", OUT),
    ]
    assert (progress.done, progress.failed) == (55, 2)
    assert progress.updated_at == at(2)
    assert progress.stream("Lead", IN).done == 0


def test_the_total_is_unknown_until_every_stream_has_one() -> None:
    progress = RunProgress(started_at=T0).record(object="Account", direction=OUT, done=5, at=at(1))
    assert progress.total is None
    assert progress.fraction is None
    assert progress.eta(at(1)) is None
    known = progress.with_total(object="Account", direction=OUT, total=20, at=at(1))
    assert known.total == 20
    assert known.fraction == 0.25


def test_rate_and_eta_come_from_the_times_passed_in() -> None:
    progress = (
        RunProgress(started_at=T0)
        .with_total(object="Contact", direction=IN, total=1000, at=T0)
        .record(object="Contact", direction=IN, done=250, at=at(1))
    )
    assert progress.rate(at(1)) == pytest.approx(250 / 60)
    assert progress.eta(at(1)) == at(4)


def test_no_rate_before_anything_finished() -> None:
    progress = RunProgress(started_at=T0)
    assert progress.rate(T0) is None
    assert progress.rate(at(5)) is None
    assert progress.total == 0  # nothing reported yet: nothing known to do


def test_an_empty_run_is_complete() -> None:
    progress = RunProgress(started_at=T0).with_total(object="Contact", direction=IN, total=0, at=T0)
    assert progress.fraction == 1.0


def test_counts_only_grow() -> None:
    with pytest.raises(ValueError):
        RunProgress(started_at=T0).record(object="Contact", direction=IN, done=-1, at=T0)
    with pytest.raises(ValueError):
        RunProgress(started_at=T0).with_total(object="Contact", direction=IN, total=-1, at=T0)


@given(
    st.lists(
        st.tuples(st.sampled_from(["Contact", "Account"]), st.integers(0, 50), st.integers(0, 5)),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 3600),
)
def test_the_eta_is_never_before_now_and_fraction_stays_within_bounds(
    updates: list[tuple[str, int, int]], seconds: int
) -> None:
    progress = RunProgress(started_at=T0)
    for name in ("Contact", "Account"):
        progress = progress.with_total(object=name, direction=IN, total=300, at=T0)
    for name, done, failed in updates:
        progress = progress.record(object=name, direction=IN, done=done, failed=failed, at=T0)
    now = T0 + timedelta(seconds=seconds)
    eta = progress.eta(now)
    assert eta is None or eta >= now
    assert progress.fraction is not None
    assert 0.0 <= progress.fraction <= 1.0
    assert progress.done == sum(d for _, d, _ in updates)
