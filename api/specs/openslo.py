"""OpenSLO in: `openslo/v1` (every kind), and `openslo/v1alpha` and `openslo.com/v2alpha`
where they map to v1, into the neutral model (`model.py`, whose docstring gives the
mapping to slogov's journeys, objectives, SLI definitions and tiers).

v1 is read strictly: an unknown field is an error with its place, since a typo
(`budgetMethod`) would otherwise change what gets negotiated. The alpha versions are read
leniently: what has no v1 equivalent is listed as "not carried", with its place.

  v1alpha   Service and SLO. `timeWindows[0]` {unit, count, isRolling, calendar} becomes a
            v1 time window; `indicator.thresholdMetric` {source, queryType, query} and the
            objectives' `ratioMetrics` {good, total, incremental} become SLIs named after
            the SLO (`<slo>` for one shared SLI, `<slo>-<n>` for an objective's own).
  v2alpha   as v1, with `sli`/`sliRef` for `indicator`/`indicatorRef` (on SLOs and
            objectives), metrics written without `metricSource`, `dataSourceRef` for
            `metricSourceRef`, and an inline `dataSourceSpec` of which only the type is
            carried. `BudgetAdjustment` is reported as not carried.

Inline objects (an SLO's `indicator`, an AlertPolicy's conditions and targets, an SLO's
alert policies) are hoisted into the set under their names; the SLO refers to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal

from domain.budget.calendar import Duration, parse_duration
from domain.budget.errors import BudgetInputError

from .builder import Builder
from .fields import Fields, duration_at, fraction_at, labels_at, meta_of, wall_clock
from domain.specs.model import (
    BUDGETING_METHODS,
    OPERATORS,
    RAW_TYPES,
    AlertCondition,
    AlertPolicy,
    DataSource,
    Meta,
    MetricSource,
    NotificationTarget,
    Objective,
    Params,
    RatioMetric,
    Service,
    Sli,
    Slo,
    TimeWindow,
)
from .yaml_source import Item

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
V2ALPHA = "openslo.com/v2alpha"
VERSIONS = (V1, V1ALPHA, V2ALPHA)
# Annotation on an AlertCondition carrying the multiwindow short window, which OpenSLO's
# burn-rate condition has no field for (Sloth's and the workbook's alerts have one).
SHORT_WINDOW = "slogov/short-window"
# Annotation on an SLO carrying its objectives' labels, which v1 objectives have no field
# for: canonical JSON, {"objective name": {"label": ["value", ...]}}.
OBJECTIVE_LABELS = "slogov/objective-labels"


@dataclass(frozen=True)
class Dialect:
    version: str
    strict: bool
    indicator: str  # the inline SLI field on SLOs and objectives
    indicator_ref: str


DIALECTS = {
    V1: Dialect(V1, True, "indicator", "indicatorRef"),
    V2ALPHA: Dialect(V2ALPHA, False, "sli", "sliRef"),
}


def read_object(item: Item, builder: Builder) -> None:
    """One OpenSLO object (its apiVersion already known to be OpenSLO's)."""
    fields = Fields(item, builder, strict=False)
    version = fields.req("apiVersion").scalar()
    kind = fields.req("kind").scalar()
    if version == V1ALPHA:
        read_v1alpha(item, builder, kind)
        return
    dialect = DIALECTS[version]
    readers = {
        "Service": read_service,
        "DataSource": read_data_source,
        "SLI": read_sli,
        "SLO": read_slo,
        "AlertPolicy": read_alert_policy,
        "AlertCondition": read_alert_condition,
        "AlertNotificationTarget": read_notification_target,
    }
    if kind not in readers:
        if dialect.strict:
            raise fields.req("kind").error(f"unknown kind {kind!r} for {version} (one of {', '.join(readers)})")
        builder.drop(item, f"kind {kind!r} of {version} has no place in slogov's model")
        return
    readers[kind](item, builder, dialect)


def _object_fields(item: Item, builder: Builder, dialect: Dialect) -> tuple[Fields, Meta, Fields]:
    """(the object's fields, its metadata, its spec's fields)."""
    fields = Fields(item, builder, strict=dialect.strict)
    fields.skip("apiVersion")
    fields.skip("kind")
    meta = meta_of(fields)
    spec = Fields(fields.req("spec"), builder, strict=dialect.strict)
    fields.done()
    return fields, meta, spec


def read_service(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    service = Service(meta, spec.text("description"))
    spec.done()
    return builder.add("Service", service, item)


def read_data_source(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    url = None
    details = spec.opt("connectionDetails")
    if details is not None:
        for key, value in details.mapping().items():
            if key in ("url", "address") and url is None:
                url = value.text()
            else:  # the key only: the value may be a secret and is never repeated
                builder.drop(value, "connection details other than the URL: slogov stores no secrets")
    source = DataSource(meta, spec.req("type").text(), spec.text("description"), url)
    spec.done()
    return builder.add("DataSource", source, item)


def read_sli(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    ratio, threshold = spec.opt("ratioMetric"), spec.opt("thresholdMetric")
    if (ratio is None) == (threshold is None):
        raise spec.item.error("exactly one of ratioMetric or thresholdMetric is required")
    sli = Sli(
        meta,
        spec.text("description"),
        ratio=_ratio(ratio, builder, dialect) if ratio is not None else None,
        threshold=_metric(threshold, builder, dialect) if threshold is not None else None,
    )
    spec.done()
    return builder.add("SLI", sli, item)


def _ratio(item: Item, builder: Builder, dialect: Dialect) -> RatioMetric:
    f = Fields(item, builder, strict=dialect.strict)
    parts = {p: _metric(f.opt(p), builder, dialect) if f.has(p) else None for p in ("good", "bad", "total", "raw")}
    raw_type = f.choice("rawType", RAW_TYPES)
    if parts["raw"] is not None:
        if any(parts[p] for p in ("good", "bad", "total")):
            raise item.error("raw cannot be used together with good, bad or total")
        if raw_type is None:
            raise f.missing("rawType")
    else:
        if (parts["good"] is None) == (parts["bad"] is None):
            raise item.error("exactly one of good or bad is required (or raw)")
        if parts["total"] is None:
            raise f.missing("total")
        if raw_type is not None:
            raise f.opt("rawType").error("rawType goes only with raw")  # type: ignore[union-attr]
    ratio = RatioMetric(counter=f.boolean("counter"), raw_type=raw_type, **parts)
    f.done()
    return ratio


def _metric(item: Item | None, builder: Builder, dialect: Dialect) -> MetricSource:
    assert item is not None
    if dialect.version == V1:
        outer = Fields(item, builder, strict=True)
        f = Fields(outer.req("metricSource"), builder, strict=True)
        outer.done()
        ref, kind = f.text("metricSourceRef"), f.text("type")
    else:  # v2alpha: no metricSource level; dataSourceRef, or an inline dataSourceSpec
        f = Fields(item, builder, strict=False)
        ref, kind = f.text("dataSourceRef"), None
        inline = f.opt("dataSourceSpec")
        if inline is not None:
            inline_fields = Fields(inline, builder, strict=False)
            kind = inline_fields.text("type")
            details = inline_fields.opt("connectionDetails")
            if details is not None:
                builder.drop(details, "an inline data source's connection details: slogov stores no secrets")
            inline_fields.done()
    if ref is None and kind is None:
        raise f.item.error("a metric needs a source: a reference to a DataSource or a type")
    spec = f.opt("spec")
    if spec is not None and not spec.is_mapping:
        raise spec.error("expected a mapping")
    source = MetricSource(ref, kind, Params.of(spec.plain()) if spec is not None else Params())
    f.done()
    return source


def read_slo(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    sli_ref = _indicator(spec, builder, dialect)
    budgeting = spec.choice("budgetingMethod", BUDGETING_METHODS)
    if budgeting is None:
        raise spec.missing("budgetingMethod")
    objectives = tuple(_objective(o, i, builder, dialect, budgeting) for i, o in enumerate(spec.req("objectives").sequence()))
    if not objectives:
        raise spec.req("objectives").error("at least one objective is required")
    _unique([o.name for o in objectives], spec.req("objectives"), "objective displayName")
    if sli_ref is None and any(o.sli_ref is None for o in objectives):
        raise spec.item.error(f"one of {dialect.indicator} or {dialect.indicator_ref} is required "
                              "(on the SLO, or on every objective of a composite SLO)")
    window = None
    windows = spec.opt("timeWindow")
    if windows is not None:
        items = windows.sequence()
        if len(items) != 1:
            raise windows.error(f"exactly one time window is required, got {len(items)}")
        window = _time_window(items[0], builder, dialect)
    policies = spec.opt("alertPolicies")
    meta, objectives = _objective_labels(meta, objectives, item)
    slo = Slo(
        meta,
        service=spec.req("service").text(),
        sli_ref=sli_ref,
        budgeting=budgeting,
        objectives=objectives,
        window=window,
        description=spec.text("description"),
        alert_policies=tuple(sorted(set(
            _inline_or_ref(p, builder, dialect, "alertPolicyRef", "AlertPolicy", read_alert_policy)
            for p in (policies.sequence() if policies is not None else [])))),
    )
    spec.done()
    return builder.add("SLO", slo, item)


def _objective_labels(meta: Meta, objectives: tuple[Objective, ...], item: Item) -> tuple[Meta, tuple[Objective, ...]]:
    """Objective labels from the SLO's annotation into the objectives they belong to."""
    annotations = dict(meta.annotations)
    text = annotations.pop(OBJECTIVE_LABELS, None)
    if text is None:
        return meta, objectives
    try:
        by_objective = json.loads(text)
        assert isinstance(by_objective, dict)
        labels = {name: tuple(sorted((k, tuple(sorted(set(map(str, v))))) for k, v in found.items()))
                  for name, found in by_objective.items()}
    except (ValueError, AssertionError, AttributeError, TypeError):
        raise item.error(f"annotation {OBJECTIVE_LABELS}: expected JSON like "
                         '{"objective": {"label": ["value"]}}') from None
    unknown = set(labels) - {o.name for o in objectives}
    if unknown:
        raise item.error(f"annotation {OBJECTIVE_LABELS} names no objective {sorted(unknown)[0]!r}")
    objectives = tuple(replace(o, labels=tuple(sorted({**dict(o.labels), **dict(labels.get(o.name, ()))}.items())))
                       for o in objectives)
    return replace(meta, annotations=tuple(sorted(annotations.items()))), objectives


def _indicator(f: Fields, builder: Builder, dialect: Dialect) -> str | None:
    inline, ref = f.opt(dialect.indicator), f.opt(dialect.indicator_ref)
    if inline is not None and ref is not None:
        raise ref.error(f"{dialect.indicator} and {dialect.indicator_ref} exclude each other")
    if inline is not None:
        return read_sli(inline, builder, dialect)
    return builder.ref("SLI", ref.text(), ref) if ref is not None else None


def _objective(item: Item, index: int, builder: Builder, dialect: Dialect, budgeting: str) -> Objective:
    f = Fields(item, builder, strict=dialect.strict)
    target, percent = f.opt("target"), f.opt("targetPercent")
    if (target is None) == (percent is None):
        raise item.error("exactly one of target or targetPercent is required")
    if target is not None:
        value = fraction_at(target)
    else:
        assert percent is not None
        p = percent.number()
        if not 0 < p < 100:
            raise percent.error(f"must lie in (0, 100), got {p!r}")
        value = float(Decimal(str(p)) / 100)  # 99.95 -> 0.9995 exactly as written
    slice_target, slice_window = f.opt("timeSliceTarget"), f.opt("timeSliceWindow")
    if budgeting == "Timeslices" and slice_target is None:
        raise f.missing("timeSliceTarget")
    if budgeting != "Timeslices" and slice_target is not None:
        raise slice_target.error(f"timeSliceTarget applies only to Timeslices, not {budgeting}")
    if budgeting != "Occurrences" and slice_window is None:
        raise f.missing("timeSliceWindow")
    if budgeting == "Occurrences" and slice_window is not None:
        raise slice_window.error("timeSliceWindow does not apply to Occurrences")
    op = f.choice("op", OPERATORS)
    threshold = f.number("value")
    if (op is None) != (threshold is None):
        raise item.error("op and value go together (threshold SLIs)")
    weight = f.number("compositeWeight")
    if weight is not None and not weight > 0:
        raise f.opt("compositeWeight").error(f"must be above 0, got {weight!r}")  # type: ignore[union-attr]
    objective = Objective(
        name=f.text("displayName") or f"objective-{index + 1}",
        target=value,
        op=op,
        value=float(threshold) if threshold is not None else None,
        time_slice_target=fraction_at(slice_target, high_open=False) if slice_target is not None else None,
        time_slice_window=_slice_window(slice_window) if slice_window is not None else None,
        composite_weight=float(weight) if weight is not None else None,
        sli_ref=_indicator(f, builder, dialect),
        labels=labels_at(f.opt("labels")) if not dialect.strict else (),
        origin=item.where,
    )
    f.done()
    return objective


def _slice_window(item: Item) -> Duration:
    """A duration, or a bare number of minutes (OpenSLO's default unit for it)."""
    value = item.scalar()
    if isinstance(value, str):
        return duration_at(item)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or value != int(value):
        raise item.error(f"expected a duration or a whole number of minutes, got {value!r}")
    return Duration(int(value), "m")


def _time_window(item: Item, builder: Builder, dialect: Dialect) -> TimeWindow:
    f = Fields(item, builder, strict=dialect.strict)
    duration = f.duration("duration")
    if duration is None:
        raise f.missing("duration")
    return _rolling_or_calendar(f, duration, f.req("duration"), builder)


def _rolling_or_calendar(f: Fields, duration: Duration, duration_item: Item, builder: Builder) -> TimeWindow:
    """The rest of a time window once its duration is read (v1, v2alpha and v1alpha alike)."""
    calendar = f.opt("calendar")
    rolling = f.boolean("isRolling", default=calendar is None)
    if rolling:
        if calendar is not None:
            raise calendar.error("a rolling window takes no calendar")
        if not duration.is_fixed:
            raise duration_item.error(f"a rolling window needs m, h, d or w; {duration} has no fixed length")
        f.done()
        return TimeWindow(duration, True, origin=f.item.where)
    if calendar is None:
        raise f.missing("calendar")
    c = Fields(calendar, builder, strict=f.strict)
    start = wall_clock(c.req("startTime"))
    zone_item = c.req("timeZone")
    window = TimeWindow(duration, False, start, zone_item.text(), origin=f.item.where)
    try:
        window.calendar()
    except BudgetInputError as e:
        raise zone_item.error(e.message) from None
    c.done()
    f.done()
    return window


def _inline_or_ref(item: Item, builder: Builder, dialect: Dialect, ref_key: str, kind: str, reader) -> str:  # type: ignore[no-untyped-def]
    fields = item.mapping()
    if ref_key in fields:
        f = Fields(item, builder, strict=dialect.strict)
        ref = f.req(ref_key)
        f.done()
        return builder.ref(kind, ref.text(), ref)
    if "kind" in fields and fields["kind"].scalar() != kind:
        raise fields["kind"].error(f"expected kind {kind}")
    return reader(item, builder, dialect)


def read_alert_policy(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    conditions = spec.req("conditions").sequence()
    if len(conditions) != 1:
        raise spec.req("conditions").error(f"an alert policy has exactly one condition, got {len(conditions)}")
    targets = spec.opt("notificationTargets")
    policy = AlertPolicy(
        meta,
        conditions=tuple(_inline_or_ref(c, builder, dialect, "conditionRef", "AlertCondition", read_alert_condition)
                         for c in conditions),
        targets=tuple(sorted(set(
            _inline_or_ref(t, builder, dialect, "targetRef", "AlertNotificationTarget", read_notification_target)
            for t in (targets.sequence() if targets is not None else [])))),
        when_breaching=bool(spec.boolean("alertWhenBreaching", default=True)),
        when_resolved=bool(spec.boolean("alertWhenResolved", default=False)),
        when_no_data=bool(spec.boolean("alertWhenNoData", default=False)),
        description=spec.text("description"),
    )
    spec.done()
    return builder.add("AlertPolicy", policy, item)


def read_alert_condition(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    c = Fields(spec.req("condition"), builder, strict=dialect.strict)
    c.choice("kind", ("burnrate",))  # the only kind, and the default
    op = c.choice("op", OPERATORS)
    if op is None:
        raise c.missing("op")
    threshold = c.req("threshold").number()
    if not threshold > 0:
        raise c.req("threshold").error(f"a burn rate above 0, got {threshold!r}")
    short = dict(meta.annotations).get(SHORT_WINDOW)
    short_window = None
    if short is not None:
        try:
            short_window = parse_duration(short)
        except BudgetInputError as e:
            raise item.error(f"annotation {SHORT_WINDOW}: {e.message}") from None
    after = c.opt("alertAfter")  # "0m", the spec's default, is no duration of ours: alert at once
    condition = AlertCondition(
        Meta(meta.name, meta.display_name, meta.labels,
             tuple(a for a in meta.annotations if a[0] != SHORT_WINDOW), meta.origin),
        severity=spec.req("severity").text(),
        op=op,
        threshold=float(threshold),
        lookback=duration_at(c.req("lookbackWindow")),
        alert_after=None if after is None or after.scalar() in (0, "0m", "0h") else duration_at(after),
        short_window=short_window,
        description=spec.text("description"),
    )
    c.done()
    spec.done()
    return builder.add("AlertCondition", condition, item)


def read_notification_target(item: Item, builder: Builder, dialect: Dialect) -> str:
    _, meta, spec = _object_fields(item, builder, dialect)
    target = NotificationTarget(meta, spec.req("target").text(), spec.text("description"))
    spec.done()
    return builder.add("AlertNotificationTarget", target, item)


def _unique(names: list[str], item: Item, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise item.error(f"{what} {name!r} appears twice; each objective needs its own name")
        seen.add(name)


# -- openslo/v1alpha -------------------------------------------------------------------

_V1ALPHA_UNITS = {"Minute": "m", "Hour": "h", "Day": "d", "Week": "w", "Month": "M", "Quarter": "Q", "Year": "Y"}


def read_v1alpha(item: Item, builder: Builder, kind: object) -> None:
    lenient = Dialect(V1ALPHA, False, "indicator", "indicatorRef")
    if kind == "Service":
        read_service(item, builder, lenient)
        return
    if kind != "SLO":
        raise Fields(item, builder, strict=False).req("kind").error(
            f"openslo/v1alpha has the kinds Service and SLO, got {kind!r}")
    _, meta, spec = _object_fields(item, builder, lenient)
    budgeting = spec.choice("budgetingMethod", ("Occurrences", "Timeslices"))
    if budgeting is None:
        raise spec.missing("budgetingMethod")
    shared = None
    indicator = spec.opt("indicator")
    if indicator is not None:
        f = Fields(indicator, builder, strict=False)
        shared = _alpha_metric(f.req("thresholdMetric"), builder)
        f.done()
    objectives_item = spec.req("objectives")
    ratios: list[RatioMetric | None] = []
    objectives = []
    for o in objectives_item.sequence():
        f = Fields(o, builder, strict=False)
        ratio_item = f.opt("ratioMetrics")
        ratios.append(_alpha_ratio(ratio_item, builder) if ratio_item is not None else None)
        # the v1 reader reads the rest; ratioMetrics is consumed here
        objectives.append((o, f))
    distinct = {r for r in ratios if r is not None}
    if shared is None and not distinct:
        raise spec.item.error("an SLO needs indicator.thresholdMetric or objectives[].ratioMetrics")
    if shared is not None and distinct:
        raise objectives_item.error("indicator and objectives' ratioMetrics exclude each other")
    name = meta.name
    slo_sli = None
    if shared is not None:
        slo_sli = builder.add("SLI", Sli(Meta(name, origin=meta.origin), threshold=shared), spec.item)
    elif len(distinct) == 1 and None not in ratios:
        slo_sli = builder.add("SLI", Sli(Meta(name, origin=meta.origin), ratio=distinct.pop()), spec.item)
    read = []
    for i, ((o, f), ratio) in enumerate(zip(objectives, ratios)):
        obj = _objective_v1alpha(o, i, f, builder, budgeting)
        if slo_sli is None:
            if ratio is None:
                raise o.missing("ratioMetrics")
            own = builder.add("SLI", Sli(Meta(f"{name}-{i + 1}", origin=meta.origin), ratio=ratio), o)
            obj = Objective(obj.name, obj.target, obj.op, obj.value, obj.time_slice_target,
                            obj.time_slice_window, None, own, origin=obj.origin)
        read.append(obj)
    _unique([o.name for o in read], objectives_item, "objective displayName")
    windows = spec.opt("timeWindows")
    window = None
    if windows is not None:
        items = windows.sequence()
        if len(items) != 1:
            raise windows.error(f"exactly one time window is required, got {len(items)}")
        window = _alpha_window(items[0], builder)
    slo = Slo(meta, spec.req("service").text(), slo_sli, budgeting, tuple(read), window, spec.text("description"))
    spec.done()
    builder.add("SLO", slo, item)


def _objective_v1alpha(item: Item, index: int, f: Fields, builder: Builder, budgeting: str) -> Objective:
    target = fraction_at(f.req("target"))
    slice_target = f.opt("timeSliceTarget")
    if budgeting == "Timeslices" and slice_target is None:
        raise f.missing("timeSliceTarget")
    op, value = f.choice("op", OPERATORS), f.number("value")
    slice_window = f.opt("timeSliceWindow")
    if budgeting == "Timeslices" and slice_window is None:
        # v1alpha had no slice length; slogov measures by the minute, so a slice is one.
        builder.drop(item, "v1alpha has no timeSliceWindow: a slice is taken as 1m")
    objective = Objective(
        name=f.text("displayName") or f"objective-{index + 1}",
        target=target,
        op=op,
        value=float(value) if value is not None else None,
        time_slice_target=fraction_at(slice_target, high_open=False) if slice_target is not None else None,
        time_slice_window=(_slice_window(slice_window) if slice_window is not None else Duration(1, "m"))
        if budgeting == "Timeslices" else None,
        origin=item.where,
    )
    f.done()
    return objective


def _alpha_metric(item: Item, builder: Builder) -> MetricSource:
    f = Fields(item, builder, strict=False)
    source = f.req("source").text()
    spec = {"query": f.req("query").text()}
    query_type = f.text("queryType")
    if query_type is not None:
        spec["queryType"] = query_type
    f.done()
    return MetricSource(None, source, Params.of(spec))


def _alpha_ratio(item: Item, builder: Builder) -> RatioMetric:
    f = Fields(item, builder, strict=False)
    ratio = RatioMetric(
        counter=f.boolean("incremental"),
        good=_alpha_metric(f.req("good"), builder),
        total=_alpha_metric(f.req("total"), builder),
    )
    f.done()
    return ratio


def _alpha_window(item: Item, builder: Builder) -> TimeWindow:
    f = Fields(item, builder, strict=False)
    unit_item = f.req("unit")
    unit = _V1ALPHA_UNITS.get(unit_item.scalar())
    if unit is None:
        raise unit_item.error(f"a unit slogov can measure: one of {', '.join(_V1ALPHA_UNITS)}")
    count = f.req("count").number()
    if count != int(count) or count < 1:
        raise f.req("count").error(f"a positive whole number, got {count!r}")
    return _rolling_or_calendar(f, Duration(int(count), unit), unit_item, builder)
