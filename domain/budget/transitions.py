"""Transitions the ledger derives, by comparing the status before and after a change.

`transitions(before, after)` returns, in this fixed order:
  1. budget_exhausted | budget_recovered     (exhausted flipped)
  2. burn_rate_alert_cleared                 (one per tier no longer firing, in `before`'s tier order)
  3. burn_rate_alert_raised                  (one per tier newly firing, in `after`'s tier order)
  4. observations_stale | observations_fresh (stale flipped)
`before` may be None (nothing known yet: not exhausted, no alerts, not stale).
Details are JSON-safe (ISO times, floats). Both statuses are computed at one instant of data time
(the latest data or event), never at a wall clock, so replaying the log gives the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from .burn import Alert
from .status import Status

BUDGET_EXHAUSTED = "budget_exhausted"
BUDGET_RECOVERED = "budget_recovered"
ALERT_RAISED = "burn_rate_alert_raised"
ALERT_CLEARED = "burn_rate_alert_cleared"
OBSERVATIONS_STALE = "observations_stale"
OBSERVATIONS_FRESH = "observations_fresh"


@dataclass(frozen=True)
class Transition:
    kind: str
    detail: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "detail": dict(self.detail)}


def _budget_detail(s: Status) -> dict[str, Any]:
    return {
        "at": s.at.isoformat(),
        "window_start": s.window_start.isoformat(),
        "window_end": s.window_end.isoformat(),
        "remaining": s.remaining,
        "consumed": s.consumed,
        "allowed_bad": s.allowed_bad,
        "spent": s.spent,
    }


class DerivedFlags(NamedTuple):
    """What the stream last derived: all `transitions` reads of `before`."""

    exhausted: bool
    alerts: tuple[Alert, ...]
    stale: bool


def transitions(before: Status | DerivedFlags | None, after: Status) -> list[Transition]:
    out: list[Transition] = []
    was_exhausted = before.exhausted if before is not None else False
    if after.exhausted != was_exhausted:
        out.append(Transition(BUDGET_EXHAUSTED if after.exhausted else BUDGET_RECOVERED, _budget_detail(after)))

    before_alerts = {a.key: a for a in (before.alerts if before is not None else ())}
    after_alerts = {a.key: a for a in after.alerts}
    for key, a in before_alerts.items():
        if key not in after_alerts:
            out.append(Transition(ALERT_CLEARED, {
                "at": after.at.isoformat(),
                "severity": a.severity, "long_window": a.long_window, "short_window": a.short_window,
                "threshold": a.threshold,
                "long_rate": after.burn_rates.get(a.long_window),
                "short_rate": after.burn_rates.get(a.short_window),
            }))
    for key, a in after_alerts.items():
        if key not in before_alerts:
            out.append(Transition(ALERT_RAISED, {"at": after.at.isoformat(), **a.to_dict()}))

    was_stale = before.stale if before is not None else False
    if after.stale != was_stale:
        out.append(Transition(OBSERVATIONS_STALE if after.stale else OBSERVATIONS_FRESH, {
            "at": after.at.isoformat(),
            "last_observation_end": after.last_observation_end.isoformat() if after.last_observation_end else None,
            "stale_after_seconds": after.stale_after.total_seconds(),
        }))
    return out
