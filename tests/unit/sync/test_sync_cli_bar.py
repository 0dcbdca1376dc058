"""The ``crmbridge sync`` progress bar renders whatever the run knows so far (R-O5)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from crmbridge.domain.sync import FlowDirection, RunProgress
from crmbridge.sync.cli import _Bar
from crmbridge.sync.tracker import ProgressSnapshot

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def _rendered(progress: RunProgress | None) -> str:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)
    bar = _Bar(console)
    if progress is not None:
        bar(
            ProgressSnapshot(
                run_id="r",
                progress=progress,
                counts={},
                activity="Contact: reading changes from Salesforce",
                at=START + timedelta(seconds=2),
            )
        )
    console.print(bar.progress.get_renderable())
    return out.getvalue()


def test_the_bar_renders_before_anything_is_known() -> None:
    assert "starting" in _rendered(None)


def test_the_bar_renders_counts_while_the_total_is_unknown() -> None:
    progress = RunProgress(started_at=START).record(
        object="Contact", direction=FlowDirection.INBOUND, done=40, at=START
    )
    text = _rendered(progress)
    assert "Contact: reading changes" in text
    assert "40" in text


def test_the_bar_shows_done_of_total_once_the_total_is_known() -> None:
    progress = (
        RunProgress(started_at=START)
        .with_total(object="Contact", direction=FlowDirection.INBOUND, total=200, at=START)
        .record(object="Contact", direction=FlowDirection.INBOUND, done=50, at=START)
    )
    assert "50/200" in _rendered(progress)
