"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form.

An id is a 3-character key prefix (the object), a 2-character pod/instance code and a
10-character base-62 counter. The 18-character form appends a 3-character suffix that
encodes which of the first 15 characters are upper case, so the id survives
case-insensitive systems (Salesforce Help, "What is a Salesforce ID?"; the algorithm
is the one ``CASESAFEID()`` uses).
"""

from __future__ import annotations

import re

from crmbridge.emulator.errors import SalesforceApiError

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")

#: The pod code every emulated id carries after the key prefix.
DEFAULT_POD = "5g"
#: Width of the counter part of an id.
COUNTER_WIDTH = 10


def checksum_suffix(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id."""
    suffix = []
    for chunk_start in (0, 5, 10):
        flags = 0
        for bit, char in enumerate(id15[chunk_start : chunk_start + 5]):
            if "A" <= char <= "Z":
                flags |= 1 << bit
        suffix.append(_SUFFIX_ALPHABET[flags])
    return "".join(suffix)


def to_18(id15: str) -> str:
    """The 18-character form of a 15-character id (an 18-character id is returned as is)."""
    if len(id15) == 18:
        return id15
    if len(id15) != 15:
        raise ValueError(f"not a 15-character id: {id15!r}")
    return id15 + checksum_suffix(id15)


def base62(number: int, width: int = COUNTER_WIDTH) -> str:
    """``number`` in base 62, left-padded with zeros to ``width`` characters."""
    if number < 0:
        raise ValueError("ids count from zero")
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError(f"counter {number} does not fit in {width} base-62 characters")
    return text.rjust(width, "0")


def make_id(key_prefix: str, counter: int, pod: str = DEFAULT_POD) -> str:
    """The 18-character id number ``counter`` of the object with ``key_prefix``."""
    return to_18(f"{key_prefix}{pod}{base62(counter)}")


_PAIRS = [a + b for a in _BASE62 for b in _BASE62]
_PAIR_UPPER = [(("A" <= p[0] <= "Z") | (("A" <= p[1] <= "Z") << 1)) for p in _PAIRS]


def make_ids(key_prefix: str, start: int, count: int, pod: str = DEFAULT_POD) -> list[str]:
    """Ids number ``start`` to ``start + count - 1``; the same as :func:`make_id`, faster.

    The seed generator allocates millions of ids, so the counter is encoded two base-62
    digits at a time and the checksum is assembled from per-pair upper-case masks.
    """
    if start < 0 or start + count > 62**COUNTER_WIDTH:
        raise ValueError("counter out of range")
    head = key_prefix + pod
    head_suffix = checksum_suffix(head + "0" * COUNTER_WIDTH)[0]
    pairs, upper, alphabet = _PAIRS, _PAIR_UPPER, _SUFFIX_ALPHABET
    ids = []
    for number in range(start, start + count):
        number, p5 = divmod(number, 3844)
        number, p4 = divmod(number, 3844)
        number, p3 = divmod(number, 3844)
        p1, p2 = divmod(number, 3844)
        # Counter characters 0-4 are pairs 1, 2 and the first of pair 3; 5-9 the rest.
        middle = upper[p1] | (upper[p2] << 2) | ((upper[p3] & 1) << 4)
        last = (upper[p3] >> 1) | (upper[p4] << 1) | (upper[p5] << 3)
        ids.append(
            head
            + pairs[p1]
            + pairs[p2]
            + pairs[p3]
            + pairs[p4]
            + pairs[p5]
            + head_suffix
            + alphabet[middle]
            + alphabet[last]
        )
    return ids


def _restore_case(id18: str) -> str | None:
    """The canonical id whose suffix ``id18`` carries, or None if the suffix cannot fit.

    18-character ids are case-insensitive: the suffix says which letters are upper case.
    """
    chars = list(id18[:15])
    for chunk, suffix_char in enumerate(id18[15:].upper()):
        flags = _SUFFIX_ALPHABET.find(suffix_char)
        if flags < 0:
            return None
        for bit in range(5):
            position = chunk * 5 + bit
            char = chars[position]
            upper = bool(flags & (1 << bit))
            if char.isalpha():
                chars[position] = char.upper() if upper else char.lower()
            elif upper:
                return None
    id15 = "".join(chars)
    return id15 + checksum_suffix(id15)


def normalize_id(value: object) -> str | None:
    """The canonical 18-character id for a 15- or 18-character id, or None if malformed."""
    if not isinstance(value, str) or not _ID_SHAPE.match(value):
        return None
    if len(value) == 15:
        return to_18(value)
    return _restore_case(value)


def parse_id(value: object, *, label: str = "id", field: str | None = None) -> str:
    """The canonical 18-character id, or raise MALFORMED_ID the way Salesforce words it."""
    normalized = normalize_id(value)
    if normalized is None:
        # REST API Developer Guide, "Status Codes and Error Responses": MALFORMED_ID.
        raise SalesforceApiError(
            400,
            "MALFORMED_ID",
            f"{label}: id value of incorrect type: {value}",
            [field] if field else [],
        )
    return normalized


def key_prefix_of(record_id: str) -> str:
    """The 3-character key prefix of an id."""
    return record_id[:3]
