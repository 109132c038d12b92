"""Checks the spec tools do not make: ceilings from dependencies, what one-minute data can
measure, and SLIs whose source nobody knows."""

from __future__ import annotations

from dataclasses import replace

from domain.specs.check import CEILING, RESOLUTION, UNKNOWN_SOURCE, check
from domain.specs.model import SpecSet
from domain.budget.calendar import Duration

from .support import FIXTURES, read, read_text


def codes(specs: SpecSet, **options: object) -> list[tuple[str, str]]:
    return [(f.code, f.subject) for f in check(specs, **options) if f.code != UNKNOWN_SOURCE]  # type: ignore[arg-type]


def test_a_target_above_the_product_of_its_dependencies_is_flagged_with_the_ceiling() -> None:
    specs = read("openslo/checkout.yaml")
    dependencies = {"checkout": {"payments-api": 0.999, "orders-db": 0.9995}}
    (finding,) = check(specs, dependency_targets=dependencies)
    assert (finding.code, finding.subject) == (CEILING, "SLO checkout-availability, objective internal")
    assert "0.9985005" in finding.message  # 0.999 x 0.9995; the SLA's 0.995 fits under it
    assert finding.where is not None and finding.where.line == 48
    assert check(specs, dependency_targets={"checkout": {"payments-api": 0.99999}}) == ()
    assert check(specs, dependency_targets={"other-service": {"x": 0.9}}) == ()


def test_clean_fixtures_have_no_resolution_findings() -> None:
    assert codes(read("openslo", "sloth")) == []


def test_slices_the_minute_data_cannot_make_and_windows_they_do_not_tile() -> None:
    text = (FIXTURES / "openslo" / "list-of-objects.yaml").read_text()
    # 7-minute slices: a whole number of minutes, but a calendar quarter is not 7-minute slices
    assert codes(read_text(text.replace("timeSliceWindow: 10", "timeSliceWindow: 7"))) == [
        (RESOLUTION, "SLO rag-faithfulness, objective faithful")]
    (specs,) = [read_text(text)]
    slo = specs.slos[1]
    rolling = replace(slo, window=replace(slo.window, rolling=True, duration=Duration(1, "d"), start=None, zone=None))
    odd = replace(rolling, objectives=(replace(slo.objectives[0], time_slice_window=Duration(7, "m")),))
    assert codes(replace(specs, slos=(odd,))) == [(RESOLUTION, "SLO rag-faithfulness, objective faithful")]
    fine = replace(rolling, objectives=(replace(slo.objectives[0], time_slice_window=Duration(8, "m")),))
    assert codes(replace(specs, slos=(fine,))) == []
    # five-minute data cannot make two-minute slices
    assert codes(replace(specs, slos=(fine,)), resolution=Duration(5, "m")) == [
        (RESOLUTION, "SLO rag-faithfulness, objective faithful")]


def test_daily_slices_do_not_tile_a_berlin_month_because_of_its_23_hour_day() -> None:
    text = (FIXTURES / "openslo" / "search-inline.yaml").read_text()
    assert codes(read_text(text)) == []  # 5-minute slices fit every month
    (finding,) = [f for f in check(read_text(text.replace("timeSliceWindow: 5m", "timeSliceWindow: 1d")))
                  if f.code == RESOLUTION]
    assert "2026-03-01T00:00:00+00:00" not in finding.message  # January and February tile...
    assert "lasts 44580 minutes" in finding.message  # ...March, 31 days less the spring-forward hour, does not
    utc = text.replace("timeZone: Europe/Berlin", "timeZone: UTC").replace("timeSliceWindow: 5m", "timeSliceWindow: 1d")
    assert codes(read_text(utc)) == []


def test_a_calendar_start_off_the_minute_and_alert_windows_beyond_the_slo_window() -> None:
    text = (FIXTURES / "openslo" / "search-inline.yaml").read_text()
    assert codes(read_text(text.replace("00:00:00", "00:00:30"))) == [(RESOLUTION, "SLO search-latency")]
    checkout = (FIXTURES / "openslo" / "checkout.yaml").read_text()
    short = read_text(checkout.replace("duration: 28d", "duration: 30m"))
    assert codes(short) == [(RESOLUTION, "SLO checkout-availability, alert fast-burn")]  # a 1h lookback


def test_an_sli_whose_source_nobody_knows() -> None:
    specs = read("openslo/checkout.yaml", "openslo/v2alpha.yaml")
    assert [f.subject for f in check(specs) if f.code == UNKNOWN_SOURCE] == [
        "SLI orders-fast, thresholdMetric"]  # type only, no source named, no default
    assert [f for f in check(specs, default_source="prometheus-main") if f.code == UNKNOWN_SOURCE] == []
    without_sources = replace(specs, data_sources=())
    unknown = [f.subject for f in check(without_sources, default_source="x") if f.code == UNKNOWN_SOURCE]
    assert unknown == ["SLI checkout-availability, ratioMetric.good", "SLI checkout-availability, ratioMetric.total",
                       "SLI orders-ok, ratioMetric.good", "SLI orders-ok, ratioMetric.total"]
    known = check(without_sources, default_source="x", known_sources={"prometheus-main", "thanos"})
    assert [f for f in known if f.code == UNKNOWN_SOURCE] == []
