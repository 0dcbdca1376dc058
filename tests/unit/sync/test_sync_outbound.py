"""Outbound planning: parents before children, batches of 200, Bulk API above a threshold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmbridge.domain.sync.ordering import ReferenceField, order_objects, record_waves
from crmbridge.domain.sync.outbound import (
    OutboundPlan,
    OutboundSettings,
    ParentReference,
    RecordWrite,
    WriteApi,
    WriteOperation,
    plan_outbound_writes,
)

UPSERT, DELETE = WriteOperation.UPSERT, WriteOperation.DELETE

CONTACT_ACCOUNT = ReferenceField(
    object="Contact", field="AccountId", relationship_name="Account", target_object="Account"
)
OPPORTUNITY_ACCOUNT = ReferenceField(
    object="Opportunity", field="AccountId", relationship_name="Account", target_object="Account"
)
OPPORTUNITY_CONTACT = ReferenceField(
    object="Opportunity",
    field="Primary_Contact__c",
    relationship_name="Primary_Contact__r",
    target_object="Contact",
)
ACCOUNT_PARENT = ReferenceField(
    object="Account", field="ParentId", relationship_name="Parent", target_object="Account"
)
REFERENCES = (CONTACT_ACCOUNT, OPPORTUNITY_ACCOUNT, OPPORTUNITY_CONTACT, ACCOUNT_PARENT)
SETTINGS = OutboundSettings()


def write(obj: str, pid: str, operation: WriteOperation = UPSERT, **fields: object) -> RecordWrite:
    return RecordWrite(
        object=obj,
        operation=operation,
        platform_id=pid,
        salesforce_id=f"sf-{pid}" if operation is DELETE else None,
        fields=fields,  # type: ignore[arg-type]
    )


def plan(writes: list[RecordWrite], settings: OutboundSettings = SETTINGS) -> OutboundPlan:
    return plan_outbound_writes(writes, references=REFERENCES, settings=settings)


def test_accounts_go_before_contacts_before_opportunities() -> None:
    result = plan(
        [
            write("Opportunity", "o1", Name="Deal", AccountId="a1", Primary_Contact__c="c1"),
            write("Contact", "c1", LastName="Lovelace", AccountId="a1"),
            write("Account", "a1", Name="Acme"),
        ]
    )
    assert [(b.step, b.object) for b in result.batches] == [
        (0, "Account"),
        (1, "Contact"),
        (2, "Opportunity"),
    ]


def test_lookups_to_mapped_parents_become_external_id_references() -> None:
    result = plan([write("Contact", "c1", LastName="Lovelace", AccountId="a1")])
    (contact,) = result.batches[0].writes
    assert contact.fields == {"LastName": "Lovelace"}
    assert contact.references == (
        ParentReference(
            field="AccountId",
            relationship_name="Account",
            target_object="Account",
            external_id_field="Platform_Id__c",
            external_id="a1",
        ),
    )
    assert result.batches[0].external_id_field == "Platform_Id__c"


def test_a_cleared_lookup_is_sent_as_null() -> None:
    (contact,) = plan([write("Contact", "c1", AccountId=None)]).batches[0].writes
    assert contact.fields == {"AccountId": None}
    assert contact.references == ()


def test_self_referencing_accounts_are_written_in_waves() -> None:
    result = plan(
        [
            write("Account", "grandchild", ParentId="child"),
            write("Account", "child", ParentId="root"),
            write("Account", "root", ParentId="outside-the-plan"),
        ]
    )
    assert [[w.platform_id for w in b.writes] for b in result.batches] == [
        ["root"],
        ["child"],
        ["grandchild"],
    ]
    assert [b.step for b in result.batches] == [0, 1, 2]


def test_record_waves_break_a_cycle_by_deferring_the_closing_link() -> None:
    waves, deferred = record_waves({"a": {"b"}, "b": {"a"}, "c": {"c"}})
    assert deferred == {("b", "a"), ("c", "c")}
    assert waves == {"a": 1, "b": 0, "c": 0}


def test_a_cycle_between_two_objects_defers_one_lookup_to_a_later_step() -> None:
    account_contact = ReferenceField(
        object="Account",
        field="Primary_Contact__c",
        relationship_name="Primary_Contact__r",
        target_object="Contact",
    )
    result = plan_outbound_writes(
        [
            write("Account", "a1", Name="Acme", Primary_Contact__c="c1"),
            write("Contact", "c1", LastName="Lovelace", AccountId="a1"),
        ],
        references=(CONTACT_ACCOUNT, account_contact),
        settings=SETTINGS,
    )
    first, second, fixup = result.batches
    assert (first.object, first.writes[0].references) == ("Account", ())
    assert second.object == "Contact"
    assert fixup.step == 2
    assert fixup.writes[0].fields == {}
    assert [r.field for r in fixup.writes[0].references] == ["Primary_Contact__c"]


def test_order_objects_is_deterministic_and_breaks_cycles() -> None:
    loop = (
        ReferenceField(object="B", field="A__c", relationship_name="A__r", target_object="A"),
        ReferenceField(object="A", field="B__c", relationship_name="B__r", target_object="B"),
    )
    order = order_objects(["B", "A", "C"], loop)
    assert order.objects == ("C", "A", "B")  # C is ready; then the A-B cycle, by name
    assert order.deferred == {("A", "B__c")}


def test_collections_hold_at_most_200_records() -> None:
    result = plan([write("Contact", f"c{i:04d}", LastName="x") for i in range(450)])
    assert [len(b.writes) for b in result.batches] == [200, 200, 50]
    assert {b.api for b in result.batches} == {WriteApi.COLLECTIONS}
    assert {b.step for b in result.batches} == {0}


def test_bulk_api_is_chosen_above_the_threshold() -> None:
    at_threshold = plan([write("Contact", f"c{i:04d}") for i in range(2000)])
    assert {b.api for b in at_threshold.batches} == {WriteApi.COLLECTIONS}
    above = plan([write("Contact", f"c{i:04d}") for i in range(2001)])
    assert [(b.api, len(b.writes)) for b in above.batches] == [(WriteApi.BULK, 2001)]


def test_deletes_come_last_and_children_first() -> None:
    result = plan(
        [
            write("Account", "a1", DELETE),
            write("Contact", "c1", DELETE),
            write("Contact", "c2", LastName="kept"),
        ]
    )
    assert [(b.operation, b.object) for b in result.batches] == [
        (UPSERT, "Contact"),
        (DELETE, "Contact"),
        (DELETE, "Account"),
    ]
    assert result.batches[1].writes[0].salesforce_id == "sf-c1"


def test_links_go_first_and_are_not_folded_into_the_upsert() -> None:
    link = RecordWrite(
        object="Contact", operation=WriteOperation.LINK, platform_id="c1", salesforce_id="003X"
    )
    result = plan([write("Account", "a1", Name="Acme"), write("Contact", "c1", Phone="1"), link])
    assert [(b.step, b.operation, b.object) for b in result.batches] == [
        (0, WriteOperation.LINK, "Contact"),
        (1, UPSERT, "Account"),
        (2, UPSERT, "Contact"),
    ]
    assert result.batches[0].writes[0].salesforce_id == "003X"


def test_two_writes_for_one_record_are_merged() -> None:
    first = RecordWrite(
        object="Contact", operation=UPSERT, platform_id="c1", fields={"A": 1}, change_seqs=(3,)
    )
    second = RecordWrite(
        object="Contact",
        operation=UPSERT,
        platform_id="c1",
        fields={"A": 2, "B": 1},
        change_seqs=(1,),
    )
    (merged,) = plan([first, second]).batches[0].writes
    assert merged.fields == {"A": 2, "B": 1}
    assert merged.change_seqs == (1, 3)


def test_collection_size_is_bounded_by_salesforce() -> None:
    with pytest.raises(ValueError, match="collection_size"):
        OutboundSettings(collection_size=201)


# --- properties ------------------------------------------------------------------------


@st.composite
def write_sets(draw: st.DrawFn) -> list[RecordWrite]:
    accounts = [f"a{i}" for i in range(draw(st.integers(0, 8)))]
    contacts = [f"c{i}" for i in range(draw(st.integers(0, 8)))]
    opportunities = [f"o{i}" for i in range(draw(st.integers(0, 5)))]
    outside = ["a-old", "c-old"]
    writes: list[RecordWrite] = []

    def op() -> WriteOperation:
        return draw(st.sampled_from([UPSERT, UPSERT, UPSERT, DELETE]))

    for pid in accounts:
        parent = draw(st.none() | st.sampled_from([*accounts, "a-old"]))
        writes.append(write("Account", pid, op(), Name=pid, ParentId=parent))
        if draw(st.booleans()):
            writes.append(
                RecordWrite(
                    object="Account",
                    operation=WriteOperation.LINK,
                    platform_id=pid,
                    salesforce_id=f"sf-{pid}",
                )
            )
    for pid in contacts:
        writes.append(
            write("Contact", pid, op(), AccountId=draw(st.sampled_from([*accounts, *outside])))
        )
    for pid in opportunities:
        account = draw(st.sampled_from([*accounts, "a-old"]))
        contact = draw(st.sampled_from([*contacts, "c-old"]))
        writes.append(
            write("Opportunity", pid, op(), AccountId=account, Primary_Contact__c=contact)
        )
    return writes


@given(
    write_sets(),
    st.builds(
        OutboundSettings,
        collection_size=st.integers(1, 200),
        bulk_threshold=st.integers(0, 12),
        bulk_job_size=st.integers(1, 20),
    ),
)
def test_every_parent_goes_before_its_children_and_nothing_is_dropped_or_duplicated(
    writes: list[RecordWrite], settings: OutboundSettings
) -> None:
    result = plan(writes, settings)
    steps = [b.step for b in result.batches]
    assert steps == sorted(steps)
    for batch in result.batches:
        limit = settings.bulk_job_size if batch.api is WriteApi.BULK else settings.collection_size
        assert (
            1
            <= len(batch.writes)
            <= min(limit, 200 if batch.api is WriteApi.COLLECTIONS else limit)
        )
        assert all(
            w.object == batch.object and w.operation is batch.operation for w in batch.writes
        )

    # Nothing dropped or duplicated: every field and every lookup is sent exactly once.
    sent: dict[tuple[str, str], list[tuple[str, object]]] = {}
    first_step: dict[tuple[str, str], int] = {}
    for batch in result.batches:
        for w in batch.writes:
            key = (w.object, w.platform_id)
            if w.operation is UPSERT:
                first_step.setdefault(key, batch.step)  # the data write, not a link
            items = sent.setdefault(key, [])
            items.extend(w.fields.items())
            items.extend((r.field, r.external_id) for r in w.references)
            if w.operation is DELETE:
                items.append(("<delete>", w.salesforce_id))
            if w.operation is WriteOperation.LINK:
                items.append(("<link>", w.salesforce_id))
    wanted: dict[tuple[str, str], list[tuple[str, object]]] = {}
    for w in writes:
        items = wanted.setdefault((w.object, w.platform_id), [])
        if w.operation is DELETE:
            items.append(("<delete>", w.salesforce_id))
        elif w.operation is WriteOperation.LINK:
            items.append(("<link>", w.salesforce_id))
        else:
            items.extend(w.fields.items())
    expected = {k: sorted(v, key=repr) for k, v in wanted.items()}
    assert {k: sorted(v, key=repr) for k, v in sent.items()} == expected

    # Parents first: an upserted record's lookup (unless deferred to a later fix-up) is
    # written after its parent's upsert, when the parent is in the plan.
    upserted = {(w.object, w.platform_id) for w in writes if w.operation is UPSERT}
    for batch in result.batches:
        if batch.operation is not UPSERT:
            continue
        for w in batch.writes:
            if batch.step != first_step[(w.object, w.platform_id)]:
                continue  # a deferred fix-up: every record exists by then
            for ref in w.references:
                parent = (ref.target_object, ref.external_id)
                if parent in upserted:
                    assert first_step[parent] < batch.step

    # Links before every upsert, deletes after.
    first_upsert = min((b.step for b in result.batches if b.operation is UPSERT), default=99)
    assert all(b.step < first_upsert for b in result.batches if b.operation is WriteOperation.LINK)
    # Deletes after every upsert.
    last_upsert = max((b.step for b in result.batches if b.operation is UPSERT), default=-1)
    assert all(b.step > last_upsert for b in result.batches if b.operation is DELETE)
