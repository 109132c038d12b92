"""Compliance windows: rolling windows of any fixed length, calendar periods anchored at a
local start time in an IANA zone, and the older UTC calendar month and quarter.

Windows are half-open, [start, end). An observation interval belongs to a window when
its *start* lies in the window (and, for a read "as of" `at`, when it has ended by `at`):
see `ledger.py`. So data for Oct 31 23:59-Nov 1 00:00 is October's, and at
Nov 1 00:00 the calendar-month budget is November's, still empty.

  rolling            [at - length, at). {"kind": "rolling", "days": N} (as always) or
                     {"kind": "rolling", "duration": "90m" | "12h" | "28d" | "4w"}.
  calendar           the period of `duration` holding `at`, periods counted from `start`
                     (a wall-clock time) in `time_zone`: {"kind": "calendar", "duration": "1M",
                     "start": "2026-01-01T00:00:00", "time_zone": "Europe/Berlin"}. A month is
                     a month (28 to 31 days), a quarter three, a year twelve, a week 7 local
                     days: the periods' arithmetic is calendar.py's (DST, month ends, leap years).
  calendar month     [1st of at's month, 1st of the next month), UTC: {"kind": "calendar_month"}
  calendar quarter   [1st of Jan/Apr/Jul/Oct, 1st of the next quarter), UTC

A calendar window's allowance for timeslices counts the whole period, not the part
elapsed so far (the workbook's "slices in the window").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from .calendar import CalendarWindow, Duration, parse_duration
from .errors import BudgetInputError
from .instants import US_PER_DAY, US_PER_MINUTE, from_us, require_aware, to_us

ROLLING = "rolling"
CALENDAR = "calendar"
CALENDAR_MONTH = "calendar_month"
CALENDAR_QUARTER = "calendar_quarter"
KINDS = (ROLLING, CALENDAR, CALENDAR_MONTH, CALENDAR_QUARTER)
MAX_ROLLING_DAYS = 366
# A calendar period is at most a year: the budget spans one period, and a ledger keeps it.
_MAX_CALENDAR_DAYS = {"m": 366 * 1440, "h": 366 * 24, "d": 366, "w": 52, "M": 12, "Q": 4, "Y": 1}
# The longest and shortest each calendar unit lasts, in days (a local day may be 23 or 25 h).
_LONGEST_DAYS = {"d": 1, "w": 7, "M": 31, "Q": 92, "Y": 366}
_SHORTEST_DAYS = {"d": 1, "w": 7, "M": 28, "Q": 89, "Y": 365}
_FIELDS = {"kind", "days", "duration", "start", "time_zone"}


@dataclass(frozen=True, slots=True)
class Window:
    kind: str
    days: int | None = None  # rolling, the original form
    duration: str | None = None  # rolling (m, h, d, w) or calendar (any unit)
    start: str | None = None  # calendar: a local date-time, ISO 8601 without an offset
    time_zone: str | None = None  # calendar: an IANA zone
    _length_us: int = field(default=0, init=False, compare=False, repr=False)
    _calendar: CalendarWindow | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BudgetInputError("window.kind", f"must be one of {', '.join(KINDS)}, got {self.kind!r}")
        given = {name for name in ("days", "duration", "start", "time_zone") if getattr(self, name) is not None}
        if self.kind == ROLLING:
            self._rolling(given)
        elif self.kind == CALENDAR:
            self._calendar_window(given)
        elif given:
            raise BudgetInputError(f"window.{sorted(given)[0]}", f"a {self.kind} window takes no {sorted(given)[0]}")

    def _rolling(self, given: set[str]) -> None:
        if given - {"days", "duration"} or given == {"days", "duration"}:
            extra = sorted(given - {"days"} if "days" in given else given - {"duration"})[0]
            raise BudgetInputError(f"window.{extra}", "a rolling window takes days or a duration, nothing else")
        if "duration" in given:
            d = parse_duration(self.duration, "window.duration")
            if not d.is_fixed:
                raise BudgetInputError("window.duration", f"a rolling window needs m, h, d or w; {d} has no fixed length")
            if d.minutes > MAX_ROLLING_DAYS * 1440:
                raise BudgetInputError("window.duration", f"a rolling window is at most {MAX_ROLLING_DAYS} days, got {d}")
            length = d.minutes * US_PER_MINUTE
        else:
            n = self.days
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ROLLING_DAYS:
                raise BudgetInputError("window.days", f"a rolling window needs whole days in 1..{MAX_ROLLING_DAYS}, got {n!r}")
            length = n * US_PER_DAY
        object.__setattr__(self, "_length_us", length)

    def _calendar_window(self, given: set[str]) -> None:
        if "days" in given:
            raise BudgetInputError("window.days", "a calendar window takes a duration, a start and a time zone")
        for name in ("duration", "start", "time_zone"):
            if name not in given:
                raise BudgetInputError(f"window.{name}", "required for a calendar window")
        d = parse_duration(self.duration, "window.duration")
        if d.count > _MAX_CALENDAR_DAYS[d.unit]:
            raise BudgetInputError("window.duration", f"a calendar period is at most a year, got {d}")
        start = self.start
        try:
            wall = datetime.fromisoformat(start) if isinstance(start, str) else None
        except ValueError:
            wall = None
        if wall is None or wall.tzinfo is not None:
            raise BudgetInputError("window.start", f"a local date-time without an offset (the zone is time_zone), got {start!r}")
        if not isinstance(self.time_zone, str):
            raise BudgetInputError("window.time_zone", f"expected an IANA time zone name, got {self.time_zone!r}")
        try:
            cal = CalendarWindow(d, wall, self.time_zone)
        except BudgetInputError as e:
            raise BudgetInputError("window.time_zone", e.message) from None
        # The normal form: start written back as isoformat gives one text per instant.
        object.__setattr__(self, "start", wall.isoformat())
        object.__setattr__(self, "_calendar", cal)

    @property
    def period(self) -> Duration | None:
        """A calendar window's period (None for the other kinds)."""
        return None if self._calendar is None else self._calendar.duration

    def bounds_us(self, at_us: int) -> tuple[int, int]:
        """(start, end) of the window `at_us` is judged in, microseconds since the epoch."""
        if self.kind == ROLLING:
            return at_us - self._length_us, at_us
        if self._calendar is not None:
            s, e = self._calendar.containing(from_us(at_us))
            return to_us(s), to_us(e)
        ws, we = window_bounds(self, from_us(at_us))
        return to_us(ws), to_us(we)

    @property
    def longest_us(self) -> int:
        """The longest the window can be: how far back a status reads."""
        if self.kind == ROLLING:
            return self._length_us
        if self._calendar is None:
            return (31 if self.kind == CALENDAR_MONTH else 92) * US_PER_DAY
        d = self._calendar.duration
        if d.unit in ("m", "h"):
            return d.minutes * US_PER_MINUTE
        return d.count * _LONGEST_DAYS[d.unit] * US_PER_DAY + 3_600_000_000  # a DST hour

    @property
    def shortest(self) -> timedelta:
        """The shortest the window can be, nominally (a local day counted as 24 h, though a
        DST change makes one 23 h): an alert tier's long window must fit in it."""
        if self.kind == ROLLING:
            return timedelta(microseconds=self._length_us)
        if self._calendar is None:
            return timedelta(days=28 if self.kind == CALENDAR_MONTH else 90)
        d = self._calendar.duration
        if d.unit in ("m", "h"):
            return d.to_timedelta()
        return timedelta(days=d.count * _SHORTEST_DAYS[d.unit])

    def to_dict(self) -> dict[str, Any]:
        if self.kind == ROLLING:
            return {"kind": ROLLING, "days": self.days} if self.days is not None else {"kind": ROLLING, "duration": self.duration}
        if self.kind == CALENDAR:
            return {"kind": CALENDAR, "duration": self.duration, "start": self.start, "time_zone": self.time_zone}
        return {"kind": self.kind}


