"""JSON column text: orjson, with the standard encoder for what orjson refuses."""

from __future__ import annotations

import json
import math

import pytest

from crmbridge.jsontext import json_text, json_value


@pytest.mark.parametrize(
    "value",
    [
        {"first_name": "Zoë", "tags": ["a", "b"], "score": 1.5, "active": True, "x": None},
        {"nested": {"deep": [1, 2, {"k": "v"}]}},
        [],
        'text with "quotes" and \\ and \u2028',
    ],
)
def test_json_text_reads_back_as_the_same_value(value: object) -> None:
    assert json.loads(json_text(value)) == value


def test_what_orjson_refuses_still_serialises_as_the_standard_encoder_does() -> None:
    huge = {"n": 2**70}
    assert json.loads(json_text(huge)) == huge
    assert json_text({1: "one"}) == json.dumps({1: "one"})


def test_what_neither_can_encode_is_an_error() -> None:
    with pytest.raises(TypeError):
        json_text({"x": object()})


@pytest.mark.parametrize(
    "value",
    [
        {"first_name": "Zoë", "tags": ["a", "b"], "score": 1.5, "active": True, "x": None},
        {"n": 2**70, "m": -(2**64)},  # integers orjson would read as floats
        {"n": 2**63 - 1, "f": 0.1 + 0.2, "s": "1234567890123456789012"},
        {"big_float": 1e30, "nested": [{"n": -(2**70)}]},  # floats this large stay floats
        [],
        'text with "quotes" and \\ and \u2028',
    ],
)
def test_json_value_reads_json_text_back_exactly(value: object) -> None:
    text = json_text(value)
    back = json_value(text)
    assert back == value
    assert json.dumps(back) == json.dumps(value)  # same types: no int became a float
    assert json_value(text.encode()) == value


def test_json_value_reads_what_only_the_standard_decoder_accepts() -> None:
    assert math.isnan(json_value('{"x": NaN}')["x"])
    with pytest.raises(ValueError):
        json_value("{not json")
