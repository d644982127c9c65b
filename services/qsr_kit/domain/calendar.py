"""The calendar range every service accepts for instants and dates that come from outside.

Far outside it, time-zone and expiry arithmetic leaves Python's calendar (0001-01-01T00:00Z is
year 0 in Chicago: OverflowError), so input models refuse such values with a field-named 422.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from pydantic import AfterValidator

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


When = TypeVar("When", dt.date, dt.datetime, dt.date | None, dt.datetime | None)


def _plausible(value: When) -> When:
    day = value.date() if isinstance(value, dt.datetime) else value
    if day is not None and not EARLIEST <= day <= LATEST:
        raise ValueError(f"must fall between {EARLIEST} and {LATEST}")
    return value


Plausible = AfterValidator(_plausible)
