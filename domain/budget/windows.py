"""Compliance windows: rolling N days, calendar month, calendar quarter (all UTC).

Windows are half-open, [start, end). An observation interval belongs to a window when
its *start* lies in the window (and, for a read "as of" `at`, when it has ended by `at`):
see `ledger.py`. So data for Oct 31 23:59-Nov 1 00:00 is October's, and at
Nov 1 00:00 the calendar-month budget is November's, still empty.

  rolling N days     [at - N days, at)            length N days
  calendar month     [1st of at's month, 1st of the next month)
  calendar quarter   [1st of Jan/Apr/Jul/Oct, 1st of the next quarter)

A calendar window's allowance for timeslices counts the whole month/quarter, not the part
elapsed so far (the workbook's "slices in the window").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from .errors import BudgetInputError
from .instants import require_aware

ROLLING = "rolling"
CALENDAR_MONTH = "calendar_month"
CALENDAR_QUARTER = "calendar_quarter"
KINDS = (ROLLING, CALENDAR_MONTH, CALENDAR_QUARTER)
MAX_ROLLING_DAYS = 366


@dataclass(frozen=True, slots=True)
class Window:
    kind: str
    days: int | None = None  # rolling only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BudgetInputError("window.kind", f"must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == ROLLING:
            d = self.days
            if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= MAX_ROLLING_DAYS:
                raise BudgetInputError("window.days", f"a rolling window needs whole days in 1..{MAX_ROLLING_DAYS}, got {d!r}")
        elif self.days is not None:
            raise BudgetInputError("window.days", f"a {self.kind} window takes no days")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": ROLLING, "days": self.days} if self.kind == ROLLING else {"kind": self.kind}


def parse_window(window: Mapping[str, Any] | Window) -> Window:
    """`{"kind": "rolling", "days": 30}`, `{"kind": "calendar_month"}`, `{"kind": "calendar_quarter"}`."""
    if isinstance(window, Window):
        return window
    if not isinstance(window, Mapping):
        raise BudgetInputError("window", "expected an object with a 'kind'")
    unknown = set(window) - {"kind", "days"}
    if unknown:
        raise BudgetInputError(f"window.{sorted(unknown)[0]}", "unknown window field")
    if "kind" not in window:
        raise BudgetInputError("window.kind", "required")
    kind = window["kind"]
    if kind == ROLLING and "days" not in window:
        raise BudgetInputError("window.days", "required for a rolling window")
    return Window(kind=kind, days=window.get("days"))


def _month_start(year: int, month: int) -> datetime:
    # months may run past 12: normalise
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=timezone.utc)


def window_bounds(window: Mapping[str, Any] | Window, at: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the window that `at` is judged in, UTC, half-open."""
    w = parse_window(window)
    at = require_aware(at, "at")
    if w.kind == ROLLING:
        return at - timedelta(days=w.days), at
    if w.kind == CALENDAR_MONTH:
        return _month_start(at.year, at.month), _month_start(at.year, at.month + 1)
    first = 3 * ((at.month - 1) // 3) + 1
    return _month_start(at.year, first), _month_start(at.year, first + 3)


def window_length(window: Mapping[str, Any] | Window, at: datetime) -> timedelta:
    start, end = window_bounds(window, at)
    return end - start
