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

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from domain.budget import Ledger
from domain.budget.instants import to_us
from domain.errors import InvalidInput

DEFAULT_CANDIDATES: tuple[float, ...] = (0.99, 0.995, 0.999, 0.9995)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MINUTE_US = 60_000_000
DAY = timedelta(days=1)


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
