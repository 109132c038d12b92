"""Referential guards (service/references.py), over GraphQL on both databases: a data source
an objective's SLI still names cannot be retired; an SLI cannot name a retired or unknown
source; a journey cannot be relabelled so that one of its objectives loses a label the
naming convention requires (nor an objective). Each refusal has its code, says which
objectives, and appends nothing."""

from __future__ import annotations

import asyncio

import pytest

from domain import objective as od
from domain import sources
from domain.errors import Conflict
from service.envelope import Envelope

from .conftest import journey_input

SRE = frozenset({"sre"})
RATIO = {"kind": "ratio", "source": "prom", "good": 'req_total{code="200"}', "total": "req_total"}
RETIRE = "mutation($input: RetireDataSourceInput!) { retireDataSource(input: $input) { dataSource { retired } } }"


async def _journey(api, journey_id: str = "checkout") -> None:
    await api.mutate("proposeJourney", journey_input(journey_id), role="product")
    await api.mutate("prioritizeJourney", {"journeyId": journey_id, "priority": 1, "tier": 1, "rationale": "revenue"},
                     role="product")


async def _draft(api, oid: str, journey_id: str = "checkout", labels: list | None = None) -> None:
    await api.mutate("draftObjective", {
        "objectiveId": oid, "journeyId": journey_id, "name": f"SLO {oid}", "labels": labels or [],
        "sli": {"kind": "AVAILABILITY"}, "window": {"kind": "ROLLING", "days": 28}, "budgeting": {"method": "OCCURRENCES"},
    })


async def _send(api, command) -> None:
    # SLI definitions straight to the bus: the API's defineSli asks a live source first
    # (tests/prometheus/test_sli_check.py); the guards are the same either way.
    await api.container.bus.execute(Envelope(command, "sre-person", SRE))


async def _agree(api, oid: str, proposal_id: str) -> None:
    await api.mutate("proposeTarget", {"objectiveId": oid, "proposalId": proposal_id, "target": 0.999, "rationale": "r"})
    for party in ("product", "sre", "engineering", "leadership"):
        await api.mutate("endorseProposal", {"objectiveId": oid, "proposalId": proposal_id, "party": party.upper()},
                         role=party)


async def test_a_source_still_named_by_an_sli_is_not_retired(api):
    await _journey(api)
    for name in ("prom", "thanos"):
        await _send(api, sources.DefineDataSource(name, "prometheus", f"http://{name}.example"))
    await _draft(api, "a")
    await _draft(api, "b")
    await _send(api, od.DefineSli("a", RATIO))
    # b reads thanos, and an open proposal would move it to prom: that names prom too.
    await _send(api, od.DefineSli("b", {**RATIO, "source": "thanos"}))
    await _agree(api, "b", "p1")
    await _send(api, od.DefineSli("b", RATIO, "p2", "prom is closer"))

    code, error = await api.fail("retireDataSource", {"name": "prom", "reason": "moving to thanos"})
    assert code == "CONFLICT" and error["extensions"]["objective_ids"] == ["a", "b"]
    assert "a, b" in error["message"] and error["extensions"]["name"] == "prom"

    # Move them off it: a to thanos, b's proposal withdrawn; then it retires.
    await _send(api, od.DefineSli("a", {**RATIO, "source": "thanos"}))
    code, error = await api.fail("retireDataSource", {"name": "prom", "reason": "moving to thanos"})
    assert error["extensions"]["objective_ids"] == ["b"]
    await api.mutate("withdrawProposal", {"objectiveId": "b", "proposalId": "p2", "reason": "staying"})
    out = await api.ok(RETIRE, {"input": {"name": "prom", "reason": "moving to thanos"}})
    assert out["retireDataSource"]["dataSource"]["retired"] is True

    # A retired objective does not hold its source.
    await api.mutate("retireObjective", {"objectiveId": "a", "reason": "replaced"})
    code, error = await api.fail("retireDataSource", {"name": "thanos", "reason": "gone"})
    assert error["extensions"]["objective_ids"] == ["b"]


