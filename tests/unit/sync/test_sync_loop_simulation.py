"""The pure core composed into a whole two-way sync, against two in-memory systems.

This is a model of what the adapters do (R-S1, R-S3, R-S10): inbound pages through the
watermark, merges, writes the platform and the pair in one transaction; outbound reads
the change log, merges against the base, writes Salesforce with upserts on the external
id and confirms. Random edits on both sides, interleaved with sync runs that crash at
random points, must end — after two clean runs — with both sides equal, every record
linked once, and no duplicate in Salesforce.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sync_support import T0

from crmbridge.domain.sync import (
    ChangeLogEntry,
    ChangeOperation,
    ConflictPolicy,
    DeletePolicy,
    Direction,
    FieldRule,
    FieldValue,
    MergeRules,
    RecordVersion,
    Side,
    SyncPlan,
    SyncState,
    Watermark,
    WatermarkSettings,
    WriteAction,
    WriteOperation,
    acknowledge_echo,
    advance_watermark,
    collapse_change_log,
    compute_signpost,
    is_salesforce_echo,
    merge_record,
    plan_inbound_query,
    plan_outbound_record,
    record_key,
    salesforce_record_writes,
    select_versions_to_apply,
)

FIELDS = ("A", "B", "C", "D")
PLATFORM_EDITABLE = ("A", "B", "C")  # C flows only to Salesforce
SALESFORCE_EDITABLE = ("A", "B", "D")  # D flows only from Salesforce
NO_DELAY = WatermarkSettings(lookback=timedelta(0), safety_margin=timedelta(0))


class Crash(Exception):
    """The worker died here."""


def moment(tick: int):  # type: ignore[no-untyped-def]
    return T0 + timedelta(seconds=tick)


@dataclass
class PlatformRow:
    id: str
    values: dict[str, FieldValue]
    deleted: bool = False
    updated_at: int = 0


@dataclass
class OrgRow:
    id: str
    values: dict[str, FieldValue]
    ext: str | None = None
    deleted: bool = False
    modstamp: int = 0
    lastmod: int = 0


@dataclass
class World:
    rules: MergeRules
    clock: int = 0
    platform: dict[str, PlatformRow] = field(default_factory=dict)
    org: dict[str, OrgRow] = field(default_factory=dict)
    log: list[ChangeLogEntry] = field(default_factory=list)
    states: dict[str, SyncState] = field(default_factory=dict)  # by platform id
    pending: set[str] = field(default_factory=set)  # pairs with an unconfirmed SF write
    watermark: Watermark | None = None
    cursor: int = 0
    ids: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    # --- people editing both systems ----------------------------------------------------

    def log_change(
        self, row: PlatformRow, op: ChangeOperation, old: dict, new: dict, source: str
    ) -> None:  # type: ignore[type-arg]
        self.log.append(
            ChangeLogEntry(
                seq=len(self.log) + 1,
                entity_type="member",
                record_id=row.id,
                operation=op,
                changed_fields=tuple(new),
                old_values=old,
                new_values=new,
                source=source,
                created_at=moment(self.clock),
            )
        )

    def live_platform(self) -> list[PlatformRow]:
        return [r for r in sorted(self.platform.values(), key=lambda r: r.id) if not r.deleted]

    def live_org(self) -> list[OrgRow]:
        return [r for r in sorted(self.org.values(), key=lambda r: r.id) if not r.deleted]

    def platform_create(self, values: dict[str, FieldValue]) -> None:
        row = PlatformRow(
            id=f"p{next(self.ids)}",
            values={f: values.get(f) for f in FIELDS if f != "D"} | {"D": None},
            updated_at=self.tick(),
        )
        self.platform[row.id] = row
        self.log_change(row, ChangeOperation.CREATE, {}, dict(row.values), "api")

    def platform_edit(self, pick: int, name: str, value: FieldValue) -> None:
        rows = self.live_platform()
        if rows:
            row = rows[pick % len(rows)]
            old = row.values.get(name)
            row.values[name], row.updated_at = value, self.tick()
            self.log_change(row, ChangeOperation.UPDATE, {name: old}, {name: value}, "api")

    def platform_delete(self, pick: int) -> None:
        rows = self.live_platform()
        if rows:
            row = rows[pick % len(rows)]
            row.deleted, row.updated_at = True, self.tick()
            self.log_change(row, ChangeOperation.DELETE, {}, {}, "api")

    def salesforce_create(self, values: dict[str, FieldValue]) -> None:
        now = self.tick()
        row = OrgRow(
            id=f"003{next(self.ids):015d}",
            values={f: values.get(f) for f in FIELDS if f != "C"} | {"C": None},
            modstamp=now,
            lastmod=now,
        )
        self.org[row.id] = row

    def salesforce_edit(self, pick: int, name: str, value: FieldValue) -> None:
        rows = self.live_org()
        if rows:
            row = rows[pick % len(rows)]
            now = self.tick()
            row.values[name], row.modstamp, row.lastmod = value, now, now

    def salesforce_delete(self, pick: int) -> None:
        rows = self.live_org()
        if rows:
            row = rows[pick % len(rows)]
            now = self.tick()
            row.deleted, row.modstamp, row.lastmod = True, now, now

    # --- the adapters ---------------------------------------------------------------------

    def platform_version(self, pid: str | None) -> RecordVersion | None:
        row = self.platform.get(pid) if pid else None
        if row is None:
            return None
        state = self.states.get(row.id)
        return RecordVersion(
            side=Side.PLATFORM,
            object="Contact",
            id=row.id,
            counterpart_id=state.salesforce_id if state is not None else None,
            values=dict(row.values),
            modified_at=moment(row.updated_at),
            deleted=row.deleted,
        )

    def store(self, pid: str, state: SyncState | None) -> None:
        if state is None:
            self.states.pop(pid, None)
        else:
            self.states[pid] = state

    def apply_platform(self, plan: SyncPlan, state: SyncState | None) -> str | None:
        write = plan.platform
        pid = state.platform_id if state is not None else None
        if write.action is WriteAction.NONE:
            return pid
        self.tick()
        if write.action is WriteAction.CREATE:
            if pid is not None and pid in self.platform:
                row = self.platform[pid]  # restore the deleted record with its data
                row.values.update(write.values)
                row.deleted, row.updated_at = False, self.clock
            else:
                pid = f"p{next(self.ids)}"
                row = PlatformRow(
                    id=pid, values={f: write.values.get(f) for f in FIELDS}, updated_at=self.clock
                )
                self.platform[pid] = row
            self.log_change(row, ChangeOperation.CREATE, {}, dict(row.values), "sync")
        elif write.action is WriteAction.UPDATE:
            assert pid is not None
            row = self.platform[pid]
            old = {c.field: c.old for c in write.changes}
            row.values.update(write.values)
            row.updated_at = self.clock
            self.log_change(row, ChangeOperation.UPDATE, old, write.values, "sync")
        else:
            assert pid is not None
            row = self.platform[pid]
            row.deleted, row.updated_at = True, self.clock
            self.log_change(row, ChangeOperation.DELETE, {}, {}, "sync")
        return pid

    def inbound(self, step) -> None:  # type: ignore[no-untyped-def]
        query = plan_inbound_query(
            sobject="Contact", fields=FIELDS, watermark=self.watermark, settings=NO_DELAY
        )
        signpost = compute_signpost(run_started_at=moment(self.clock), settings=NO_DELAY)
        lower = query.modstamp_from
        rows = sorted(
            (r for r in self.org.values() if lower is None or moment(r.modstamp) >= lower),
            key=lambda r: (r.modstamp, r.id),
        )
        snapshot = [
            RecordVersion(
                side=Side.SALESFORCE,
                object="Contact",
                id=r.id,
                counterpart_id=r.ext,
                values=dict(r.values),
                modified_at=moment(r.lastmod),
                modstamp=moment(r.modstamp),
                deleted=r.deleted,
            )
            for r in rows
        ]
        for version in snapshot:  # one transaction per record
            found = self.find_pair(version)
            pid, state = found if found is not None else (None, None)
            applied = {version.id: state.salesforce_modstamp if state else None}
            if found is not None and select_versions_to_apply([version], applied=applied):
                if state is not None and is_salesforce_echo(
                    incoming=version, state=state, rules=self.rules
                ):
                    self.store(pid, acknowledge_echo(state, version))  # type: ignore[arg-type]
                else:
                    platform = self.platform_version(pid if pid else version.counterpart_id)
                    plan = merge_record(
                        rules=self.rules, base=state, platform=platform, salesforce=version
                    )
                    new_pid = self.apply_platform(
                        plan,
                        state
                        if state
                        else SyncState(
                            object="Contact", platform_id=platform.id if platform else None
                        ),
                    )
                    sends = plan.salesforce.action is not WriteAction.NONE or plan.link_salesforce
                    stored = plan.pending_state if sends else plan.state
                    if stored is not None and stored.platform_id is None:
                        stored = replace(stored, platform_id=new_pid)
                    key = new_pid or pid
                    if key is not None:
                        self.store(key, stored)
                        if sends:
                            self.pending.add(key)
            self.watermark = advance_watermark(
                current=self.watermark, page=[record_key(version)], signpost=signpost
            )
            step()

    def find_pair(self, version: RecordVersion) -> tuple[str | None, SyncState | None] | None:
        """The pair of a Salesforce record; ``None`` for a stale record to skip."""
        for pid, state in self.states.items():
            if state.salesforce_id == version.id:
                return pid, state
        ext = version.counterpart_id
        if ext is not None and ext in self.states:
            if self.states[ext].salesforce_id is None:
                # Our own create, confirmed by this read: link the pair.
                return ext, replace(self.states[ext], salesforce_id=version.id)
            return None  # names a platform record paired with another Salesforce record
        return None, None

    def outbound(self, step) -> None:  # type: ignore[no-untyped-def]
        entries = [e for e in self.log if e.seq > self.cursor]
        collapsed = collapse_change_log(
            entries, already_synced={("member", pid) for pid in self.states}
        )
        targets = sorted({c.record_id for c in collapsed.pending} | self.pending)
        for pid in targets:
            state = self.states.get(pid)
            plan = plan_outbound_record(
                rules=self.rules, base=state, platform=self.platform_version(pid)
            )
            writes = salesforce_record_writes(
                plan,
                object="Contact",
                platform_id=pid,
                salesforce_id=state.salesforce_id if state else None,
            )
            if not writes:
                self.store(pid, plan.state)
                self.pending.discard(pid)
                continue
            self.store(pid, plan.pending_state)
            self.pending.add(pid)
            step()
            salesforce_id = self.execute(writes)
            step()
            final = plan.state
            if final is not None and final.salesforce_id is None:
                final = replace(final, salesforce_id=salesforce_id)
            self.store(pid, final)
            self.pending.discard(pid)
            step()
        if collapsed.last_seq is not None:
            self.cursor = collapsed.last_seq

    def execute(self, writes) -> str | None:  # type: ignore[no-untyped-def]
        salesforce_id = None
        for w in writes:
            now = self.tick()
            if w.operation is WriteOperation.LINK:
                row = self.org[w.salesforce_id]
                row.ext, row.modstamp = w.platform_id, now
            elif w.operation is WriteOperation.DELETE:
                row = self.org[w.salesforce_id]
                row.deleted, row.modstamp, row.lastmod = True, now, now
            else:
                matches = [r for r in self.live_org() if r.ext == w.platform_id]
                assert len(matches) <= 1, "an upsert matched several records"
                if matches:
                    row = matches[0]
                    row.values.update(w.fields)
                else:
                    row = OrgRow(
                        id=f"003{next(self.ids):015d}",
                        values={f: w.fields.get(f) for f in FIELDS},
                        ext=w.platform_id,
                    )
                    self.org[row.id] = row
                row.modstamp, row.lastmod = now, now
                salesforce_id = row.id
        return salesforce_id

    def sync(self, crash_at: int | None) -> None:
        steps = itertools.count(1)

        def step() -> None:
            if next(steps) == crash_at:
                raise Crash

        try:
            self.inbound(step)
            self.outbound(step)
        except Crash:
            pass


OPERATIONS = st.one_of(
    st.tuples(
        st.just("platform_create"),
        st.dictionaries(st.sampled_from(PLATFORM_EDITABLE), st.sampled_from(["x", "y"])),
    ),
    st.tuples(
        st.just("platform_edit"),
        st.integers(0, 9),
        st.sampled_from(PLATFORM_EDITABLE),
        st.sampled_from(["x", "y", "z", None]),
    ),
    st.tuples(st.just("platform_delete"), st.integers(0, 9)),
    st.tuples(
        st.just("salesforce_create"),
        st.dictionaries(st.sampled_from(SALESFORCE_EDITABLE), st.sampled_from(["x", "y"])),
    ),
    st.tuples(
        st.just("salesforce_edit"),
        st.integers(0, 9),
        st.sampled_from(SALESFORCE_EDITABLE),
        st.sampled_from(["x", "y", "z", None]),
    ),
    st.tuples(st.just("salesforce_delete"), st.integers(0, 9)),
    st.tuples(st.just("sync"), st.none() | st.integers(1, 12)),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(OPERATIONS, min_size=1, max_size=30),
    st.sampled_from(
        [ConflictPolicy.PLATFORM_WINS, ConflictPolicy.SALESFORCE_WINS, ConflictPolicy.MOST_RECENT]
    ),
)
def test_edits_on_both_sides_with_crashing_runs_converge_without_duplicates(
    program: list[tuple],
    policy: ConflictPolicy,  # type: ignore[type-arg]
) -> None:
    rules = MergeRules(
        fields=(
            FieldRule(field="A"),
            FieldRule(field="B"),
            FieldRule(field="C", direction=Direction.TO_SALESFORCE),
            FieldRule(field="D", direction=Direction.FROM_SALESFORCE),
        ),
        conflict_policy=policy,
    )
    world = World(rules=rules)
    for name, *args in program:
        getattr(world, name)(*args)
    world.sync(None)
    world.sync(None)

    assert not world.pending, "a Salesforce write was never confirmed"
    exts = [r.ext for r in world.live_org()]
    assert None not in exts, "a Salesforce record was never stamped with its platform id"
    assert len(exts) == len(set(exts)), "a record was duplicated in Salesforce"
    live_platform = {r.id: r for r in world.live_platform()}
    assert set(exts) == set(live_platform), "the two sides hold different records"
    for row in world.live_org():
        assert row.ext is not None
        assert row.values == live_platform[row.ext].values, "the two sides disagree"
        state = world.states[row.ext]
        assert (state.salesforce_id, state.linked, state.detached) == (row.id, True, False)


def test_one_sided_edits_arrive_exactly_even_when_every_run_crashes_once() -> None:
    rules = MergeRules(fields=tuple(FieldRule(field=f) for f in ("A", "B")))
    world = World(rules=rules)
    world.platform_create({"A": "a1"})
    world.salesforce_create({"B": "b1"})
    for crash_at in range(1, 8):
        world.sync(crash_at)
        world.platform_edit(0, "A", f"a{crash_at}")
    world.sync(None)
    world.sync(None)
    (first, second) = sorted(world.live_platform(), key=lambda r: r.id)
    assert first.values["A"] == "a7"
    assert {r.ext for r in world.live_org()} == {first.id, second.id}
    assert all(r.values == world.platform[r.ext].values for r in world.live_org() if r.ext)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(OPERATIONS, min_size=1, max_size=30),
    st.sampled_from(ConflictPolicy),
    st.sampled_from(DeletePolicy),
)
def test_every_policy_settles_without_duplicates_and_holds_only_what_is_in_review(
    program: list[tuple],  # type: ignore[type-arg]
    policy: ConflictPolicy,
    delete_policy: DeletePolicy,
) -> None:
    rules = MergeRules(
        fields=(FieldRule(field="A"), FieldRule(field="B")),
        conflict_policy=policy,
        delete_policy=delete_policy,
    )
    world = World(rules=rules)
    for name, *args in program:
        if name in ("platform_edit", "salesforce_edit") and args[1] not in ("A", "B"):
            continue
        getattr(world, name)(*args)
    world.sync(None)
    world.sync(None)

    assert not world.pending, "a Salesforce write was never confirmed"
    exts = [r.ext for r in world.live_org() if r.ext is not None]
    assert len(exts) == len(set(exts)), "a record was duplicated in Salesforce"
    for pid, state in world.states.items():
        if state.detached or state.held_delete is not None:
            continue  # cut by the delete policy, or waiting for an admin
        row, org_row = world.platform[pid], world.org[state.salesforce_id or ""]
        assert not row.deleted
        assert not org_row.deleted
        assert org_row.ext == pid
        for name in ("A", "B"):
            if name not in state.held:
                assert row.values.get(name) == org_row.values.get(name), "the two sides disagree"
