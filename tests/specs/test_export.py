"""OpenSLO v1 out: golden files, provenance, and the round trip (render, read, render gives
the same bytes; read of a render gives the same model)."""

from __future__ import annotations

import string
from datetime import datetime
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from domain.specs.model import (
    BUDGETING_METHODS,
    OPERATORS,
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
    SpecSet,
    TimeWindow,
)
from api.specs.openslo_export import Provenance, render
from domain.specs.model import SloProvenance
from domain.budget.calendar import Duration

from .support import read, read_text

GOLDEN = Path(__file__).parent / "golden"
PROVENANCE = Provenance(1234, "9f" * 32, {"checkout-availability": SloProvenance((("sla", "agr-7"), ("internal", "agr-8")), 2)})


def test_every_fixture_renders_to_the_golden_file() -> None:
    assert render(read("openslo", "sloth"), PROVENANCE) == (GOLDEN / "all-fixtures.openslo.yaml").read_text()
    assert render(read("openslo/checkout.yaml")) == (GOLDEN / "checkout.openslo.yaml").read_text()


def test_every_document_carries_the_position_and_its_chain_hash_and_slos_their_agreements() -> None:
    docs = list(yaml.safe_load_all(render(read("openslo", "sloth"), PROVENANCE)))
    assert len(docs) > 40 and all(d["apiVersion"] == "openslo/v1" for d in docs)
    for doc in docs:
        annotations = doc["metadata"]["annotations"]
        assert annotations["slogov/log-position"] == "1234"
        assert annotations["slogov/chain-hash"] == "9f" * 32
    checkout = next(d for d in docs if d["kind"] == "SLO" and d["metadata"]["name"] == "checkout-availability")
    assert checkout["metadata"]["annotations"]["slogov/agreement-id"] == "sla=agr-7,internal=agr-8"
    assert checkout["metadata"]["annotations"]["slogov/policy-version"] == "2"


def test_kinds_come_before_what_refers_to_them_and_names_are_sorted() -> None:
    docs = list(yaml.safe_load_all(render(read("openslo", "sloth"))))
    order = ["DataSource", "Service", "SLI", "AlertNotificationTarget", "AlertCondition", "AlertPolicy", "SLO"]
    keys = [(order.index(d["kind"]), d["metadata"]["name"]) for d in docs]
    assert keys == sorted(keys)


def test_fixtures_round_trip_with_and_without_provenance() -> None:
    specs = read("openslo", "sloth")
    plain = render(specs)
    assert read_text(plain) == specs
    assert render(read_text(plain)) == plain
    stamped = render(specs, PROVENANCE)
    assert render(read_text(stamped), PROVENANCE) == stamped
    # provenance read back is overridden by the export's own: a later position shows
    later = Provenance(2000, "ab" * 32)
    assert "slogov/log-position: '2000'" in render(read_text(stamped), later)
    assert "'1234'" not in render(read_text(stamped), later)


def test_nothing_renders_to_nothing() -> None:
    assert render(SpecSet()) == ""


# -- the property: any model renders, reads back equal, and renders to the same bytes ----

NAMES = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12).filter(
    lambda s: s[0] != "-" and s[-1] != "-")
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
               max_size=30).filter(lambda s: s.strip() != "")
NUMBER = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
FRACTION = st.floats(min_value=0.0001, max_value=0.99999, exclude_min=True, exclude_max=True)
LABELS = st.dictionaries(NAMES, st.lists(TEXT, min_size=1, max_size=3, unique=True).map(lambda v: tuple(sorted(v))),
                         max_size=3).map(lambda d: tuple(sorted(d.items())))
ANNOTATIONS = st.dictionaries(st.sampled_from(["example.com/a", "team", "runbook", "x.io/owner"]), TEXT,
                              max_size=2).map(lambda d: tuple(sorted(d.items())))
FIXED = st.builds(Duration, st.integers(1, 999), st.sampled_from(["m", "h", "d", "w"]))
ANY_DURATION = st.builds(Duration, st.integers(1, 99), st.sampled_from(["m", "h", "d", "w", "M", "Q", "Y"]))
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
FREE = st.recursive(st.none() | st.booleans() | NUMBER | st.integers(-10**6, 10**6) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3), max_leaves=6)


def meta(name: str) -> st.SearchStrategy[Meta]:
    return st.builds(Meta, st.just(name), st.none() | TEXT, LABELS, ANNOTATIONS)


