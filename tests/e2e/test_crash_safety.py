"""R-S10: killing the sync at any instant and restarting it ends as an uninterrupted run.

Two worlds are built from one seed (docs/performance.md describes the campaign;
crash_campaign.py builds the worlds and the scenario, crash_checks.py reads and checks
them, crash_runner.py is the child that kills itself): each
an emulated org of its own plus a database of its own with a connected tenant. Both
get the same baseline and, after the first sync, the same 5,000 changes (2,500 on
each side: creates, updates, deletes, edits of different fields of one record on both
sides, same-field conflicts and delete-versus-edit conflicts under deterministic
policies).

In the *crashed* world ``crmbridge sync`` runs as a child process that is SIGKILLed
again and again — at a random time, or at a chosen point: while paging a query, right
after or inside a database commit, just before or just after a Salesforce write
call — and restarted until a run completes. In the *control* world the same sync runs
once, uninterrupted. Both worlds then sync until a run finds nothing to do, and must be
exactly equal: the same records by natural key, the same value in every compared field
on both sides, no duplicate on either side, every record linked to one counterpart,
and nothing pending, failed or held.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from crash_campaign import Scenario, ScenarioSize, World, open_world
from crash_checks import Snapshot, sides_agree, snapshot

from crmbridge.store.db import utcnow
from crmbridge.store.repositories import sync_runs as runs_repo
from crmbridge.store.sync_models import SyncFailure, SyncPair, SyncReview

SEED = 20_061
RUNNER = Path(__file__).with_name("crash_runner.py")
#: Points the child kills itself at, with the range N is drawn from (see crash_runner).
#: Every run pages through the recent Salesforce changes again and commits each page, so
#: those points are reached even late; write calls only while outbound work remains
#: (one sync of the changes makes about 24).
CRASH_POINTS = {
    "page": (1, 4),
    "commit": (1, 12),
    "in_commit": (1, 12),
    "write_before": (1, 6),
    "write_sent": (1, 6),
}
#: Besides those, the parent kills the child after a random delay (it starts in ~1 s).
DELAY = "delay"
#: A run that does not end in this time is a hang, not a crash.
RUN_TIMEOUT = 120.0


@dataclass
class Campaign:
    """The crashed world's runs: what killed each one."""

    world: World
    rng: random.Random
    log: list[str] = field(default_factory=list)
    kills: int = 0

    def kill_and_restart(self, kinds: list[str]) -> None:
        """One run killed per kind, in order, then a run that completes.

        Kills that need outbound work (delays, write calls) come first, while there is
        work left; the N of each point is drawn from the seeded dice.
        """
        for kind in kinds:
            high = CRASH_POINTS[kind][1] if kind != DELAY else 5.0
            # A point the shrinking remaining work no longer reaches: draw a smaller N.
            for _ in range(4):
                if self._killed(kind, high):
                    break
                high = max(1, int(high) // 2)
        process = _child(self.world)
        code = process.wait(timeout=RUN_TIMEOUT)
        self.log.append(f"restarted: exit {code}")
        assert code == 0, f"the run failed (exit {code}); see {self.world.directory}/runs.log"

    def _killed(self, kind: str, high: float) -> bool:
        if kind == DELAY:
            delay = self.rng.uniform(1.0, max(1.5, high))
            process = _child(self.world)
            try:
                code = process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            what = f"after {delay:.2f} s"
        else:
            what = f"at {kind}:{self.rng.randint(CRASH_POINTS[kind][0], int(high))}"
            code = _child(self.world, "--crash-at", what[3:]).wait(timeout=RUN_TIMEOUT)
        if code != -signal.SIGKILL:
            self.log.append(f"not killed {what}: the run ended first (exit {code})")
            assert code == 0, f"the run failed (exit {code}); see {self.world.directory}/runs.log"
            return False
        self.kills += 1
        self.log.append(f"killed {what}")
        _declare_dead(self.world)
        return True


def _child(world: World, *args: str) -> subprocess.Popen[bytes]:
    """``crmbridge sync --tenant T`` on the world, in a child process."""
    command = [sys.executable, str(RUNNER), *args, "--tenant", world.tenant_id]
    with (world.directory / "runs.log").open("ab") as output:
        return subprocess.Popen(command, env=world.env(), stdout=output, stderr=subprocess.STDOUT)


def _declare_dead(world: World) -> None:
    """What a supervisor does when its sync process died: the run is over.

    Without it the next run would be refused until the dead run's heartbeat is 10
    minutes old (``crmbridge.sync.runs.STALE_AFTER``).
    """
    with world.session_factory.begin() as session:
        for run in runs_repo.active_runs(session, tenant_id=world.tenant_id):
            run.status = "failed"
            run.error = "killed (SIGKILL) by the crash-safety campaign"
            run.finished_at = utcnow()


def _uninterrupted(world: World, events: Path) -> subprocess.Popen[bytes]:
    """The control: the same sync in a child process that is never killed.

    It runs while the campaign kills the other world's runs (the worlds share nothing).
    """
    return _child(world, "--events", str(events))


def _finished(world: World, process: subprocess.Popen[bytes], events: Path) -> dict[str, int]:
    code = process.wait(timeout=RUN_TIMEOUT)
    assert code == 0, f"the control run failed (exit {code}); see {world.directory}/runs.log"
    counted: dict[str, int] = json.loads(events.read_text())
    return counted


def _settle(world: World) -> int:
    """Sync until a run changes nothing (echoes and Salesforce's own follow-ups)."""
    for extra in range(1, 4):
        summary = world.run()
        assert summary.status == "succeeded", summary.error
        busy = sum(
            summary.total(outcome)
            for outcome in ("created", "updated", "deleted", "linked", "held", "failed")
        )
        if busy == 0:
            return extra
    raise AssertionError(f"{world.name} does not settle: {summary.counts}")


def _nothing_left(world: World) -> None:
    """No pending write, no failure, no review in the world's store."""
    with world.session_factory() as session:
        pending = session.scalar(
            sa.select(sa.func.count())
            .select_from(SyncPair)
            .where(SyncPair.tenant_id == world.tenant_id, SyncPair.needs_outbound.is_(True))
        )
        failures = session.scalars(
            sa.select(SyncFailure.error_message).where(SyncFailure.tenant_id == world.tenant_id)
        ).all()
        reviews = session.scalar(
            sa.select(sa.func.count())
            .select_from(SyncReview)
            .where(SyncReview.tenant_id == world.tenant_id)
        )
    assert (pending, list(failures)[:5], reviews) == (0, [], 0), world.name


def _same(crashed: Snapshot, control: Snapshot) -> None:
    for side in ("contacts", "accounts", "members", "organizations"):
        ours, theirs = getattr(crashed, side), getattr(control, side)
        assert set(ours) == set(theirs), (
            f"{side}: only after crashes {sorted(set(ours) - set(theirs))[:5]}, "
            f"only uninterrupted {sorted(set(theirs) - set(ours))[:5]}"
        )
        differing = [k for k in sorted(ours) if ours[k] != theirs[k]]
        assert not differing, (
            f"{side}: {len(differing)} differ, e.g. {differing[0]}: "
            f"{ours[differing[0]]} != {theirs[differing[0]]}"
        )


def _compare(crashed: World, control: World) -> Snapshot:
    for world in (crashed, control):
        _nothing_left(world)
    after_crashes, uninterrupted = snapshot(crashed), snapshot(control)
    for snap in (after_crashes, uninterrupted):
        assert sides_agree(snap) == []
    _same(after_crashes, uninterrupted)
    return after_crashes


@pytest.mark.slow
def test_a_sync_killed_at_random_points_ends_exactly_like_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    size = ScenarioSize()
    scenario = Scenario(SEED, size)
    started = time.monotonic()

    def note(what: str) -> None:
        campaign.log.append(f"[{time.monotonic() - started:5.1f} s] {what}")

    with open_world(tmp_path, "crashed") as crashed, open_world(tmp_path, "control") as control:
        campaign = Campaign(world=crashed, rng=random.Random(SEED))
        for world in (crashed, control):
            scenario.seed_baseline(world)
        note("worlds ready")

        # The first sync pairs the baseline (links Salesforce records, creates the rest).
        events_file = tmp_path / "events-first.json"
        running = _uninterrupted(control, events_file)
        campaign.kill_and_restart([DELAY, "write_sent", "page", "commit"])
        events = [_finished(control, running, events_file)]
        note("first sync done in both worlds")
        settled = [_settle(crashed), _settle(control)]
        first = _compare(crashed, control)
        assert len(first.members) == len(first.contacts) == 2 * size.baseline_people
        note("settled and compared")

        for world in (crashed, control):
            scenario.apply_changes(world)
        note(f"{size.changes_per_side()} changes on each side")
        events_file = tmp_path / "events-changes.json"
        running = _uninterrupted(control, events_file)
        campaign.kill_and_restart(
            [
                DELAY,
                "write_before",
                "write_sent",
                DELAY,
                "write_sent",
                "in_commit",
                "page",
                "commit",
            ]
        )
        events.append(_finished(control, running, events_file))
        note("changes synced in both worlds")
        settled += [_settle(crashed), _settle(control)]
        final = _compare(crashed, control)
        note("settled and compared")

    print(  # shown with -s: what the campaign did
        f"\n{campaign.kills} kills; settle runs {settled}; control events {events}\n"
        + "\n".join(campaign.log)
    )
    assert campaign.kills >= 10, campaign.log
    # Contacts deleted in Salesforce but edited on the platform come back (platform wins).
    people = (
        2 * size.baseline_people + 2 * size.creates - 2 * size.deletes + size.delete_edit_conflicts
    )
    assert len(final.members) == len(final.contacts) == people
    assert len(final.organizations) == 2 * (size.baseline_orgs + size.org_creates)
