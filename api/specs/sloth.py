"""Sloth in: the `prometheus/v1` spec file and the `sloth.slok.dev/v1`
PrometheusServiceLevel CRD (the same fields in camelCase), into the neutral model.

  service (+ labels)     a Service; its labels go on every SLO too, as Sloth does
  slos[].name            an SLO named `<service>-<name>` (Sloth's own SLO id), with one
                         objective named after it; `objective` (a percent) is the target
  sli.events             a ratio SLI: error_query is `bad`, total_query `total` (PromQL,
                         type Prometheus; `{{.window}}` is kept as Sloth writes it)
  sli.raw                a ratio SLI of a precomputed error ratio (rawType failure)
  sli.plugin             refused: a plugin's queries live inside Sloth, there is nothing
                         here to measure with
  the window             Sloth has no per-spec period; its default, 30 days rolling, or
                         the period the caller passes (Sloth's --default-slo-period)
  alerting               Sloth's multiwindow multi-burn-rate alerts, as four burn-rate
                         tiers (the workbook's, for a 30-day window): page 14.4 over 1h/5m
                         and 6 over 6h/30m, ticket 3 over 1d/2h and 1 over 3d/6h. A
                         `disable`d page or ticket alert has no tiers. The alert's name,
                         labels and annotations go on its tiers' policies.
"""

from __future__ import annotations

from decimal import Decimal

from domain.budget.calendar import Duration

from .builder import Builder
from .fields import Fields, annotations_at, labels_at
from domain.specs.model import (
    AlertCondition,
    AlertPolicy,
    Meta,
    MetricSource,
    Objective,
    Params,
    RatioMetric,
    Service,
    Sli,
    Slo,
    TimeWindow,
)
from .yaml_source import Item

PLAIN = "prometheus/v1"
CRD = "sloth.slok.dev/v1"
CRD_KIND = "PrometheusServiceLevel"
DEFAULT_PERIOD = Duration(30, "d")
# (severity, burn rate, long window, short window): Sloth's defaults for a 30-day period.
TIERS = {
    "page": ((14.4, Duration(1, "h"), Duration(5, "m")), (6.0, Duration(6, "h"), Duration(30, "m"))),
    "ticket": ((3.0, Duration(1, "d"), Duration(2, "h")), (1.0, Duration(3, "d"), Duration(6, "h"))),
}
ALERT_NAME = "sloth/alert-name"


def read_plain(item: Item, builder: Builder, period: Duration = DEFAULT_PERIOD) -> None:
    f = Fields(item, builder, strict=True)
    f.skip("version")
    _read_service(f, builder, camel=False, period=period)
    f.done()


def read_crd(item: Item, builder: Builder, period: Duration = DEFAULT_PERIOD) -> None:
    f = Fields(item, builder, strict=True)
    f.skip("apiVersion")
    kind = f.req("kind")
    if kind.scalar() != CRD_KIND:
        raise kind.error(f"{CRD} has the kind {CRD_KIND}, got {kind.scalar()!r}")
    for key in ("metadata", "status"):
        found = f.opt(key)
        if found is not None:
            builder.drop(found, f"the Kubernetes object's {key}: the service and SLO names come from spec")
    spec = Fields(f.req("spec"), builder, strict=True)
    _read_service(spec, builder, camel=True, period=period)
    spec.done()
    f.done()


def _key(name: str, camel: bool) -> str:
    if not camel:
        return name
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _read_service(f: Fields, builder: Builder, *, camel: bool, period: Duration) -> None:
    service_item = f.req("service")
    service = service_item.text()
    labels = labels_at(f.opt("labels"))
    builder.add("Service", Service(Meta(service, labels=labels, origin=service_item.where)), service_item)
    for slo in f.req("slos").sequence():
        builder.read(slo, lambda item, b: _read_slo(item, b, service, labels, camel=camel, period=period))


