"""The SLI as queries (DefineSli) and the data-source stream: the pure rules."""

from __future__ import annotations

import pytest

from domain import journey, objective, sources
from domain.errors import Conflict, InvalidInput, NotFound
from domain.objective import DefineSli

from .support import World, agree, drafted_objective, prioritized_journey, propose

OID = "checkout-availability"
RATIO = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}
BAD = {"kind": "ratio", "source": "prom", "bad": 'http_requests_total{code=~"5.."}', "total": "http_requests_total"}


def world_with_source() -> World:
    w = World()
    w.run(sources.DefineDataSource("prom", "prometheus", "http://localhost:9090/"), roles={"sre"})
    return w


def test_a_draft_takes_the_definition_directly_in_canonical_form():
    w = world_with_source()
    drafted_objective(w)
    events = w.run(DefineSli(OID, {**RATIO, "total": "http_requests_total {}"}))
    assert [e.type for e in events] == ["SliDefined"]
    q = w.objective(OID).sli_definition
    assert (q.kind, q.source, q.good, q.total, q.checked) == ("ratio", "prom", RATIO["good"], "http_requests_total", False)
    assert w.objective(OID).history[-1].detail.startswith("SLI defined as ratio: good")


def test_during_a_first_negotiation_the_definition_is_not_changed_under_the_parties():
    w = world_with_source()
    drafted_objective(w)
    propose(w)
    with pytest.raises(Conflict, match="p1 is open"):
        w.decide(DefineSli(OID, RATIO))
    with pytest.raises(InvalidInput) as caught:
        w.decide(DefineSli(OID, RATIO, proposal_id="s1", rationale="r"))
    assert caught.value.details["field"] == "proposal_id"


def test_on_an_agreed_objective_a_change_is_a_proposal_agreed_like_a_target():
    w = world_with_source()
    drafted_objective(w)
    w.run(DefineSli(OID, RATIO))
    propose(w)
    agree(w)
    with pytest.raises(InvalidInput, match="proposal"):
        w.decide(DefineSli(OID, BAD))
    with pytest.raises(Conflict, match="already has this SLI"):
        w.decide(DefineSli(OID, RATIO, "s1", "same"))
    with pytest.raises(Conflict, match="already used"):
        w.decide(DefineSli(OID, BAD, "p1", "reused id"))
    w.run(DefineSli(OID, BAD, "s1", "count failures", ("sre", "product")))
    state = w.objective(OID)
    assert state.sli_definition.good is not None  # the agreed one holds until the change is agreed
    assert state.open_proposal.sli_definition.bad == BAD["bad"] and state.open_proposal.target == 0.999
    assert state.status is objective.ObjectiveStatus.AGREED
    agree(w, "s1")
    agreed = w.events("objective-" + OID)[-1]
    assert agreed.type == "TargetAgreed" and agreed.data["sli_definition"]["bad"] == BAD["bad"]
    state = w.objective(OID)
    assert state.sli_definition.bad == BAD["bad"] and state.agreed_target == 0.999


def test_a_change_proposal_is_not_held_back_by_the_gap_it_closes():
    w = world_with_source()
    drafted_objective(w)
    w.run(DefineSli(OID, RATIO))
    propose(w)
    agree(w)
    w.run(journey.RecordInstrumentationGap("checkout", "g", "5xx lost behind the LB", "availability"), roles={"sre"})
    w.run(DefineSli(OID, BAD, "s1", "count at the LB"))  # a target proposal would be refused here
    agree(w, "s1")
    closed = objective.gaps_closed(w.objective(OID), w.journey("checkout"))
    assert [(e.type, e.data["gap_id"]) for e in closed] == [("InstrumentationGapClosed", "g")]


def test_gaps_closed_are_the_open_ones_of_the_objectives_kind():
    w = world_with_source()
    prioritized_journey(w)
    for gap, kind in (("a", "availability"), ("l", "latency"), ("n", None)):
        w.run(journey.RecordInstrumentationGap("checkout", gap, "missing", kind), roles={"sre"})
    drafted_objective(w)
    assert objective.gaps_closed(w.objective(OID), w.journey("checkout")) == []  # nothing defined yet
    w.run(DefineSli(OID, RATIO))
    assert [e.data["gap_id"] for e in objective.gaps_closed(w.objective(OID), w.journey("checkout"))] == ["a"]


