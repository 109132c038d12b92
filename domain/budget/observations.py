"""Observation intervals and exclusions, with their validation.

An interval is (start, end, good, total): `good` of `total` events in [start, end) were
good. Counts are whole numbers (an integral float such as 5.0 is accepted as 5),
0 <= good <= total; start < end; both timezone-aware (kept in UTC); at most
`MAX_INTERVAL_LENGTH` (1 day) long, so an interval always fits inside a rolling window
ending at its end. The no-future rule (end <= at) needs the time of the command, so it
is checked by `check_not_future` / `classify(..., at=)`.

An exclusion is a named time range [start, end) whose observations count as neither
good nor bad (planned maintenance, another team's outage, a load test).

Exclusion rule: an interval is excluded when its START lies in an active excluded
range (start <= interval.start < end), whatever its end. This is the same instant that
decides which window an interval belongs to (windows.py), so an interval is always wholly
in or wholly out, of both a window and an exclusion, and never split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice, repeat
from operator import le, lt, mul, sub
from typing import Any, Iterable, Iterator, Mapping, Sequence, overload

from .errors import BudgetInputError
from .instants import from_us, require_aware, to_us, us_iso

MAX_INTERVAL_LENGTH = timedelta(days=1)
_UTC = timezone.utc
# The most events an interval may count, per second of its length: 10^8/s (a hundred
# million requests a second, beyond any one objective's traffic), so 8.64 x 10^12 for a
# whole day. Intervals never overlap, so any window's sum (366 days at most, plus the one
# day an interval may reach past it) stays below 3.2 x 10^15: under 2^53, exact as a
# float (GraphQL's Float, a JavaScript number) and far inside 64-bit integers (the read
# models' BIGINT columns), whatever is sent.
MAX_EVENTS_PER_SECOND = 100_000_000
_MAX_EVENTS_PER_US = MAX_EVENTS_PER_SECOND // 1_000_000


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise BudgetInputError(field, "expected a count, got a boolean")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        n = int(value)
    else:
        raise BudgetInputError(field, f"expected a whole number of events, got {value!r}")
    if n < 0:
        raise BudgetInputError(field, f"must not be negative, got {value!r}")
    return n


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime
    good: int
    total: int
    # the bounds in microseconds since the epoch, computed once (the ledger works in them)
    start_us: int = field(init=False, repr=False, compare=False)
    end_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        start, end, good, total = self.start, self.end, self.good, self.total
        # The usual interval (UTC datetimes, int counts, a minute long): nothing to convert,
        # its bounds checked in microseconds, which it keeps anyway. Anything else, valid or
        # not, takes the general checks below (and their messages).
        if (start.__class__ is datetime and end.__class__ is datetime and start.tzinfo is _UTC and end.tzinfo is _UTC
                and good.__class__ is int and total.__class__ is int and 0 <= good <= total):
            start_us, end_us = to_us(start), to_us(end)
            if start_us < end_us <= start_us + _MAX_LENGTH_US:
                object.__setattr__(self, "start_us", start_us)
                object.__setattr__(self, "end_us", end_us)
                return
        self._check_and_convert()

    def _check_and_convert(self) -> None:
        start = require_aware(self.start, "start")
        end = require_aware(self.end, "end")
        good = _count(self.good, "good")
        total = _count(self.total, "total")
        if not start < end:
            raise BudgetInputError("end", "an interval must end after it starts")
        if end - start > MAX_INTERVAL_LENGTH:
            raise BudgetInputError("end", f"an interval may span at most {MAX_INTERVAL_LENGTH}; send finer intervals")
        if good > total:
            raise BudgetInputError("good", f"good ({good}) exceeds total ({total})")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "good", good)
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "start_us", to_us(start))
        object.__setattr__(self, "end_us", to_us(end))

    @property
    def bad(self) -> int:
        return self.total - self.good

    @property
    def key(self) -> tuple[datetime, datetime]:
        return (self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        return {"start": us_iso(self.start_us), "end": us_iso(self.end_us), "good": self.good, "total": self.total}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Interval":
        """From `{"start", "end", "good", "total"}`; times as aware datetimes or ISO 8601 with a zone."""
        if data.__class__ is not dict and not isinstance(data, Mapping):  # the ABC check is slow
            raise BudgetInputError("interval", "expected an object")
        for key in ("start", "end", "good", "total"):
            if key not in data:
                raise BudgetInputError(key, "required")
        return Interval(_time(data["start"], "start"), _time(data["end"], "end"), data["good"], data["total"])

    @staticmethod
    def _from_us(start: int, end: int, good: int, total: int) -> "Interval":
        return Interval(from_us(start), from_us(end), good, total)


class IntervalRows(Sequence[Interval]):
    """Intervals held as four columns of integers -- start and end in microseconds since
    the epoch, good, total -- for a batch too long to want an `Interval` object each (a
    baseline's 40,320 minutes). Checked on construction as `Interval` checks each one,
    with the same refusal for the first row that fails. It is a sequence of `Interval`s
    (each built when read), so it goes wherever a batch does; the budget decider reads
    its columns instead."""

    __slots__ = ("starts", "ends", "good", "total")

    def __init__(self, starts: Iterable[int], ends: Iterable[int], good: Iterable[int], total: Iterable[int]) -> None:
        cols = tuple(starts), tuple(ends), tuple(good), tuple(total)
        if len({len(c) for c in cols}) > 1:
            raise BudgetInputError("intervals", "the columns must be equally long")
        if not _plain(*cols):
            # Something an Interval would convert (an integral float) or refuse: each row
            # as an Interval, so the first that fails does so with its own message.
            rows = [_checked_row(*r) for r in zip(*cols)]
            cols = tuple(map(tuple, zip(*rows))) if rows else ((), (), (), ())  # type: ignore[assignment]
        self.starts, self.ends, self.good, self.total = cols

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int, int]]) -> "IntervalRows":
        cols = tuple(zip(*rows))
        return cls(*cols) if cols else cls((), (), (), ())

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, i: int) -> Interval: ...
    @overload
    def __getitem__(self, i: slice) -> "IntervalRows": ...
    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):  # a part of checked rows: nothing to check again
            part = object.__new__(IntervalRows)
            part.starts, part.ends, part.good, part.total = self.starts[i], self.ends[i], self.good[i], self.total[i]
            return part
        return Interval._from_us(self.starts[i], self.ends[i], self.good[i], self.total[i])

    def __iter__(self) -> Iterator[Interval]:
        return map(Interval._from_us, self.starts, self.ends, self.good, self.total)

    def take(self, indices: Sequence[int]) -> "IntervalRows":
        """The rows at `indices`, in that order."""
        part = object.__new__(IntervalRows)
        part.starts, part.ends, part.good, part.total = (tuple(map(c.__getitem__, indices))
                                                         for c in (self.starts, self.ends, self.good, self.total))
        return part

    def rows(self) -> Iterator[tuple[int, int, int, int]]:
        return zip(self.starts, self.ends, self.good, self.total)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IntervalRows):
            return (self.starts, self.ends, self.good, self.total) == (other.starts, other.ends, other.good, other.total)
        if isinstance(other, (tuple, list)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.starts, self.ends, self.good, self.total))

    def __repr__(self) -> str:
        return f"IntervalRows({len(self)} intervals)"

    def ordered(self) -> bool:
        """Whether each interval ends by the next one's start (ascending, no overlap)."""
        return all(map(le, self.ends, islice(self.starts, 1, None)))

    def first_over_volume_or_future(self, at_us: int | None) -> int | None:
        """The index of the first interval `check_volume` or (with `at_us`) `check_not_future`
        refuses, None when every one passes."""
        per_us = _MAX_EVENTS_PER_US
        lengths = map(sub, self.ends, self.starts)
        if all(map(le, self.total, map(mul, lengths, repeat(per_us)))) and (at_us is None or not self.ends or max(self.ends) <= at_us):
            return None
        for n, (s, e, _, t) in enumerate(self.rows()):
            if t > (e - s) * per_us or (at_us is not None and e > at_us):
                return n
        return None


def _plain(starts: tuple, ends: tuple, good: tuple, total: tuple) -> bool:
    """Every value an int (not a bool), 0 <= good <= total, start < end <= start + 1 day:
    column by column in C, as a batch of 40,320 minutes would cost in a Python loop."""
    if not starts:
        return True
    if not all(set(map(type, c)) == {int} for c in (starts, ends, good, total)):
        return False
    return (min(good) >= 0 and all(map(le, good, total)) and all(map(lt, starts, ends))
            and max(map(sub, ends, starts)) <= _MAX_LENGTH_US)


def _checked_row(s: Any, e: Any, g: Any, t: Any) -> tuple[int, int, int, int]:
    for value, name in ((s, "start"), (e, "end")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BudgetInputError(name, f"expected microseconds since the epoch, got {value!r}")
    try:
        start, end = from_us(s), from_us(e)
    except OverflowError:
        raise BudgetInputError("start", f"[{s}, {e}) is beyond the times a datetime holds") from None
    iv = Interval(start, end, g, t)
    return iv.start_us, iv.end_us, iv.good, iv.total


_MAX_LENGTH_US = MAX_INTERVAL_LENGTH // timedelta(microseconds=1)


def _time(value: Any, field: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise BudgetInputError(field, f"not an ISO 8601 time: {value!r}") from None
    return require_aware(value, field)


def max_events(interval: Interval) -> int:
    """The most events `interval` may count (MAX_EVENTS_PER_SECOND over its length)."""
    return (interval.end_us - interval.start_us) * _MAX_EVENTS_PER_US


def check_volume(interval: Interval) -> None:
    """Refuse counts beyond MAX_EVENTS_PER_SECOND: a command's rule, not the log's
    (folding a recorded interval does not judge it again)."""
    most = max_events(interval)
    if interval.total > most:
        seconds = (interval.end_us - interval.start_us) / 1_000_000
        raise BudgetInputError(
            "total",
            f"{interval.total} events in {seconds:g} s is more than the {most} an interval that "
            f"long may count (at most {MAX_EVENTS_PER_SECOND:,} events a second)",
        )


def check_not_future(interval: Interval, at: datetime) -> None:
    """Refuse data for time that has not happened yet: end must be <= at."""
    if interval.end > require_aware(at, "at"):
        raise BudgetInputError("end", f"interval ends at {interval.end.isoformat()}, after {at.isoformat()}: no future data")


@dataclass(frozen=True, slots=True)
class Exclusion:
    id: str
    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise BudgetInputError("exclusion_id", "a non-empty id is required")
        start = require_aware(self.start, "start")
        end = require_aware(self.end, "end")
        if not start < end:
            raise BudgetInputError("end", "an excluded range must end after it starts")
        if not isinstance(self.reason, str):
            raise BudgetInputError("reason", "expected text")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def covers(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "start": self.start.isoformat(), "end": self.end.isoformat(), "reason": self.reason}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Exclusion":
        if not isinstance(data, Mapping):
            raise BudgetInputError("exclusion", "expected an object")
        for key in ("id", "start", "end"):
            if key not in data:
                raise BudgetInputError("exclusion_id" if key == "id" else key, "required")
        return Exclusion(data["id"], _time(data["start"], "start"), _time(data["end"], "end"), data.get("reason", "") or "")

    @property
    def _span_us(self) -> tuple[int, int]:
        return to_us(self.start), to_us(self.end)
