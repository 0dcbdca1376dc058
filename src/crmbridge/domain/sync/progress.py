"""Run accounting: counts, rate and ETA of a sync run (R-O5).

A run is split in *streams*, one per object and direction (``Contact`` inbound,
``Account`` outbound …). The value is immutable: each update returns a new
:class:`RunProgress`, so the runner can hand snapshots to the API and the CLI's progress
bar without locks. Time comes in as arguments.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class FlowDirection(enum.StrEnum):
    """Which way a stream moves records."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True, kw_only=True)
class StreamProgress:
    """Counts for one object in one direction."""

    #: The Salesforce object.
    object: str
    #: Inbound (Salesforce to platform) or outbound.
    direction: FlowDirection
    #: Records to process, when known (a query's ``totalSize``, pending changes).
    total: int | None = None
    #: Records processed successfully (written, or found to need no write).
    done: int = 0
    #: Records that failed (retried later or dead-lettered).
    failed: int = 0

    @property
    def processed(self) -> int:
        """Records finished either way."""
        return self.done + self.failed


@dataclass(frozen=True, kw_only=True)
class RunProgress:
    """Progress of one run."""

    #: When the run started.
    started_at: datetime
    #: One entry per object and direction, in the order they were first reported.
    streams: tuple[StreamProgress, ...] = ()
    #: When the last update was recorded.
    updated_at: datetime | None = None

    def stream(self, object: str, direction: FlowDirection) -> StreamProgress:
        """The counts of one stream (zeros when nothing was reported for it)."""
        for stream in self.streams:
            if stream.object == object and stream.direction is direction:
                return stream
        return StreamProgress(object=object, direction=direction)

    def with_total(
        self, *, object: str, direction: FlowDirection, total: int, at: datetime
    ) -> RunProgress:
        """Set how many records a stream has to process."""
        if total < 0:
            raise ValueError("a total cannot be negative")
        current = self.stream(object, direction)
        return self._put(replace(current, total=total), at)

    def record(
        self,
        *,
        object: str,
        direction: FlowDirection,
        done: int = 0,
        failed: int = 0,
        at: datetime,
    ) -> RunProgress:
        """Add processed records to a stream."""
        if done < 0 or failed < 0:
            raise ValueError("counts only grow")
        current = self.stream(object, direction)
        return self._put(
            replace(current, done=current.done + done, failed=current.failed + failed), at
        )

    def _put(self, updated: StreamProgress, at: datetime) -> RunProgress:
        key = (updated.object, updated.direction)
        streams = [s for s in self.streams if (s.object, s.direction) != key]
        position = next(
            (i for i, s in enumerate(self.streams) if (s.object, s.direction) == key),
            len(self.streams),
        )
        streams.insert(position, updated)
        return replace(self, streams=tuple(streams), updated_at=at)

    @property
    def done(self) -> int:
        """Records processed successfully, over all streams."""
        return sum(s.done for s in self.streams)

    @property
    def failed(self) -> int:
        """Records that failed, over all streams."""
        return sum(s.failed for s in self.streams)

    @property
    def total(self) -> int | None:
        """Records to process over all streams; ``None`` while any total is unknown."""
        if any(s.total is None for s in self.streams):
            return None
        return sum(s.total or 0 for s in self.streams)

    @property
    def fraction(self) -> float | None:
        """Share of the work finished, between 0 and 1, when the total is known."""
        total = self.total
        if total is None:
            return None
        if total == 0:
            return 1.0
        return min(1.0, (self.done + self.failed) / total)

    def rate(self, now: datetime) -> float | None:
        """Records finished per second since the start; ``None`` before any finished."""
        elapsed = (now - self.started_at).total_seconds()
        processed = self.done + self.failed
        if elapsed <= 0 or processed == 0:
            return None
        return processed / elapsed

    def eta(self, now: datetime) -> datetime | None:
        """When the run should end at the current rate; ``None`` when it cannot tell."""
        total, rate = self.total, self.rate(now)
        if total is None or rate is None:
            return None
        remaining = max(total - (self.done + self.failed), 0)
        return now + timedelta(seconds=remaining / rate)
