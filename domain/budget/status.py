"""The budget status at a moment, and the arithmetic that produces it.

Occurrences (SRE workbook): over the window,
    SLI = good / total
    allowed_bad = (1 - target) x total          (from the OBSERVED total)
    consumed = bad / allowed_bad, remaining = 1 - consumed
  With total = 0: SLI None, allowed 0, consumed 0, remaining 1.0.
  Example: 99.9% over 1,000,000 requests -> allowed 1,000; 250 bad -> remaining 0.75.

Timeslices: over the window's judged slices,
    allowed_bad = (1 - target) x slices_in_window   (from the window LENGTH)
    consumed = bad_slices / allowed_bad, remaining = 1 - consumed
  `slice_sli` = good slices / slices with data (None when none).

`remaining` may go below 0 (overspent) and is reported as is; `exhausted` is
remaining <= 0, decided exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Mapping, NamedTuple

from .burn import Alert
from .config import OCCURRENCES


def occurrence_budget(bad: int, total: int, allowed_error_rate: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(allowed_bad, consumed, remaining) for occurrences."""
    allowed = allowed_error_rate * total
    if total <= 0:
        return Fraction(0), Fraction(0), Fraction(1)
    consumed = bad / allowed
    return allowed, consumed, 1 - consumed


def timeslice_budget(bad_slices: int, slices_in_window: Fraction, allowed_error_rate: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(allowed_bad_slices, consumed, remaining) for timeslices."""
    allowed = allowed_error_rate * slices_in_window
    consumed = bad_slices / allowed
    return allowed, consumed, 1 - consumed


@dataclass(frozen=True)
class SpanBudget:
    """The budget over one span of data time (a report's quarter), in the objective's own
    arithmetic: events for occurrences, slices for timeslices (see `Ledger.span_budget`)."""

    method: str
    attainment: float | None  # good / total events, or good / judged slices; None without data
    consumed: float | None  # bad over what the span allowed: 1.0 is exactly its budget


class Figures(NamedTuple):
    """A budget at one instant as its read-model row shows it: `Status`'s budget figures,
    alerts and staleness, without the burn rates of every window or the times
    (`Ledger.figures_at_us`)."""

    good: int
    total: int
    allowed_bad: float
    consumed: float
    remaining: float
    exhausted: bool
    alerts: tuple[Alert, ...]
    stale: bool

    @property
    def sli(self) -> float | None:
        return self.good / self.total if self.total else None


@dataclass(frozen=True)
class Status:
    at: datetime
    window_start: datetime
    window_end: datetime
    method: str
    target: float
    # events in the window (excluded intervals left out)
    good: int
    total: int
    bad: int
    sli: float | None
    # timeslices only (None for occurrences)
    good_slices: int | None
    bad_slices: int | None
    slice_sli: float | None
    slices_in_window: float | None
    # the budget, in its unit (events for occurrences, slices for timeslices)
    allowed_bad: float
    spent: int
    consumed: float
    remaining: float
    exhausted: bool
    # burn rates by window label ("5m" ... "3d", plus any tier windows), None without traffic
    burn_rates: Mapping[str, float | None] = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    # freshness, judged by event time
    last_observation_end: datetime | None = None
    stale_after: timedelta = timedelta(minutes=15)
    stale: bool = False

    def stale_at(self, now: datetime) -> bool:
        """Freshness judged at `now` (a reader's clock, passed in): no data for longer than
        `stale_after` before it. A read-time view; the log records staleness only when a
        probe (CheckFreshness) or new data brings event time forward."""
        last = self.last_observation_end
        return self.stale or (last is not None and last < now - self.stale_after)

    @property
    def attainment(self) -> float | None:
        """The objective's own measure: event SLI (occurrences) or good-slice ratio (timeslices)."""
        return self.sli if self.method == OCCURRENCES else self.slice_sli

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "method": self.method,
            "target": self.target,
            "good": self.good,
            "total": self.total,
            "bad": self.bad,
            "sli": self.sli,
            "good_slices": self.good_slices,
            "bad_slices": self.bad_slices,
            "slice_sli": self.slice_sli,
            "slices_in_window": self.slices_in_window,
            "allowed_bad": self.allowed_bad,
            "spent": self.spent,
            "consumed": self.consumed,
            "remaining": self.remaining,
            "exhausted": self.exhausted,
            "burn_rates": dict(self.burn_rates),
            "alerts": [a.to_dict() for a in self.alerts],
            "last_observation_end": self.last_observation_end.isoformat() if self.last_observation_end else None,
            "stale_after_seconds": self.stale_after.total_seconds(),
            "stale": self.stale,
        }
