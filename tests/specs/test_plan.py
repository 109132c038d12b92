"""An import's plan against the state, run through the real deciders in memory (no
database): what a file creates, proposes, changes or leaves alone; the round trip of an
export; the golden export with its provenance."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import journey as journeys
from domain.budget.decider import ConfigureAlerts
from domain.objective import DraftObjective, EndorseProposal, ProposeTarget, ReviseProposal, Window
from domain.records import replace
from domain.specs.model import Provenance
from domain.specs.plan import CHANGE, CREATE, PROPOSE, UNCHANGED, PlanErrors, plan
from tests.specs.support import MemoryLog, read, read_text

GOLDEN = Path(__file__).parent / "golden"
PARTIES = ("product", "sre", "engineering", "leadership")

SLO = """apiVersion: openslo/v1
kind: SLO
metadata: {{name: search-availability}}
spec:
  service: search
  indicator:
    metadata: {{name: search-ok}}
    spec:
      ratioMetric:
        good: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(rate(ok_total[1m]))'}}}}}}
        total: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(rate(all_total[1m]))'}}}}}}
  timeWindow: [{{duration: {window}, isRolling: true}}]
  budgetingMethod: Occurrences
  objectives: [{{displayName: main, target: {target}}}]
"""


def agree(log: MemoryLog, objective_id: str) -> None:
    proposal = log.states[f"objective-{objective_id}"].open_proposal
    for party in PARTIES:
        log.run(EndorseProposal(objective_id, proposal.proposal_id, party), party, frozenset({party}))


def test_a_new_service_is_a_journey_of_one_and_each_target_a_proposal_by_the_importer():
    log = MemoryLog()
    plan = log.import_(read("sloth/myservice.yaml"), actor="ada")
    assert [(s.action, s.subject) for s in plan.steps] == [
        (CREATE, "journey myservice"),
        (CREATE, "objective myservice-requests-availability"),
        (CHANGE, "objective myservice-requests-availability"),
        (CREATE, "objective myservice-requests-latency"),
        (CHANGE, "objective myservice-requests-latency"),
    ]
    assert [type(c) for c, _ in plan.commands][:6] == [
        journeys.ProposeJourney, journeys.PrioritizeJourney, journeys.MapDependency,
        DraftObjective, ProposeTarget, ConfigureAlerts]
    journey = log.states["journey-myservice"]
    assert journey.owner == "ada" and journey.critical_services == ("myservice",)
    objective = log.states["objective-myservice-requests-availability"]
    assert objective.agreed_target is None and objective.status.value == "NEGOTIATING"
    assert objective.open_proposal.target == 0.999 and objective.open_proposal.proposed_by == "ada"
    assert log.states["budget-myservice-requests-latency"].tiers == [
        {"severity": "ticket", "long_window": "1d", "short_window": "2h", "threshold": 3.0},
        {"severity": "ticket", "long_window": "3d", "short_window": "6h", "threshold": 1.0}]
    # an unchanged file imported again plans nothing
    again = log.import_(read("sloth/myservice.yaml"))
    assert again.empty and {s.action for s in again.steps} == {UNCHANGED}


def test_a_changed_target_on_an_agreed_objective_opens_a_proposal_and_leaves_the_agreement_in_force():
    log = MemoryLog()
    log.import_(read_text(SLO.format(window="28d", target=0.99)))
    agree(log, "search-availability")
    assert log.states["objective-search-availability"].agreed_target == 0.99
    assert log.import_(read_text(SLO.format(window="28d", target=0.99))).empty

    plan = log.import_(read_text(SLO.format(window="28d", target=0.995)))
    assert [s.action for s in plan.steps] == [UNCHANGED, PROPOSE]
    state = log.states["objective-search-availability"]
    assert state.agreed_target == 0.99 and state.open_proposal.target == 0.995
    assert log.import_(read_text(SLO.format(window="28d", target=0.995))).empty
    plan = log.import_(read_text(SLO.format(window="28d", target=0.998)))
    assert [type(c) for c, _ in plan.commands] == [ReviseProposal]
    assert log.states["objective-search-availability"].open_proposal.target == 0.998


def test_a_redefinition_or_what_slogov_cannot_carry_is_refused_with_its_place():
    log = MemoryLog()
    log.import_(read_text(SLO.format(window="28d", target=0.99), "search.yaml"))
    with pytest.raises(PlanErrors) as caught:
        log.import_(read_text(SLO.format(window="30d", target=0.99), "search.yaml"))
    (error,) = caught.value.errors
    assert (error.where.file, error.where.document, error.where.path, error.where.line) == (
        "search.yaml", 1, "spec.objectives[0]", 14)
    assert "exists with another definition: window" in error.message
    with pytest.raises(PlanErrors) as caught:
        MemoryLog().import_(read_text(SLO.format(window="400d", target=0.99), "long.yaml"))
    assert str(caught.value) == ("long.yaml: document 1, spec.timeWindow[0] (line 12): a rolling window of 400d is not "
                                 "carried: a rolling window is at most 366 days, got 400d")
    two_years = SLO.format(window="2Y", target=0.99).replace(
        "isRolling: true}", "calendar: {startTime: '2026-01-01 00:00:00', timeZone: Europe/Paris}}")
    with pytest.raises(PlanErrors) as caught:
        MemoryLog().import_(read_text(two_years, "long.yaml"))
    assert str(caught.value) == ("long.yaml: document 1, spec.timeWindow[0] (line 12): a calendar window of 2Y is not "
                                 "carried: a calendar period is at most a year, got 2Y")


def test_every_window_is_carried_as_written_and_exported_back_as_it_came():
    log = MemoryLog()
    log.import_(read("openslo/windows.yaml", "openslo/v1alpha.yaml"))
    windows = {k.split("-", 1)[1]: s.window for k, s in log.states.items() if k.startswith("objective-")}
    assert windows["ingest-90m"] == Window("rolling", duration="90m")
    assert windows["ingest-12h"] == Window("rolling", duration="12h")
    assert windows["ingest-2w"] == Window("rolling", duration="2w")
    assert windows["ingest-180d"] == Window("rolling", duration="180d")  # longer than slogov's `days` form
    assert windows["ingest-week"] == Window("calendar", duration="1w", start="2026-03-02T06:00:00",
                                            time_zone="Europe/Berlin")
    assert windows["ingest-month"] == Window("calendar", duration="1M", start="2026-01-15T09:30:00",
                                             time_zone="America/New_York")
    assert windows["ingest-year"] == Window("calendar", duration="1Y", start="2024-04-01T00:00:00",
                                            time_zone="Europe/London")
    assert windows["legacy-latency"] == Window("calendar", duration="1M", start="2026-01-01T00:00:00",
                                               time_zone="Europe/Berlin")
    assert windows["legacy-availability"] == Window("rolling", days=7)
    exported = log.export()
    assert "- duration: 1M\n    calendar:\n      startTime: '2026-01-15 09:30:00'\n      timeZone: America/New_York\n" \
           "    isRolling: false\n" in exported
    assert "- duration: 90m\n    isRolling: true\n" in exported
    again = MemoryLog()
    again.import_(read_text(exported))
    assert again.export() == exported and log.import_(read_text(exported)).empty


@pytest.mark.parametrize(("held", "file", "same"), [
    (Window("rolling", days=28), "4w", True),
    (Window("rolling", duration="672h"), "28d", True),
    (Window("rolling", days=28), "27d", False),
    (Window("calendar_month"), "1M from '2026-03-01 00:00:00' in UTC", True),
    (Window("calendar_month"), "1M from '2026-03-01 00:00:00' in Etc/UTC", True),
    (Window("calendar_quarter"), "1Q from '2025-10-01 00:00:00' in UTC", True),
    (Window("calendar_quarter"), "1Q from '2025-11-01 00:00:00' in UTC", False),
    (Window("calendar_month"), "1M from '2026-03-01 00:00:00' in Europe/Berlin", False),
    (Window("calendar_month"), "1M from '2026-03-15 00:00:00' in UTC", False),
    (Window("calendar", duration="1w", start="2026-03-02T06:00:00", time_zone="Europe/Berlin"),
     "1w from '2026-01-05 06:00:00' in Europe/Berlin", True),
    (Window("calendar", duration="1w", start="2026-03-02T06:00:00", time_zone="Europe/Berlin"),
     "7d from '2026-03-02 06:00:00' in Europe/Berlin", True),
    (Window("calendar", duration="1w", start="2026-03-02T06:00:00", time_zone="Europe/Berlin"),
     "1w from '2026-03-02 06:00:00' in Europe/London", False),
])
def test_a_window_of_the_same_periods_is_the_same_window_however_it_is_written(held, file, same):
    """An objective drafted with one form of a window (slogov's own, or an older import) is
    left alone by a file writing the same periods another way, and refused by another window."""
    log = MemoryLog()
    log.import_(read_text(SLO.format(window="28d", target=0.99)))
    state = log.states["objective-search-availability"]
    log.states["objective-search-availability"] = replace(state, window=held)
    duration, _, rest = file.partition(" from ")
    text = SLO.format(window=duration, target=0.99)
    if rest:
        start, zone = rest.rsplit(" in ", 1)
        text = text.replace("isRolling: true}", f"calendar: {{startTime: {start}, timeZone: {zone}}}}}")
    if same:
        assert log.import_(read_text(text)).empty
    else:
        with pytest.raises(PlanErrors, match="exists with another definition: window"):
            log.import_(read_text(text))


def test_the_export_of_what_is_agreed_matches_the_golden_file_with_its_provenance():
    log = MemoryLog()
    log.import_(read("sloth/myservice.yaml", "openslo/checkout.yaml", "openslo/composite.yaml", "openslo/windows.yaml"))
    for oid in ("checkout-availability__sla", "myservice-requests-availability", "sign-in-journey__login",
                "ingest-90m", "ingest-2w", "ingest-180d", "ingest-week", "ingest-month", "ingest-quarter", "ingest-year"):
        agree(log, oid)
    text = log.export(include_drafts=False, provenance=Provenance(42, "ab" * 32))
    assert text == (GOLDEN / "agreed.openslo.yaml").read_text()
    assert "slogov/agreement-id: sla=import-1" in text and "slogov/log-position: '42'" in text
    # the SLI's queries and their source go out and come back: into an empty log, and onto itself
    assert "metricSourceRef: prometheus-main" in text and "kind: DataSource" in text
    again = MemoryLog()
    again.import_(read_text(text))
    assert again.export(include_drafts=True) == log.export(include_drafts=False)
    assert log.import_(read_text(text)).empty


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
# (duration, calendar start and zone or None for rolling, the shortest the window lasts in hours)
windows = st.sampled_from([("7d", None, 168), ("28d", None, 672), ("90d", None, 2160), ("180d", None, 4320),
                           ("90m", None, 1.5), ("36h", None, 36), ("2w", None, 336),
                           ("1M", ("2026-01-01 00:00:00", "UTC"), 672), ("1Q", ("2026-01-01 00:00:00", "UTC"), 2136),
                           ("1M", ("2026-01-15 09:30:00", "America/New_York"), 672),
                           ("1w", ("2026-03-02 06:00:00", "Europe/Berlin"), 168),
                           ("1Q", ("2026-02-01 00:00:00", "Asia/Kolkata"), 2136),
                           ("1Y", ("2024-04-01 00:00:00", "Europe/London"), 8760)])
budgetings = st.one_of(st.just(None), st.tuples(st.integers(1, 60), st.sampled_from([0.9, 0.95, 1.0, None])))
kinds = st.sampled_from([{"kind": "availability"}, {"kind": "latency", "thresholdMs": 250},
                         {"kind": "quality", "metric": "faithfulness", "threshold": 0.8},
                         {"kind": "freshness", "thresholdSeconds": 60}])
label_sets = st.dictionaries(st.sampled_from(["team", "tier", "example.com/owner"]),
                             st.one_of(names, st.lists(names, min_size=1, max_size=2, unique=True)), max_size=2)
tiers = st.lists(st.tuples(st.sampled_from(["page", "ticket"]), st.sampled_from([("1h", 1), ("6h", 6), ("1d", 24)]),
                           st.sampled_from([1.0, 6.0, 14.4])), max_size=3)
# AlertNotificationTargets, inline in the policies (one definition per name, as one import reads them)
TARGETS = {"oncall": {"metadata": {"name": "oncall", "displayName": "On-call"}, "spec": {"target": "pagerduty"}},
           "chat": {"metadata": {"name": "chat"}, "spec": {"target": "slack", "description": "The team's channel"}},
           "hook": {"metadata": {"name": "hook"}, "spec": {"target": "https://alerts.example.com/in"}}}


@st.composite
def spec_files(draw) -> str:
    docs = []
    for slo in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
        duration, calendar, hours = draw(windows)
        budgeting = draw(budgetings)
        kind = draw(kinds)
        objectives = [{"displayName": n, "target": draw(st.sampled_from([0.9, 0.99, 0.999, 0.9995])),
                       **({"compositeWeight": w} if (w := draw(st.sampled_from([None, 1.0, 2.5]))) else {}),
                       **({"timeSliceWindow": f"{budgeting[0]}m"} if budgeting else {}),
                       **({"timeSliceTarget": budgeting[1]} if budgeting and budgeting[1] is not None else {})}
                      for n in draw(st.lists(names, min_size=1, max_size=2, unique=True))]
        window = {"duration": duration, "isRolling": calendar is None}
        if calendar is not None:
            window["calendar"] = {"startTime": calendar[0], "timeZone": calendar[1]}
        policies = []
        for severity, (long, long_hours), rate in draw(tiers):
            if long_hours > hours:  # a tier's long window fits in the compliance window
                continue
            name = f"{slo}-{severity}-{long}-{rate}".replace(".", "-")
            if name in {p["metadata"]["name"] for p in policies}:
                continue  # the same tier drawn twice: one policy
            routed = draw(st.lists(st.sampled_from(sorted(TARGETS)), max_size=2, unique=True))
            policies.append({"kind": "AlertPolicy", "metadata": {"name": name}, "spec": {"conditions": [
                {"kind": "AlertCondition", "metadata": {"name": name}, "spec": {"severity": severity, "condition": {
                    "kind": "burnrate", "op": "gte", "threshold": rate, "lookbackWindow": long, "alertAfter": "0m"}}}],
                "notificationTargets": [{"kind": "AlertNotificationTarget", **TARGETS[t]} for t in routed]}})
        metric = {"metricSource": {"type": "slogov", "spec": kind}}
        labels, note = draw(label_sets), draw(st.sampled_from([{}, {"example.com/runbook": "https://x.example/r"}]))
        docs.append({"apiVersion": "openslo/v1", "kind": "SLO",
                     "metadata": {"name": slo, "labels": labels, "annotations": note}, "spec": {
            "service": draw(st.sampled_from(["web", "api"])), "indicator": {"metadata": {"name": f"{slo}-sli"},
                                                                           "spec": {"ratioMetric": {"good": metric, "total": metric}}},
            "timeWindow": [window], "budgetingMethod": ("Timeslices" if budgeting[1] is not None else "RatioTimeslices") if budgeting
            else "Occurrences",
            "objectives": objectives, "alertPolicies": policies}})
    for service in draw(st.lists(st.sampled_from(["web", "api"]), unique=True)):
        docs.append({"apiVersion": "openslo/v1", "kind": "Service",
                     "metadata": {"name": service, "labels": draw(label_sets)}, "spec": {"description": "it serves"}})
    return yaml.safe_dump_all(docs)


@settings(max_examples=8, deadline=None)
@given(spec_files())
def test_an_export_imported_into_an_empty_log_exports_to_the_same_bytes(text):
    first = MemoryLog()
    first.import_(read_text(text))
    exported = first.export()
    routed = {t["metadata"]["name"] for d in yaml.safe_load_all(text) if d["kind"] == "SLO"
              for p in d["spec"]["alertPolicies"] for t in p["spec"]["notificationTargets"]}
    assert {d["metadata"]["name"] for d in yaml.safe_load_all(exported) if d["kind"] == "AlertNotificationTarget"} \
        == routed
    again = MemoryLog()
    again.import_(read_text(exported))
    assert again.export() == exported
    assert again.import_(read_text(exported)).empty  # and importing it once more changes nothing


def test_an_export_of_part_of_an_slo_imports_back_onto_the_same_objectives():
    log = MemoryLog()
    log.import_(read("openslo/checkout.yaml"))
    agree(log, "checkout-availability__sla")
    exported = log.export(include_drafts=False)
    assert "displayName: internal" not in exported  # only the agreed objective
    assert log.import_(read_text(exported)).empty


def test_changed_labels_relabel_the_journey_and_the_objective_and_nothing_else():
    service = "---\napiVersion: openslo/v1\nkind: Service\nmetadata: {{name: search, labels: {{team: {team}}}}}\nspec: {{}}\n"
    labelled = SLO.replace("metadata: {{name: search-availability}}",
                           "metadata: {{name: search-availability, labels: {{tier: '{tier}'}}}}")
    log = MemoryLog()
    log.import_(read_text(labelled.format(window="28d", target=0.99, tier=1) + service.format(team="a")))
    assert [(x.key, x.value) for x in log.states["objective-search-availability"].labels] == [("tier", "1")]
    assert log.states["objective-search-availability"].slo == "search-availability"
    plan = log.import_(read_text(labelled.format(window="28d", target=0.99, tier=2) + service.format(team="b")))
    assert [(s.action, type(c).__name__) for c, s in plan.commands] == [
        (CHANGE, "LabelJourney"), (CHANGE, "LabelObjective")]
    assert [(x.key, x.value) for x in log.states["journey-search"].labels] == [("team", "b")]
    assert log.states["objective-search-availability"].open_proposal.target == 0.99  # no new proposal


@pytest.mark.parametrize("query, counter", [
    ('sum(rate(http_requests_total{job="checkout",code!~"5.."}[1m]))', 'http_requests_total{job="checkout",code!~"5.."}'),
    ('sum(rate(requests_total{code=~"(5..|429)"}[{{.window}}]))', 'requests_total{code=~"(5..|429)"}'),
    ('sum by (job) (increase(x_total{a="b"}[5m]))', 'x_total{a="b"}'),
    ("a_total or b_total", "a_total or b_total"),
    ("myservice:slow_requests:ratio_rate{{.window}}", None),
    ("rate(x_total[5m]) / 2", None),
    ("sum(rate(x_total[1m])) + sum(rate(y_total[1m]))", None),
])
def test_a_ratio_part_is_read_as_the_counter_it_rates(query, counter):
    from domain.specs.mapping import counter_expression

    assert counter_expression(query) == counter


def test_the_batch_expects_each_stream_at_the_version_it_was_planned_against():
    from service.specs import _expected

    log = MemoryLog()
    log.import_(read_text(SLO.format(window="28d", target=0.99)))
    changed = read_text(SLO.format(window="28d", target=0.995))
    current = log.current(changed)
    assert _expected(current, plan(changed, current, actor="ada").commands) == [
        current.objectives["search-availability"].version]
    new = read_text(SLO.format(window="28d", target=0.995).replace("search-availability", "other"))
    current = log.current(new)
    assert _expected(current, plan(new, current, actor="ada").commands) == [0, None]  # drafted, then proposed
