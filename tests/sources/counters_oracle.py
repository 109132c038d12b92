"""The per-minute counters as first written (a dict lookup per boundary per series), kept
as the oracle the column-wise fast paths of `service.sources.counters` are held to."""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from service.sources.counters import MINUTE, MinuteCounts
from service.sources.errors import SourceBadData


def reference_drops(values: Mapping[int, float], start: int, end: int) -> list[int]:
    """The minutes in [start, end) whose end value is below their start value (a reset)."""
    out = []
    for b in range(start, end, MINUTE):
        a, z = values.get(b), values.get(b + MINUTE)
        if a is not None and z is not None and math.isfinite(a) and math.isfinite(z) and z < a:
            out.append(b)
    return out


def reference_minute_deltas(series: Iterable[Mapping[int, float]], start: int, end: int,
                  exact: Mapping[tuple[int, int], float | None] | None = None) -> dict[int, int | None]:
    """Per minute start in [start, end): the summed count, or None (missing).

    `exact[(i, b)]`, when given, is series i's count for minute b from its raw samples
    (None: unknown), used instead of the boundary difference."""
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


def reference_combine(good: Mapping[int, int | None] | None, bad: Mapping[int, int | None] | None,
            total: Mapping[int, int | None], start: int, end: int) -> MinuteCounts:
    """Good/total per minute from good (or bad) and total deltas; a minute lacking either is missing."""
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
