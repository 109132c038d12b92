"""whatIfTarget over GraphQL: any authenticated party gets the candidate beside the
record; bad input is BAD_USER_INPUT / NOT_FOUND / UNAUTHENTICATED; nothing is appended
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tests.budgets.support import T0, minute
from tests.budgets.test_batching import adopt_one_day, fixed_clock, governed_objective, send

OUTCOME = """target attainment budgetSpent good total remaining exhausted exhaustions recoveries
  alertsRaised { at severity longWindow shortWindow threshold }
  transitions { type at severity longWindow remaining }"""
QUERY = f"""query($id: ID!, $from: DateTime!, $to: DateTime!, $target: Float, $window: WindowInput,
  $tiers: [AlertTierInput!]) {{
  whatIfTarget(objectiveId: $id, from: $from, to: $to, target: $target, window: $window, tiers: $tiers) {{
    objectiveId from to position whatIf {{ {OUTCOME} }} actual {{ {OUTCOME} }} }} }}"""


async def _history(api) -> str:
    """99% over a day; an hour at 0.5% errors, then 2 minutes of outage (exhausts 99%)."""
    fixed_clock(api.container)
    await adopt_one_day(api.container)
    oid = await governed_objective(api.container, "g-", target=0.99, days=1, policy_id="one-day")
    history = [(m, m + 1, 0 if 200 <= m < 202 else 995 if 60 <= m < 120 else 1000, 1000) for m in range(300)]
    await send(api.container, oid, history, [60, 120, 180, 240])
    return oid


async def test_any_party_sees_a_stricter_target_beside_the_record(api):
    oid = await _history(api)
    head = await api.head()
    variables = {"id": oid, "from": T0.isoformat(), "to": (T0 + timedelta(hours=5)).isoformat(), "target": 0.999}
    for role in ("auditor", "product", "ci"):
        body = (await api.ok(QUERY, variables, role))["whatIfTarget"]
        assert body["position"] == head
        actual, what_if = body["actual"], body["whatIf"]
        assert actual["target"] == 0.99 and what_if["target"] == 0.999
        assert actual["attainment"] == what_if["attainment"] == 1 - (300 + 2000) / 300_000
        # Live exhausted 99% in the outage; 99.9% was spent 15 minutes into the slow hour.
        assert what_if["exhaustions"] == [minute(75).isoformat()]
        assert actual["exhaustions"] and actual["exhaustions"][0] > minute(200).isoformat()
        recorded = await api.container.store.read_stream(f"budget-{oid}")
        assert [t["type"] for t in actual["transitions"]] == [
            e.type for e in recorded if e.type not in ("BudgetConfigured", "ObservationsRecorded")]
    assert await api.head() == head


async def test_the_record_is_the_answer_when_nothing_changes(api):
    oid = await _history(api)
    body = (await api.ok(QUERY, {"id": oid, "from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()},
                         "leadership"))["whatIfTarget"]
    assert body["whatIf"] == body["actual"]
    assert body["actual"]["alertsRaised"]


async def test_refusals_carry_their_codes_and_append_nothing(api):
    oid = await _history(api)
    head = await api.head()
    span = {"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()}
    cases = [
        ({"id": oid, **span, "target": 99.95}, "BAD_USER_INPUT"),
        ({"id": oid, **span, "window": {"kind": "ROLLING", "days": 0}}, "BAD_USER_INPUT"),
        ({"id": oid, **span, "tiers": []}, "BAD_USER_INPUT"),
        ({"id": oid, "from": span["to"], "to": span["from"]}, "BAD_USER_INPUT"),
        ({"id": "nobody", **span}, "NOT_FOUND"),
    ]
    for variables, code in cases:
        body = await api.post(QUERY, variables, "auditor")
        assert body["errors"][0]["extensions"]["code"] == code, (variables, body)
    body = await api.post(QUERY, {"id": oid, **span}, role=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.head() == head


async def test_a_proposal_is_judged_with_the_freezes_its_policy_would_have_started(api):
    from domain import objective as o
    from tests.budgets.support import do

    oid = await _history(api)
    await do(api.container, "sre", o.ProposeTarget(oid, "strict", 0.999, "the checkout promise"))
    query = """query($id: ID!, $from: DateTime!, $to: DateTime!, $p: String) {
      whatIfTarget(objectiveId: $id, from: $from, to: $to, proposalId: $p) {
        proposalId whatIf { target } freezes { startedAt liftedAt services ruleId }
        recordedFreezes { startedAt services } deploys { pipelineRunId } deploysDenied { pipelineRunId } } }"""
    variables = {"id": oid, "from": T0.isoformat(), "to": (T0 + timedelta(hours=5)).isoformat(), "p": "strict"}
    body = (await api.ok(query, variables, "product"))["whatIfTarget"]
    assert body["proposalId"] == "strict" and body["whatIf"]["target"] == 0.999
    assert body["freezes"][0]["startedAt"] == minute(75).isoformat()
    assert body["freezes"][0]["services"] == ["g-svc"]
    assert body["recordedFreezes"] and body["recordedFreezes"][0]["startedAt"] > minute(200).isoformat()
    assert body["deploys"] == body["deploysDenied"] == []
