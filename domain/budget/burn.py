"""Burn rates and multiwindow, multi-burn-rate alerts (SRE workbook, ch. 5).

burn rate over w ending at `at` = (bad_w / total_w) / (1 - target), over the intervals
that start in [at - w, at) and have ended by `at`, excluded intervals left out. None when
total_w = 0 (no traffic, no rate). The burn rate is event-based for both budgeting
methods: it is how fast the error *ratio* spends the budget (1.0 spends it exactly over
the window), which is what the workbook's alert thresholds are calibrated for.

A tier fires when the rate over BOTH its long and short windows is >= its threshold: the
long window proves the burn is significant, the short one that it is still going on (an
incident that has stopped clears the alert quickly). Comparisons are exact
(1.44% against 99.9% is exactly 14.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .errors import BudgetInputError
from .exact import fl, q
from .instants import canonical_label, format_duration, parse_duration
from .windows import Window, parse_window

STANDARD_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PAGE = "page"
TICKET = "ticket"


@dataclass(frozen=True, slots=True)
class AlertTier:
    severity: str
    long_window: str
    short_window: str
    threshold: float

    def __post_init__(self) -> None:
        if not isinstance(self.severity, str) or not self.severity:
            raise BudgetInputError("tiers.severity", "a severity such as 'page' or 'ticket' is required")
        long_l = canonical_label(self.long_window, "tiers.long_window")
        short_l = canonical_label(self.short_window, "tiers.short_window")
        if parse_duration(short_l) > parse_duration(long_l):
            raise BudgetInputError("tiers.short_window", "the short window must not be longer than the long one")
        th = self.threshold
        if isinstance(th, bool) or not isinstance(th, (int, float)) or not th > 0 or th != th or th == float("inf"):
            raise BudgetInputError("tiers.threshold", f"a positive burn rate, got {th!r}")
        object.__setattr__(self, "long_window", long_l)
        object.__setattr__(self, "short_window", short_l)
        object.__setattr__(self, "threshold", float(th))

    @property
    def key(self) -> tuple[str, str, str, float]:
        return (self.severity, self.long_window, self.short_window, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "long_window": self.long_window, "short_window": self.short_window, "threshold": self.threshold}


SEVERITIES: tuple[str, ...] = (PAGE, TICKET)


def check_tiers_fit(tiers: Sequence[AlertTier], window: Mapping[str, Any] | Window, field: str = "tiers") -> None:
    """Refuse a tier whose long window is longer than the objective's window can be (rolling:
    its length; a month 28 days, a quarter 90; see `Window.shortest`): its burn rate would
    look at data the budget no longer counts."""
    limit = parse_window(window).shortest
    for i, t in enumerate(tiers):
        if parse_duration(t.long_window) > limit:
            raise BudgetInputError(
                f"{field}[{i}].long_window",
                f"{t.long_window} is longer than the objective's window ({format_duration(limit)})",
            )


DEFAULT_TIERS: tuple[AlertTier, ...] = (
    AlertTier(PAGE, "1h", "5m", 14.4),
    AlertTier(PAGE, "6h", "30m", 6.0),
    AlertTier(TICKET, "3d", "6h", 1.0),
)


def parse_tiers(tiers: Iterable[Mapping[str, Any] | AlertTier] | None) -> tuple[AlertTier, ...]:
    """A list of `{"severity", "long_window", "short_window", "threshold"}` (or AlertTier); None -> defaults."""
    if tiers is None:
        return DEFAULT_TIERS
    out = []
    for i, t in enumerate(tiers):
        if isinstance(t, AlertTier):
            out.append(t)
            continue
        if not isinstance(t, Mapping):
            raise BudgetInputError(f"tiers[{i}]", "expected an object")
        try:
            out.append(AlertTier(t["severity"], t["long_window"], t["short_window"], t["threshold"]))
        except KeyError as e:
            raise BudgetInputError(f"tiers[{i}].{e.args[0]}", "required") from None
    if len({t.key for t in out}) != len(out):
        raise BudgetInputError("tiers", "duplicate tier")
    return tuple(out)


class Alert(NamedTuple):
    """A tier found firing, with its windows' burn rates. A NamedTuple, not a frozen
    dataclass: one is built per firing tier per recorded minute (the figures the read model
    shows), and a frozen dataclass's __init__ costs about four times as much."""

    severity: str
    long_window: str
    short_window: str
    long_rate: float
    short_rate: float
    threshold: float

    @property
    def key(self) -> tuple[str, str, str, float]:
        return (self.severity, self.long_window, self.short_window, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity, "long_window": self.long_window, "short_window": self.short_window,
            "long_rate": self.long_rate, "short_rate": self.short_rate, "threshold": self.threshold,
        }


