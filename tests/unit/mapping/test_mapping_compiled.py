"""The sync's prepared inbound mapper gives what ``map_to_platform`` gives, on every
default mapping and on records it was not written for (missing fields, other key
cases, wrong types, nested parents, clashing fields)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmbridge.domain.mapping.apply import SKIPPED, field_value, map_field, map_to_platform
from crmbridge.domain.mapping.compiled import InboundMapper
from crmbridge.domain.mapping.context import MappingContext
from crmbridge.domain.mapping.defaults import default_object_mappings
from crmbridge.domain.mapping.model import ObjectMapping, direct
from crmbridge.domain.mapping.transforms import ValueMap

MAPPINGS = {f"{m.platform_entity}-{m.salesforce_object}": m for m in default_object_mappings()}
CONTEXT = MappingContext(
    time_zone="Europe/Berlin",
    links={("Account", "org-1"): "001000000000001AAA", ("Contact", "mem-1"): "003000000000001AAA"},
)


def _known_values(mapping: ObjectMapping) -> list[Any]:
    """Values the mapping's value maps know (so that many fields map without error)."""
    found: list[Any] = ["001000000000001AAA", "003000000000001AAA", "2024-05-15"]
    for field in mapping.fields:
        for step in field.steps:
            if isinstance(step, ValueMap):
                found.extend(sf for _platform, sf in step.pairs)
    return found


def _records(mapping: ObjectMapping) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(
        {name for field in mapping.inbound_fields() for name in field.salesforce_fields}
        | set(mapping.salesforce_read_fields())
    )
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.text(max_size=12),
        st.sampled_from(_known_values(mapping)),
        st.sampled_from(["2024-05-15T09:00:00.000+0000", "2024-05-15", "a;b;c", "Yes"]),
    )

    def value_for(name: str) -> st.SearchStrategy[Any]:
        rest = name.partition(".")[2]
        if rest:  # a parent's field: the parent record nested, or null
            return st.one_of(st.none(), st.fixed_dictionaries({rest.split(".")[0]: scalars}))
        return scalars

    def key(name: str) -> st.SearchStrategy[str]:
        head = name.split(".")[0]
        return st.sampled_from([head, head.lower(), head.upper()])

    def build(draw: st.DrawFn) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for name in names:
            if draw(st.booleans()):
                record[draw(key(name))] = draw(value_for(name))
        return record

    return st.composite(build)()


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_the_inbound_mapper_agrees_with_map_to_platform(name: str, data: st.DataObject) -> None:
    mapping = MAPPINGS[name]
    record = data.draw(_records(mapping))
    expected = map_to_platform(record, mapping, context=CONTEXT, trace=False)
    values, errors = InboundMapper(mapping).map(record, CONTEXT)
    assert values == dict(expected.values)
    assert errors == expected.errors


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@settings(deadline=None, max_examples=50)
@given(data=st.data())
def test_one_mapper_agrees_across_records_with_other_keys(name: str, data: st.DataObject) -> None:
    """The mapper remembers the last record's folded keys; records with other keys (or
    the same keys in another case) must not be read with a stale answer."""
    mapping = MAPPINGS[name]
    mapper = InboundMapper(mapping)
    for record in data.draw(st.lists(_records(mapping), min_size=2, max_size=4)):
        expected = map_to_platform(record, mapping, context=CONTEXT, trace=False)
        assert mapper.map(record, CONTEXT) == (dict(expected.values), expected.errors)


def test_a_second_field_filling_a_target_with_another_value_is_an_error() -> None:
    mapping = ObjectMapping(
        platform_entity="member",
        salesforce_object="Contact",
        fields=(direct("email", "Email"), direct("email", "npe01__HomeEmail__c")),
    )
    record = {"Email": "a@x.org", "npe01__HomeEmail__c": "b@x.org"}
    values, errors = InboundMapper(mapping).map(record, CONTEXT)
    assert values == {"email": "a@x.org"}
    assert list(errors) == [mapping.fields[1].label]
    assert errors == map_to_platform(record, mapping, context=CONTEXT).errors
    # Blank or equal second values are no clash, as in map_to_platform.
    same = {"Email": "a@x.org", "npe01__HomeEmail__c": "a@x.org"}
    assert InboundMapper(mapping).map(same, CONTEXT) == ({"email": "a@x.org"}, {})


def test_fields_the_record_does_not_carry_are_left_out_and_key_case_is_ignored() -> None:
    mapping = MAPPINGS["member-Contact"]
    values, errors = InboundMapper(mapping).map({"lastname": "Lovelace"}, CONTEXT)
    assert values == {"last_name": "Lovelace"}
    assert errors == {}


def _platform_records(mapping: ObjectMapping) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted({name for field in mapping.fields for name in field.platform_fields})
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.text(max_size=12),
        st.sampled_from(
            [
                p
                for f in mapping.fields
                for s in f.steps
                if isinstance(s, ValueMap)
                for p, _sf in s.pairs
            ]
            or ["x"]
        ),
        st.sampled_from(["org-1", "mem-1", "2024-05-15", "2024-05-15T09:00:00+00:00", "a;b"]),
        st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    )

    def build(draw: st.DrawFn) -> dict[str, Any]:
        return {name.split(".")[0]: draw(scalars) for name in names if draw(st.booleans())}

    return st.composite(build)()


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@settings(deadline=None, max_examples=100)
@given(data=st.data())
def test_field_value_agrees_with_map_field_both_ways(name: str, data: st.DataObject) -> None:
    mapping = MAPPINGS[name]
    outbound = data.draw(st.booleans())
    record = data.draw(_platform_records(mapping) if outbound else _records(mapping))
    for field in mapping.fields:
        for stop in (None, *range(len(field.steps))):
            expected = map_field(
                record, field, CONTEXT, outbound=outbound, stop_before=stop, trace=False
            )
            output, error = field_value(record, field, CONTEXT, outbound=outbound, stop_before=stop)
            if expected.skipped is not None:
                assert (output, error) == (SKIPPED, None)
            else:
                assert (output, error) == (expected.output, expected.error)
