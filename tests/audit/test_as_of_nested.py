"""Fields nested under an asOf query answer as of the same point: the objective's journey,
budget, ledger, exclusions, feasibility, policy actions and reviews; a journey's objectives
and composite (SQLite and PostgreSQL).

Each stage's answer at the head is kept; after the last stage, the same query as of each
stage's log position must give that answer again (a nested field answering at the head
would give the last stage's instead)."""

from __future__ import annotations

from datetime import datetime, timezone

from domain import quarters
from service import budget_queries as bq
from tests.budgets.support import journey, objective
from tests.policies.support import OID, SRE, active_objective, minute, observe

OBJECTIVE = """query($id: ID!, $asOf: AsOf) { objective(id: $id, asOf: $asOf) {
  id version status agreedTarget
  journey { id version criticalServices composite { attainment ceiling feasible complete
    dependencies { objectiveId target attainment } targets { objectiveId target feasible } } }
  budget { version remaining consumed good total exhausted lastObservationEnd alerts { severity } }
  early: budget(at: "%s") { remaining total }
  budgetLedger(first: 1000) { nodes { at remaining excluded } }
  exclusions { id active }
  feasibility { target ceiling feasible }
  policyActions { freezes { id active ruleId } escalations { id } postmortems { id } }
  reviews { quarter outcome } lastReview { quarter } nextReviewDue } }""" % minute(30).isoformat()
JOURNEY = """query($asOf: AsOf) { journey(id: "checkout", asOf: $asOf) {
  version objectives { totalCount nodes { id version budget { remaining } } }
  composite { attainment ceiling complete } } }"""


async def answers(api, as_of=None) -> tuple[dict, dict]:
    o = (await api.ok(OBJECTIVE, {"id": OID, "asOf": as_of}, role="auditor"))["objective"]
    j = (await api.ok(JOURNEY, {"asOf": as_of}, role="auditor"))["journey"]
    return o, j


async def test_every_nested_field_answers_as_of_the_same_point(api):
    container = api.container
    await journey(container, "payments")
    await objective(container, "pay", "payments", target=0.9995, service="payments")  # a component objective
    await active_objective(container, services=("payments",))
    stages: list[tuple[int, tuple[dict, dict]]] = []

    async def stage() -> None:
        stages.append((await api.head(), await answers(api)))

    await stage()
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 0, 60, 999, 1000, oid="pay")
    await stage()
    await observe(container, 60, 70, 0, 1000)  # exhausted: the default policy freezes deploys
    await stage()
    await bq.exclude_interval(container, "sre", SRE, OID, "x1", minute(60), minute(65), "a load test")
    await stage()
    quarter = quarters.quarter_of(datetime.now(timezone.utc))
    await api.mutate("recordReview", {"objectiveId": OID, "quarter": quarter, "outcome": "TIGHTEN",
                                      "findings": "f", "attendees": ["pat"], "proposalId": "p2",
                                      "proposedTarget": 0.9995}, role="sre")
    await stage()
    await observe(container, 70, 80, 1_000_000, 1_000_000)  # recovered: the freeze lifts
    await stage()

    # The stages differ in every nested field this test is about.
    firsts = [s[1] for s in stages]
    for path in (lambda o, j: o["budget"], lambda o, j: o["policyActions"], lambda o, j: o["exclusions"],
                 lambda o, j: o["reviews"], lambda o, j: o["journey"]["composite"], lambda o, j: o["budgetLedger"],
                 lambda o, j: o["feasibility"], lambda o, j: j["objectives"]):
        assert len({repr(path(*a)) for a in firsts}) > 1
    # the composite is made of the component objective measuring payments, whose data came later
    assert [d["objectiveId"] for d in firsts[-1][0]["journey"]["composite"]["dependencies"]] == ["pay"]
    assert firsts[0][0]["journey"]["composite"]["attainment"] is None
    assert firsts[1][0]["journey"]["composite"]["attainment"] == 0.999
    for position, expected in stages:
        assert await answers(api, {"position": position}) == expected, position


async def test_review_overdue_as_of_is_judged_at_the_time_of_that_position(api):
    container = api.container
    await active_objective(container)
    query = """query($asOf: AsOf) { objective(id: "%s", asOf: $asOf) { reviewOverdue nextReviewDue } }""" % OID
    head = await api.head()
    then = (await api.ok(query, {"asOf": {"position": head}}))["objective"]
    assert then["reviewOverdue"] is False and then["nextReviewDue"] is not None
    # Long after the review was due, the same position still answers as it stood then.
    far = datetime.fromisoformat(then["nextReviewDue"]).replace(year=datetime.fromisoformat(then["nextReviewDue"]).year + 1)
    container.store.clock = lambda: far
    assert (await api.ok(query, {"asOf": None}))["objective"]["reviewOverdue"] is True
    assert (await api.ok(query, {"asOf": {"position": head}}))["objective"]["reviewOverdue"] is False


async def test_policy_and_deploy_decisions_as_of(api):
    from policies.loader import POLICY_DIR
    from tests.policies.support import deploy

    container = api.container
    adopt = """mutation($input: AdoptPolicyInput!) { adoptPolicy(input: $input) { policy { version } } }"""
    text = (POLICY_DIR / "default.yaml").read_text()
    await api.ok(adopt, {"input": {"document": text, "note": "v1"}}, role="leadership")
    await active_objective(container, policy_version=1)
    await deploy(container, "feature", "run-1")
    first = await api.head()
    await api.ok(adopt, {"input": {"document": text.replace("0.2", "0.25", 1), "note": "v2"}}, role="leadership")
    await deploy(container, "feature", "run-2")

    policy = """query($asOf: AsOf) { policy(id: "default", asOf: $asOf) { version versions { version } } }"""
    assert (await api.ok(policy, {"asOf": None}))["policy"]["version"] == 2
    # The bundled version 0 is there at every point, before any adoption too.
    assert (await api.ok(policy, {"asOf": {"position": first}}))["policy"] == \
        {"version": 1, "versions": [{"version": 0}, {"version": 1}]}
    assert (await api.ok(policy, {"asOf": {"position": 0}}))["policy"] == {"version": 0, "versions": [{"version": 0}]}

    decisions = """query($asOf: AsOf) { deployDecisions(asOf: $asOf) { totalCount nodes { id } }
      a: deployDecision(id: "run-1", asOf: $asOf) { id } b: deployDecision(id: "run-2", asOf: $asOf) { id } }"""
    now = await api.ok(decisions, {"asOf": None})
    assert now["deployDecisions"]["totalCount"] == 2 and now["b"] == {"id": "run-2"}
    then = await api.ok(decisions, {"asOf": {"position": first}})
    assert then == {"deployDecisions": {"totalCount": 1, "nodes": [{"id": "run-1"}]}, "a": {"id": "run-1"}, "b": None}
