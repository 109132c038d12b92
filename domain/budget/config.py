"""An objective's budgeting configuration: target, window, budgeting method.

They arrive as plain data from the objective's draft event:
  target     a float in (0, 1), e.g. 0.999
  window     {"kind": "rolling", "days": 30} | {"kind": "calendar_month"} | {"kind": "calendar_quarter"}
  budgeting  {"method": "occurrences"}
             | {"method": "timeslices", "slice_minutes": 1, "slice_threshold": 0.95}
             | {"method": "ratio_timeslices", "slice_minutes": 5}   (OpenSLO RatioTimeslices: a
               slice counts its bad ratio, 1 - good/total, instead of 0 or 1; the attainment is
               the mean of the slices' good ratios)
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from .errors import BudgetInputError
from .exact import q
from .instants import US_PER_MINUTE
from .windows import Window, parse_window

OCCURRENCES = "occurrences"
TIMESLICES = "timeslices"
RATIO_TIMESLICES = "ratio_timeslices"
MAX_SLICE_MINUTES = 24 * 60


def parse_target(target: Any, field: str = "target") -> float:
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        raise BudgetInputError(field, f"expected a number in (0, 1), got {target!r}")
    t = float(target)
    if not math.isfinite(t) or not 0.0 < t < 1.0:
        raise BudgetInputError(field, f"must lie strictly between 0 and 1 (0.999, not 99.9), got {target!r}")
    return t


@dataclass(frozen=True, slots=True)
class Budgeting:
    method: str = OCCURRENCES
    slice_minutes: int | None = None
    slice_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.method not in (OCCURRENCES, TIMESLICES, RATIO_TIMESLICES):
            raise BudgetInputError(
                "budgeting.method", f"must be 'occurrences', 'timeslices' or 'ratio_timeslices', got {self.method!r}")
        if self.method == OCCURRENCES:
            if self.slice_minutes is not None or self.slice_threshold is not None:
                raise BudgetInputError("budgeting.method", "slice settings need method 'timeslices'")
            return
        m = self.slice_minutes
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_SLICE_MINUTES:
            raise BudgetInputError("budgeting.slice_minutes", f"whole minutes in 1..{MAX_SLICE_MINUTES}, got {m!r}")
        if self.method == RATIO_TIMESLICES:
            if self.slice_threshold is not None:
                raise BudgetInputError("budgeting.slice_threshold", "ratio timeslices judge no threshold")
            return
        th = self.slice_threshold
        if isinstance(th, bool) or not isinstance(th, (int, float)) or not math.isfinite(th) or not 0 < th <= 1:
            raise BudgetInputError("budgeting.slice_threshold", f"a ratio in (0, 1], got {th!r}")
        object.__setattr__(self, "slice_threshold", float(th))

    @property
    def slice_us(self) -> int:
        return self.slice_minutes * US_PER_MINUTE

    def to_dict(self) -> dict[str, Any]:
        if self.method == OCCURRENCES:
            return {"method": OCCURRENCES}
        if self.method == RATIO_TIMESLICES:
            return {"method": RATIO_TIMESLICES, "slice_minutes": self.slice_minutes}
        return {"method": TIMESLICES, "slice_minutes": self.slice_minutes, "slice_threshold": self.slice_threshold}


def parse_budgeting(budgeting: Mapping[str, Any] | Budgeting | None) -> Budgeting:
    if budgeting is None:
        return Budgeting()
    if isinstance(budgeting, Budgeting):
        return budgeting
    if not isinstance(budgeting, Mapping):
        raise BudgetInputError("budgeting", "expected an object with a 'method'")
    unknown = set(budgeting) - {"method", "slice_minutes", "slice_threshold"}
    if unknown:
        raise BudgetInputError(f"budgeting.{sorted(unknown)[0]}", "unknown budgeting field")
    method = budgeting.get("method", OCCURRENCES)
    if method == RATIO_TIMESLICES and "slice_minutes" not in budgeting:
        raise BudgetInputError("budgeting.slice_minutes", "required for ratio_timeslices")
    if method == TIMESLICES:
        for key in ("slice_minutes", "slice_threshold"):
            if key not in budgeting:
                raise BudgetInputError(f"budgeting.{key}", "required for timeslices")
    return Budgeting(method, budgeting.get("slice_minutes"), budgeting.get("slice_threshold"))


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    target: float
    window: Window
    budgeting: Budgeting

    @staticmethod
    def parse(target: Any, window: Mapping[str, Any] | Window, budgeting: Mapping[str, Any] | Budgeting | None = None) -> "BudgetConfig":
        return BudgetConfig(parse_target(target), parse_window(window), parse_budgeting(budgeting))

    @property
    def error_rate_allowed(self) -> Fraction:
        """1 - target, exactly (0.999 -> 1/1000)."""
        return _error_rate_allowed(self.target)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "window": self.window.to_dict(), "budgeting": self.budgeting.to_dict()}


@lru_cache(maxsize=1024)
def _error_rate_allowed(target: float) -> Fraction:
    # Remembered: `q` parses the target's decimal text, and every ledger a log folds
    # (one per objective, again at each reconfiguration) asks for one of a few targets.
    return 1 - q(target)
