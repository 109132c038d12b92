"""recordReview, the review fields of Objective, and leadershipReport over GraphQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain import quarters
from service.demo import load_demo
from tests.graphql.conftest import objective_input, prioritized_journey

OID = "checkout-availability"
REVIEW_FIELDS = """status agreedTarget openProposal { id target status }
  reviewOverdue nextReviewDue lastReview { quarter outcome findings attendees nextReviewOn target proposalId
  proposedTarget reviewedBy role reviewedAt } reviews { quarter outcome }"""


async def active_objective(api, objective_id: str = OID, journey_id: str = "checkout") -> None:
    await prioritized_journey(api, journey_id)
    await api.mutate("draftObjective", objective_input(objective_id, journey_id))
    await api.mutate("proposeTarget", {"objectiveId": objective_id, "proposalId": "p1", "target": 0.999,
                                       "rationale": "baseline", "requiredParties": ["PRODUCT", "SRE"]})
    for party in ("product", "sre"):
        await api.mutate("endorseProposal", {"objectiveId": objective_id, "proposalId": "p1",
                                             "party": party.upper()}, role=party)
    await api.mutate("formalizeAgreement", {
        "objectiveId": objective_id, "policyId": "default", "policyVersion": 0, "productOwner": "pat",
        "sreOwner": "sam", "escalationPath": ["oncall"], "resourceCommitment": "20%"})


async def record_review(api, input: dict, role: str = "product") -> dict:
    query = f"""mutation($input: RecordReviewInput!) {{ recordReview(input: $input) {{
      objective {{ {REVIEW_FIELDS} }} events {{ type }} }} }}"""
    return (await api.ok(query, {"input": input}, role))["recordReview"]


async def read_objective(api, objective_id: str = OID, role: str = "auditor") -> dict:
    query = f"query($id: ID!) {{ objective(id: $id) {{ {REVIEW_FIELDS} }} }}"
    return (await api.ok(query, {"id": objective_id}, role))["objective"]


def this_quarter() -> str:
    return quarters.quarter_of(datetime.now(timezone.utc))


async def test_maintain_review(api):
    await active_objective(api)
    before = await read_objective(api)
    assert before["lastReview"] is None and before["reviews"] == [] and before["reviewOverdue"] is False
    assert before["nextReviewDue"] is not None
    planned = (datetime.now(timezone.utc) + timedelta(days=60)).date().isoformat()
    out = await record_review(api, {
        "objectiveId": OID, "quarter": this_quarter(), "outcome": "MAINTAIN", "findings": "budget spent evenly",
        "attendees": ["pat", "sam", "lee"], "nextReviewOn": planned})
    assert [e["type"] for e in out["events"]] == ["ObjectiveReviewed"]
    o = out["objective"]
    assert o["status"] == "ACTIVE" and o["openProposal"] is None and not o["reviewOverdue"]
    r = o["lastReview"]
    assert (r["quarter"], r["outcome"], r["attendees"], r["target"]) == (this_quarter(), "MAINTAIN", ["pat", "sam", "lee"], 0.999)
    assert (r["reviewedBy"], r["role"], r["proposalId"]) == ("product-person", "product", None)
    assert o["nextReviewDue"].startswith(planned) and r["nextReviewOn"].startswith(planned)
    assert o["reviews"] == [{"quarter": this_quarter(), "outcome": "MAINTAIN"}]


async def test_tighten_review_opens_a_proposal(api):
    await active_objective(api)
    out = await record_review(api, {
        "objectiveId": OID, "quarter": this_quarter(), "outcome": "TIGHTEN", "findings": "users expect more",
        "attendees": ["pat", "sam"], "proposalId": "p2", "proposedTarget": 0.9995,
        "requiredParties": ["PRODUCT", "SRE"]}, role="leadership")
    assert [e["type"] for e in out["events"]] == ["ObjectiveReviewed", "TargetProposed"]
    o = out["objective"]
    assert o["status"] == "ACTIVE" and o["agreedTarget"] == 0.999
    assert o["openProposal"] == {"id": "p2", "target": 0.9995, "status": "OPEN"}
    assert o["lastReview"]["proposalId"] == "p2" and o["lastReview"]["proposedTarget"] == 0.9995
    for party in ("product", "sre"):
        await api.mutate("endorseProposal", {"objectiveId": OID, "proposalId": "p2", "party": party.upper()},
                         role=party)
    assert (await read_objective(api))["agreedTarget"] == 0.9995


async def test_refusals(api):
    await active_objective(api)
    base = {"objectiveId": OID, "quarter": this_quarter(), "findings": "f", "attendees": ["pat"]}
    code, _ = await api.fail("recordReview", {**base, "outcome": "MAINTAIN"}, role="engineering")
    assert code == "FORBIDDEN"
    code, _ = await api.fail("recordReview", {**base, "outcome": "MAINTAIN"}, role="auditor")
    assert code == "FORBIDDEN"
    code, error = await api.fail("recordReview", {**base, "outcome": "RELAX", "proposalId": "p2",
                                                  "proposedTarget": 0.9999})
    assert code == "BAD_USER_INPUT" and "looser" in error["message"]
    code, _ = await api.fail("recordReview", {**base, "outcome": "TIGHTEN"})
    assert code == "BAD_USER_INPUT"
    code, _ = await api.fail("recordReview", {**base, "outcome": "MAINTAIN", "quarter": "2999-Q1"})
    assert code == "BAD_USER_INPUT"
    await record_review(api, {**base, "outcome": "MAINTAIN"}, role="sre")
    code, _ = await api.fail("recordReview", {**base, "outcome": "REDEFINE"}, role="admin")
    assert code == "CONFLICT"
    await api.mutate("draftObjective", objective_input("other", "checkout"))
    code, _ = await api.fail("recordReview", {**base, "objectiveId": "other", "outcome": "MAINTAIN"})
    assert code == "POLICY_VIOLATION"


async def test_an_objective_agreed_more_than_a_quarter_ago_is_overdue_until_reviewed(api):
    store = api.container.store
    real_clock = store.clock
    store.clock = lambda: real_clock() - timedelta(days=120)  # the agreement happened four months ago
    try:
        await active_objective(api)
    finally:
        store.clock = real_clock
    o = await read_objective(api)
    assert o["reviewOverdue"] is True and o["lastReview"] is None
    assert datetime.fromisoformat(o["nextReviewDue"]) < datetime.now(timezone.utc)
    listed = await api.ok("{ objectives(first: 10) { edges { node { id reviewOverdue } } } }", role="ci")
    assert listed["objectives"]["edges"] == [{"node": {"id": OID, "reviewOverdue": True}}]
    out = await record_review(api, {"objectiveId": OID, "quarter": quarters.previous(this_quarter()),
                                    "outcome": "MAINTAIN", "findings": "late, but fine", "attendees": ["pat"]})
    assert out["objective"]["reviewOverdue"] is False


REPORT = """query($q: String!) { leadershipReport(quarter: $q) {
  quarter start end asOf
  totals { journeys objectives informationalObjectives overdueReviews exhaustions deploysAllowed deploysDenied
           medianDaysToAgreement }
  tiers { tier journeys { journeyId name objectives { objectiveId service target informational attainment budgetSpent
          budgetRemaining reviewOverdue lastReview { quarter outcome } chart { at remaining } } } } } }"""


async def test_leadership_report_on_the_demo(api):
    assert await load_demo(api.container)
    q = this_quarter()
    report = (await api.ok(REPORT, {"q": q}, role="leadership"))["leadershipReport"]
    start, end = quarters.bounds(q)
    assert report["quarter"] == q and report["start"] == start.isoformat() and report["end"] == end.isoformat()
    assert [t["tier"] for t in report["tiers"]] == [1, 2]
    assert [j["journeyId"] for j in report["tiers"][0]["journeys"]] == ["checkout", "rag-answer"]
    listed = report["tiers"][0]["journeys"][0]["objectives"]
    checkout = next(o for o in listed if o["objectiveId"] == OID)
    assert checkout["objectiveId"] == OID and checkout["target"] == 0.999 and not checkout["informational"]
    assert 0.99 < checkout["attainment"] < 1 and 0 < checkout["budgetSpent"] < 1
    assert checkout["lastReview"] == {"quarter": quarters.previous(q), "outcome": "MAINTAIN"}
    assert not checkout["reviewOverdue"]
    assert 2 < len(checkout["chart"]) <= 200
    # the journey's own objective is end to end; its dependencies' objectives say which service they measure
    assert checkout["service"] is None
    assert len([o for o in listed if o["service"] is not None]) == 4
    totals = report["totals"]
    # checkout's four component objectives (agreed, no policy) count among the informational ones
    assert totals["journeys"] == 3 and totals["objectives"] == 10 and totals["informationalObjectives"] == 8
    assert totals["overdueReviews"] == 0
    # any role may read it; a bad quarter is a BAD_USER_INPUT
    assert (await api.ok(REPORT, {"q": q}, role="auditor"))["leadershipReport"]["quarter"] == q
    body = await api.post(REPORT, {"q": "2026-Q5"}, role="auditor")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(REPORT, {"q": q}, role=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