def parse_window(window: Mapping[str, Any] | Window) -> Window:
    """A Window from its dict form (see the module doc), checked."""
    if isinstance(window, Window):
        return window
    if not isinstance(window, Mapping):
        raise BudgetInputError("window", "expected an object with a 'kind'")
    unknown = set(window) - _FIELDS
    if unknown:
        raise BudgetInputError(f"window.{sorted(unknown)[0]}", "unknown window field")
    if "kind" not in window:
        raise BudgetInputError("window.kind", "required")
    kind = window["kind"]
    if kind == ROLLING and window.get("days") is None and window.get("duration") is None:
        raise BudgetInputError("window.days", "required for a rolling window (or a duration)")
    return Window(kind=kind, **{k: window.get(k) for k in ("days", "duration", "start", "time_zone")})


def _month_start(year: int, month: int) -> datetime:
    # months may run past 12: normalise
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=timezone.utc)


def window_bounds(window: Mapping[str, Any] | Window, at: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the window that `at` is judged in, UTC, half-open."""
    w = parse_window(window)
    at = require_aware(at, "at")
    if w.kind in (ROLLING, CALENDAR):
        s, e = w.bounds_us(to_us(at))
        return from_us(s), from_us(e)
    if w.kind == CALENDAR_MONTH:
        return _month_start(at.year, at.month), _month_start(at.year, at.month + 1)
    first = 3 * ((at.month - 1) // 3) + 1
    return _month_start(at.year, first), _month_start(at.year, first + 3)


def window_length(window: Mapping[str, Any] | Window, at: datetime) -> timedelta:
    start, end = window_bounds(window, at)
    return end - start