def _latency_world(budgeting=objective.Budgeting("occurrences")) -> World:
    w = world_with_source()
    prioritized_journey(w)
    w.run(objective.DraftObjective("lat", "checkout", "Fast checkout", objective.SLI("latency", threshold_ms=300),
                                   objective.Window("rolling", 28), budgeting), roles={"sre"})
    return w


LATENCY = {"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="api"}', "le": "0.3"}


@pytest.mark.parametrize("definition, field", [
    ({**LATENCY, "le": "0.5"}, "definition.le"),  # not the objective's threshold
    ({**LATENCY, "slice": {"minutes": 5, "good_ratio": 0.9}}, "definition.slice"),  # occurrences
    ({**LATENCY, "histogram": "lat_seconds_bucket"}, "definition.histogram"),
    ({**RATIO, "good": "sum(x)"}, "definition.good"),
    ({**RATIO, "source": "no such"}, "definition.source"),
    ("http_requests_total", "definition"),
])
def test_refusals_name_the_field(definition, field):
    w = _latency_world()
    with pytest.raises(InvalidInput) as caught:
        w.decide(DefineSli("lat", definition))
    assert caught.value.details["field"] == field


def test_a_latency_definition_fits_a_latency_objective_and_timeslices_take_the_objectives_slices():
    w = _latency_world(objective.Budgeting("timeslices", slice_minutes=5, slice_threshold=0.95))
    w.run(DefineSli("lat", LATENCY))
    q = w.objective("lat").sli_definition
    assert (q.histogram, q.le, q.slice_minutes, q.slice_good_ratio) == ('lat_seconds{job="api"}', "0.3", 5, 0.95)
    with pytest.raises(InvalidInput) as caught:
        w.decide(DefineSli("lat", {**LATENCY, "slice": {"minutes": 1, "good_ratio": 0.95}}))
    assert caught.value.details["field"] == "definition.slice"


def test_the_source_must_exist_and_be_live():
    w = _latency_world()
    with pytest.raises(NotFound):
        w.decide(DefineSli("lat", {**LATENCY, "source": "other"}))
    w.run(sources.RetireDataSource("prom", "moved to thanos"), roles={"sre"})
    with pytest.raises(Conflict, match="retired"):
        w.decide(DefineSli("lat", LATENCY))


def test_the_source_stream_defines_changes_and_retires():
    w = world_with_source()
    state = w.states["source-prom"]
    assert (state.url, state.headers_from_env, state.version) == ("http://localhost:9090", {}, 1)
    with pytest.raises(Conflict, match="already exists"):
        w.decide(sources.DefineDataSource("prom", "prometheus", "http://other:9090"))
    with pytest.raises(Conflict, match="already has"):
        w.decide(sources.ChangeDataSource("prom", "prometheus", "http://localhost:9090"))
    with pytest.raises(InvalidInput):
        w.decide(sources.ChangeDataSource("prom", "prometheus", "http://localhost:9090", {"Authorization": "Bearer x"}))
    w.run(sources.ChangeDataSource("prom", "prometheus", "https://prom.internal", {"Authorization": "PROM_AUTH"}))
    state = w.states["source-prom"]
    assert state.source().headers_from_env == (("Authorization", "PROM_AUTH"),) and state.version == 2
    w.run(sources.RetireDataSource("prom", "moved"))
    assert w.states["source-prom"].retired
    with pytest.raises(Conflict, match="retired"):
        w.decide(sources.ChangeDataSource("prom", "prometheus", "http://x:9090"))
    with pytest.raises(NotFound):
        w.decide(sources.RetireDataSource("nope", "r"))
    assert sources.from_dict(sources.to_dict(w.states["source-prom"])) == w.states["source-prom"]