def metric(sources: list[str]) -> st.SearchStrategy[MetricSource]:
    ref = st.sampled_from(sources) if sources else st.none()
    spec = st.fixed_dictionaries({"query": TEXT}, optional={"extra": FREE}).map(Params.of)
    return st.builds(MetricSource, ref, st.sampled_from(["Prometheus", "Datadog"]), spec) | st.builds(
        MetricSource, st.none(), st.just("Prometheus"), spec)


@st.composite
def spec_sets(draw: st.DrawFn) -> SpecSet:
    def names(max_size: int) -> list[str]:
        return sorted(draw(st.lists(NAMES, max_size=max_size, unique=True)))

    data_sources = [DataSource(draw(meta(n)), draw(TEXT), draw(st.none() | TEXT), draw(st.none() | TEXT))
                    for n in names(2)]
    source_names = [s.meta.name for s in data_sources]
    services = [Service(draw(meta(n)), draw(st.none() | TEXT)) for n in names(2)]
    slis = []
    for n in names(4) or ["the-sli"]:
        if draw(st.booleans()):
            ratio = RatioMetric(counter=draw(st.none() | st.booleans()), raw=draw(metric(source_names)),
                                raw_type=draw(st.sampled_from(["success", "failure"])))
            if draw(st.booleans()):
                numerator = draw(st.sampled_from(["good", "bad"]))
                ratio = RatioMetric(counter=ratio.counter, total=draw(metric(source_names)),
                                    **{numerator: draw(metric(source_names))})
            slis.append(Sli(draw(meta(n)), draw(st.none() | TEXT), ratio=ratio))
        else:
            slis.append(Sli(draw(meta(n)), draw(st.none() | TEXT), threshold=draw(metric(source_names))))
    sli_names = [s.meta.name for s in slis]
    targets = [NotificationTarget(draw(meta(n)), draw(TEXT), draw(st.none() | TEXT)) for n in names(2)]
    conditions = [AlertCondition(draw(meta(n)), draw(TEXT), draw(st.sampled_from(OPERATORS)),
                                 draw(st.floats(0.01, 1000)), draw(FIXED), draw(st.none() | FIXED),
                                 draw(st.none() | FIXED), draw(st.none() | TEXT)) for n in names(3)]
    policies = []
    if conditions:
        for n in names(3):
            policies.append(AlertPolicy(
                draw(meta(n)), (draw(st.sampled_from([c.meta.name for c in conditions])),),
                tuple(sorted(draw(st.sets(st.sampled_from([t.meta.name for t in targets]), max_size=2)))) if targets else (),
                draw(st.booleans()), draw(st.booleans()), draw(st.booleans()), draw(st.none() | TEXT)))
    slos = []
    for n in names(3):
        budgeting = draw(st.sampled_from(BUDGETING_METHODS))
        composite = draw(st.booleans())
        objectives = []
        for objective_name in sorted(draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))):
            threshold = draw(st.booleans())
            objectives.append(Objective(
                objective_name, draw(FRACTION),
                draw(st.sampled_from(OPERATORS)) if threshold else None, draw(NUMBER) if threshold else None,
                draw(st.floats(0.01, 1.0)) if budgeting == "Timeslices" else None,
                draw(FIXED) if budgeting != "Occurrences" else None,
                draw(st.none() | st.floats(0.01, 100)),
                draw(st.sampled_from(sli_names)) if composite else None,
                draw(LABELS)))
        if draw(st.booleans()):
            window = TimeWindow(draw(FIXED), True)
        else:
            start = draw(st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1))).replace(microsecond=0)
            window = TimeWindow(draw(ANY_DURATION), False, start, draw(ZONES))
        policy_names = sorted(draw(st.sets(st.sampled_from([p.meta.name for p in policies]), max_size=2))) if policies else []
        slos.append(Slo(draw(meta(n)), draw(NAMES), None if composite else draw(st.sampled_from(sli_names)),
                        budgeting, tuple(objectives), draw(st.none() | st.just(window)), draw(st.none() | TEXT),
                        tuple(policy_names)))
    return SpecSet(tuple(services), tuple(data_sources), tuple(slis), tuple(slos), tuple(conditions),
                   tuple(policies), tuple(targets))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec_sets(), st.none() | st.builds(Provenance, st.integers(1, 10**9), st.text("0123456789abcdef", min_size=64,
                                                                                     max_size=64)))
def test_render_read_render_gives_the_same_bytes(specs: SpecSet, provenance: Provenance | None) -> None:
    first = render(specs, provenance)
    back = read_text(first, "export.yaml")
    assert render(back, provenance) == first
    if provenance is None:
        assert back == specs
