"""The chartable ledger: budget remaining over time, each debit on the interval that caused it.

One point per recorded interval, in time order, at the interval's end:
  remaining   the budget remaining over the window as of that point
              - rolling: the window ending at the point, [end - N days, end)
              - calendar: the month/quarter containing the interval's START (so the last
                interval of October shows October's closing balance, not November's)
  debit       the share of the allowance this interval consumed, at that point:
              - occurrences: interval.bad / allowed_bad of the point's window (0 if excluded)
              - timeslices: the bad slices first judged at this point (slices that ended in
                (previous interval's end, this end] and belong to the window) / allowed slices
A point shows the remaining after debits *and* after old data left a rolling window, so
remaining can climb between points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ChartPoint:
    at: datetime          # = end
    start: datetime
    end: datetime
    good: int
    total: int
    bad: int
    excluded: bool
    debit: float          # share of the allowance consumed by this interval
    remaining: float      # budget remaining over the point's window after this interval
    exhausted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(), "start": self.start.isoformat(), "end": self.end.isoformat(),
            "good": self.good, "total": self.total, "bad": self.bad, "excluded": self.excluded,
            "debit": self.debit, "remaining": self.remaining, "exhausted": self.exhausted,
        }
