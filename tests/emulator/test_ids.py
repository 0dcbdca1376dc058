"""18-character ids: checksum suffix, case-insensitive parsing, malformed ids."""

from __future__ import annotations

import pytest

from crmbridge.emulator.errors import SalesforceApiError
from crmbridge.emulator.ids import base62, make_id, make_ids, normalize_id, parse_id, to_18


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("0015000000Gv7qJ", "0015000000Gv7qJAAR"),
        ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),
        ("0010g00001Z54O9", "0010g00001Z54O9AAJ"),
        ("00A000000000000", "00A000000000000EAA"),
        ("000000000000000", "000000000000000AAA"),
    ],
)
def test_15_character_ids_get_the_case_safe_suffix(id15: str, id18: str) -> None:
    assert to_18(id15) == id18
    assert normalize_id(id15) == id18


def test_18_character_ids_are_case_insensitive() -> None:
    assert normalize_id("a0d30000001N7PIEAI") == "a0D30000001n7PiEAI"
    assert normalize_id("a0d30000001n7pieai") == "a0D30000001n7PiEAI"


@pytest.mark.parametrize(
    "bad", ["", "001", "0015000000Gv7qJA", "0015000000Gv7q!", "0015000000Gv7qJ999", None, 15]
)
def test_malformed_ids_are_rejected(bad: object) -> None:
    assert normalize_id(bad) is None
    with pytest.raises(SalesforceApiError) as info:
        parse_id(bad, label="Account ID")
    assert info.value.error_code == "MALFORMED_ID"
    assert info.value.message == f"Account ID: id value of incorrect type: {bad}"


def test_made_ids_carry_prefix_pod_and_sort_in_allocation_order() -> None:
    first, second, far = make_id("003", 1_000_000), make_id("003", 1_000_001), make_id("003", 62**9)
    assert first.startswith("0035g")
    assert len(first) == 18
    assert normalize_id(first) == first
    assert first < second < far
    assert base62(61) == "000000000z"
    with pytest.raises(ValueError):
        base62(62**10)


@pytest.mark.parametrize("start", [0, 1_000_000, 62**5 - 3, 62**9 * 7 + 12_345, 62**10 - 10])
def test_batch_ids_equal_one_by_one_ids(start: int) -> None:
    assert make_ids("a0X", start, 10, "Zz") == [
        make_id("a0X", n, "Zz") for n in range(start, start + 10)
    ]
