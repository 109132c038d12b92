"""What a period of history says before a target is negotiated (the seed's phase 4).

`analyse(minutes, window=..., budgeting=...)` takes per-minute good/total counts (the
minute's start -> (good, total), as a source gives them) and returns:

- the period's attainment, and per UTC day and per week (weeks start Monday 00:00 UTC;
  the first and last may be partial, their bounds say so);
- the worst hours and days (lowest attainment among those with traffic);
- for each candidate target, how the budget would have fared: the budget is the real
  one -- the history is recorded into a `domain.budget.Ledger` with that target and the
  objective's window and budgeting, and its status is read every `step` -- so the
  share of those moments it was exhausted, how many times it became exhausted, when
  first, the lowest remaining, and whether it is exhausted at the period's end ("a
  target that will be breached immediately").

Minutes without a count are neither good nor bad, as in the ledger. Pure.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice, repeat
from operator import eq, lt, mod, sub
from typing import Any, Mapping, Sequence

from domain.budget import IntervalRows, Ledger
from domain.budget.instants import US_PER_DAY, US_PER_HOUR, from_us, to_us
from domain.errors import InvalidInput

DEFAULT_CANDIDATES: tuple[float, ...] = (0.99, 0.995, 0.999, 0.9995)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MINUTE_US = 60_000_000
DAY = timedelta(days=1)
HOUR_US = US_PER_HOUR
DAY_US = US_PER_DAY
WEEK_US = 7 * US_PER_DAY


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime
    good: int
    total: int

    @property
    def attainment(self) -> float | None:
        return self.good / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class CandidateOutcome:
    target: float
    judged: int  # moments the budget was read (every `step`)
    exhausted: int  # of those, how many found it exhausted
    exhaustions: int  # times it went from not exhausted to exhausted
    first_exhausted_at: datetime | None
    min_remaining: float | None  # the lowest remaining share of the budget seen
    exhausted_at_end: bool

    @property
    def exhausted_share(self) -> float:
        return self.exhausted / self.judged if self.judged else 0.0


@dataclass(frozen=True, slots=True)
class BaselineAnalysis:
    period: Period
    minutes_with_data: int
    days: tuple[Period, ...]
    weeks: tuple[Period, ...]
    worst_hours: tuple[Period, ...]
    worst_days: tuple[Period, ...]
    candidates: tuple[CandidateOutcome, ...]


def analyse(
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
    rows = sorted((to_us(at), g, t) for at, (g, t) in minutes.items())
    return _analyse([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], window=window,
                    budgeting=budgeting, candidates=candidates, period=(start, end), worst=worst, step=step)


def analyse_rows(
    rows: IntervalRows,
    *,
    window: Mapping[str, Any],
    budgeting: Mapping[str, Any] | None = None,
    candidates: Sequence[float] = DEFAULT_CANDIDATES,
    period: tuple[datetime, datetime],
    worst: int = 3,
    step: timedelta = HOUR,
) -> BaselineAnalysis:
    """`analyse` of one-minute rows (each starting on a minute, in ascending order) as a
    baseline records them: the same analysis, with no datetime per minute."""
    starts = rows.starts
    if not (all(map(eq, map(sub, rows.ends, starts), repeat(MINUTE_US))) and not any(map(mod, starts, repeat(MINUTE_US)))
            and all(map(lt, starts, islice(starts, 1, None)))):
        raise InvalidInput("minutes: each row must be one whole minute, in ascending order", field="minutes")
    return _analyse(starts, rows.good, rows.total, window=window, budgeting=budgeting, candidates=candidates,
                    period=period, worst=worst, step=step)


def _analyse(starts: Sequence[int], good: Sequence[int], total: Sequence[int], *, window: Mapping[str, Any],
             budgeting: Mapping[str, Any] | None, candidates: Sequence[float], period: tuple[datetime, datetime],
             worst: int, step: timedelta) -> BaselineAnalysis:
    """The analysis of minutes given as ascending starts (microseconds) and their counts."""
    start, end = period
    if not start < end:
        raise InvalidInput("period: the start must come before the end", field="period")
    start_us, end_us = to_us(start), to_us(end)
    lo, hi = bisect_left(starts, start_us), bisect_left(starts, end_us)
    starts, good, total = starts[lo:hi], good[lo:hi], total[lo:hi]
    # An hour starts on the hour in the period's own zone (a half-hour offset moves it).
    offset = (start.utcoffset() or timedelta(0)) // timedelta(microseconds=1)

    def hour_start(at: int) -> int:
        return at - (at + offset) % HOUR_US

    # The minutes recorded once, as the log's fold does (columns, in order); each candidate
    # reads a copy under its own target (`with_config`: no interval checked again).
    history = Ledger(candidates[0], window, budgeting) if candidates else None
    if history is not None and starts:
        history.record_columns(starts, [s + MINUTE_US for s in starts], good, total)

    def buckets(floor, length: int) -> list[Period]:
        return _buckets(starts, good, total, start_us, end_us, floor, length)

    return BaselineAnalysis(
        period=Period(start, end, sum(good), sum(total)),
        minutes_with_data=len(starts),
        days=tuple(buckets(_day_start_us, DAY_US)),
        weeks=tuple(buckets(_week_start_us, WEEK_US)),
        worst_hours=_worst(buckets(hour_start, HOUR_US), worst),
        worst_days=_worst(buckets(_day_start_us, DAY_US), worst),
        candidates=tuple(_candidate(t, history, start_us, end_us, window, budgeting, step) for t in candidates),
    )


def _day_start_us(at: int) -> int:
    return at - at % DAY_US


def _week_start_us(at: int) -> int:
    day = at // DAY_US
    return (day - (day + 3) % 7) * DAY_US  # 1970-01-01 was a Thursday: weeks start on Mondays


def _buckets(starts: Sequence[int], good: Sequence[int], total: Sequence[int], start_us: int, end_us: int,
             floor, length: int) -> list[Period]:
    """Calendar buckets covering [start, end), each clipped to it, in order: each one's
    minutes found by bisection and summed as a slice."""
    out = []
    b = floor(start_us)
    i = 0
    while b < end_us:
        lo, hi = max(b, start_us), min(b + length, end_us)
        j = bisect_left(starts, hi, i)
        out.append(Period(from_us(lo), from_us(hi), sum(good[i:j]), sum(total[i:j])))
        i = j
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


def _candidate(target: float, history: Ledger, start_us: int, end_us: int, window, budgeting,
               step: timedelta) -> CandidateOutcome:
    ledger = history.with_config(target, window, budgeting)
    judged = exhausted = exhaustions = 0
    first = None
    lowest = None
    was = False
    step_us = step // timedelta(microseconds=1)
    at = start_us + step_us
    while True:
        at = min(at, end_us)
        counted, remaining, now_exhausted = ledger.budget_at_us(at)
        judged += 1
        if now_exhausted:
            exhausted += 1
            if not was:
                exhaustions += 1
                first = first or from_us(at)
        was = now_exhausted
        if counted:
            lowest = remaining if lowest is None else min(lowest, remaining)
        if at == end_us:
            break
        at += step_us
    return CandidateOutcome(target, judged, exhausted, exhaustions, first, lowest, was)


# --- as event data -------------------------------------------------------------------
# The analysis travels in BaselineRecorded (schema 2) as plain JSON: times as ISO strings.


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(timezone.utc).isoformat()


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _period_dict(p: Period) -> dict[str, Any]:
    return {"start": _iso(p.start), "end": _iso(p.end), "good": p.good, "total": p.total}


def _period(d: Mapping[str, Any]) -> Period:
    return Period(_at(d["start"]), _at(d["end"]), d["good"], d["total"])


def to_dict(a: BaselineAnalysis) -> dict[str, Any]:
    return {
        "period": _period_dict(a.period),
        "minutes_with_data": a.minutes_with_data,
        "days": [_period_dict(p) for p in a.days],
        "weeks": [_period_dict(p) for p in a.weeks],
        "worst_hours": [_period_dict(p) for p in a.worst_hours],
        "worst_days": [_period_dict(p) for p in a.worst_days],
        "candidates": [
            {"target": c.target, "judged": c.judged, "exhausted": c.exhausted, "exhaustions": c.exhaustions,
             "first_exhausted_at": _iso(c.first_exhausted_at), "min_remaining": c.min_remaining,
             "exhausted_at_end": c.exhausted_at_end}
            for c in a.candidates
        ],
    }


def from_dict(d: Mapping[str, Any]) -> BaselineAnalysis:
    return BaselineAnalysis(
        period=_period(d["period"]),
        minutes_with_data=d["minutes_with_data"],
        days=tuple(_period(p) for p in d["days"]),
        weeks=tuple(_period(p) for p in d["weeks"]),
        worst_hours=tuple(_period(p) for p in d["worst_hours"]),
        worst_days=tuple(_period(p) for p in d["worst_days"]),
        candidates=tuple(
            CandidateOutcome(c["target"], c["judged"], c["exhausted"], c["exhaustions"], _at(c["first_exhausted_at"]),
                             c["min_remaining"], c["exhausted_at_end"])
            for c in d["candidates"]
        ),
    )


def outcome_for(a: BaselineAnalysis, target: float) -> CandidateOutcome | None:
    """The candidate judged at exactly `target`, if the baseline judged it."""
    return next((c for c in a.candidates if abs(c.target - target) < 1e-12), None)
