"""ObservationsRecorded's intervals as runs (its data from schema version 3 on).

A run is intervals back to back (each starting where the one before ended), all of one
length, with their counts as columns:

    {"start": ISO 8601 of the first one's start, "step_us": each one's length in
     microseconds, "good": [g0, g1, ...], "total": [t0, t1, ...]}

so its interval i is [start + i * step_us, start + (i + 1) * step_us). A 28-day backfill
without gaps is one run, a live minute a run of one; a batch with holes, or whose lengths
change, is several runs, in the batch's order. Exact to the microsecond, with one time to
write and to read per run instead of two per interval.
"""

from __future__ import annotations

from itertools import chain, islice
from operator import eq, sub
from typing import Any, Mapping, Sequence

from .instants import iso_us, us_iso

Columns = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]]


def spans(starts: Sequence[int], ends: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first index, count, step_us) of each run in interval columns (times in
    microseconds), in their order: a run goes on while the next interval starts where the
    one before ended and is as long. The event's runs and the read model's rows are cut
    by this one rule."""
    n = len(starts)
    if not n:
        return []
    step = ends[0] - starts[0]
    if type(starts) is range and type(ends) is range and starts.step == ends.step == step \
            and ends.start == starts.start + step:
        return [(0, n, step)]  # a logged run's own columns
    lengths = list(map(sub, ends, starts))
    if lengths.count(step) == n and all(map(eq, islice(starts, 1, None), ends)):
        return [(0, n, step)]  # the usual shape, checked in C
    cuts = [0, *(i for i in range(1, n) if starts[i] != ends[i - 1] or lengths[i] != lengths[i - 1]), n]
    return [(a, b - a, lengths[a]) for a, b in zip(cuts, islice(cuts, 1, None))]


def run(start_us: int, step_us: int, good: list[int], total: list[int]) -> dict[str, Any]:
    """One run, as the event holds it."""
    return {"start": us_iso(start_us), "step_us": step_us, "good": good, "total": total}


def to_runs(starts: Sequence[int], ends: Sequence[int], good: Sequence[int], total: Sequence[int]) -> list[dict[str, Any]]:
    """The runs of intervals given as columns (times in microseconds), in their order."""
    return [run(starts[i], step, list(good[i:i + count]), list(total[i:i + count])) for i, count, step in spans(starts, ends)]


def observation_columns(data: Mapping[str, Any]) -> Columns:
    """(starts, ends, good, total) of an ObservationsRecorded's data, times in microseconds:
    for one run, ranges and the data's own count lists (the caller does not change them)."""
    runs = data["runs"]
    if len(runs) == 1:
        return _run_columns(runs[0])
    parts = [_run_columns(r) for r in runs]
    return tuple(list(chain.from_iterable(p[k] for p in parts)) for k in range(4))  # type: ignore[return-value]


def _run_columns(run: Mapping[str, Any]) -> Columns:
    start, step, n = iso_us(run["start"]), run["step_us"], len(run["good"])
    return range(start, start + n * step, step), range(start + step, start + (n + 1) * step, step), run["good"], run["total"]
