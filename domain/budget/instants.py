"""Instants and durations.

Inside the ledger a time is an int: microseconds since the Unix epoch, UTC. That keeps
sums, bisection and slice indices exact. Only timezone-aware datetimes are accepted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable
from datetime import datetime, timedelta, timezone

from .errors import BudgetInputError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US = timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR


_UTC = timezone.utc


def require_aware(value: object, field: str) -> datetime:
    # Already a plain UTC datetime (every time a stored event carries): nothing to convert.
    if value.__class__ is datetime and value.tzinfo is _UTC:  # type: ignore[attr-defined]
        return value  # type: ignore[return-value]
    if not isinstance(value, datetime):
        raise BudgetInputError(field, f"expected a timezone-aware datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise BudgetInputError(field, "naive datetime: a time zone is required")
    return value.astimezone(timezone.utc)


def to_us(value: datetime, field: str = "at") -> int:
    if type(value) is datetime and value.tzinfo is not None and value.utcoffset() is not None:
        d = value - EPOCH  # aware: the difference is already in UTC terms
    else:
        d = require_aware(value, field) - EPOCH
    # Integer arithmetic on the difference: the same number as `// US`, without the division.
    return (d.days * 86_400 + d.seconds) * US_PER_SECOND + d.microseconds


@lru_cache(maxsize=1 << 16)
def iso_us(value: str) -> int:
    """An ISO 8601 time with a zone (as the log stores them) in microseconds. Remembered:
    a push repeats the same few minute boundaries for every objective."""
    return to_us(datetime.fromisoformat(value), "time")


# The log's own UTC times ("2025-01-01T00:01:00+00:00"), read from their parts: the hour
# parsed once (`_HOURS`, cleared when large), minutes and seconds looked up.
_MMSS = {f"{m:02d}:{s:02d}": (m * 60 + s) * US_PER_SECOND for m in range(60) for s in range(60)}
_HOURS: dict[str, int] = {}


def isos_us(values: Iterable[str]) -> list[int]:
    """`iso_us` of many times (the interval bounds of a batch logged before schema 3)
    without a call per time in the usual form; any other form is parsed by `iso_us`."""
    out: list[int] = []
    hours, mmss = _HOURS, _MMSS
    for v in values:
        if len(v) == 25 and v[19:] == "+00:00" and v[13] == ":":
            m = mmss.get(v[14:19])
            h = hours.get(v[:13])
            if m is not None:
                if h is None:
                    if len(hours) > 1 << 16:
                        hours.clear()
                    h = hours[v[:13]] = iso_us(v[:13] + ":00:00+00:00")
                out.append(h + m)
                continue
        out.append(iso_us(v))
    return out


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


# A whole minute's text from its day ("2025-01-01", remembered) and its time of day.
_DAYS: dict[int, str] = {}
_TIMES_OF_DAY = [f"T{m // 60:02d}:{m % 60:02d}:00+00:00" for m in range(24 * 60)]


def us_iso(us: int) -> str:
    """`from_us(us).isoformat()` ("...+00:00"); a whole minute (every bound of per-minute
    data) is put together from its day and time of day."""
    if us % US_PER_MINUTE:
        return _us_iso(us)
    day, rest = divmod(us, US_PER_DAY)
    prefix = _DAYS.get(day)
    if prefix is None:
        if len(_DAYS) > 1 << 16:
            _DAYS.clear()
        prefix = _DAYS[day] = from_us(day * US_PER_DAY).isoformat()[:10]
    return prefix + _TIMES_OF_DAY[rest // US_PER_MINUTE]


@lru_cache(maxsize=1 << 16)
def _us_iso(us: int) -> str:
    return from_us(us).isoformat()


def duration_us(value: timedelta, field: str) -> int:
    if not isinstance(value, timedelta):
        raise BudgetInputError(field, "expected a timedelta")
    return value // US


_UNITS = {"s": US_PER_SECOND, "m": US_PER_MINUTE, "h": US_PER_HOUR, "d": US_PER_DAY}
_LABEL = re.compile(r"^([1-9][0-9]*)([smhd])$")


def parse_duration(label: str | timedelta, field: str = "window") -> timedelta:
    """'5m', '30m', '1h', '6h', '1d', '3d' (units s, m, h, d) or a timedelta -> timedelta."""
    if isinstance(label, timedelta):
        if label <= timedelta(0):
            raise BudgetInputError(field, "duration must be positive")
        return label
    if not isinstance(label, str) or not (m := _LABEL.match(label.strip())):
        raise BudgetInputError(field, f"expected a duration like '5m', '1h' or '3d', got {label!r}")
    return timedelta(microseconds=int(m.group(1)) * _UNITS[m.group(2)])


def format_duration(value: timedelta) -> str:
    """The canonical label: the largest unit that divides the duration ('60m' -> '1h')."""
    us = value // US
    for unit in ("d", "h", "m", "s"):
        if us % _UNITS[unit] == 0:
            return f"{us // _UNITS[unit]}{unit}"
    raise BudgetInputError("window", "durations must be whole seconds")


def canonical_label(label: str | timedelta, field: str = "window") -> str:
    return format_duration(parse_duration(label, field))
