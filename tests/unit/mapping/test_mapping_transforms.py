"""Each transform step both ways, including round trips and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crmbridge.domain.mapping.context import MappingContext
from crmbridge.domain.mapping.errors import TransformError
from crmbridge.domain.mapping.transforms import (
    ChangeCase,
    Coerce,
    Concatenate,
    DateFormat,
    DateKind,
    DefaultSide,
    ScalarType,
    Split,
    StepContext,
    TextCase,
    UseDefault,
    value_map,
)


def ctx(
    *,
    tz: str = "UTC",
    platform_fields: tuple[str, ...] = ("field",),
    salesforce_fields: tuple[str, ...] = ("Field__c",),
    record: dict[str, Any] | None = None,
) -> StepContext:
    return StepContext(
        context=MappingContext(time_zone=tz),
        record=record or {},
        platform_fields=platform_fields,
        salesforce_fields=salesforce_fields,
    )


# --- value map ---------------------------------------------------------------------

STATUS = value_map(
    {
        "NEW": "New",
        "CONTACTED": "Contacted",
        "QUALIFIED": "Qualified",
        "PROPOSAL_SENT": "Proposal Sent",
        "NEGOTIATION": "Negotiating",
        "CONVERTED": "Closed Won",
        "LOST": "Closed Lost",
    }
)


@pytest.mark.parametrize(
    ("platform", "salesforce"),
    [("NEW", "New"), ("PROPOSAL_SENT", "Proposal Sent"), ("CONVERTED", "Closed Won")],
)
def test_value_map_translates_the_seed_status_table_both_ways(
    platform: str, salesforce: str
) -> None:
    assert STATUS.to_salesforce(platform, ctx()) == salesforce
    assert STATUS.to_platform(salesforce, ctx()) == platform


def test_unmapped_value_without_default_names_the_value_and_the_fix() -> None:
    with pytest.raises(TransformError, match=r"'ARCHIVED' has no Salesforce value.*set a default"):
        STATUS.to_salesforce("ARCHIVED", ctx())


def test_unmapped_values_take_each_directions_default() -> None:
    step = value_map({"WEB": "Web"}, salesforce_default="Other", platform_default="OTHER")
    assert step.to_salesforce("TV", ctx()) == "Other"
    assert step.to_platform("Purchased List", ctx()) == "OTHER"


def test_case_insensitive_value_map_ignores_case_and_blanks() -> None:
    step = value_map({"WEB": "Web"}, case_insensitive=True)
    assert step.to_salesforce(" web ", ctx()) == "Web"
    assert step.to_platform("WEB", ctx()) == "WEB"


def test_value_map_keeps_booleans_apart_from_numbers() -> None:
    step = value_map([(True, "Yes"), (1, "One")])
    assert step.to_salesforce(True, ctx()) == "Yes"
    assert step.to_salesforce(1, ctx()) == "One"


def test_value_map_maps_lists_item_by_item() -> None:
    step = value_map({"a": "A", "b": "B"})
    assert step.to_salesforce(["a", "b"], ctx()) == ["A", "B"]
    assert step.to_platform(["B"], ctx()) == ["b"]


def test_null_stays_null_through_a_value_map() -> None:
    assert STATUS.to_salesforce(None, ctx()) is None
    assert STATUS.to_platform(None, ctx()) is None


def test_many_to_one_value_map_returns_the_first_listed_platform_value() -> None:
    step = value_map([("RESOLVED", "Completed"), ("CLOSED", "Completed")])
    assert step.to_salesforce("CLOSED", ctx()) == "Completed"
    assert step.to_platform("Completed", ctx()) == "RESOLVED"


# --- text case, default, coerce ------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (TextCase.UPPER, "ADA LOVELACE"),
        (TextCase.LOWER, "ada lovelace"),
        (TextCase.TITLE, "Ada Lovelace"),
    ],
)
def test_text_case_converts_on_the_way_to_salesforce(case: TextCase, expected: str) -> None:
    step = ChangeCase(case=case)
    assert step.to_salesforce("ada LOVELACE", ctx()) == expected


def test_text_case_is_one_way_and_passes_values_back_unchanged() -> None:
    step = ChangeCase(case=TextCase.UPPER)
    assert not step.invertible
    assert step.to_platform("Mixed Case", ctx()) == "Mixed Case"


def test_default_step_fills_empty_values_only() -> None:
    step = UseDefault(value="Web")
    assert step.to_salesforce("", ctx()) == "Web"
    assert step.to_salesforce(None, ctx()) == "Web"
    assert step.to_salesforce("Event", ctx()) == "Event"
    assert step.to_platform(None, ctx()) is None


def test_default_step_can_apply_on_the_way_back() -> None:
    step = UseDefault(value="NEW", side=DefaultSide.TO_PLATFORM)
    assert step.to_platform(None, ctx()) == "NEW"
    assert step.to_salesforce(None, ctx()) is None


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        (ScalarType.NUMBER, "42.50", 42.5),
        (ScalarType.NUMBER, 7, 7),
        (ScalarType.INTEGER, "12", 12),
        (ScalarType.BOOLEAN, "yes", True),
        (ScalarType.BOOLEAN, "0", False),
        (ScalarType.TEXT, 7, "7"),
        (ScalarType.TEXT, True, "true"),
        (ScalarType.TEXT, Decimal("1.50"), "1.50"),
    ],
)
def test_coerce_converts_to_the_salesforce_type(
    target: ScalarType, value: Any, expected: Any
) -> None:
    assert Coerce(salesforce_type=target).to_salesforce(value, ctx()) == expected


@pytest.mark.parametrize(
    ("target", "value"),
    [(ScalarType.NUMBER, "abc"), (ScalarType.INTEGER, "1.5"), (ScalarType.BOOLEAN, "maybe")],
)
def test_coerce_rejects_values_it_cannot_read(target: ScalarType, value: Any) -> None:
    with pytest.raises(TransformError):
        Coerce(salesforce_type=target).to_salesforce(value, ctx())


def test_coerce_converts_back_to_the_platform_type() -> None:
    step = Coerce(salesforce_type=ScalarType.TEXT, platform_type=ScalarType.INTEGER)
    assert step.to_platform(step.to_salesforce(42, ctx()), ctx()) == 42


# --- concatenation and split ---------------------------------------------------------


def test_concatenate_joins_several_platform_fields_and_splits_them_back() -> None:
    step = Concatenate(separator=" ")
    c = ctx(platform_fields=("first_name", "last_name"))
    assert step.to_salesforce(["Ada", "Lovelace"], c) == "Ada Lovelace"
    assert step.to_platform("Ada Lovelace", c) == ["Ada", "Lovelace"]


def test_concatenate_skips_blank_parts() -> None:
    step = Concatenate(separator=", ")
    c = ctx(platform_fields=("a", "b", "c"))
    assert step.to_salesforce(["x", "", "z"], c) == "x, z"
    assert step.to_salesforce([None, " "], c) is None


def test_concatenate_of_a_list_field_is_a_multi_select_value() -> None:
    step = Concatenate(separator=";")
    assert step.to_salesforce(["Gold", "Silver"], ctx()) == "Gold;Silver"
    assert step.to_platform("Gold;Silver", ctx()) == ["Gold", "Silver"]


def test_split_fills_several_salesforce_fields_and_joins_them_back() -> None:
    step = Split(separator=" ", from_right=True)
    c = ctx(salesforce_fields=("FirstName", "LastName"))
    assert step.to_salesforce("Mary Ann Smith", c) == ["Mary Ann", "Smith"]
    assert step.to_salesforce("Smith", c) == [None, "Smith"]
    assert step.to_platform(["Mary Ann", "Smith"], c) == "Mary Ann Smith"


def test_split_from_the_left_gives_the_remainder_to_the_last_field() -> None:
    step = Split(separator="-")
    c = ctx(salesforce_fields=("A", "B"))
    assert step.to_salesforce("x-y-z", c) == ["x", "y-z"]
    assert step.to_salesforce("x", c) == ["x", None]


def test_split_refuses_non_text() -> None:
    with pytest.raises(TransformError, match="cannot be split"):
        Split().to_salesforce(42, ctx(salesforce_fields=("A", "B")))


# --- dates ---------------------------------------------------------------------------


def test_date_only_values_never_move_to_another_day_whatever_the_time_zone() -> None:
    step = DateFormat()
    for tz in ("UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        assert step.to_salesforce("2024-03-10", ctx(tz=tz)) == "2024-03-10"
        assert step.to_salesforce(date(2024, 3, 10), ctx(tz=tz)) == "2024-03-10"
        assert step.to_platform("2024-03-10", ctx(tz=tz)) == "2024-03-10"


def test_a_datetime_sent_to_a_date_field_takes_the_day_in_the_tenants_time_zone() -> None:
    step = DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATE)
    evening_in_la = "2024-03-10T23:30:00-07:00"  # 2024-03-11 06:30 UTC
    assert step.to_salesforce(evening_in_la, ctx(tz="America/Los_Angeles")) == "2024-03-10"
    assert step.to_salesforce(evening_in_la, ctx(tz="UTC")) == "2024-03-11"


def test_naive_platform_datetimes_are_read_in_the_tenants_time_zone() -> None:
    step = DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATETIME)
    assert (
        step.to_salesforce("2024-03-10T23:30:00", ctx(tz="America/Los_Angeles"))
        == "2024-03-11T06:30:00.000+0000"
    )
    assert (
        step.to_salesforce("2024-03-10T23:30:00", ctx(tz="UTC")) == "2024-03-10T23:30:00.000+0000"
    )


def test_datetimes_use_the_offset_in_force_on_each_side_of_a_dst_change() -> None:
    # US DST began 2024-03-10 02:00 local: 01:30 is PST (-8), 03:30 is PDT (-7).
    step = DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATETIME)
    la = ctx(tz="America/Los_Angeles")
    assert step.to_salesforce("2024-03-10T01:30:00", la) == "2024-03-10T09:30:00.000+0000"
    assert step.to_salesforce("2024-03-10T03:30:00", la) == "2024-03-10T10:30:00.000+0000"


def test_a_salesforce_datetime_read_into_a_platform_date_takes_the_tenants_day() -> None:
    step = DateFormat(platform_kind=DateKind.DATE, salesforce_type=DateKind.DATETIME)
    value = "2024-03-11T06:30:00.000+0000"
    assert step.to_platform(value, ctx(tz="America/Los_Angeles")) == "2024-03-10"
    assert step.to_platform(value, ctx(tz="Europe/Berlin")) == "2024-03-11"


def test_a_date_sent_to_a_datetime_field_is_local_midnight_and_comes_back_the_same_day() -> None:
    step = DateFormat(platform_kind=DateKind.DATE, salesforce_type=DateKind.DATETIME)
    for tz in ("America/Los_Angeles", "Asia/Tokyo", "UTC"):
        sent = step.to_salesforce("2024-11-03", ctx(tz=tz))
        assert step.to_platform(sent, ctx(tz=tz)) == "2024-11-03"
    assert step.to_salesforce("2024-03-10", ctx(tz="Asia/Tokyo")) == "2024-03-09T15:00:00.000+0000"


def test_declared_platform_formats_are_parsed_and_rendered() -> None:
    step = DateFormat(platform_format="%m/%d/%Y")
    assert step.to_salesforce("03/10/2024", ctx()) == "2024-03-10"
    assert step.to_platform("2024-03-10", ctx()) == "03/10/2024"


def test_a_value_that_does_not_match_the_declared_format_is_an_error() -> None:
    step = DateFormat(platform_format="%d.%m.%Y")
    with pytest.raises(TransformError, match=r"does not match the date format %d\.%m\.%Y"):
        step.to_salesforce("2024-03-10", ctx())


def test_salesforce_datetimes_come_back_as_iso_utc() -> None:
    step = DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATETIME)
    assert step.to_platform("2024-03-10T23:30:00.000+0000", ctx()) == "2024-03-10T23:30:00+00:00"
    aware = datetime(2024, 3, 10, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert step.to_salesforce(aware, ctx()) == "2024-03-11T03:30:00.000+0000"
    assert step.to_salesforce(datetime(2024, 1, 1, tzinfo=UTC), ctx()).endswith("+0000")


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    step = DateFormat(platform_kind=DateKind.DATETIME)
    with pytest.raises(TransformError, match="unknown time zone 'Mars/Base'"):
        step.to_salesforce("2024-03-10T10:00:00", ctx(tz="Mars/Base"))
