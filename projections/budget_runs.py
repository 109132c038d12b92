"""A budget's observation intervals stored as runs (`rm_budget_runs`): one row per run of
back-to-back intervals of one length, its counts as JSON arrays.

A 28-day backfill at one-minute resolution is one row instead of 40,320, and a live
minute is still one row. Pure functions: cutting interval columns into runs, encoding a
run's counts, and expanding run rows back into the ledger's columns.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import orjson


def spans(starts: Sequence[int], ends: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first index, count, step) of each run in interval columns: a run goes on while the
    next interval starts where the last ended and is as long."""
    n = len(starts)
    if n == 0:
        return []
    first, step = starts[0], ends[0] - starts[0]
    last = first + n * step
    # Per-minute data without a gap (nearly always): sequence comparisons instead of a
    # loop. An event of one run gives its columns as ranges, which compare as ranges.
    whole = range(first, last, step)
    if ends[-1] == last and starts[1:] == ends[:-1] and (starts == whole if type(starts) is range else starts == list(whole)):
        return [(0, n, step)]
    out = []
    i = 0
    while i < n:
        end = ends[i]
        step = end - starts[i]
        j = i + 1
        while j < n and starts[j] == end and ends[j] - end == step:
            end = ends[j]
            j += 1
        out.append((i, j - i, step))
        i = j
    return out


def cut(starts: Sequence[int], ends: Sequence[int], good: Sequence[int], total: Sequence[int]) -> list[list]:
    """The runs [start_us, step_us, count, good, total] of interval columns. A run of all of
    them (a live minute, a backfill without a gap) shares the count lists: copy before changing."""
    n = len(starts)
    if n == 1:
        return [[starts[0], ends[0] - starts[0], 1, good, total]]
    return [[starts[i], step, count, good if count == n else good[i:i + count], total if count == n else total[i:i + count]]
            for i, count, step in spans(starts, ends)]


def encode(counts: Sequence[int]) -> str:
    return orjson.dumps(counts).decode()


def expand(rows: Iterable[Sequence]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Interval columns (starts, ends, good, total) of run rows (start_us, step_us, count,
    good, total) in start order."""
    starts: list[int] = []
    ends: list[int] = []
    good: list[int] = []
    total: list[int] = []
    for start, step, count, g, t in rows:
        stop = start + step * count
        starts.extend(range(start, stop, step))
        ends.extend(range(start + step, stop + step, step))
        good.extend(orjson.loads(g))
        total.extend(orjson.loads(t))
    return starts, ends, good, total
