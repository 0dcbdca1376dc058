"""SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER, ...) as ranges of days.

Pure: the current day comes in as an argument. Each literal is a half-open range
``[start, end)`` of calendar days (SOQL and SOSL Reference, "Date Formats and Date
Literals in WHERE"). The emulator's users live in UTC, weeks start on Sunday (the en_US
locale) and the fiscal year is the calendar year (the org default), so the FISCAL
literals equal their calendar twins.
"""

from __future__ import annotations

import datetime as dt

_DAY = dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _week_start(today: dt.date) -> dt.date:
    # Python's weekday() is 0 for Monday; en_US weeks start on Sunday.
    return today - dt.timedelta(days=(today.weekday() + 1) % 7)


def _quarter_start(today: dt.date) -> dt.date:
    return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def _unit_range(unit: str, start: dt.date, offset: int, count: int) -> tuple[dt.date, dt.date]:
    """``count`` units beginning ``offset`` units after the unit that starts at ``start``."""
    if unit == "WEEK":
        begin = start + dt.timedelta(days=7 * offset)
        return begin, begin + dt.timedelta(days=7 * count)
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    begin = _add_months(start, months * offset)
    return begin, _add_months(begin, months * count)


def _unit_start(unit: str, today: dt.date) -> dt.date:
    if unit == "WEEK":
        return _week_start(today)
    if unit == "MONTH":
        return today.replace(day=1)
    if unit == "QUARTER":
        return _quarter_start(today)
    return dt.date(today.year, 1, 1)


#: Literals without ``:n``: (unit, offset in units from the current one).
_FIXED: dict[str, tuple[str, int]] = {
    "LAST_WEEK": ("WEEK", -1),
    "THIS_WEEK": ("WEEK", 0),
    "NEXT_WEEK": ("WEEK", 1),
    "LAST_MONTH": ("MONTH", -1),
    "THIS_MONTH": ("MONTH", 0),
    "NEXT_MONTH": ("MONTH", 1),
    "LAST_QUARTER": ("QUARTER", -1),
    "THIS_QUARTER": ("QUARTER", 0),
    "NEXT_QUARTER": ("QUARTER", 1),
    "LAST_YEAR": ("YEAR", -1),
    "THIS_YEAR": ("YEAR", 0),
    "NEXT_YEAR": ("YEAR", 1),
    "LAST_FISCAL_QUARTER": ("QUARTER", -1),
    "THIS_FISCAL_QUARTER": ("QUARTER", 0),
    "NEXT_FISCAL_QUARTER": ("QUARTER", 1),
    "LAST_FISCAL_YEAR": ("YEAR", -1),
    "THIS_FISCAL_YEAR": ("YEAR", 0),
    "NEXT_FISCAL_YEAR": ("YEAR", 1),
}

_DAY_LITERALS = {"YESTERDAY": -1, "TODAY": 0, "TOMORROW": 1}

#: Literals that take ``:n`` and the unit they count.
_WITH_N: dict[str, str] = {
    "LAST_N_DAYS": "DAY",
    "NEXT_N_DAYS": "DAY",
    "N_DAYS_AGO": "DAY",
    "LAST_N_WEEKS": "WEEK",
    "NEXT_N_WEEKS": "WEEK",
    "N_WEEKS_AGO": "WEEK",
    "LAST_N_MONTHS": "MONTH",
    "NEXT_N_MONTHS": "MONTH",
    "N_MONTHS_AGO": "MONTH",
    "LAST_N_QUARTERS": "QUARTER",
    "NEXT_N_QUARTERS": "QUARTER",
    "N_QUARTERS_AGO": "QUARTER",
    "LAST_N_YEARS": "YEAR",
    "NEXT_N_YEARS": "YEAR",
    "N_YEARS_AGO": "YEAR",
    "LAST_N_FISCAL_QUARTERS": "QUARTER",
    "NEXT_N_FISCAL_QUARTERS": "QUARTER",
    "N_FISCAL_QUARTERS_AGO": "QUARTER",
    "LAST_N_FISCAL_YEARS": "YEAR",
    "NEXT_N_FISCAL_YEARS": "YEAR",
    "N_FISCAL_YEARS_AGO": "YEAR",
}


def is_date_literal(name: str) -> bool:
    """Whether ``name`` is a date literal written without ``:n``."""
    upper = name.upper()
    return upper in _FIXED or upper in _DAY_LITERALS or upper in ("LAST_90_DAYS", "NEXT_90_DAYS")


def is_date_literal_with_n(name: str) -> bool:
    """Whether ``name`` is a date literal written as ``NAME:n``."""
    return name.upper() in _WITH_N


def date_literal_range(name: str, n: int | None, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a date literal covers, as ``(first day, day after the last)``.

    Args:
        name: the literal, any case (``TODAY``, ``LAST_N_DAYS`` ...).
        n: the number after the colon for the ``_N_`` literals, else None.
        today: the current day in the querying user's time zone (UTC here).

    Returns:
        The half-open range of days. LAST_N_DAYS:n and LAST_90_DAYS include today
        (n + 1 days); the other LAST/NEXT literals exclude the current unit.

    Raises:
        KeyError: ``name`` is not a date literal (the parser rejects those first).
    """
    upper = name.upper()
    if upper in _DAY_LITERALS:
        day = today + _DAY * _DAY_LITERALS[upper]
        return day, day + _DAY
    if upper == "LAST_90_DAYS":
        upper, n = "LAST_N_DAYS", 90
    elif upper == "NEXT_90_DAYS":
        upper, n = "NEXT_N_DAYS", 90
    if upper in _FIXED:
        unit, offset = _FIXED[upper]
        return _unit_range(unit, _unit_start(unit, today), offset, 1)
    unit = _WITH_N[upper]
    count = n or 0
    if unit == "DAY":
        if upper == "LAST_N_DAYS":
            return today - _DAY * count, today + _DAY
        if upper == "NEXT_N_DAYS":
            return today + _DAY, today + _DAY * (count + 1)
        day = today - _DAY * count
        return day, day + _DAY
    start = _unit_start(unit, today)
    if upper.startswith("LAST_N_"):
        return _unit_range(unit, start, -count, count)
    if upper.startswith("NEXT_N_"):
        return _unit_range(unit, start, 1, count)
    return _unit_range(unit, start, -count, 1)