async def test_an_sli_cannot_name_a_retired_or_unknown_source(api):
    await _journey(api)
    await _send(api, sources.DefineDataSource("prom", "prometheus", "http://prom.example"))
    await _send(api, sources.DefineDataSource("old", "prometheus", "http://old.example"))
    await _send(api, sources.RetireDataSource("old", "decommissioned"))
    await _draft(api, "a")
    await _draft(api, "b")
    await _send(api, od.DefineSli("b", RATIO))
    await _agree(api, "b", "p1")
    for oid, extra in (("a", {}), ("b", {"proposalId": "p2", "rationale": "move"})):  # define, and change by proposal
        for source, want in (("old", "CONFLICT"), ("nowhere", "NOT_FOUND")):
            code, error = await api.fail("defineSli", {"objectiveId": oid, "definition": {**RATIO, "kind": "RATIO",
                                                                                           "source": source}, **extra})
            assert (code, error["extensions"]["field"]) == (want, "definition.source"), error
    with pytest.raises(Conflict, match="retired"):  # the decider itself, whoever sends it
        await _send(api, od.DefineSli("b", {**RATIO, "source": "old"}, "p3", "move"))


async def test_a_definition_in_the_same_batch_holds_the_source(api):
    """The guard runs under the append lock and sees what the batch did before it."""
    await _journey(api)
    await _send(api, sources.DefineDataSource("prom", "prometheus", "http://prom.example"))
    await _draft(api, "a")
    head = await api.head()
    results = await asyncio.gather(
        api.container.bus.execute(Envelope(od.DefineSli("a", RATIO), "sre-person", SRE)),
        api.container.bus.execute(Envelope(sources.RetireDataSource("prom", "r"), "sre-person", SRE)),
        return_exceptions=True)
    assert [e.type for e in results[0].events][:1] == ["SliDefined"]
    assert isinstance(results[1], Conflict) and results[1].details["objective_ids"] == ["a"]
    assert await api.head() == head + len(results[0].events)


async def test_relabelling_cannot_drop_a_label_the_naming_convention_requires(api):
    await _journey(api)
    await api.mutate("labelJourney", {"journeyId": "checkout", "labels": [{"key": "team", "value": "payments"}]})
    await api.ok("mutation($input: SetNamingConventionInput!) { setNamingConvention(input: $input) { replayed } }",
                 {"input": {"requiredLabels": ["team"]}}, role="admin")
    await _draft(api, "x")  # relies on the journey's team label
    await _draft(api, "y", labels=[{"key": "team", "value": "search"}])

    code, error = await api.fail("labelJourney", {"journeyId": "checkout", "labels": [{"key": "tier", "value": "1"}]})
    assert (code, error["extensions"]["field"], error["extensions"]["objective_ids"]) == ("BAD_USER_INPUT", "labels", ["x"])
    assert "requires team" in error["message"]
    # Another value keeps it; so does labelling x itself first.
    await api.mutate("labelJourney", {"journeyId": "checkout", "labels": [{"key": "team", "value": "checkout"}]})
    await api.mutate("labelObjective", {"objectiveId": "x", "labels": [{"key": "team", "value": "payments"}]})
    await api.mutate("labelJourney", {"journeyId": "checkout", "labels": []})
    # An objective cannot drop it either, now that the journey has none.
    code, error = await api.fail("labelObjective", {"objectiveId": "y", "labels": []})
    assert (code, error["extensions"]["field"]) == ("BAD_USER_INPUT", "labels") and "requires team" in error["message"]
    # A retired objective needs no labels; a journey of no live objective may drop them.
    await api.mutate("retireObjective", {"objectiveId": "x", "reason": "merged"})
    await api.mutate("retireObjective", {"objectiveId": "y", "reason": "merged"})
    await api.mutate("labelJourney", {"journeyId": "checkout", "labels": [{"key": "team", "value": "a"}]})
    await api.mutate("labelJourney", {"journeyId": "checkout", "labels": []})
