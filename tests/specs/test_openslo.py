"""OpenSLO in: every kind, every budgeting method, rolling and calendar windows, lists and
multi-document files, the alpha versions' mappings, and the errors' places."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.specs.model import (
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
    TimeWindow,
)
from api.specs.reader import SpecErrors
from domain.budget.calendar import Duration

from .support import FIXTURES, read, read_text


def test_every_v1_kind_by_reference() -> None:
    specs = read("openslo/checkout.yaml")
    assert specs.data_sources == (DataSource(Meta("prometheus-main", "Main Prometheus"), "Prometheus",
                                             "The cluster's Prometheus", "http://prometheus.monitoring:9090"),)
    assert specs.services == (Service(Meta(
        "checkout", "Checkout", labels=(("team", ("payments",)), ("tier", ("gold", "revenue"))),
        annotations=(("example.com/runbook", "https://runbooks.example.com/checkout"),)),
        "Customers pay for their basket"),)
    (sli,) = specs.slis
    assert sli.ratio is not None and sli.ratio.counter is True and sli.ratio.bad is None
    assert sli.ratio.good == MetricSource("prometheus-main", "Prometheus", Params.of(
        {"query": 'sum(rate(http_requests_total{job="checkout",code!~"5.."}[1m]))'}))
    (slo,) = specs.slos
    assert (slo.service, slo.sli_ref, slo.budgeting) == ("checkout", "checkout-availability", "Occurrences")
    assert slo.window == TimeWindow(Duration(28, "d"), True)
    # two named objectives, each its own target: the SLA and the stricter internal one
    assert slo.objectives == (Objective("sla", 0.995), Objective("internal", 0.9995))
    assert slo.alert_policies == ("checkout-fast-burn",)
    assert specs.alert_policies == (AlertPolicy(
        Meta("checkout-fast-burn"), ("fast-burn",), ("payments-pager",), True, True, False,
        "Page when the budget burns 14.4 times too fast"),)
    assert specs.alert_conditions == (AlertCondition(
        Meta("fast-burn"), "page", "gte", 14.4, Duration(1, "h"), Duration(2, "m"), Duration(5, "m"),
        "Burn rate of 14.4 over an hour"),)
    assert specs.notification_targets == (NotificationTarget(
        Meta("payments-pager"), "pagerduty", "The payments on-call rotation"),)


def test_a_secret_in_connection_details_is_not_carried_and_not_repeated() -> None:
    specs = read("openslo/checkout.yaml")
    (dropped,) = specs.not_carried
    assert dropped.where.path == "spec.connectionDetails.bearerToken" and dropped.where.line == 12
    assert "not-a-real-secret" not in str(dropped)


def test_inline_objects_are_hoisted_and_timeslices_over_a_berlin_month() -> None:
    specs = read("openslo/search-inline.yaml")
    (slo,) = specs.slos
    assert slo.sli_ref == "search-slow-requests" and specs.slis[0].meta.name == "search-slow-requests"
    assert slo.budgeting == "Timeslices"
    assert slo.window == TimeWindow(Duration(1, "M"), False, datetime(2026, 1, 1), "Europe/Berlin")
    assert slo.objectives == (Objective("fast-minutes", 0.99, time_slice_target=0.95,
                                        time_slice_window=Duration(5, "m")),)
    assert slo.alert_policies == ("search-slow-burn",)
    assert specs.alert_policies[0].conditions == ("search-slow-burn",)
    assert specs.alert_policies[0].targets == ("search-tickets",)
    assert specs.alert_conditions[0].alert_after is None  # 0m: at once
    assert specs.notification_targets[0].target == "jira"


def test_a_yaml_list_threshold_and_raw_slis_ratio_timeslices_and_calendar_quarter_and_week() -> None:
    specs = read("openslo/list-of-objects.yaml")
    slos = {s.meta.name: s for s in specs.slos}
    faithful = slos["rag-faithfulness"]
    assert faithful.budgeting == "RatioTimeslices"
    assert faithful.window == TimeWindow(Duration(1, "Q"), False, datetime(2026, 1, 1, 9), "America/New_York")
    # a bare number of minutes is OpenSLO's default unit for timeSliceWindow
    assert faithful.objectives == (Objective("faithful", 0.9, "gte", 0.8, None, Duration(10, "m")),)
    assert specs.sli("rag-faithfulness").threshold is not None  # type: ignore[union-attr]
    raw = specs.sli("rag-error-ratio").ratio  # type: ignore[union-attr]
    assert raw == RatioMetric(raw=MetricSource(None, "Prometheus", Params.of({"query": "rag:error_ratio:rate1m"})),
                              raw_type="failure")
    assert slos["rag-errors"].window == TimeWindow(Duration(1, "w"), False, datetime(2026, 1, 5), "UTC")


def test_a_composite_slo_has_an_sli_and_a_weight_per_objective() -> None:
    (slo,) = read("openslo/composite.yaml").slos
    assert slo.sli_ref is None
    assert [(o.name, o.sli_ref, o.composite_weight) for o in slo.objectives] == [
        ("login", "login-ok", 2.0), ("token", "token-ok", 1.0)]


def test_v1alpha_maps_windows_threshold_and_ratio_metrics_and_says_what_it_drops() -> None:
    specs = read("openslo/v1alpha.yaml")
    slos = {s.meta.name: s for s in specs.slos}
    latency = slos["legacy-latency"]
    assert latency.window == TimeWindow(Duration(1, "M"), False, datetime(2026, 1, 1), "Europe/Berlin")
    assert latency.objectives == (Objective("fast", 0.99, "lte", 0.3, 1.0, Duration(1, "m")),)
    assert specs.sli("legacy-latency").threshold.spec.get("queryType") == "promql"  # type: ignore[union-attr]
    availability = slos["legacy-availability"]
    assert availability.window == TimeWindow(Duration(7, "d"), True)
    assert specs.sli("legacy-availability").ratio.counter is True  # type: ignore[union-attr]
    dropped = sorted((n.where.document, n.where.path) for n in specs.not_carried)
    assert dropped == [(2, "spec.indicator.thresholdMetric.metadata"), (2, "spec.objectives[0]")]


def test_v2alpha_maps_sli_refs_data_source_refs_and_objective_labels() -> None:
    specs = read("openslo/v2alpha.yaml")
    slos = {s.meta.name: s for s in specs.slos}
    assert slos["orders"].sli_ref == "orders-ok"
    assert slos["orders"].objectives[0].labels == (("contract", ("sla",)),)
    assert specs.sli("orders-ok").ratio.good.source_ref == "thanos"  # type: ignore[union-attr]
    fast = specs.sli("orders-fast").threshold  # type: ignore[union-attr]
    assert (fast.source_ref, fast.type) == (None, "Prometheus")
    reasons = {n.where.path: n.reason for n in specs.not_carried}
    assert "no secrets" in reasons["spec.sli.spec.thresholdMetric.dataSourceSpec.connectionDetails"]
    assert "BudgetAdjustment" in reasons[""]


def test_a_directory_reads_every_file_in_name_order_into_one_set() -> None:
    specs = read("openslo")
    assert {s.meta.name for s in specs.slos} >= {"checkout-availability", "search-latency", "orders", "legacy-latency"}
    assert {s.budgeting for s in specs.slos} == {"Occurrences", "Timeslices", "RatioTimeslices"}


def test_reading_the_same_files_twice_gives_an_equal_set() -> None:
    assert read("openslo") == read("openslo")


def errors_of(name: str) -> list[tuple[int, str, int, str]]:
    with pytest.raises(SpecErrors) as caught:
        read(f"invalid/{name}")
    for e in caught.value.errors:
        assert e.where.file == str(FIXTURES / "invalid" / name)
    return [(e.where.document, e.where.path, e.where.line, e.message) for e in caught.value.errors]


def test_errors_name_document_field_path_and_line() -> None:
    assert errors_of("bad-values.yaml") == [
        (1, "spec.objectives[0].target", 11, "must lie in (0, 1), got 1.5"),
        (2, "spec.timeWindow[0].duration", 21, "a rolling window needs m, h, d or w; 1M has no fixed length"),
        (3, "spec.objectives[0].timeSliceTarget", 36, "required field is missing"),
        (4, "spec.timeWindow[0].calendar.timeZone", 50, "unknown IANA time zone 'Mars/Olympus_Mons'"),
        # and the SLI all four name is in no file
        *[(d, "spec.indicatorRef", line, "refers to SLI 'checkout-availability', which no file defines")
          for d, line in ((1, 7), (2, 19), (3, 33), (4, 45))],
    ]


def test_a_misspelt_field_is_named() -> None:
    assert errors_of("unknown-field.yaml") == [
        (2, "spec.budgetingMethod", 12, "required field is missing (is 'budgetMethod' a misspelling of it?)"),
        (2, "spec.indicatorRef", 13, "refers to SLI 'missing-sli', which no file defines"),
    ]


def test_an_unknown_v1_field_is_an_error() -> None:
    text = (FIXTURES / "openslo" / "checkout.yaml").read_text().replace("  budgetingMethod: Occurrences\n",
                                                                       "  budgetingMethod: Occurrences\n  extra: 1\n")
    with pytest.raises(SpecErrors) as caught:
        read_text(text, "checkout.yaml")
    (error,) = caught.value.errors
    assert (error.where.document, error.where.path, error.message) == (4, "spec.extra", "unknown field")


def test_dangling_references_and_conflicting_duplicates_in_a_list() -> None:
    assert errors_of("references.yaml") == [
        (1, "[2]", 20, "SLI 'twice' is defined twice, differently (first at "
                       f"{FIXTURES / 'invalid' / 'references.yaml'}: document 1, [1] (line 13))"),
        (1, "[0].spec.indicatorRef", 7, "refers to SLI 'nowhere', which no file defines"),
        (1, "[0].spec.alertPolicies[0].alertPolicyRef", 12, "refers to AlertPolicy 'no-such-policy', which no file defines"),
    ]


def test_duplicate_keys_broken_yaml_and_unknown_versions() -> None:
    assert errors_of("duplicate-key.yaml") == [(1, "spec.target", 7, "duplicate key")]
    ((document, path, line, message),) = errors_of("not-yaml.yaml")
    assert (document, path, line) == (2, "", 11) and message.startswith("not valid YAML")
    assert [e[:3] for e in errors_of("unknown-version.yaml")] == [(1, "apiVersion", 1), (2, "", 7)]


@pytest.mark.parametrize("change, path, message", [
    (("target: 0.995", "target: 0.995\n      targetPercent: 99.5"), "spec.objectives[0]", "exactly one of target or targetPercent"),
    (("isRolling: true", "isRolling: false"), "spec.timeWindow[0].calendar", "required field is missing"),
    (("duration: 28d", "duration: 28 days"), "spec.timeWindow[0].duration", "expected a duration"),
    (("budgetingMethod: Occurrences", "budgetingMethod: Occurences"), "spec.budgetingMethod", "must be one of"),
    (("threshold: 14.4", "threshold: -1"), "spec.condition.threshold", "a burn rate above 0"),
    (("    - conditionRef: fast-burn", "    - conditionRef: fast-burn\n    - conditionRef: fast-burn"),
     "spec.conditions", "exactly one condition"),
    (("  target: pagerduty", "  target: ''"), "spec.target", "non-empty string"),
    (("op: gte", "op: above"), "spec.condition.op", "must be one of"),
])
def test_invalid_values_in_each_kind(change: tuple[str, str], path: str, message: str) -> None:
    text = (FIXTURES / "openslo" / "checkout.yaml").read_text()
    assert change[0] in text
    with pytest.raises(SpecErrors) as caught:
        read_text(text.replace(change[0], change[1], 1), "checkout.yaml")
    error, *then = caught.value.errors
    assert error.where.path == path and message in error.message
    # what referred to the refused object now refers to nothing, and says so
    assert all("which no file defines" in e.message for e in then)


def test_timeslice_fields_must_match_the_budgeting_method() -> None:
    base = (FIXTURES / "openslo" / "search-inline.yaml").read_text()
    occurrences = base.replace("budgetingMethod: Timeslices", "budgetingMethod: Occurrences")
    with pytest.raises(SpecErrors, match="timeSliceTarget applies only to Timeslices"):
        read_text(occurrences)
    ratio = base.replace("budgetingMethod: Timeslices", "budgetingMethod: RatioTimeslices")
    with pytest.raises(SpecErrors, match="timeSliceTarget applies only to Timeslices, not RatioTimeslices"):
        read_text(ratio)
    no_window = base.replace("      timeSliceWindow: 5m\n", "")
    with pytest.raises(SpecErrors, match=r"spec.objectives\[0\].timeSliceWindow \(line 32\): required"):
        read_text(no_window)


def test_a_metric_spec_must_be_a_mapping_and_a_missing_file_is_named() -> None:
    text = (FIXTURES / "openslo" / "composite.yaml").read_text().replace(
        "spec: {query: 'sum(rate(login_total[1m]))'}", "spec: [a, b]")
    with pytest.raises(SpecErrors) as caught:
        read_text(text)
    assert caught.value.errors[0].where.path == "spec.ratioMetric.total.metricSource.spec"
    with pytest.raises(SpecErrors, match="no-such.yaml: document 0, .* cannot be read"):
        read("no-such.yaml")
