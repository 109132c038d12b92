"""Refusals: each has its extensions.code and appends nothing (the log head stays put)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .conftest import baseline_input, journey_input, negotiating_objective, objective_input, prioritized_journey


async def test_no_token_is_unauthenticated(api):
    before = await api.head()
    response = await api.client.post("/graphql", json={
        "query": "mutation($i: ProposeJourneyInput!) { proposeJourney(input: $i) { replayed } }",
        "variables": {"i": journey_input("j1")},
    })
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.head() == before
    response = await api.client.post("/graphql", json={"query": "{ viewer { actor } }"},
                                     headers={"Authorization": "Bearer slg_not-a-real-token-at-all-xxxx"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer(api):
    data = await api.ok("{ viewer { actor roles } }", role="leadership")
    assert data["viewer"] == {"actor": "leadership-person", "roles": ["LEADERSHIP"]}


@pytest.mark.parametrize("role", ["auditor", "ci"])
async def test_read_only_roles_cannot_mutate(api, role):
    code, error = await api.fail("proposeJourney", journey_input("j1"), role=role)
    assert code == "FORBIDDEN"
    assert "needs one of the roles" in error["message"]
    # but they may read
    data = await api.ok("{ journeys { totalCount } }", role=role)
    assert data["journeys"]["totalCount"] == 0


async def test_a_party_speaks_only_for_itself(api):
    await negotiating_objective(api, "o1", "j1")
    code, _ = await api.fail("endorseProposal", {"objectiveId": "o1", "proposalId": "p1", "party": "PRODUCT"},
                             role="sre")
    assert code == "FORBIDDEN"
    code, _ = await api.fail("endorseProposal", {"objectiveId": "o1", "proposalId": "p1", "party": "PRODUCT"},
                             role="admin")
    assert code == "FORBIDDEN"


@pytest.mark.parametrize("target", [1.5, 99.9, 1.0, 0.0, -0.1])
async def test_targets_are_fractions(api, target):
    await prioritized_journey(api, "j1")
    await api.mutate("draftObjective", objective_input("o1", "j1"))
    code, error = await api.fail("proposeTarget", {"objectiveId": "o1", "proposalId": "p1", "target": target,
                                                   "rationale": "x"})
    assert code == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "target"


async def test_baseline_in_the_future_and_other_bad_input(api):
    await prioritized_journey(api, "j1")
    await api.mutate("draftObjective", objective_input("o1", "j1"))
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    code, error = await api.fail("recordBaseline", baseline_input("o1", periodEnd=future))
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "period_end"
    code, _ = await api.fail("recordBaseline", baseline_input("o1", good=11, total=10))
    assert code == "BAD_USER_INPUT"
    code, _ = await api.fail("recordBaseline", baseline_input("o1", periodStart="not a date"))
    assert code == "BAD_USER_INPUT"
    # a latency SLI without a threshold
    bad = objective_input("o2", "j1")
    bad["sli"] = {"kind": "LATENCY"}
    code, _ = await api.fail("draftObjective", bad)
    assert code == "BAD_USER_INPUT"
    code, _ = await api.fail("proposeJourney", journey_input("j2", steps=[]), role="product")
    assert code == "BAD_USER_INPUT"
    code, _ = await api.fail("proposeJourney", journey_input("bad id!"), role="product")
    assert code == "BAD_USER_INPUT"


async def test_unknown_entities_are_not_found(api):
    code, _ = await api.fail("prioritizeJourney", {"journeyId": "nope", "priority": 1, "tier": 1, "rationale": "x"},
                             role="product")
    assert code == "NOT_FOUND"
    code, _ = await api.fail("recordBaseline", baseline_input("nope"))
    assert code == "NOT_FOUND"
    code, _ = await api.fail("draftObjective", objective_input("o1", "no-journey"))
    assert code == "NOT_FOUND"
    data = await api.ok('{ journey(id: "nope") { id } objective(id: "nope") { id } }')
    assert data == {"journey": None, "objective": None}


async def test_stale_expected_version_is_a_conflict(api):
    await api.mutate("proposeJourney", journey_input("j1"), role="product")
    code, error = await api.fail("prioritizeJourney", {"journeyId": "j1", "priority": 1, "tier": 1, "rationale": "x",
                                                       "expectedVersion": 0}, role="product")
    assert code == "CONFLICT"
    assert error["extensions"]["actual_version"] == 1
    code, _ = await api.fail("proposeJourney", journey_input("j1"), role="product")
    assert code == "CONFLICT"


async def test_open_instrumentation_gap_blocks_proposals(api):
    await prioritized_journey(api, "j1")
    await api.mutate("draftObjective", objective_input("o1", "j1"))
    await api.mutate("recordInstrumentationGap", {"journeyId": "j1", "gapId": "faithfulness",
                                                  "description": "scored offline only", "sliKind": "QUALITY"})
    code, error = await api.fail("proposeTarget", {"objectiveId": "o1", "proposalId": "p1", "target": 0.99,
                                                   "rationale": "x"})
    assert code == "POLICY_VIOLATION"
    assert error["extensions"]["gap_ids"] == ["faithfulness"]
    # formalizing before agreement is also a policy violation
    code, _ = await api.fail("formalizeAgreement", {
        "objectiveId": "o1", "policyId": "default", "policyVersion": 0, "productOwner": "p", "sreOwner": "s",
        "escalationPath": ["oncall"], "resourceCommitment": "some"})
    assert code == "POLICY_VIOLATION"


async def test_malformed_graphql_and_wrong_types(api):
    before = await api.head()
    body = await api.post("mutation { proposeJourney(input: {")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post('mutation { prioritizeJourney(input: {journeyId: "j", priority: 1, tier: "high", '
                          'rationale: "x"}) { replayed } }', role="product")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post('{ journeys(filter: {tier: "high"}) { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # wrong variable type
    body = await api.post("mutation($i: PrioritizeJourneyInput!) { prioritizeJourney(input: $i) { replayed } }",
                          {"i": {"journeyId": "j", "priority": 1, "tier": "high", "rationale": "x"}}, role="product")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post('mutation { mapDependency(input: {journeyId: "j", service: "s", kind: BANANA, '
                          'critical: true}) { replayed } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post("{ nothingHere }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.head() == before


async def test_refusals_are_counted(api):
    from api.metrics import default_metrics

    def count(outcome: str) -> float:
        return default_metrics.registry.get_sample_value(
            "slogov_commands_total", {"command": "ProposeJourney", "outcome": outcome}) or 0.0

    ok, forbidden = count("ok"), count("FORBIDDEN")
    await api.mutate("proposeJourney", journey_input("j1"), role="product")
    await api.fail("proposeJourney", journey_input("j2"), role="auditor")
    assert count("ok") == ok + 1
    assert count("FORBIDDEN") == forbidden + 1
