"""JSON text read and written fast, with the standard library's exact answers.

orjson writes and reads several times faster than the ``json`` module; the few values
it would treat differently go through ``json`` instead. The store's JSON columns use
these (each sync page writes and reads thousands of values), and so does the
Salesforce client for query pages (2,000 records each).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["json_text", "json_value"]


def json_text(value: Any) -> str:
    """The text of a JSON column's value.

    orjson writes it several times faster than ``json.dumps`` (a sync page writes each
    record's data, change-log values, pair state and audit fields: the standard encoder
    was the largest single cost of applying a page). What orjson refuses (integers
    beyond 64 bits, non-string keys) goes through ``json.dumps`` as before.
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


#: orjson reads an integer beyond 64 bits as a float; every such float is at least this
#: large (a float literal this large only costs the slower reader).
_HUGE = 9.2e18


def json_value(text: str | bytes) -> Any:
    """The value of a JSON column's text: :func:`json_text` read back.

    orjson reads it several times faster than ``json.loads`` (an outbound pass reads
    each pair's state and each record's data). Text it would read differently
    (integers beyond 64 bits, which it turns into floats: any float of that size sends
    the text to ``json.loads``) or refuses (``NaN``) goes to ``json.loads``.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_huge_float(value) else value


def _has_huge_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float and not -_HUGE < item < _HUGE:
            return True
    return False
