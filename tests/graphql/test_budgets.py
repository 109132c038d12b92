"""Error budgets over GraphQL: recording SLI data, the budget and its alerts, exclusions,
corrections, the ledger chart, refusals, and journey composites (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .conftest import objective_input, prioritized_journey

BUDGET = """objectiveId version target method window { kind days } sli attainment good bad total allowedBad
  spent consumed remaining exhausted stale lastObservationEnd windowStart windowEnd
  burnRates { window rate } alerts { severity longWindow shortWindow longRate shortRate threshold }"""
EVENTS = "events { position type streamId streamVersion }"
RECORD = f"""mutation($input: RecordObservationsInput!) {{ recordObservations(input: $input) {{
  budgets {{ {BUDGET} }} streams {{ objectiveId version appended }} {EVENTS} }} }}"""
PAYLOAD = f"objectiveId version replayed budget {{ {BUDGET} }} {EVENTS}"
FIVE = timedelta(minutes=5)


def aligned_now() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)


def obs(objective_id: str, start: datetime, good: float, total: float, length: timedelta = FIVE) -> dict:
    return {"objectiveId": objective_id, "start": start.isoformat(), "end": (start + length).isoformat(),
            "good": good, "total": total}


async def agreed_objective(api, objective_id: str, journey_id: str, target: float, *, new_journey: bool = True,
                           formalize: bool = False, service: str | None = None, weight: float | None = None) -> None:
    if new_journey:
        await prioritized_journey(api, journey_id)
    await api.mutate("draftObjective", {**objective_input(objective_id, journey_id), "service": service,
                                        "compositeWeight": weight})
    await api.mutate("proposeTarget", {"objectiveId": objective_id, "proposalId": "p1", "target": target,
                                       "rationale": "baseline", "requiredParties": ["PRODUCT", "SRE"]})
    for party in ("product", "sre"):
        await api.mutate("endorseProposal", {"objectiveId": objective_id, "proposalId": "p1",
                                             "party": party.upper()}, role=party)
    if formalize:
        await api.mutate("formalizeAgreement", {
            "objectiveId": objective_id, "policyId": "default", "policyVersion": 0, "productOwner": "pat",
            "sreOwner": "sam", "escalationPath": ["oncall"], "resourceCommitment": "20%"})


async def refuse(api, name: str, input: dict, role: str = "sre") -> tuple[str, dict]:
    """Like ``api.fail`` for any payload: the code and error of a refusal that moved nothing."""
    before = await api.head()
    query = f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{ __typename }} }}"
    body = await api.post(query, {"input": input}, role)
    assert body.get("errors"), body
    assert await api.head() == before, "a refused command moved the log head"
    error = body["errors"][0]
    return error["extensions"]["code"], error


async def record(api, observations: list[dict], role: str = "sre") -> dict:
    return (await api.ok(RECORD, {"input": {"observations": observations}}, role))["recordObservations"]


async def budget(api, objective_id: str, at: datetime | None = None) -> dict | None:
    args = f'(at: "{at.isoformat()}")' if at else ""
    data = await api.ok(f'{{ objective(id: "{objective_id}") {{ budget{args} {{ {BUDGET} }} }} }}', role="auditor")
    return data["objective"]["budget"]


async def adjust(api, input: dict, role: str = "sre") -> dict:
    query = f"mutation($input: AdjustBudgetInput!) {{ adjustBudget(input: $input) {{ {PAYLOAD} }} }}"
    return (await api.ok(query, {"input": input}, role))["adjustBudget"]


def baseline_batch(t: datetime) -> list[dict]:
    """o1: ten 5-minute intervals three hours ago, 10,000 requests each, 20 failures in one;
    o2: two intervals an hour ago, 4 failures of 2,000."""
    base = t - timedelta(hours=3)
    items = [obs("o1", base + k * FIVE, 9980 if k == 3 else 10000, 10000) for k in range(10)]
    items += [obs("o2", t - timedelta(hours=1) + k * FIVE, 998, 1000) for k in range(2)]
    return items


def burst(t: datetime, good: int = 980) -> list[dict]:
    """o1: the last hour, 2% of 1,000 requests failing each 5 minutes (burn rate 20)."""
    return [obs("o1", t - timedelta(hours=1) + k * FIVE, good, 1000) for k in range(12)]


async def test_record_budget_alert_exclude_restore(api):
    t = aligned_now()
    await agreed_objective(api, "o1", "j1", 0.999, formalize=True)
    await agreed_objective(api, "o2", "j2", 0.995)

    # two objectives in one call
    before = await api.head()
    data = await record(api, baseline_batch(t))
    assert [b["objectiveId"] for b in data["budgets"]] == ["o1", "o2"]
    assert [s["objectiveId"] for s in data["streams"]] == ["o1", "o2"]
    o1, o2 = data["budgets"]
    # 99.9% of 100,000 requests: 100 may fail; 20 did -> 80% left
    assert (o1["total"], o1["bad"], o1["good"]) == (100_000, 20, 99_980)
    assert o1["allowedBad"] == pytest.approx(100)
    assert o1["consumed"] == pytest.approx(0.2) and o1["remaining"] == pytest.approx(0.8)
    assert o1["sli"] == pytest.approx(0.9998) and o1["target"] == 0.999
    assert o1["method"] == "OCCURRENCES" and o1["window"] == {"kind": "ROLLING", "days": 30}
    assert o1["exhausted"] is False and o1["alerts"] == []
    assert o1["lastObservationEnd"].startswith((t - timedelta(hours=3) + 10 * FIVE).isoformat()[:19])
    # 99.5% of 2,000: 10 may fail; 4 did -> 60% left
    assert o2["allowedBad"] == pytest.approx(10) and o2["bad"] == 4 and o2["remaining"] == pytest.approx(0.6)
    types = {(e["streamId"], e["type"]) for e in data["events"]}
    assert {("budget-o1", "ObservationsRecorded"), ("budget-o2", "ObservationsRecorded"),
            ("budget-o1", "BudgetConfigured")} <= types
    assert [e["position"] for e in data["events"]] == list(range(before + 1, await api.head() + 1))
    assert o1["version"] == data["streams"][0]["version"] == max(
        e["streamVersion"] for e in data["events"] if e["streamId"] == "budget-o1")

    assert await budget(api, "o1") == o1
    read = await budget(api, "o2")
    assert (read["allowedBad"], read["bad"], read["remaining"]) == pytest.approx((10, 4, 0.6))

    # a resend of the same batch is a no-op
    head = await api.head()
    again = await record(api, baseline_batch(t))
    assert again["events"] == [] and [s["appended"] for s in again["streams"]] == [0, 0]
    assert await api.head() == head

    # an hour-long burst at 2% errors: burn rate 20 >= 14.4 over 1h and 5m -> a page
    data = await record(api, burst(t))
    o1 = data["budgets"][0]
    assert o1["bad"] == 260 and o1["total"] == 112_000
    assert o1["allowedBad"] == pytest.approx(112)
    assert o1["remaining"] == pytest.approx(1 - 260 / 112) and o1["exhausted"] is True
    rates = {r["window"]: r["rate"] for r in o1["burnRates"]}
    assert rates["1h"] == pytest.approx(20) and rates["5m"] == pytest.approx(20)
    page = [a for a in o1["alerts"] if a["longWindow"] == "1h"]
    assert page and page[0]["severity"] == "PAGE" and page[0]["shortWindow"] == "5m"
    assert page[0]["threshold"] == 14.4 and page[0]["longRate"] >= 14.4 and page[0]["shortRate"] >= 14.4
    types = [e["type"] for e in data["events"]]
    assert "BurnRateAlertRaised" in types and "BudgetExhausted" in types
    assert (await budget(api, "o1"))["alerts"] == o1["alerts"]
    # as of before the burst, the budget is the baseline's
    earlier = await budget(api, "o1", at=t - timedelta(hours=1))
    assert earlier["remaining"] == pytest.approx(0.8) and earlier["alerts"] == []

    # leadership excludes the burst hour: the budget is back to 80%
    excluded = await adjust(api, {"objectiveId": "o1", "action": "EXCLUDE", "exclusionId": "load-test",
                                  "start": (t - timedelta(hours=1)).isoformat(), "end": t.isoformat(),
                                  "reason": "a load test against production", "approver": "lee.lead"},
                            role="leadership")
    assert excluded["budget"]["remaining"] == pytest.approx(0.8)
    assert excluded["budget"]["exhausted"] is False and excluded["budget"]["alerts"] == []
    types = [e["type"] for e in excluded["events"]]
    assert types[0] == "IntervalExcluded" and "BudgetRecovered" in types and "BurnRateAlertCleared" in types
    assert excluded["version"] == excluded["budget"]["version"] and not excluded["replayed"]
    data = await api.ok('{ objective(id: "o1") { exclusions { id start end reason active } } }')
    assert data["objective"]["exclusions"] == [{
        "id": "load-test", "start": (t - timedelta(hours=1)).isoformat(), "end": t.isoformat(),
        "reason": "a load test against production", "active": True}]

    # the same exclusion again: nothing appended
    head = await api.head()
    same = await adjust(api, {"objectiveId": "o1", "action": "EXCLUDE", "exclusionId": "load-test",
                              "start": (t - timedelta(hours=1)).isoformat(), "end": t.isoformat(),
                              "reason": "again"})
    assert same["events"] == [] and await api.head() == head

    # restoring it brings the debit back
    restored = await adjust(api, {"objectiveId": "o1", "action": "RESTORE", "exclusionId": "load-test",
                                  "reason": "it was a real outage", "expectedVersion": excluded["version"]})
    assert restored["budget"]["remaining"] == pytest.approx(1 - 260 / 112)
    assert restored["budget"]["exhausted"] is True
    assert any(a["severity"] == "PAGE" and a["longWindow"] == "1h" for a in restored["budget"]["alerts"])
    assert [e["type"] for e in restored["events"]][0] == "IntervalRestored"
    data = await api.ok('{ objective(id: "o1") { exclusions { id active } } }')
    assert data["objective"]["exclusions"] == [{"id": "load-test", "active": False}]

    # different counts for a recorded interval: CONFLICT, nothing appended
    code, error = await refuse(api, "recordObservations", {"observations": [
        obs("o1", t - timedelta(hours=3), 9999, 10000)]})
    assert code == "CONFLICT" and "correction" in error["message"]

    # ... the explicit correction is accepted, once
    correct = f"mutation($input: CorrectObservationInput!) {{ correctObservation(input: $input) {{ {PAYLOAD} }} }}"
    fix = {**obs("o1", t - timedelta(hours=3), 9990, 10000), "reason": "the exporter double counted"}
    data = (await api.ok(correct, {"input": fix}))["correctObservation"]
    assert [e["type"] for e in data["events"]][0] == "ObservationCorrected"
    assert data["budget"]["bad"] == 270
    head = await api.head()
    data = (await api.ok(correct, {"input": fix}))["correctObservation"]
    assert data["events"] == [] and await api.head() == head
    code, _ = await refuse(api, "correctObservation", {**fix, "good": 9000, "expectedVersion": 1})
    assert code == "CONFLICT"


async def test_a_bad_item_refuses_the_whole_batch(api):
    t = aligned_now()
    await agreed_objective(api, "o1", "j1", 0.999)
    await agreed_objective(api, "o2", "j2", 0.995)
    await record(api, baseline_batch(t))
    before = {oid: await budget(api, oid) for oid in ("o1", "o2")}

    valid = [obs("o1", t - timedelta(minutes=30), 1000, 1000), obs("o2", t - timedelta(minutes=30), 1000, 1000)]
    cases = [
        ([*valid, obs("o2", t - timedelta(minutes=20), 11, 10)], "BAD_USER_INPUT"),  # good > total
        ([*valid, obs("o1", t - timedelta(minutes=20), 5, -1)], "BAD_USER_INPUT"),  # negative
        ([*valid, obs("o1", t - timedelta(minutes=20), 1.5, 10)], "BAD_USER_INPUT"),  # not a whole number
        ([*valid, obs("o1", t + timedelta(hours=1), 10, 10)], "BAD_USER_INPUT"),  # in the future
        ([*valid, obs("o1", t - timedelta(minutes=20), 10, 10, timedelta(days=2))], "BAD_USER_INPUT"),  # too long
        ([*valid, obs("o1", t - timedelta(minutes=20), 10, 10, timedelta(0))], "BAD_USER_INPUT"),  # empty
        ([], "BAD_USER_INPUT"),
        ([*valid, obs("nope", t - timedelta(minutes=20), 10, 10)], "NOT_FOUND"),
        ([*valid, obs("o1", t - timedelta(minutes=33), 10, 10)], "CONFLICT"),  # overlaps an item of the batch
        ([*valid, obs("o1", t - timedelta(hours=3), 1, 10000)], "CONFLICT"),  # contradicts the ledger
    ]
    for items, expected in cases:
        code, _ = await refuse(api, "recordObservations", {"observations": items})  # asserts the head stayed put
        assert code == expected, items
    naive = [{**valid[0], "start": (t - timedelta(minutes=20)).replace(tzinfo=None).isoformat(),
              "end": (t - timedelta(minutes=15)).replace(tzinfo=None).isoformat()}]
    code, _ = await refuse(api, "recordObservations", {"observations": naive})
    assert code == "BAD_USER_INPUT"
    for role in ("ci", "auditor", "product"):
        code, _ = await refuse(api, "recordObservations", {"observations": valid}, role=role)
        assert code == "FORBIDDEN"
    assert {oid: await budget(api, oid) for oid in ("o1", "o2")} == before

    # a valid batch from an admin lands for both objectives
    data = await record(api, valid, role="admin")
    assert [s["appended"] > 0 for s in data["streams"]] == [True, True]


async def test_adjust_budget_refusals(api):
    t = aligned_now()
    await agreed_objective(api, "o1", "j1", 0.999)
    await record(api, burst(t))
    start, end = (t - timedelta(hours=1)).isoformat(), t.isoformat()
    exclude = {"objectiveId": "o1", "action": "EXCLUDE", "exclusionId": "x1", "start": start, "end": end,
               "reason": "maintenance"}
    for role in ("engineering", "product", "ci", "auditor"):
        code, _ = await refuse(api, "adjustBudget", exclude, role=role)
        assert code == "FORBIDDEN", role
    code, error = await refuse(api, "adjustBudget", {**exclude, "start": None})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "start"
    code, _ = await refuse(api, "adjustBudget", {**exclude, "start": end, "end": start})
    assert code == "BAD_USER_INPUT"
    code, _ = await refuse(api, "adjustBudget", {**exclude, "reason": ""})
    assert code == "BAD_USER_INPUT"
    code, _ = await refuse(api, "adjustBudget", {**exclude, "objectiveId": "nope"})
    assert code == "NOT_FOUND"
    code, _ = await refuse(api, "adjustBudget", {"objectiveId": "o1", "action": "RESTORE", "exclusionId": "x9",
                                              "reason": "undo"})
    assert code == "NOT_FOUND"
    code, error = await refuse(api, "adjustBudget", {"objectiveId": "o1", "action": "RESTORE", "exclusionId": "x1",
                                                  "reason": "undo", "start": start})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "start"

    await adjust(api, exclude)
    code, _ = await refuse(api, "adjustBudget", {**exclude, "end": (t - timedelta(minutes=5)).isoformat()})
    assert code == "CONFLICT"  # the id is taken by a different range
    await adjust(api, {"objectiveId": "o1", "action": "RESTORE", "exclusionId": "x1", "reason": "undo"})
    code, _ = await refuse(api, "adjustBudget", exclude)
    assert code == "CONFLICT"  # restored ids are not reused
    code, _ = await refuse(api, "adjustBudget", {**exclude, "exclusionId": "x2", "expectedVersion": 1})
    assert code == "CONFLICT"

    # idempotency key: the retry returns the first result, appending nothing
    first = await adjust(api, {**exclude, "exclusionId": "x2", "idempotencyKey": "k-1"})
    head = await api.head()
    retry = await adjust(api, {**exclude, "exclusionId": "x2", "idempotencyKey": "k-1"})
    assert retry["replayed"] is True and retry["events"] == first["events"] and await api.head() == head


async def test_budget_ledger_pages_with_debits(api):
    t = aligned_now()
    await agreed_objective(api, "o1", "j1", 0.999)
    await record(api, baseline_batch(t)[:10] + burst(t))
    query = """query($after: String, $first: Int, $since: DateTime) { objective(id: "o1") {
        budgetLedger(first: $first, after: $after, since: $since) {
          edges { cursor node { at start end good total bad excluded debit remaining exhausted } }
          nodes { end } pageInfo { hasNextPage endCursor } } } }"""
    points, after = [], None
    while True:
        page = (await api.ok(query, {"first": 5, "after": after}, role="ci"))["objective"]["budgetLedger"]
        points += [e["node"] for e in page["edges"]]
        assert [n["end"] for n in page["nodes"]] == [e["node"]["end"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(points) == 22
    assert [p["end"] for p in points] == sorted(p["end"] for p in points)
    fourth = points[3]  # 20 failures of the 40,000 requests in its window: allowance 40, debit 0.5
    assert (fourth["bad"], fourth["debit"], fourth["remaining"]) == (20, pytest.approx(0.5), pytest.approx(0.5))
    assert points[0]["debit"] == 0 and points[0]["remaining"] == 1
    burst_points = points[10:]
    assert all(p["bad"] == 20 and p["debit"] > 0 and not p["excluded"] for p in burst_points)
    assert burst_points[-1]["remaining"] == pytest.approx(1 - 260 / 112) and burst_points[-1]["exhausted"]
    assert burst_points[-1]["debit"] == pytest.approx(20 / 112)

    since = (t - timedelta(hours=1)).isoformat()
    page = (await api.ok(query, {"since": since}))["objective"]["budgetLedger"]
    assert len(page["edges"]) == 12  # the points ending at or after since: the burst
    # excluded intervals debit nothing
    await adjust(api, {"objectiveId": "o1", "action": "EXCLUDE", "exclusionId": "x", "start": since,
                       "end": t.isoformat(), "reason": "maintenance"})
    page = (await api.ok(query, {"since": since}))["objective"]["budgetLedger"]
    assert all(e["node"]["excluded"] and e["node"]["debit"] == 0 for e in page["edges"])

    body = await api.post(query, {"first": 1001})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(query, {"after": "bm9wZQ=="})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_alert_configuration_and_freshness(api):
    t = aligned_now()
    await agreed_objective(api, "o1", "j1", 0.999)
    await record(api, [obs("o1", t - timedelta(minutes=40) + k * FIVE, 997, 1000) for k in range(6)])
    # burn rate 3: of the default tiers only the ticket (1 over 3d and 6h) fires
    assert [(a["severity"], a["longWindow"]) for a in (await budget(api, "o1"))["alerts"]] == [("TICKET", "3d")]

    configure = f"""mutation($input: ConfigureBudgetAlertsInput!) {{
        configureBudgetAlerts(input: $input) {{ {PAYLOAD} }} }}"""
    tiers = [{"severity": "PAGE", "longWindow": "30m", "shortWindow": "5m", "threshold": 2},
             {"severity": "TICKET", "longWindow": "1d", "shortWindow": "1h", "threshold": 10}]
    data = (await api.ok(configure, {"input": {"objectiveId": "o1", "tiers": tiers, "staleAfterMinutes": 1,
                                               "reason": "tighter paging"}}))["configureBudgetAlerts"]
    assert [e["type"] for e in data["events"]][0] == "AlertsConfigured"
    assert data["budget"]["alerts"] == [{"severity": "PAGE", "longWindow": "30m", "shortWindow": "5m",
                                         "longRate": pytest.approx(3), "shortRate": pytest.approx(3),
                                         "threshold": 2.0}]
    assert "BurnRateAlertRaised" in [e["type"] for e in data["events"]]
    for bad_tiers in ([], [{**tiers[0], "longWindow": "soon"}], [{**tiers[0], "threshold": 0}],
                      [{**tiers[0], "shortWindow": "1h"}]):
        code, _ = await refuse(api, "configureBudgetAlerts", {"objectiveId": "o1", "tiers": bad_tiers})
        assert code == "BAD_USER_INPUT", bad_tiers
    code, _ = await refuse(api, "configureBudgetAlerts", {"objectiveId": "o1", "staleAfterMinutes": 0})
    assert code == "BAD_USER_INPUT"
    code, _ = await refuse(api, "configureBudgetAlerts", {"objectiveId": "o1"}, role="leadership")
    assert code == "FORBIDDEN"

    # the last data ended 10 minutes ago, stale after 1 minute: the probe records it
    check = f"mutation($input: CheckFreshnessInput!) {{ checkFreshness(input: $input) {{ {PAYLOAD} }} }}"
    data = (await api.ok(check, {"input": {"objectiveId": "o1"}}))["checkFreshness"]
    assert [e["type"] for e in data["events"]][:1] == ["FreshnessChecked"]
    assert "ObservationsStale" in [e["type"] for e in data["events"]] and data["budget"]["stale"] is True
    head = await api.head()
    data = (await api.ok(check, {"input": {"objectiveId": "o1"}}))["checkFreshness"]
    assert data["events"] == [] and await api.head() == head
    code, _ = await refuse(api, "checkFreshness", {"objectiveId": "nope"})
    assert code == "NOT_FOUND"


async def test_journey_composite_and_feasibility(api):
    t = aligned_now()
    await prioritized_journey(api, "platform")
    # component objectives, linked to their services explicitly; "svc-c" is named like a
    # service but measures none, so it must not count (svc-c stays unmeasured)
    await agreed_objective(api, "a-ok", "platform", 0.999, new_journey=False, service="svc-a", weight=3)
    await agreed_objective(api, "b-ok", "platform", 0.9995, new_journey=False, service="svc-b")
    await agreed_objective(api, "svc-c", "platform", 0.99, new_journey=False)
    await prioritized_journey(api, "shop")
    for service, critical in (("svc-a", True), ("svc-b", True), ("svc-c", True), ("svc-d", False)):
        await api.mutate("mapDependency", {"journeyId": "shop", "service": service, "kind": "SERVICE",
                                           "critical": critical})
    await api.mutate("draftObjective", objective_input("shop-ok", "shop"))
    await api.mutate("proposeTarget", {"objectiveId": "shop-ok", "proposalId": "p1", "target": 0.999,
                                       "rationale": "as good as checkout"})
    data = await record(api, [obs("a-ok", t - FIVE, 999, 1000), obs("b-ok", t - FIVE, 2000, 2000),
                              obs("shop-ok", t - FIVE, 10, 10)])
    # shop-ok has no agreed target: its data is kept but it has no budget yet
    assert [b["objectiveId"] for b in data["budgets"]] == ["a-ok", "b-ok"]
    assert [s["objectiveId"] for s in data["streams"]] == ["a-ok", "b-ok", "shop-ok"]
    assert await budget(api, "shop-ok") is None

    query = """{ journey(id: "shop") { composite { journeyId criticalServices attainment ceiling feasible complete
          weightedAttainment weightedCeiling
          dependencies { service objectiveId target attainment } unmeasured
          targets { objectiveId proposalId target feasible ceiling } } }
        objective(id: "shop-ok") { feasibility { objectiveId proposalId target feasible ceiling complete unmeasured
          dependencyTargets { service objectiveId target } } } }"""
    data = await api.ok(query, role="auditor")
    composite = data["journey"]["composite"]
    ceiling = 0.999 * 0.9995  # 0.9985005
    assert composite["criticalServices"] == ["svc-a", "svc-b", "svc-c"]
    assert composite["ceiling"] == pytest.approx(ceiling)
    assert composite["attainment"] == pytest.approx(0.999 * 1.0)
    # a-ok weighs 3 (compositeWeight), b-ok the default 1: weighted means beside the product
    assert composite["weightedAttainment"] == pytest.approx((3 * 0.999 + 1.0) / 4)
    assert composite["weightedCeiling"] == pytest.approx((3 * 0.999 + 0.9995) / 4)
    assert composite["dependencies"] == [
        {"service": "svc-a", "objectiveId": "a-ok", "target": 0.999, "attainment": pytest.approx(0.999)},
        {"service": "svc-b", "objectiveId": "b-ok", "target": 0.9995, "attainment": 1.0},
    ]
    assert composite["unmeasured"] == ["svc-c"] and composite["complete"] is False
    assert composite["feasible"] is False
    assert composite["targets"] == [{"objectiveId": "shop-ok", "proposalId": "p1", "target": 0.999,
                                     "feasible": False, "ceiling": pytest.approx(ceiling)}]
    feasibility = data["objective"]["feasibility"]
    assert feasibility == {
        "objectiveId": "shop-ok", "proposalId": "p1", "target": 0.999, "feasible": False,
        "ceiling": pytest.approx(ceiling), "complete": False, "unmeasured": ["svc-c"],
        "dependencyTargets": [{"service": "svc-a", "objectiveId": "a-ok", "target": 0.999},
                              {"service": "svc-b", "objectiveId": "b-ok", "target": 0.9995}],
    }

    # revised under the ceiling, the target becomes feasible
    await api.mutate("reviseProposal", {"objectiveId": "shop-ok", "proposalId": "p1", "target": 0.998,
                                        "rationale": "within what the dependencies promise"})
    data = await api.ok(query)
    assert data["journey"]["composite"]["feasible"] is True
    assert data["objective"]["feasibility"]["feasible"] is True
    assert data["objective"]["feasibility"]["target"] == 0.998

    # no target at all: no feasibility; a journey with no critical dependency has ceiling 1
    await api.mutate("draftObjective", objective_input("shop-fast", "shop"))
    data = await api.ok('{ objective(id: "shop-fast") { feasibility { feasible } budget { remaining } } '
                        'journey(id: "platform") { composite { ceiling attainment complete feasible } } }')
    assert data["objective"] == {"feasibility": None, "budget": None}
    assert data["journey"]["composite"] == {"ceiling": 1.0, "attainment": None, "complete": True,
                                            "feasible": True}


async def test_demo_budgets(api):
    from service.demo import COMPONENTS, load_demo

    assert await load_demo(api.container)
    data = await api.ok("""{ checkout: objective(id: "checkout-availability") { status
          budget { target total bad remaining exhausted alerts { severity } lastObservationEnd windowStart }
          budgetLedger(first: 1000) { edges { node { debit } } pageInfo { hasNextPage } } }
        search: objective(id: "search-availability") { budget { remaining total } }
        journey(id: "checkout") { composite { criticalServices unmeasured complete attainment ceiling feasible
          dependencies { service objectiveId } targets { objectiveId feasible } } } }""", role="auditor")
    checkout = data["checkout"]
    assert checkout["status"] == "ACTIVE"
    b = checkout["budget"]
    assert b["target"] == 0.999 and 0.2 < b["remaining"] < 0.8 and not b["exhausted"] and b["alerts"] == []
    assert b["total"] > 3_000_000
    assert datetime.fromisoformat(b["lastObservationEnd"]) <= datetime.now(timezone.utc)
    points = checkout["budgetLedger"]["edges"]
    assert len(points) == 576 and not checkout["budgetLedger"]["pageInfo"]["hasNextPage"]
    assert max(p["node"]["debit"] for p in points) > 0.02  # the burst hour
    assert 0 < data["search"]["budget"]["remaining"] < 1
    # the demo adopts the default policy as the version checkout's agreement pins: the gate cites it
    from service import gate
    preview = await gate.deploy_preview(api.container, "ci-bot", frozenset({"ci"}), "checkout-api", "feature", "v1")
    assert preview.policy_versions == ("default@1",) and preview.objectives == ("checkout-availability",)
    # every critical service of checkout has its component objective: the composite is
    # complete, and checkout's 99.9% sits above their product (99.88%): infeasible
    composite = data["journey"]["composite"]
    assert composite["complete"] is True and composite["unmeasured"] == []
    assert [d["service"] for d in composite["dependencies"]] == composite["criticalServices"] == list(COMPONENTS)
    assert composite["ceiling"] == pytest.approx(0.9995 * 0.9995 * 0.9999 * 0.9999)
    assert 0.999 < composite["attainment"] < 1
    assert composite["feasible"] is False
    assert {"objectiveId": "checkout-availability", "feasible": False} in composite["targets"]
    # the burst raised a page that cleared once the hour had passed
    types = [e.type for e in await api.container.store.read_stream("budget-checkout-availability")]
    assert "BurnRateAlertRaised" in types and "BurnRateAlertCleared" in types


def test_budget_mutations_are_in_the_schema():
    from api.schema.export import sdl

    text = sdl()
    for name in ("recordObservations", "correctObservation", "adjustBudget", "configureBudgetAlerts",
                 "checkFreshness"):
        assert f"  {name}(input: {name[0].upper()}{name[1:]}Input!)" in text, name
    for fragment in ("enum AlertSeverity", "PAGE", "TICKET", "enum BudgetAction", "EXCLUDE", "RESTORE",
                     "budget(at: DateTime = null): Budget", "composite: JourneyComposite!",
                     "feasibility: Feasibility"):
        assert fragment in text, fragment
