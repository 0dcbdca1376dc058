"""Builders and a tiny in-memory "apply" for the sync-core tests (no IO)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from crmbridge.domain.sync import (
    FieldValue,
    RecordVersion,
    Side,
    SideWrite,
    SyncPlan,
    SyncState,
    WriteAction,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A moment ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def platform(
    values: dict[str, FieldValue] | None = None,
    *,
    modified: float | None = 0,
    deleted: bool = False,
    id: str = "m-1",
    counterpart: str | None = "003000000000001AAA",
) -> RecordVersion:
    return RecordVersion(
        side=Side.PLATFORM,
        object="Contact",
        id=id,
        counterpart_id=counterpart,
        values=values or {},
        modified_at=None if modified is None else at(modified),
        deleted=deleted,
    )


def salesforce(
    values: dict[str, FieldValue] | None = None,
    *,
    modified: float | None = 0,
    modstamp: float | None = None,
    deleted: bool = False,
    id: str = "003000000000001AAA",
    counterpart: str | None = "m-1",
) -> RecordVersion:
    stamp = modified if modstamp is None else modstamp
    return RecordVersion(
        side=Side.SALESFORCE,
        object="Contact",
        id=id,
        counterpart_id=counterpart,
        values=values or {},
        modified_at=None if modified is None else at(modified),
        modstamp=None if stamp is None else at(stamp),
        deleted=deleted,
    )


def state(values: dict[str, FieldValue], **overrides: object) -> SyncState:
    fields: dict[str, object] = {
        "object": "Contact",
        "platform_id": "m-1",
        "salesforce_id": "003000000000001AAA",
        "values": values,
        "linked": True,
    }
    fields.update(overrides)
    return SyncState(**fields)


def apply_write(
    version: RecordVersion | None, write: SideWrite, *, object: str, new_id: str
) -> RecordVersion | None:
    """What the side holds after ``write`` succeeded (values outside the mapping kept)."""
    if write.action is WriteAction.NONE:
        return version
    if write.action in (WriteAction.DELETE, WriteAction.ARCHIVE):
        assert version is not None
        return replace(version, deleted=True)
    if write.action is WriteAction.CREATE:
        if write.side is Side.PLATFORM and version is not None:
            # The platform restores the deleted record, with its data, under its id.
            return replace(version, values={**version.values, **write.values}, deleted=False)
        return RecordVersion(side=write.side, object=object, id=new_id, values=write.values)
    assert version is not None
    return replace(version, values={**version.values, **write.values})


def apply_plan(
    plan: SyncPlan, p: RecordVersion | None, s: RecordVersion | None
) -> tuple[RecordVersion | None, RecordVersion | None]:
    """Both sides after every write of ``plan`` succeeded."""
    p2 = apply_write(p, plan.platform, object="Contact", new_id="m-new")
    s2 = apply_write(s, plan.salesforce, object="Contact", new_id="003000000000NEWAAA")
    stamped = plan.link_salesforce or plan.salesforce.action is WriteAction.CREATE
    if stamped and p2 is not None and s2 is not None:
        # An upsert by external id, or a link, leaves the platform id on the record,
        # and the platform record learns the Salesforce id.
        s2 = replace(s2, counterpart_id=p2.id)
        p2 = replace(p2, counterpart_id=s2.id)
    return p2, s2


def with_assigned_ids(
    state: SyncState | None, p: RecordVersion | None, s: RecordVersion | None
) -> SyncState | None:
    """The state as the adapter stores it: ids of records just created filled in."""
    if state is None:
        return None
    return replace(
        state,
        platform_id=state.platform_id or (p.id if p is not None else None),
        salesforce_id=state.salesforce_id or (s.id if s is not None and not s.deleted else None),
    )
