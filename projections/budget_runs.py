"""A budget's observation intervals stored as runs (`rm_budget_runs`): one row per run of
back-to-back intervals of one length, its counts as JSON arrays.

A 28-day backfill at one-minute resolution is one row instead of 40,320, and a live
minute is still one row. Pure functions: cutting interval columns into runs, encoding a
run's counts, and expanding run rows back into the ledger's columns.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import orjson

from domain.budget.instants import iso_us
from domain.budget.runs import observation_columns, spans


def cut(starts: Sequence[int], ends: Sequence[int], good: Sequence[int], total: Sequence[int]) -> list[list]:
    """The runs [start_us, step_us, count, good, total] of interval columns. A run of all of
    them (a live minute, a backfill without a gap) shares the count lists: copy before changing."""
    n = len(starts)
    if n == 1:
        return [[starts[0], ends[0] - starts[0], 1, good, total]]
    return [[starts[i], step, count, good if count == n else good[i:i + count], total if count == n else total[i:i + count]]
            for i, count, step in spans(starts, ends)]


def recorded(data: Mapping[str, Any]) -> list[list]:
    """`cut` of an ObservationsRecorded's intervals (`observation_columns(data)`). A logged
    run alone (a live minute, a gapless backfill) is already the one run `cut` would make
    of it, so it is taken as it is, without expanding it into columns to cut them again;
    several are cut again (two logged runs may join up into one row)."""
    logged = data["runs"]
    if len(logged) == 1 and logged[0]["good"]:
        run = logged[0]
        return [[iso_us(run["start"]), run["step_us"], len(run["good"]), run["good"], run["total"]]]
    return cut(*observation_columns(data))


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