def burn_rate_exact(bad: int, total: int, allowed_error_rate: Fraction) -> Fraction | None:
    """(bad/total) / (1 - target), exactly; None when total is 0."""
    if total <= 0:
        return None
    return Fraction(bad, total) / allowed_error_rate


@lru_cache(maxsize=256)
def exact_threshold(threshold: float) -> Fraction:
    """A tier's threshold as the decimal written (14.4 -> 72/5), computed once per value."""
    return q(threshold)


def burn_rate_float(bad: int, total: int, allowed_error_rate: Fraction) -> float | None:
    """float((bad/total)/allowed) without building Fractions: one correctly rounded int division."""
    if total <= 0:
        return None
    return (bad * allowed_error_rate.denominator) / (total * allowed_error_rate.numerator)


def burn_reaches(bad: int, total: int, allowed_error_rate: Fraction, threshold: Fraction) -> bool:
    """(bad/total)/allowed >= threshold, exactly, by cross-multiplying integers
    (1.44% against 99.9% is exactly 14.4: 144*1000*5 >= 72*1*10000)."""
    if total <= 0:
        return False
    return (bad * allowed_error_rate.denominator * threshold.denominator
            >= threshold.numerator * allowed_error_rate.numerator * total)


def tier_check(tier: AlertTier, allowed_error_rate: Fraction) -> tuple[int, int]:
    """(a, c) such that a window's burn reaches the tier's threshold when bad * a >= c * total:
    `burn_reaches`'s products that do not depend on the counts, taken once per tier."""
    th = exact_threshold(tier.threshold)
    return allowed_error_rate.denominator * th.denominator, th.numerator * allowed_error_rate.numerator


def evaluate_tier_checks(
    counts: Mapping[str, tuple[int, int]], checks: Iterable[tuple[Any, ...]], allowed_error_rate: Fraction,
) -> tuple[Alert, ...]:
    """`evaluate_tiers` from (bad, total) per window label, in integers: the same alerts.
    `checks` starts each tier's entry with (tier, a, c), (a, c) from `tier_check`."""
    out = []
    for tier, a, c, *_ in checks:
        long_ = counts[tier.long_window]
        short = counts[tier.short_window]
        if long_[1] > 0 and short[1] > 0 and long_[0] * a >= c * long_[1] and short[0] * a >= c * short[1]:
            out.append(fired_alert(tier, short, long_, allowed_error_rate))
    return tuple(out)


def fired_alert(tier: AlertTier, short: tuple[int, int], long_: tuple[int, int], allowed_error_rate: Fraction) -> Alert:
    """The alert of a tier found firing, from its windows' (bad, total): each burn rate
    `burn_rate_float`'s one correctly rounded division."""
    ed, en = allowed_error_rate.denominator, allowed_error_rate.numerator
    (sb, st), (lb, lt) = short, long_
    return Alert(tier.severity, tier.long_window, tier.short_window, (lb * ed) / (lt * en), (sb * ed) / (st * en), tier.threshold)


def burn_rate_of(bad: int, total: int, target: float) -> float | None:
    """The plain formula, for callers holding counts: (bad/total)/(1-target)."""
    return fl(burn_rate_exact(bad, total, 1 - q(target)))


@lru_cache(maxsize=64)
def windows_needed(tiers: tuple[AlertTier, ...]) -> tuple[str, ...]:
    labels = list(STANDARD_WINDOWS)
    for t in tiers:
        for label in (t.long_window, t.short_window):
            if label not in labels:
                labels.append(label)
    return tuple(labels)


def evaluate_tiers(rates: Mapping[str, Fraction | None], tiers: Sequence[AlertTier]) -> tuple[Alert, ...]:
    """The tiers whose long and short rates both reach the threshold, in tier order."""
    out = []
    for t in tiers:
        lr, sr = rates[t.long_window], rates[t.short_window]
        th = q(t.threshold)
        if lr is not None and sr is not None and lr >= th and sr >= th:
            out.append(Alert(t.severity, t.long_window, t.short_window, float(lr), float(sr), t.threshold))
    return tuple(out)


def burn_rate(ledger: Any, at: datetime, window: str | timedelta) -> float | None:
    """Burn rate of a ledger's objective over `window` ending at `at`."""
    return ledger.burn_rate(at, window)


def active_alerts(ledger: Any, at: datetime, tiers: Iterable[Mapping[str, Any] | AlertTier] | None = None) -> list[Alert]:
    """Alerts firing at `at` under `tiers` (default: 14.4 1h/5m page, 6 6h/30m page, 1 3d/6h ticket)."""
    return list(ledger.status(at, tiers=parse_tiers(tiers)).alerts)
