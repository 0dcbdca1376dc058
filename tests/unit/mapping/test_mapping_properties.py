"""Properties of the mapping domain, checked with hypothesis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crmbridge.domain.mapping.apply import map_to_platform, map_to_salesforce
from crmbridge.domain.mapping.context import MappingContext
from crmbridge.domain.mapping.errors import FormulaError, FormulaEvaluationError
from crmbridge.domain.mapping.formula import compile_formula
from crmbridge.domain.mapping.model import ObjectMapping, direct
from crmbridge.domain.mapping.transforms import (
    Coerce,
    Concatenate,
    DateFormat,
    DateKind,
    ScalarType,
    Split,
    StepContext,
    value_map,
)

ZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/St_Johns",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]

#: Any JSON scalar a platform field can hold.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.dates().map(date.isoformat),
)


def step_ctx(tz: str = "UTC", *, platform: int = 1, salesforce: int = 1) -> StepContext:
    return StepContext(
        context=MappingContext(time_zone=tz),
        record={},
        platform_fields=tuple(f"p{i}" for i in range(platform)),
        salesforce_fields=tuple(f"S{i}__c" for i in range(salesforce)),
    )


@settings(deadline=None)  # timing varies on shared CI machines
@given(value=scalars)
def test_a_direct_mapping_round_trips_any_value_of_its_type(value: Any) -> None:
    mapping = ObjectMapping(
        platform_entity="thing", salesforce_object="Thing__c", fields=(direct("x", "X__c"),)
    )
    context = MappingContext()
    outbound = map_to_salesforce({"x": value}, mapping, context=context)
    assert outbound.ok
    inbound = map_to_platform(dict(outbound.values), mapping, context=context)
    assert inbound.ok
    assert inbound.values == {"x": value}
    assert type(inbound.values["x"]) is type(value)


@settings(deadline=None)  # timing varies on shared CI machines
@given(
    pairs=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=6),
    value=st.one_of(st.none(), st.text(max_size=8), st.integers(), st.booleans()),
    default_out=st.text(max_size=5),
    default_in=st.text(max_size=5),
    case_insensitive=st.booleans(),
)
def test_value_maps_with_defaults_never_fail(
    pairs: dict[str, str], value: Any, default_out: str, default_in: str, case_insensitive: bool
) -> None:
    step = value_map(
        pairs,
        salesforce_default=default_out,
        platform_default=default_in,
        case_insensitive=case_insensitive,
    )
    out = step.to_salesforce(value, step_ctx())
    back = step.to_platform(value, step_ctx())
    assert out in (*pairs.values(), default_out)
    assert back in (*pairs.keys(), default_in)


@settings(deadline=None)  # timing varies on shared CI machines
@given(
    pairs=st.dictionaries(st.text(min_size=1), st.text(min_size=1), min_size=1).filter(
        lambda d: len(set(d.values())) == len(d)
    )
)
def test_a_one_to_one_value_map_round_trips_every_mapped_value(pairs: dict[str, str]) -> None:
    step = value_map(pairs)
    for platform_value in pairs:
        sent = step.to_salesforce(platform_value, step_ctx())
        assert step.to_platform(sent, step_ctx()) == platform_value


#: Non-blank words without spaces, semicolons or commas (the separators used).
words = st.text(
    alphabet=st.characters(blacklist_characters=" ;,", blacklist_categories=("Cs", "Zs", "Cc")),
    min_size=1,
).filter(lambda w: w.strip() == w)


@settings(deadline=None)  # timing varies on shared CI machines
@given(parts=st.lists(words, min_size=2, max_size=5), separator=st.sampled_from([" ", ";", ", "]))
def test_concatenation_round_trips_parts_without_the_separator(
    parts: list[str], separator: str
) -> None:
    step = Concatenate(separator=separator)
    ctx = step_ctx(platform=len(parts))
    joined = step.to_salesforce(parts, ctx)
    assert step.to_platform(joined, ctx) == parts


@settings(deadline=None)  # timing varies on shared CI machines
@given(parts=st.lists(words, min_size=2, max_size=4), from_right=st.booleans())
def test_split_then_join_gives_back_the_original_text(parts: list[str], from_right: bool) -> None:
    text = " ".join(parts)
    step = Split(separator=" ", from_right=from_right)
    ctx = step_ctx(salesforce=len(parts))
    pieces = step.to_salesforce(text, ctx)
    assert pieces == parts
    assert step.to_platform(pieces, ctx) == text


@settings(deadline=None)  # timing varies on shared CI machines
@given(day=st.dates(), tz=st.sampled_from(ZONES), salesforce_type=st.sampled_from(list(DateKind)))
def test_a_date_round_trips_through_date_and_datetime_fields_in_any_time_zone(
    day: date, tz: str, salesforce_type: DateKind
) -> None:
    if salesforce_type is DateKind.DATETIME and not date(1, 1, 2) < day < date(9999, 12, 30):
        return  # local midnight must exist as a UTC datetime
    step = DateFormat(platform_kind=DateKind.DATE, salesforce_type=salesforce_type)
    sent = step.to_salesforce(day.isoformat(), step_ctx(tz))
    assert step.to_platform(sent, step_ctx(tz)) == day.isoformat()
    if salesforce_type is DateKind.DATE:
        assert sent == day.isoformat()  # never shifted to another day


@settings(deadline=None)  # timing varies on shared CI machines
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
)
def test_a_datetime_round_trips_to_the_millisecond_in_any_time_zone(
    moment: datetime, tz: str
) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    step = DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATETIME)
    sent = step.to_salesforce(moment.isoformat(), step_ctx(tz))
    back = datetime.fromisoformat(step.to_platform(sent, step_ctx(tz)))
    assert back == moment


@settings(deadline=None)  # timing varies on shared CI machines
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
)
def test_a_datetime_sent_to_a_date_field_is_the_local_calendar_day(
    moment: datetime, tz: str
) -> None:
    step = DateFormat(platform_kind=DateKind.DATETIME, salesforce_type=DateKind.DATE)
    from zoneinfo import ZoneInfo

    sent = step.to_salesforce(moment.isoformat(), step_ctx(tz))
    assert sent == moment.astimezone(ZoneInfo(tz)).date().isoformat()
    assert abs(date.fromisoformat(sent) - moment.date()) <= timedelta(days=1)


@settings(deadline=None)  # timing varies on shared CI machines
@given(number=st.integers(), flag=st.booleans())
def test_coercion_to_text_round_trips_numbers_and_booleans(number: int, flag: bool) -> None:
    as_text = Coerce(salesforce_type=ScalarType.TEXT, platform_type=ScalarType.INTEGER)
    assert as_text.to_platform(as_text.to_salesforce(number, step_ctx()), step_ctx()) == number
    bool_text = Coerce(salesforce_type=ScalarType.TEXT, platform_type=ScalarType.BOOLEAN)
    assert bool_text.to_platform(bool_text.to_salesforce(flag, step_ctx()), step_ctx()) is flag


def error_of(call: Callable[[], object], expected: type[Exception]) -> Exception | None:
    """The ``expected`` error ``call`` raises, or ``None``; any other error propagates."""
    try:
        call()
    except expected as error:
        return error
    return None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_the_formula_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    error = error_of(lambda: compile_formula(text), FormulaError)
    assert error is None or str(error).strip()


TOKENS = st.sampled_from(
    [
        "IF(",
        "CASE(",
        "AND(",
        "UPPER(",
        "LEFT(",
        "ROUND(",
        "TODAY()",
        ")",
        "(",
        ",",
        "&",
        "+",
        "-",
        "*",
        "/",
        "=",
        "<>",
        "<=",
        "&&",
        "||",
        "NOT",
        " and ",
        "1",
        "2.5",
        '"x"',
        "'y'",
        "TRUE",
        "NULL",
        "score",
        "name",
        "sf.Name",
        "sf.Account.Name",
        " ",
        "\n",
        '"unterminated',
        "#",
        "@",
        "..",
    ]
)


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(TOKENS, max_size=25))
def test_the_formula_parser_never_crashes_on_formula_like_text(tokens: list[str]) -> None:
    text = "".join(tokens)
    error = error_of(lambda: compile_formula(text), FormulaError)
    if error is not None:
        assert str(error).strip()
        return
    # Whatever parses evaluates to a value or fails with an error for this record only.
    failure = error_of(
        lambda: compile_formula(text).evaluate(
            platform={"score": 3, "name": "Ada"},
            salesforce={"Name": "Ada", "Account": {"Name": "AE"}},
            today=date(2024, 3, 10),
        ),
        FormulaEvaluationError,
    )
    assert failure is None or "(line " in str(failure)


leaf = st.one_of(
    st.integers(-5, 5).map(str),
    st.sampled_from(['"a"', "score", "name", "missing", "TRUE", "NULL", "TODAY()"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(list("+-*/&=<>")), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    calls = st.tuples(
        st.sampled_from(["IF", "UPPER", "LEN", "ROUND", "ISBLANK", "TEXT", "VALUE", "ABS"]),
        st.lists(children, min_size=1, max_size=3),
    ).map(lambda t: f"{t[0]}({', '.join(t[1])})")
    return st.one_of(binary, calls)


@settings(max_examples=300, deadline=None)
@given(text=st.recursive(leaf, _combine, max_leaves=12))
def test_evaluating_any_well_formed_formula_fails_only_with_a_formula_error(text: str) -> None:
    if error_of(lambda: compile_formula(text), FormulaError) is not None:
        return  # wrong argument counts are validation errors
    formula = compile_formula(text)
    failure = error_of(
        lambda: formula.evaluate(platform={"score": 3, "name": "Ada"}, today=date(2024, 3, 10)),
        FormulaEvaluationError,
    )
    assert failure is None or "(line " in str(failure)