def _read_slo(item: Item, builder: Builder, service: str, service_labels: tuple, *, camel: bool,
              period: Duration) -> None:
    f = Fields(item, builder, strict=True)
    k = lambda name: _key(name, camel)  # noqa: E731
    name = f.req("name").text()
    slo_id = f"{service}-{name}"
    objective_item = f.req("objective")
    percent = objective_item.number()
    if not 0 < percent < 100:
        raise objective_item.error(f"a percent in (0, 100), got {percent!r}")
    labels = tuple(sorted({**dict(service_labels), **dict(labels_at(f.opt("labels")))}.items()))
    sli = _sli(f.req("sli"), builder, k)
    sli_name = builder.add("SLI", Sli(Meta(slo_id, origin=item.where), ratio=sli), item)
    policies, alert_name = _alerting(f.opt("alerting"), builder, slo_id, k)
    slo = Slo(
        Meta(slo_id, labels=labels, annotations=((ALERT_NAME, alert_name),) if alert_name else (), origin=item.where),
        service=service,
        sli_ref=sli_name,
        budgeting="Occurrences",
        objectives=(Objective(name=name, target=float(Decimal(str(percent)) / 100), origin=objective_item.where),),
        window=TimeWindow(period, True),
        description=f.text("description"),
        alert_policies=policies,
    )
    f.done()
    builder.add("SLO", slo, item)


def _sli(item: Item, builder: Builder, k) -> RatioMetric:  # type: ignore[no-untyped-def]
    f = Fields(item, builder, strict=True)
    events, raw, plugin = f.opt("events"), f.opt("raw"), f.opt("plugin")
    if plugin is not None:
        raise plugin.error("SLI plugins are not supported: their queries live inside Sloth")
    if (events is None) == (raw is None):
        raise item.error("exactly one of events or raw is required")
    f.done()
    if events is not None:
        e = Fields(events, builder, strict=True)
        ratio = RatioMetric(bad=_prom(e.req(k("error_query"))), total=_prom(e.req(k("total_query"))))
        e.done()
        return ratio
    assert raw is not None
    r = Fields(raw, builder, strict=True)
    ratio = RatioMetric(raw=_prom(r.req(k("error_ratio_query"))), raw_type="failure")
    r.done()
    return ratio


def _prom(item: Item) -> MetricSource:
    return MetricSource(None, "Prometheus", Params.of({"query": item.text()}))


def _alerting(item: Item | None, builder: Builder, slo_id: str, k) -> tuple[tuple[str, ...], str | None]:  # type: ignore[no-untyped-def]
    if item is None:
        return (), None
    f = Fields(item, builder, strict=True)
    alert_name = f.text("name")
    labels = dict(labels_at(f.opt("labels")))
    annotations = dict(annotations_at(f.opt("annotations")))
    policies: list[str] = []
    for severity in ("page", "ticket"):
        alert = f.opt(k(f"{severity}_alert"))
        tier_labels, tier_annotations, disabled = dict(labels), dict(annotations), False
        if alert is not None:
            a = Fields(alert, builder, strict=True)
            disabled = bool(a.boolean("disable", default=False))
            tier_labels.update(labels_at(a.opt("labels")))
            tier_annotations.update(annotations_at(a.opt("annotations")))
            a.done()
        if disabled:
            continue
        for rate, long_window, short_window in TIERS[severity]:
            name = f"{slo_id}-{severity}-{long_window}"
            meta = Meta(name, labels=tuple(sorted(tier_labels.items())),
                        annotations=tuple(sorted(tier_annotations.items())), origin=item.where)
            builder.add("AlertCondition", AlertCondition(
                Meta(name, origin=item.where), severity=severity, op="gte", threshold=rate, lookback=long_window,
                alert_after=None, short_window=short_window), item)
            policies.append(builder.add("AlertPolicy", AlertPolicy(meta, conditions=(name,)), item))
    f.done()
    return tuple(sorted(policies)), alert_name
