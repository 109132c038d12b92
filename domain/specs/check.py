"""What the spec tools do not check, on the neutral model (pure: no I/O, no clock).

  CEILING         an objective's target above what its dependencies allow: a journey that
                  needs every critical dependency can do no better than the product of
                  their targets (the domain's `composite_check`; slogov flags the same in
                  negotiation). The dependency targets are given by the caller, keyed by
                  the SLO's service (an OpenSLO Service is a journey of one: see model.py).
  RESOLUTION      a window, slice or alert window the data cannot measure. slogov's data
                  comes in intervals of the resolution (one minute): a slice shorter than
                  that or not a whole number of them has no data of its own; a rolling
                  window that is not a whole number of slices ends mid-slice; a calendar
                  period that is not (a DST day is 23 or 25 hours, so a month of 1-day
                  slices is not); a calendar start off the minute; an alert window shorter
                  than the resolution or longer than the SLO's window.
  UNKNOWN_SOURCE  an SLI whose metric names a data source that neither the specs nor slogov
                  know, or names none and has no default to fall back on (counts pushed
                  to slogov, `type: slogov`, need none).

`check` returns findings, it refuses nothing: an import shows them beside its plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Mapping

from domain.budget.calendar import Duration
from domain.budget.composite import composite_check

from .model import PUSHED, Slo, SpecSet, Where

CEILING = "CEILING"
RESOLUTION = "RESOLUTION"
UNKNOWN_SOURCE = "UNKNOWN_SOURCE"
# How many calendar periods from the start are checked for a whole number of slices: two
# years of months covers both DST changes and a leap year's February.
CALENDAR_PERIODS_CHECKED = 24


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    code: str
    subject: str  # e.g. "SLO checkout-availability, objective sla"
    message: str
    where: Where | None = None

    def __str__(self) -> str:
        place = f" ({self.where})" if self.where else ""
        return f"{self.code}: {self.subject}: {self.message}{place}"


def check(
    specs: SpecSet,
    *,
    dependency_targets: Mapping[str, Mapping[str, float]] | None = None,
    known_sources: Collection[str] = (),
    default_source: str | None = None,
    resolution: Duration = Duration(1, "m"),
) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for slo in specs.slos:
        findings += _ceilings(slo, (dependency_targets or {}).get(slo.service, {}))
        findings += _resolution(slo, specs, resolution)
    findings += _sources(specs, set(known_sources), default_source)
    return tuple(sorted(findings, key=lambda f: (f.code, f.subject, f.message)))


def _ceilings(slo: Slo, dependencies: Mapping[str, float]) -> list[Finding]:
    if not dependencies:
        return []
    out = []
    for objective in slo.objectives:
        feasible, ceiling = composite_check(objective.target, dependencies)
        if not feasible:
            names = ", ".join(f"{name} {target}" for name, target in sorted(dependencies.items()))
            out.append(Finding(CEILING, f"SLO {slo.meta.name}, objective {objective.name}",
                               f"target {objective.target} is above {ceiling:.10g}, the most its dependencies "
                               f"allow ({names})", slo.meta.origin))
    return out


def _resolution(slo: Slo, specs: SpecSet, resolution: Duration) -> list[Finding]:
    out: list[Finding] = []
    step = resolution.minutes
    subject = f"SLO {slo.meta.name}"

    def flag(what: str, message: str) -> None:
        out.append(Finding(RESOLUTION, f"{subject}{what}", message, slo.meta.origin))

    window = slo.window
    if window is not None and window.duration.is_fixed and window.duration.minutes < step:
        flag("", f"the window {window.duration} is shorter than the data's resolution, {resolution}")
    if window is not None and not window.rolling and window.start is not None and (
            window.start.second or window.start.microsecond or (window.start.minute % step if step <= 60 else 0)):
        flag("", f"the calendar start {window.start} is not on a {resolution} boundary")
    for objective in slo.objectives:
        slice_ = objective.time_slice_window
        if slice_ is None:
            continue
        what = f", objective {objective.name}"
        minutes = slice_.minutes
        if minutes < step or minutes % step:
            flag(what, f"a slice of {slice_} is not a whole number of the data's {resolution} intervals")
            continue
        if window is None:
            continue
        if window.rolling:
            if window.duration.minutes % minutes:
                flag(what, f"the window {window.duration} is not a whole number of {slice_} slices")
            continue
        calendar = window.calendar()
        for k in range(CALENDAR_PERIODS_CHECKED):
            start, end = calendar.period(k)
            length = (end - start).total_seconds() / 60
            if length % minutes:
                flag(what, f"the calendar period from {start.isoformat()} lasts {length:g} minutes, "
                           f"not a whole number of {slice_} slices")
                break
    policies = {p.meta.name: p for p in specs.alert_policies}
    conditions = {c.meta.name: c for c in specs.alert_conditions}
    for policy_name in slo.alert_policies:
        for condition_name in policies[policy_name].conditions if policy_name in policies else ():
            condition = conditions.get(condition_name)
            if condition is None:
                continue
            for label, d in (("lookback", condition.lookback), ("short window", condition.short_window)):
                if d is None:
                    continue
                if d.minutes < step or d.minutes % step:
                    flag(f", alert {condition_name}", f"the {label} {d} is not a whole number of {resolution} intervals")
                elif window is not None and window.duration.is_fixed and d.minutes > window.duration.minutes:
                    flag(f", alert {condition_name}", f"the {label} {d} is longer than the window {window.duration}")
    return out


def _sources(specs: SpecSet, known: set[str], default: str | None) -> list[Finding]:
    defined = {s.meta.name for s in specs.data_sources}
    out = []
    for sli in specs.slis:
        for part, metric in sli.sources():
            subject = f"SLI {sli.meta.name}, {part}"
            if metric.type == PUSHED:  # counts pushed to slogov: no source to query
                continue
            if metric.source_ref is not None:
                if metric.source_ref not in defined and metric.source_ref not in known:
                    out.append(Finding(UNKNOWN_SOURCE, subject,
                                       f"data source {metric.source_ref!r} is defined neither in the specs nor in slogov",
                                       sli.meta.origin))
            elif default is None:
                out.append(Finding(UNKNOWN_SOURCE, subject,
                                   f"names no data source (only the type {metric.type}), and no default is set",
                                   sli.meta.origin))
    return out
