"""Durations and windows as OpenSLO writes them: rolling windows of any fixed length and
calendar windows anchored at a local start time in an IANA time zone.

A duration is a positive whole number and one unit: m (minutes), h (hours), d (days),
w (weeks), M (months), Q (quarters), Y (years) -- OpenSLO's `duration-shorthand`.

  rolling   [at - length, at). Only m, h, d, w: a rolling "month" has no fixed length.
            Days and weeks here are 24 h and 168 h of elapsed time.
  calendar  consecutive periods of the duration, the first starting at `start` (a wall-clock
            time in `zone`, as OpenSLO's `calendar.startTime` + `timeZone`). The window at an
            instant is the period containing it, half-open [start, end).
            d, w, M, Q, Y step on the local calendar: a calendar day in Europe/Berlin on
            the last Sunday of March is 23 hours long, a month is a month (28 to 31 days,
            February 2028 has 29), not 30 days. m and h step in elapsed time: "every 6 hours
            from 00:00" stays 6 hours apart across a DST change.

A month step from a start on the 29th-31st lands on the month's last day when the month is
shorter (Jan 31 + 1 month = Feb 29 2028), always counted from the anchor, so periods never
drift. A local start that does not exist (in a spring-forward gap) means the instant just
after the gap; one that occurs twice (autumn) means the first: zoneinfo's fold=0.

Pure: the time-zone rules come from the zoneinfo database, never from the clock.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import BudgetInputError
from .instants import require_aware

UNITS = ("m", "h", "d", "w", "M", "Q", "Y")
FIXED_UNITS = ("m", "h", "d", "w")
_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_SHORTHAND = re.compile(r"([1-9][0-9]{0,6})([mhdwMQY])")


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    count: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise BudgetInputError("duration", f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise BudgetInputError("duration", f"count must be a positive whole number, got {self.count!r}")

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def is_fixed(self) -> bool:
        """True when the duration has one length in elapsed time (m, h, d, w)."""
        return self.unit in FIXED_UNITS

    @property
    def minutes(self) -> int:
        if not self.is_fixed:
            raise BudgetInputError("duration", f"{self} has no fixed length")
        return self.count * _MINUTES[self.unit]

    def to_timedelta(self) -> timedelta:
        return timedelta(minutes=self.minutes)


def parse_duration(text: object, field: str = "duration") -> Duration:
    """'30d' -> Duration(30, 'd'). Case matters: 'm' is minutes, 'M' months."""
    if not isinstance(text, str) or not (match := _SHORTHAND.fullmatch(text)):
        raise BudgetInputError(field, f"expected a duration like 5m, 1h, 28d, 4w, 1M, 1Q or 1Y, got {text!r}")
    return Duration(int(match.group(1)), match.group(2))


def duration_of_minutes(minutes: int) -> Duration:
    """The shortest shorthand for a whole number of minutes (90 -> 90m, 120 -> 2h, 10080 -> 1w)."""
    for unit in ("w", "d", "h", "m"):
        if minutes % _MINUTES[unit] == 0:
            return Duration(minutes // _MINUTES[unit], unit)
    raise AssertionError("unreachable: every whole number of minutes divides by 1")


def zone_of(name: object, field: str = "timeZone") -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise BudgetInputError(field, f"expected an IANA time zone name, got {name!r}")
    if len(name) > 64:  # the longest IANA name is 32 characters; a longer one is not looked up
        raise BudgetInputError(field, f"unknown IANA time zone {name[:64]!r}...")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BudgetInputError(field, f"unknown IANA time zone {name!r}") from None


def rolling_window(duration: Duration, at: datetime) -> tuple[datetime, datetime]:
    """[at - duration, at) for a fixed duration."""
    require_aware(at, "at")
    if not duration.is_fixed:
        raise BudgetInputError("duration", f"a rolling window needs m, h, d or w; {duration} has no fixed length")
    return at - duration.to_timedelta(), at


@dataclass(frozen=True, slots=True)
class CalendarWindow:
    """Periods of `duration` from `start`, a naive wall-clock time in the IANA `zone`."""

    duration: Duration
    start: datetime
    zone: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None:
            raise BudgetInputError("calendar.startTime", "a wall-clock time without a zone (the zone is timeZone)")
        zone_of(self.zone)

    def period(self, k: int) -> tuple[datetime, datetime]:
        """The k-th period (k may be negative), as aware UTC instants."""
        return self._boundary(k), self._boundary(k + 1)

    def containing(self, at: datetime) -> tuple[datetime, datetime]:
        """The period that contains the instant `at`: start <= at < end."""
        require_aware(at, "at")
        k = self._estimate(at)
        while self._boundary(k) > at:
            k -= 1
        while self._boundary(k + 1) <= at:
            k += 1
        return self.period(k)

    def _boundary(self, k: int) -> datetime:
        d = self.duration
        if d.unit in ("m", "h"):
            return self._utc(self.start) + timedelta(minutes=k * d.minutes)
        if d.unit in ("d", "w"):
            return self._utc(self.start + timedelta(days=k * d.minutes // 1440))
        return self._utc(add_months(self.start, k * d.count * _MONTHS[d.unit]))

    def _estimate(self, at: datetime) -> int:
        """A k near the answer; `containing` corrects it by stepping."""
        d = self.duration
        if d.unit in ("m", "h", "d", "w"):
            return int((at - self._utc(self.start)) / d.to_timedelta())
        local = at.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        months = (local.year - self.start.year) * 12 + local.month - self.start.month
        return months // (d.count * _MONTHS[d.unit])

    def _utc(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=ZoneInfo(self.zone), fold=0).astimezone(timezone.utc)


def add_months(wall: datetime, months: int) -> datetime:
    """The same wall-clock time `months` later, on the month's last day when it is shorter."""
    index = wall.year * 12 + wall.month - 1 + months
    year, month = divmod(index, 12)
    day = min(wall.day, monthrange(year, month + 1)[1])
    return wall.replace(year=year, month=month + 1, day=day)
