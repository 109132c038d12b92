"""Sloth in: the prometheus/v1 file and the PrometheusServiceLevel CRD."""

from __future__ import annotations

import pytest

from domain.specs.model import MetricSource, Objective, Params, RatioMetric, TimeWindow
from api.specs.reader import SpecErrors, read_texts
from domain.budget.calendar import Duration

from .support import FIXTURES, read


def test_a_sloth_file_becomes_a_service_slos_with_promql_and_four_tiers() -> None:
    specs = read("sloth/myservice.yaml")
    (service,) = specs.services
    assert service.meta.labels == (("owner", ("myteam",)), ("tier", ("2",)))
    slos = {s.meta.name: s for s in specs.slos}
    availability = slos["myservice-requests-availability"]
    assert availability.objectives == (Objective("requests-availability", 0.999),)
    assert (availability.budgeting, availability.window) == ("Occurrences", TimeWindow(Duration(30, "d"), True))
    # the service's labels go on every SLO, as Sloth does
    assert availability.meta.labels == (("category", ("availability",)), ("owner", ("myteam",)), ("tier", ("2",)))
    assert dict(availability.meta.annotations) == {"sloth/alert-name": "MyServiceHighErrorRate"}
    assert specs.sli(availability.sli_ref).ratio == RatioMetric(  # type: ignore[arg-type, union-attr]
        bad=MetricSource(None, "Prometheus", Params.of({"query": 'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))'})),
        total=MetricSource(None, "Prometheus", Params.of({"query": 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))'})))
    conditions = {c.meta.name: c for c in specs.alert_conditions}
    tiers = sorted((c.severity, c.threshold, str(c.lookback), str(c.short_window))
                   for name, c in conditions.items() if name.startswith("myservice-requests-availability"))
    assert tiers == [("page", 6.0, "6h", "30m"), ("page", 14.4, "1h", "5m"),
                     ("ticket", 1.0, "3d", "6h"), ("ticket", 3.0, "1d", "2h")]
    policies = {p.meta.name: p for p in specs.alert_policies}
    page = policies["myservice-requests-availability-page-1h"]
    assert dict(page.meta.labels) == {"category": ("availability",), "severity": ("pageteam",), "routing_key": ("myteam",)}
    assert dict(page.meta.annotations) == {"summary": "High error rate on 'myservice' requests responses"}


def test_a_disabled_page_alert_has_no_tiers_and_a_raw_sli_is_a_failure_ratio() -> None:
    specs = read("sloth/myservice.yaml")
    latency = next(s for s in specs.slos if s.meta.name == "myservice-requests-latency")
    assert latency.alert_policies == ("myservice-requests-latency-ticket-1d", "myservice-requests-latency-ticket-3d")
    assert latency.objectives[0].target == 0.99
    ratio = specs.sli(latency.sli_ref).ratio  # type: ignore[arg-type, union-attr]
    assert ratio.raw_type == "failure" and ratio.raw.query == "myservice:slow_requests:ratio_rate{{.window}}"


def test_the_crd_reads_like_the_file_in_camel_case() -> None:
    specs = read("sloth/crd.yaml")
    (slo,) = specs.slos
    assert slo.meta.name == "home-wifi-good-wifi-client-satisfaction" and slo.objectives[0].target == 0.95
    assert slo.meta.labels == (("cluster", ("valhalla",)),)
    assert specs.sli(slo.sli_ref).ratio.bad.query.startswith("sum_over_time((count(unifipoller")  # type: ignore[arg-type, union-attr]
    assert [c.severity for c in specs.alert_conditions] == ["ticket", "ticket"]
    assert [n.where.path for n in specs.not_carried] == ["metadata"]


def test_the_window_is_the_period_the_caller_gives() -> None:
    text = (FIXTURES / "sloth" / "crd.yaml").read_text()
    (slo,) = read_texts([("crd.yaml", text)], sloth_period=Duration(28, "d")).slos
    assert slo.window == TimeWindow(Duration(28, "d"), True)


def test_sloth_errors_have_places_and_the_good_slo_does_not_hide_them() -> None:
    with pytest.raises(SpecErrors) as caught:
        read("invalid/sloth-bad.yaml")
    assert [(e.where.path, e.where.line, e.message) for e in caught.value.errors] == [
        ("slos[1].sli.plugin", 14, "SLI plugins are not supported: their queries live inside Sloth"),
        ("slos[2].objective", 16, "a percent in (0, 100), got 0"),
    ]


def test_an_unknown_sloth_field_is_an_error() -> None:
    text = (FIXTURES / "sloth" / "myservice.yaml").read_text().replace("    objective: 99.9\n",
                                                                      "    objective: 99.9\n    objectiv: 99\n")
    with pytest.raises(SpecErrors) as caught:
        read_texts([("s.yaml", text)])
    assert [(e.where.path, e.message) for e in caught.value.errors] == [("slos[0].objectiv", "unknown field")]
