"""Counter series -> per-minute counts. Pure.

Input: each series' values at minute boundaries (unix seconds, multiples of 60), as
Prometheus's `query_range` with a 60 s step gives them (the last sample at or before
each boundary, within its lookback). The count of minute [b, b+60) is, per series:

  v(b+60) - v(b)   when v(b+60) >= v(b)
  v(b+60)          when it dropped: a counter reset, the process restarted from zero
                   (Prometheus's own convention)

and when it dropped, the adapter refines that one minute from the series' raw
samples (`increase`): the sum, pair by pair, of each rise, or of the new value
after a drop -- exactly what Prometheus's counter correction counts, so the
increments between the boundary and the restart are not lost. (A restart the
boundaries cannot see -- the counter climbing back above its boundary value
within the minute -- is counted as a plain rise; with Prometheus's own
`increase` over that minute it would not be.)

and the minute's count is the sum over the series that have both boundaries. So:
- a series present at only one of the two boundaries (it appeared or vanished)
  contributes nothing to that minute, as in Prometheus's `increase`;
- a minute no series covers is *missing*: no count, never a zero;
- NaN at either boundary of any series makes the minute missing (a count would be a
  guess), and so does a delta that is not a whole number (not a count).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import add, eq, le, sub
from typing import NamedTuple

import orjson

from .errors import SourceBadData

MINUTE = 60


@dataclass(frozen=True, slots=True)
class MinuteCounts:
    """Counts for the minutes [start, end): `counts[b] = (good, total)` for minute b;
    `missing` the minute starts with no count, in order."""

    start: int
    end: int
    counts: Mapping[int, tuple[int, int]]
    missing: tuple[int, ...]
    # (good, total) of every minute in order, when `combine` had them as columns already.
    given: tuple[Sequence[int], Sequence[int]] | None = field(default=None, compare=False, repr=False)

    def columns(self) -> tuple[Sequence[int], Sequence[int], Sequence[int]]:
        """The minutes with a count as three columns in time order: starts, good, total."""
        if self.given is not None:
            return range(self.start, self.end, MINUTE), *self.given
        starts = sorted(self.counts)
        if not starts:
            return (), (), ()
        good, total = zip(*map(self.counts.__getitem__, starts))
        return starts, good, total


def _grid(values: Mapping[int, float], start: int, end: int) -> list[float | None]:
    """The values at start, start + 60, ..., end (None where the series has none)."""
    return list(map(values.get, range(start, end + MINUTE, MINUTE)))


def _steady(grid: Sequence[float | None]) -> bool:
    """Every boundary has a finite value and none is below the one before: the shape of a
    healthy counter, whose minutes are plain differences (checked column-wise, in C)."""
    return None not in grid and all(map(math.isfinite, grid)) and all(map(le, grid, islice(grid, 1, None)))


def drops(values: Mapping[int, float], start: int, end: int) -> list[int]:
    """The minutes in [start, end) whose end value is below their start value (a reset)."""
    if _steady(_grid(values, start, end)):
        return []
    out = []
    for b in range(start, end, MINUTE):
        a, z = values.get(b), values.get(b + MINUTE)
        if a is not None and z is not None and math.isfinite(a) and math.isfinite(z) and z < a:
            out.append(b)
    return out


def increase(samples: Iterable[tuple[float, float]], after: float, until: float) -> float | None:
    """What a counter counted over (after, until] from its raw samples (time, value) in
    time order, starting with the last one at or before `after`: each rise, and after a
    drop (a reset) the new value. None without a sample at or before `after`, or NaN."""
    previous = None
    total = 0.0
    for t, v in samples:
        if math.isnan(v):
            return None
        if t <= after:
            previous = v
            continue
        if t > until:
            break
        if previous is None:
            return None
        total += v - previous if v >= previous else v
        previous = v
    return None if previous is None else total


def minute_deltas(series: Iterable[Mapping[int, float]], start: int, end: int,
                  exact: Mapping[tuple[int, int], float | None] | None = None) -> dict[int, int | None]:
    """Per minute start in [start, end): the summed count, or None (missing).

    `exact[(i, b)]`, when given, is series i's count for minute b from its raw samples
    (None: unknown), used instead of the boundary difference."""
    series = list(series)
    if not exact:
        steady = steady_deltas(series, start, end)
        if steady is not None:
            return steady
    out: dict[int, int | None] = {}
    sums: dict[int, float] = {}
    poisoned: set[int] = set()
    exact = exact or {}
    for i, values in enumerate(series):
        for b in range(start, end, MINUTE):
            a, z = values.get(b), values.get(b + MINUTE)
            if a is None or z is None:
                continue
            if math.isnan(a) or math.isnan(z) or math.isinf(a) or math.isinf(z):
                poisoned.add(b)
                continue
            if (i, b) in exact:
                d = exact[(i, b)]
                if d is None:
                    poisoned.add(b)
                    continue
            else:
                d = z - a if z >= a else z
            if d != int(d):
                poisoned.add(b)
                continue
            sums[b] = sums.get(b, 0.0) + d
    for b in range(start, end, MINUTE):
        out[b] = None if b in poisoned or b not in sums else int(sums[b])
    return out


def steady_deltas(series: Sequence[Mapping[int, float]], start: int, end: int) -> dict[int, int | None] | None:
    """`minute_deltas(series, start, end)` when every series is steady over the range (a
    finite value at every boundary, never dropping -- so `drops` finds nothing -- and whole
    differences), worked out column by column; None otherwise."""
    summed = _steady_sums(series, start, end) if start < end else None
    return None if summed is None else dict(zip(range(start, end, MINUTE), map(int, summed)))


def _steady_sums(series: Sequence[Mapping[int, float]], start: int, end: int) -> list[float] | None:
    """The summed differences of series that are all steady over [start, end] with whole
    differences (the loop below's result then, summed in the same order); None otherwise."""
    sums: list[float] | None = None
    for values in series:
        grid = _grid(values, start, end)
        if not _steady(grid):
            return None
        deltas = list(map(sub, islice(grid, 1, None), grid))
        if not all(map(eq, deltas, map(int, deltas))):
            return None
        # The loop sums from 0.0: a first series' float differences are its sums as they are.
        if sums is None:
            sums = deltas if set(map(type, deltas)) == {float} else list(map(add, [0.0] * len(deltas), deltas))
        else:
            sums = list(map(add, sums, deltas))
    return sums


class Slice(NamedTuple):
    """One chunk of a series, worked out as it arrived: its first and last boundary values
    and the differences between its boundaries (all finite, never dropping, whole)."""

    first: float
    last: float
    deltas: list[float]


# A whole number below this in magnitude is exact as a float, and so is the difference of two.
EXACT_WHOLE = 2 ** 52


def whole_values(texts: Sequence[object]) -> list[int] | None:
    """Sample texts as integers when every one is a whole number written as one (Prometheus
    writes a whole value with no point or exponent) below `EXACT_WHOLE` in magnitude: then
    each is its float exactly, and so is the difference of any two. None otherwise."""
    whole = _json_ints(texts)
    if whole is None:
        if set(map(type, texts)) - {str}:
            return None
        try:
            whole = list(map(int, texts))
        except ValueError:  # a point, an exponent, NaN, Inf: the float path decides
            return None
    return whole if not whole or (-EXACT_WHOLE < min(whole) and max(whole) < EXACT_WHOLE) else None


_NOT_JSON_INT = b"0123456789-,"


def _json_ints(texts: Sequence[object]) -> list[int] | None:
    """`int` of each text, when all are plain JSON integers (digits and a sign): joined and
    parsed by orjson in one call, a third of `int`'s cost per text. None when any text is
    something else (`int` decides then). A text with a comma would add elements, one with a
    bracket nest or end the list, so a flat list of as many integers is each text's own."""
    try:
        joined = ",".join(texts).encode("ascii")  # type: ignore[arg-type]
    except (TypeError, UnicodeEncodeError):
        return None
    if joined.translate(None, _NOT_JSON_INT):
        return None
    try:
        parsed = orjson.loads(b"[" + joined + b"]")
    except orjson.JSONDecodeError:
        return None
    # Beyond 64 bits orjson gives a float; the magnitude check refuses it either way.
    return parsed if len(parsed) == len(texts) else None


def steady_slice(times: Sequence[int], values: Sequence[float], start: int, end: int,
                 whole: Sequence[int] | None = None) -> Slice | None:
    """A chunk's values at exactly start, start + 60, ..., end as a `Slice` when they are
    steady there (what `_steady_sums` asks of the whole grid); None otherwise. `whole`: the
    same values as `whole_values` gives them, when it does -- checked in integers then (no
    float comparison or whole-number test), with the same answer."""
    if len(times) != (end - start) // MINUTE + 1 or not times or times[0] != start or times[-1] != end \
            or list(times) != list(range(start, end + MINUTE, MINUTE)):
        return None
    if whole is not None:
        if not all(map(le, whole, islice(whole, 1, None))):
            return None
        # Exact differences of exact values: the floats the float path would subtract to.
        return Slice(values[0], values[-1], list(map(float, map(sub, islice(whole, 1, None), whole))))
    if not _steady(values):
        return None
    deltas = list(map(sub, islice(values, 1, None), values))
    if not all(map(eq, deltas, map(int, deltas))):
        return None
    return Slice(values[0], values[-1], deltas)


def whole_slice(whole: Sequence[int]) -> Slice | None:
    """`steady_slice` of a chunk whose times are exactly its boundaries and whose values are
    `whole_values`' integers, kept in integers: the same numbers, exact (whatever they sum
    to), with no float made on the way."""
    if not whole or not all(map(le, whole, islice(whole, 1, None))):
        return None
    return Slice(whole[0], whole[-1], list(map(sub, islice(whole, 1, None), whole)))


def whole_chunk(texts: Sequence[object]) -> tuple[list[int] | None, Slice | None]:
    """`whole_values(texts)` and its `whole_slice`, for a chunk whose times are exactly its
    boundaries: a steady counter is checked rising once for both (a rising column's
    extremes are its ends, so the magnitude check reads two values, not all)."""
    whole = _json_ints(texts)
    if whole:
        deltas = list(map(sub, islice(whole, 1, None), whole))
        if not deltas or min(deltas) >= 0:
            if not (-EXACT_WHOLE < whole[0] and whole[-1] < EXACT_WHOLE):
                return None, None
            return whole, Slice(whole[0], whole[-1], deltas)
    whole = whole_values(texts)  # not rising (a reset, say), or not plain integers
    return whole, None if whole is None else whole_slice(whole)


def stitched_sums(series: Sequence[Sequence[Slice | None]]) -> list[float] | list[int] | None:
    """`_steady_sums` over series given as their chunks' `Slice`s in order (chunks that
    partition the boundaries): each series' differences are its slices' joined by the
    difference across each junction; None when a slice is missing or not steady, or a
    junction drops or is not whole -- exactly when `_steady_sums` would give None.
    Integers when every slice is of integers (`whole_slice`'s: exact, nothing to convert),
    else floats summed in the loop's order."""
    exact = all(piece is not None and type(piece.first) is int for slices in series for piece in slices)
    sums: list | None = None
    for slices in series:
        deltas: list = []
        previous: float | None = None
        for piece in slices:
            if piece is None:
                return None
            if previous is not None:
                step = piece.first - previous
                if step < 0 or step != int(step):
                    return None
                deltas.append(step)
            deltas += piece.deltas
            previous = piece.last
        if sums is None:
            sums = deltas if exact or set(map(type, deltas)) <= {float} else list(map(add, [0.0] * len(deltas), deltas))
        else:
            sums = list(map(add, sums, deltas))
    return sums


def combine_columns(good: Sequence[int] | None, bad: Sequence[int] | None, total: Sequence[int],
                    start: int, end: int) -> MinuteCounts:
    """`combine` of deltas given as columns, a count for every minute of [start, end) in
    order (what steady series give): no dict per side on the way."""
    part = good if good is not None else bad
    if len(part) != len(total) or len(total) != len(range(start, end, MINUTE)) or not all(map(le, part, total)):
        minutes = range(start, end, MINUTE)  # combine's refusal, or its answer, as it gives it
        return combine(None if good is None else dict(zip(minutes, good)), None if bad is None else dict(zip(minutes, bad)),
                       dict(zip(minutes, total)), start, end)
    good_values = part if good is not None else list(map(sub, total, part))
    return MinuteCounts(start, end, ColumnCounts(start, good_values, total), (), (good_values, total))


class ColumnCounts(Mapping):
    """(good, total) by minute start, over columns holding a count for every minute from
    `start` on: what `combine_columns` answers with, read by minute without a dict of
    every minute (a 28-day baseline reads the columns, and a dict of them cost ~4 ms)."""

    __slots__ = ("_start", "_good", "_total")

    def __init__(self, start: int, good: Sequence[int], total: Sequence[int]) -> None:
        self._start, self._good, self._total = start, good, total

    def __getitem__(self, minute: int) -> tuple[int, int]:
        try:
            i, off = divmod(minute - self._start, MINUTE)
        except TypeError:
            raise KeyError(minute) from None
        if off or not 0 <= i < len(self._total):
            raise KeyError(minute)
        i = int(i)  # a float key finds its int, as in a dict
        return self._good[i], self._total[i]

    def __iter__(self):
        return iter(range(self._start, self._start + MINUTE * len(self._total), MINUTE))

    def __len__(self) -> int:
        return len(self._total)

    def __repr__(self) -> str:
        return repr(dict(self))


def combine(good: Mapping[int, int | None] | None, bad: Mapping[int, int | None] | None,
            total: Mapping[int, int | None], start: int, end: int) -> MinuteCounts:
    """Good/total per minute from good (or bad) and total deltas; a minute lacking either is missing."""
    minutes = range(start, end, MINUTE)
    part_values = list(map((good if good is not None else bad).get, minutes))
    total_values = list(map(total.get, minutes))
    if None not in part_values and None not in total_values and all(map(le, part_values, total_values)):
        # Every minute has both counts, the part within the total: zipped in C.
        good_values = part_values if good is not None else list(map(sub, total_values, part_values))
        return MinuteCounts(start, end, dict(zip(minutes, zip(good_values, total_values))), (),
                            (good_values, total_values))
    counts: dict[int, tuple[int, int]] = {}
    missing = []
    for b in range(start, end, MINUTE):
        t = total.get(b)
        part = (good if good is not None else bad).get(b)
        if t is None or part is None:
            missing.append(b)
            continue
        if part > t:
            which = "good" if good is not None else "bad"
            raise SourceBadData(f"minute starting at {b}: {which} count {part} exceeds the total {t}")
        counts[b] = (part, t) if good is not None else (t - part, t)
    return MinuteCounts(start, end, counts, tuple(missing))
