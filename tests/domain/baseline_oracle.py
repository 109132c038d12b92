"""The per-minute oracle for `domain.baseline_analysis`: its analysis as first written
(each candidate's budget read through a full `Ledger.status` every step, buckets summed
minute by minute over datetimes), kept here so the faster one is held to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from domain.baseline_analysis import DEFAULT_CANDIDATES, BaselineAnalysis, CandidateOutcome, Period
from domain.budget import Ledger
from domain.budget.instants import to_us
from domain.errors import InvalidInput

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MINUTE_US = 60_000_000
DAY = timedelta(days=1)


def reference_analyse(
    minutes: Mapping[datetime, tuple[int, int]],
    *,
    window: Mapping[str, Any],
    budgeting: Mapping[str, Any] | None = None,
    candidates: Sequence[float] = DEFAULT_CANDIDATES,
    period: tuple[datetime, datetime] | None = None,
    worst: int = 3,
    step: timedelta = HOUR,
) -> BaselineAnalysis:
    """See the module doc. `period` defaults to the whole minutes covered by `minutes`."""
    if not minutes and period is None:
        raise InvalidInput("minutes: no counts to analyse, and no period given", field="minutes")
    for at, (good, total) in minutes.items():
        if at.tzinfo is None or at.second or at.microsecond:
            raise InvalidInput(f"minutes: {at!r} is not the start of a minute with a zone", field="minutes")
        if not 0 <= good <= total:
            raise InvalidInput(f"minutes: at {at.isoformat()}, good {good} and total {total} are not counts with good <= total", field="minutes")
    start, end = period if period is not None else (min(minutes), max(minutes) + MINUTE)
    if not start < end:
        raise InvalidInput("period: the start must come before the end", field="period")
    inside = sorted((at, c) for at, c in minutes.items() if start <= at < end)
    us_rows = [(s, s + MINUTE_US, g, t) for s, (g, t) in ((to_us(at), c) for at, c in inside)]
    return BaselineAnalysis(
        period=_sum(start, end, inside),
        minutes_with_data=len(inside),
        days=tuple(_buckets(inside, start, end, _day_start, DAY)),
        weeks=tuple(_buckets(inside, start, end, _week_start, 7 * DAY)),
        worst_hours=_worst(_buckets(inside, start, end, _hour_start, HOUR), worst),
        worst_days=_worst(_buckets(inside, start, end, _day_start, DAY), worst),
        candidates=tuple(_candidate(t, us_rows, start, end, window, budgeting, step) for t in candidates),
    )


def _sum(start: datetime, end: datetime, rows: Sequence[tuple[datetime, tuple[int, int]]]) -> Period:
    return Period(start, end, sum(g for _, (g, _) in rows), sum(t for _, (_, t) in rows))


def _hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _day_start(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _week_start(at: datetime) -> datetime:
    day = _day_start(at)
    return day - timedelta(days=day.weekday())


def _buckets(rows, start: datetime, end: datetime, floor, length: timedelta) -> list[Period]:
    """Calendar buckets covering [start, end), each clipped to it, in order."""
    out = []
    b = floor(start)
    i = 0
    while b < end:
        lo, hi = max(b, start), min(b + length, end)
        good = total = 0
        while i < len(rows) and rows[i][0] < hi:
            good += rows[i][1][0]
            total += rows[i][1][1]
            i += 1
        out.append(Period(lo, hi, good, total))
        b += length
    return out


def _worst(periods: list[Period], k: int) -> tuple[Period, ...]:
    with_traffic = [p for p in periods if p.total]
    # Lowest attainment first, exactly (cross-multiplied); earlier first on ties.
    with_traffic.sort(key=lambda p: (_Ratio(p.good, p.total), p.start))
    return tuple(with_traffic[:k])


@dataclass(frozen=True, slots=True)
class _Ratio:
    num: int
    den: int

    def __lt__(self, other: "_Ratio") -> bool:
        return self.num * other.den < other.num * self.den


def _candidate(target: float, rows, start: datetime, end: datetime, window, budgeting, step: timedelta) -> CandidateOutcome:
    ledger = Ledger(target, window, budgeting)
    # `rows` as the log's fold gives them (microseconds, in order, checked by `analyse`):
    # no Interval per minute per candidate, which cost most of a 28-day analysis.
    ledger.record_rows(rows)
    judged = exhausted = exhaustions = 0
    first = None
    lowest = None
    was = False
    at = start + step
    while True:
        at = min(at, end)
        status = ledger.status(at)
        judged += 1
        if status.exhausted:
            exhausted += 1
            if not was:
                exhaustions += 1
                first = first or at
        was = status.exhausted
        if status.total or status.slices_in_window:
            lowest = status.remaining if lowest is None else min(lowest, status.remaining)
        if at == end:
            break
        at += step
    return CandidateOutcome(target, judged, exhausted, exhaustions, first, lowest, was)
