"""What a period of history says before a target is negotiated (the seed's phase 4).

`analyse(minutes, window=..., budgeting=...)` takes per-minute good/total counts (the
minute's start -> (good, total), as a source gives them) and returns:

- the period's attainment, and per UTC day and per week (weeks start Monday 00:00 UTC;
  the first and last may be partial, their bounds say so);
- the worst hours and days (lowest attainment among those with traffic);
- for each candidate target, how the budget would have fared: the budget is the real
  one -- the history is recorded into a `domain.budget.Ledger` with the objective's
  window and budgeting, and every `step` its window is read and judged under each
  target's allowed error rate, as that target's own ledger would judge it -- so the
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
from operator import eq, le, lt, mod, sub
from typing import Any, Mapping, Sequence

from domain.budget import BudgetConfig, IntervalRows, Ledger
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
    # A run of consecutive minutes (what a baseline pulls) is checked as two equal tuples.
    first = starts[0] if starts else 0
    if not first % MINUTE_US and tuple(starts) == tuple(range(first, first + len(starts) * MINUTE_US, MINUTE_US)):
        valid = tuple(rows.ends) == tuple(range(first + MINUTE_US, first + (len(starts) + 1) * MINUTE_US, MINUTE_US))
    else:
        valid = (all(map(eq, map(sub, rows.ends, starts), repeat(MINUTE_US))) and not any(map(mod, starts, repeat(MINUTE_US)))
                 and all(map(lt, starts, islice(starts, 1, None))))
    if not valid:
        raise InvalidInput("minutes: each row must be one whole minute, in ascending order", field="minutes")
    return _analyse(starts, rows.good, rows.total, window=window, budgeting=budgeting, candidates=candidates,
                    period=period, worst=worst, step=step, ends=rows.ends)


def _analyse(starts: Sequence[int], good: Sequence[int], total: Sequence[int], *, window: Mapping[str, Any],
             budgeting: Mapping[str, Any] | None, candidates: Sequence[float], period: tuple[datetime, datetime],
             worst: int, step: timedelta, ends: Sequence[int] | None = None) -> BaselineAnalysis:
    """The analysis of minutes given as ascending starts (microseconds) and their counts
    (and their ends, when the caller has them: each a minute after its start)."""
    start, end = period
    if not start < end:
        raise InvalidInput("period: the start must come before the end", field="period")
    start_us, end_us = to_us(start), to_us(end)
    lo, hi = bisect_left(starts, start_us), bisect_left(starts, end_us)
    starts, good, total = starts[lo:hi], good[lo:hi], total[lo:hi]
    ends = None if ends is None else ends[lo:hi]
    # An hour starts on the hour in the period's own zone (a half-hour offset moves it).
    offset = (start.utcoffset() or timedelta(0)) // timedelta(microseconds=1)

    def hour_start(at: int) -> int:
        return at - (at + offset) % HOUR_US

    # The minutes recorded once, as the log's fold does (columns, in order), into one ledger
    # every candidate is judged on (each by its own allowed error rate).
    history = Ledger(candidates[0], window, budgeting) if candidates else None
    if history is not None and starts:
        ends = list(ends) if ends is not None else [s + MINUTE_US for s in starts]
        if min(good) >= 0 and all(map(le, good, total)):
            # Whole minutes in ascending order (checked by both entries), counts within their
            # totals: valid columns, loaded as a fold's snapshot is, not checked row by row again.
            history.load_columns(list(starts), ends, list(good), list(total))
        else:
            history.record_columns(starts, ends, good, total)  # refused as a fold refuses them

    def buckets(floor, length: int) -> list[_Bucket]:
        return _buckets(starts, good, total, start_us, end_us, floor, length)

    days = buckets(_day_start_us, DAY_US)
    return BaselineAnalysis(
        period=Period(start, end, sum(good), sum(total)),
        minutes_with_data=len(starts),
        days=tuple(map(_period_of, days)),
        weeks=tuple(map(_period_of, buckets(_week_start_us, WEEK_US))),
        worst_hours=_worst(buckets(hour_start, HOUR_US), worst),
        worst_days=_worst(days, worst),
        candidates=_candidates(candidates, history, start_us, end_us, window, budgeting, step),
    )


def _day_start_us(at: int) -> int:
    return at - at % DAY_US


def _week_start_us(at: int) -> int:
    day = at // DAY_US
    return (day - (day + 3) % 7) * DAY_US  # 1970-01-01 was a Thursday: weeks start on Mondays


_Bucket = tuple[int, int, int, int]  # (start_us, end_us, good, total): a Period without its datetimes


def _buckets(starts: Sequence[int], good: Sequence[int], total: Sequence[int], start_us: int, end_us: int,
             floor, length: int) -> list[_Bucket]:
    """Calendar buckets covering [start, end), each clipped to it, in order: each one's
    minutes found by bisection and summed as a slice."""
    out = []
    b = floor(start_us)
    i = 0
    while b < end_us:
        lo, hi = max(b, start_us), min(b + length, end_us)
        j = bisect_left(starts, hi, i)
        out.append((lo, hi, sum(good[i:j]), sum(total[i:j])))
        i = j
        b += length
    return out


def _period_of(bucket: _Bucket) -> Period:
    lo, hi, g, t = bucket
    return Period(from_us(lo), from_us(hi), g, t)


def _worst(buckets: list[_Bucket], k: int) -> tuple[Period, ...]:
    with_traffic = [b for b in buckets if b[3]]
    # Lowest attainment first, exactly (cross-multiplied); earlier first on ties. Only the
    # k kept become Periods (a 28-day baseline sorts 672 hours).
    with_traffic.sort(key=lambda b: (_Ratio(b[2], b[3]), b[0]))
    return tuple(map(_period_of, with_traffic[:k]))


@dataclass(frozen=True, slots=True)
class _Ratio:
    num: int
    den: int

    def __lt__(self, other: "_Ratio") -> bool:
        return self.num * other.den < other.num * self.den


def _candidates(targets: Sequence[float], history: Ledger | None, start_us: int, end_us: int, window, budgeting,
                step: timedelta) -> tuple[CandidateOutcome, ...]:
    """Each target's outcome, from one walk over the period: at every `step` the ledger's
    window is read once (`budgets_at_us`) and judged under each target's allowed error rate,
    as a ledger with that target (`with_config`) would judge it."""
    if history is None:
        return ()
    rates = [BudgetConfig.parse(t, window, budgeting).error_rate_allowed for t in targets]
    n = len(targets)
    exhausted, exhaustions = [0] * n, [0] * n
    first: list[datetime | None] = [None] * n
    lowest: list[float | None] = [None] * n
    was = [False] * n
    judged = 0
    step_us = step // timedelta(microseconds=1)
    at = start_us + step_us
    while True:
        at = min(at, end_us)
        judged += 1
        for i, (counted, remaining, now_exhausted) in enumerate(history.budgets_at_us(at, rates)):
            if now_exhausted:
                exhausted[i] += 1
                if not was[i]:
                    exhaustions[i] += 1
                    first[i] = first[i] or from_us(at)
            was[i] = now_exhausted
            if counted:
                low = lowest[i]
                lowest[i] = remaining if low is None else min(low, remaining)
        if at == end_us:
            break
        at += step_us
    return tuple(CandidateOutcome(t, judged, exhausted[i], exhaustions[i], first[i], lowest[i], was[i])
                 for i, t in enumerate(targets))


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
