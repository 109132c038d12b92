"""How the spec model maps to slogov's journeys and objectives, both ways (pure).

  Service        a journey of the same id, "a service of one": proposed, prioritized and
                 depending critically on the service itself, so the deploy gate judges a
                 deploy of the service against its SLOs. An existing journey of that id is
                 used as it is (slogov's own journeys, with several dependencies, export as
                 Services and import back onto themselves).
  SLO objective  an objective of the Service's journey. Its id is the SLO's name when the
                 SLO has one objective, else `<slo>__<objective>` (the objective's
                 displayName, lower-cased, other characters than a-z 0-9 . - as '-'):
                 OpenSLO names are DNS labels and never hold '__', so an export finds the
                 SLO again. The objective's name is its displayName.
  SLI            an SLI whose metrics are all `type: slogov` is an SLI kind of slogov's
                 (its `spec` says which: kind, thresholdMs, metric, threshold,
                 thresholdSeconds): its good and total counts are pushed to slogov
                 (recordObservations). An export writes every SLI in that form. Any other
                 ratio SLI is an availability SLI; a threshold SLI compared with lt/lte is a
                 latency SLI whose value is in seconds (Prometheus' unit), with gt/gte a
                 quality SLI of a value in [0, 1]. The SLO's description is the SLI's.
  timeWindow     a rolling window of any fixed length (m, h, d, w; at most 366 days), a
                 calendar window of any duration up to a year (a week, a month, a quarter,
                 a year) from its start time in its IANA zone. A window slogov cannot
                 carry (a rolling window over 366 days, a calendar period over a year) is
                 refused with its place.
  budgeting      Occurrences; Timeslices and RatioTimeslices with a slice of 1 to 60 whole
                 minutes.
  alerts         each condition of the SLO's alert policies is a burn-rate tier (severity,
                 lookback = long window, `slogov/short-window` or a twelfth of the long
                 window, threshold); op must be gt or gte.
  notification   an alert policy's notificationTargets are its tier's, on each objective of
  targets        the SLO (name, displayName, target, description): who the tier notifies.
                 An export writes one alert policy per tier with that tier's targets.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from domain.budget.burn import AlertTier
from domain.errors import InvalidInput
from domain.promql import counters_promql, parse_counters
from domain.budget.calendar import Duration, parse_duration
from domain.budget.errors import BudgetInputError
from domain.budget.windows import parse_window
from domain.budget.instants import canonical_label, parse_duration as parse_label
from domain.labels import Annotation, Label
from domain.monitoring import tier_key
from domain.objective import SLI, AlertRoute, Budgeting, NotificationTarget, Window
from domain.objective import notifications

from .model import PUSHED, AlertCondition, Annotations, Labels, Meta, MetricSource, Objective, Params, RatioMetric, Slo, SpecSet, TimeWindow, Where

SEPARATOR = "__"
CALENDAR_START = datetime(2020, 1, 1)  # a month's and a quarter's first day, for exports
CALENDAR_ZONE = "UTC"
MAX_ROLLING_DAYS = 90  # slogov's `days` form; longer rolling windows keep their duration
MAX_SLICE_MINUTES = 60
_SLUG = re.compile(r"[^a-z0-9.-]+")


class MappingError(ValueError):
    """A spec that slogov cannot carry, with its place."""

    def __init__(self, where: Where | None, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


def at(slo: Slo, path: str) -> Where | None:
    """A place inside an SLO object (its line is the object's): `path` under an OpenSLO SLO
    (a document, or an item of a document's list); a Sloth SLO's own place."""
    origin = slo.meta.origin
    if origin is None:
        return None
    if origin.path and not (origin.path.startswith("[") and "." not in origin.path):
        return origin  # a Sloth SLO: its fields do not follow OpenSLO's paths
    return Where(origin.file, origin.document, f"{origin.path}.{path}" if origin.path else path, origin.line)


# --- ids ---------------------------------------------------------------------------------


def objective_id(slo: Slo, objective: Objective) -> str:
    return objective_ids(slo, objective)[0]


def objective_ids(slo: Slo, objective: Objective) -> tuple[str, ...]:
    """The id a new objective gets, then the other it may already have: an export of an SLO
    with only some objectives agreed holds one of them, which keeps its `<slo>__<x>` id."""
    slug = _SLUG.sub("-", objective.name.lower()).strip("-") or "objective"
    long = f"{slo.meta.name}{SEPARATOR}{slug}"
    return (slo.meta.name, long) if len(slo.objectives) == 1 else (long,)


def slo_name(objective_id_: str) -> str:
    return objective_id_.split(SEPARATOR, 1)[0]


# --- labels and annotations -------------------------------------------------------------

PROVENANCE = "slogov/"  # an export's annotations say where it came from, not what the spec says


def labels(*sources: Labels) -> tuple[Label, ...]:
    """The spec's labels (several sources merged: an SLO's, then its objective's) as slogov's."""
    merged: dict[str, set[str]] = {}
    for source in sources:
        for key, values in source:
            merged.setdefault(key, set()).update(values)
    return tuple(Label(k, v) for k in sorted(merged) for v in sorted(merged[k]))


def spec_labels(pairs: tuple[Label, ...]) -> Labels:
    merged: dict[str, list[str]] = {}
    for label in pairs:
        merged.setdefault(label.key, []).append(label.value)
    return tuple((k, tuple(sorted(v))) for k, v in sorted(merged.items()))


def annotations(source: Annotations) -> tuple[Annotation, ...]:
    """The spec's annotations as slogov keeps them, less an export's provenance."""
    return tuple(Annotation(k, v) for k, v in sorted(source) if not k.startswith(PROVENANCE))


def spec_annotations(pairs: tuple[Annotation, ...]) -> Annotations:
    return tuple((a.key, a.value) for a in sorted(pairs))


# --- window and budgeting ----------------------------------------------------------------


def window_of(slo: Slo) -> Window:
    """The file's window as slogov's: a rolling window of whole days keeps slogov's `days`
    form (up to 90 days), any other rolling length (m, h, w, longer) its duration; a calendar window its duration,
    start and zone as written (a month from its first day at 00:00 UTC is the calendar month
    it always was: `same_window` says so)."""
    w = slo.window
    if w is None:
        raise MappingError(at(slo, "spec.timeWindow"), "a time window is required")
    where = w.origin or at(slo, "spec.timeWindow[0]")
    if w.rolling and w.duration.unit == "d" and w.duration.count <= MAX_ROLLING_DAYS:
        window = Window("rolling", days=w.duration.count)
    elif w.rolling:
        window = Window("rolling", duration=str(w.duration))
    elif w.start is None or w.zone is None:
        raise MappingError(where, "a calendar window needs a start time and a time zone")
    else:
        window = Window("calendar", duration=str(w.duration), start=w.start.isoformat(), time_zone=w.zone)
    try:
        parse_window(window.budget_window())  # the budget's rules say what a window may be
        return window
    except BudgetInputError as e:
        kind = "rolling" if w.rolling else "calendar"
        raise MappingError(where, f"a {kind} window of {w.duration} is not carried: {e.message}") from None


def time_window(window: Window) -> TimeWindow:
    if window.kind == "rolling":
        if window.days is not None:
            return TimeWindow(Duration(window.days, "d"), True)
        return TimeWindow(parse_duration(window.duration), True)
    if window.kind == "calendar":
        assert window.start is not None and window.time_zone is not None
        return TimeWindow(parse_duration(window.duration), False, datetime.fromisoformat(window.start), window.time_zone)
    unit = "M" if window.kind == "calendar_month" else "Q"
    return TimeWindow(Duration(1, unit), False, CALENDAR_START, CALENDAR_ZONE)


# Instants two calendar windows' periods are compared at: across years, month ends, a leap
# day and DST changes, so windows that agree on all of them have the same periods.
_PROBES = tuple(int(datetime(y, m, d, h, tzinfo=timezone.utc).timestamp()) * 1_000_000
                for y, m, d, h in ((2000, 1, 15, 0), (2019, 12, 31, 23), (2024, 2, 29, 12), (2025, 3, 30, 1),
                                   (2025, 10, 26, 1), (2026, 1, 31, 12), (2026, 5, 1, 0), (2026, 11, 2, 6),
                                   (2027, 7, 4, 18), (2031, 9, 30, 23)))


def same_window(a: Window, b: Window) -> bool:
    """Whether two windows measure the same: rolling windows of one length (28d, `days: 28`
    and 4w), calendar windows whose periods agree (the calendar month, and a month from any
    month's first day at 00:00 UTC)."""
    if a == b:
        return True
    x, y = parse_window(a.budget_window()), parse_window(b.budget_window())
    if "rolling" in (a.kind, b.kind):
        return a.kind == b.kind and x.shortest == y.shortest
    return all(x.bounds_us(t) == y.bounds_us(t) for t in _PROBES)


def budgeting_of(slo: Slo, index: int, objective: Objective) -> Budgeting:
    where = objective.origin or at(slo, f"spec.objectives[{index}]")
    if slo.budgeting == "Occurrences":
        return Budgeting("occurrences")
    if slo.budgeting in ("Timeslices", "RatioTimeslices"):
        slice_ = objective.time_slice_window
        if slice_ is None or not slice_.is_fixed or not 1 <= slice_.minutes <= MAX_SLICE_MINUTES:
            raise MappingError(where, f"a time slice of {slice_} is not carried: slogov's slices are 1 to "
                                      f"{MAX_SLICE_MINUTES} whole minutes")
        if slo.budgeting == "RatioTimeslices":  # each slice spends its bad share: no threshold
            return Budgeting("ratio_timeslices", slice_.minutes)
        return Budgeting("timeslices", slice_.minutes, objective.time_slice_target)
    raise MappingError(at(slo, "spec.budgetingMethod"), f"{slo.budgeting} budgeting is not carried")


def budgeting_fields(budgeting: Budgeting) -> tuple[str, float | None, Duration | None]:
    """(OpenSLO budgetingMethod, timeSliceTarget, timeSliceWindow)."""
    if budgeting.method in ("timeslices", "ratio_timeslices"):
        assert budgeting.slice_minutes is not None
        method = "Timeslices" if budgeting.method == "timeslices" else "RatioTimeslices"
        return method, budgeting.slice_threshold, Duration(budgeting.slice_minutes, "m")
    return "Occurrences", None, None


# --- SLIs --------------------------------------------------------------------------------

_KIND_FIELDS = (("thresholdMs", "threshold_ms"), ("metric", "metric"), ("threshold", "threshold"),
                ("thresholdSeconds", "threshold_seconds"))


def sli_of(specs: SpecSet, slo: Slo, index: int, objective: Objective) -> SLI:
    name = objective.sli_ref or slo.sli_ref
    sli = specs.sli(name) if name is not None else None
    where = objective.origin or at(slo, f"spec.objectives[{index}]")
    if sli is None:
        raise MappingError(where, f"SLI {name!r} is not defined")
    description = (slo.description or "").strip() or None  # as the objective keeps it
    parts = [m for _, m in sli.sources()]
    if parts and all(m.type == PUSHED for m in parts):
        spec = parts[0].spec
        fields = {ours: spec.get(theirs) for theirs, ours in _KIND_FIELDS}
        return SLI(str(spec.get("kind", "availability")), description=description, **fields)
    if sli.ratio is not None:
        return SLI("availability", description=description)
    op, value = objective.op, objective.value
    if value is None:
        raise MappingError(where, "a threshold SLI needs op and value on its objective")
    if op in ("lt", "lte"):
        return SLI("latency", threshold_ms=round(value * 1000, 6), description=description)
    if not 0 <= value <= 1:
        raise MappingError(where, f"a threshold SLI compared with {op} is a quality SLI, whose value lies in [0, 1]")
    return SLI("quality", metric=sli.meta.name, threshold=value, description=description)


def pushed_metric(sli: SLI, count: str) -> MetricSource:
    spec: dict[str, Any] = {"kind": sli.kind, "counts": count}
    for theirs, ours in _KIND_FIELDS:
        value = getattr(sli, ours)
        if value is not None:
            spec[theirs] = value
    return MetricSource(None, PUSHED, Params.of(spec))


def pushed_ratio(sli: SLI) -> RatioMetric:
    return RatioMetric(good=pushed_metric(sli, "good"), total=pushed_metric(sli, "total"))


# --- alert tiers -------------------------------------------------------------------------


def tier_of(slo: Slo, condition: AlertCondition) -> AlertTier:
    where = condition.meta.origin or slo.meta.origin
    if condition.op not in ("gt", "gte"):
        raise MappingError(where, f"alert condition {condition.meta.name}: a burn-rate tier fires at or above "
                                  f"its threshold (op gt or gte), not {condition.op}")
    try:
        long = canonical_label(condition.lookback.to_timedelta(), "lookbackWindow")
        short = condition.short_window
        # Without one, the workbook's ratio: a twelfth of the long window, in whole minutes.
        twelfth = max(timedelta(minutes=1), (parse_label(long) / 12) // timedelta(minutes=1) * timedelta(minutes=1))
        short_label = canonical_label(short.to_timedelta() if short else twelfth, "short window")
        return AlertTier(condition.severity, long, short_label, condition.threshold)
    except BudgetInputError as e:
        raise MappingError(where, f"alert condition {condition.meta.name}: {e.message}") from None


def tiers_of(specs: SpecSet, slo: Slo) -> tuple[AlertTier, ...] | None:
    """The SLO's alert policies' conditions as tiers, sorted; None when it names none."""
    if not slo.alert_policies:
        return None
    policies = {p.meta.name: p for p in specs.alert_policies}
    conditions = {c.meta.name: c for c in specs.alert_conditions}
    tiers = {tier_of(slo, conditions[c]).key: tier_of(slo, conditions[c])
             for p in slo.alert_policies for c in policies[p].conditions}
    return tuple(tiers[k] for k in sorted(tiers))


def routes_of(specs: SpecSet, slo: Slo) -> tuple[AlertRoute, ...] | None:
    """The SLO's alert policies' notification targets, per tier (the policy's condition's),
    in the domain's normal form; None when it names no alert policies."""
    if not slo.alert_policies:
        return None
    policies = {p.meta.name: p for p in specs.alert_policies}
    conditions = {c.meta.name: c for c in specs.alert_conditions}
    found = {t.meta.name: t for t in specs.notification_targets}
    routes: dict[str, dict[str, NotificationTarget]] = {}
    for name in slo.alert_policies:
        policy = policies[name]
        for c in policy.conditions:
            key = tier_key(tier_of(slo, conditions[c]))
            for target in (found[t] for t in policy.targets):
                ours = NotificationTarget(target.meta.name, target.target, target.meta.display_name, target.description)
                try:  # each on its own first, to name its place
                    notifications.routes_of((AlertRoute(key, (ours,)),))
                except InvalidInput as e:
                    field = str(e.details.get("field", "")).rsplit(".", 1)[-1]
                    path = _TARGET_FIELDS.get(field, "")
                    message = e.message.removeprefix(f"{e.details.get('field')}: ").removeprefix(
                        f"{e.details.get('field')} ")
                    raise MappingError(_inside(target.meta.origin, path),
                                       f"AlertNotificationTarget {target.meta.name}: {message}") from None
                routes.setdefault(key, {})[target.meta.name] = ours
    try:
        return notifications.routes_of(tuple(AlertRoute(k, tuple(v.values())) for k, v in routes.items()))
    except InvalidInput as e:
        raise MappingError(slo.meta.origin, f"notification targets: {e.message}") from None


_TARGET_FIELDS = {"name": "metadata.name", "display_name": "metadata.displayName", "target": "spec.target",
                  "description": "spec.description"}


def _inside(origin: Where | None, path: str) -> Where | None:
    """A field's place inside an object read at `origin` (its line is the object's)."""
    if origin is None or not path:
        return origin
    return Where(origin.file, origin.document, f"{origin.path}.{path}" if origin.path else path, origin.line)


def tier_condition(slo: str, tier: AlertTier) -> AlertCondition:
    name = f"{slo}-{tier.severity}-{tier.long_window}-{tier.short_window}".lower()
    return AlertCondition(Meta(name), severity=tier.severity, op="gte", threshold=tier.threshold,
                          lookback=_duration(tier.long_window), alert_after=None,
                          short_window=_duration(tier.short_window))


def _duration(label: str) -> Duration:
    minutes = parse_label(label) // timedelta(minutes=1)
    for unit, size in (("d", 1440), ("h", 60), ("m", 1)):
        if minutes % size == 0:
            return Duration(minutes // size, unit)
    raise AssertionError("unreachable")


# --- Prometheus queries as counters ------------------------------------------------------

# `sum(rate(SEL[RANGE]))`, `sum by (x) (increase(SEL[RANGE]))`, `rate(SEL[RANGE])`: the
# shapes spec files write a ratio's parts in, around the counter slogov reads itself.
_SUM_OPEN = re.compile(r"\s*sum\s*(?:(?:by|without)\s*\([^()]*\)\s*)?\(")


def counter_expression(query: str) -> str | None:
    """The counter selectors (`a{x="y"}`, or several joined by `or`) a ratio part counts, in
    slogov's canonical form, or None when the query is something else (arithmetic, a
    recording rule of a ratio, a histogram quantile): slogov differences counters itself."""
    text = query.strip()
    wrapped = _unwrap(text)
    try:
        return counters_promql(parse_counters(wrapped if wrapped is not None else text, "query"))
    except InvalidInput:
        return None


def _unwrap(text: str) -> str | None:
    """SEL from `[sum[ by (...)](]rate|increase|irate(SEL[RANGE])[)]`."""
    summed = _SUM_OPEN.match(text)
    inner = text
    if summed is not None:
        if not text.endswith(")"):
            return None
        inner = text[summed.end():-1].strip()
    for fn in ("rate", "increase", "irate"):
        if inner.startswith(fn) and inner.endswith(")"):
            body = inner[len(fn):].lstrip()
            if not body.startswith("("):
                return None
            body = body[1:-1].strip()
            if body.endswith("]") and "[" in body:
                return body[:body.rindex("[")].strip()
    return None


def definition_of(specs: SpecSet, slo: Slo, objective: Objective, budgeting: Budgeting) -> dict[str, Any] | None:
    """The SLI definition (`domain.sli_definition`'s plain form) of a ratio SLI whose parts are
    Prometheus counters read from one named data source; None when it is not one (pushed
    counts, a threshold SLI, a precomputed ratio, a query that is not a counter's rate)."""
    name = objective.sli_ref or slo.sli_ref
    sli = specs.sli(name) if name is not None else None
    if sli is None or sli.ratio is None:
        return None
    parts = dict(sli.ratio.sources())
    refs = {m.source_ref for m in parts.values()}
    if "raw" in parts or len(refs) != 1 or None in refs:
        return None
    source = specs.data_source(next(iter(refs)))  # type: ignore[arg-type]
    if any((m.type or (source.type if source else "Prometheus")).lower() != "prometheus" for m in parts.values()):
        return None
    out: dict[str, Any] = {"kind": "ratio", "source": next(iter(refs)), "series": "sum"}
    for part, metric in parts.items():
        counter = counter_expression(metric.query) if metric.query else None
        if counter is None:
            return None
        out[part] = counter
    if budgeting.method == "timeslices":
        out["slice"] = {"minutes": budgeting.slice_minutes, "good_ratio": budgeting.slice_threshold}
    return out
