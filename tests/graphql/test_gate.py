"""The deploy gate over GraphQL (SQLite and PostgreSQL): budgets and objectives set up through
the service functions, then policies, decisions, exceptions and replays through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from policies.loader import POLICY_DIR
from tests.policies.support import OID, SERVICE, Clock, active_objective, observe

DECISION = """id service changeType version outcome reasons ruleIds objectives freezes exceptions
  policyVersions suggestions evaluatedAtPosition at replayed recorded position actor"""
EVALUATE = f"""mutation($input: EvaluateDeployInput!) {{ evaluateDeploy(input: $input) {{ {DECISION} }} }}"""
REPLAY = f"""query($id: ID!) {{ replayDeployDecision(id: $id) {{ id matches differences
  recorded {{ {DECISION} }} replayed {{ outcome reasons ruleIds objectives freezes exceptions policyVersions }} }} }}"""
GRANT = """mutation($input: GrantFreezeExceptionInput!) { grantFreezeException(input: $input) {
  exception { id service version expiresAt reason grantedBy } events { type } replayed } }"""
PREVIEW = f"""query($s: String!, $t: ChangeType!, $v: String!) {{
  deployPreview(service: $s, changeType: $t, version: $v) {{ {DECISION} }} }}"""
ADOPT = """mutation($input: AdoptPolicyInput!) { adoptPolicy(input: $input) {
  adopted policy { id version current { version rules { id condition actions { type role } exempt } } } } }"""


async def evaluate(api, change: str, run: str, role: str = "ci", version: str = "v1", service: str = SERVICE) -> dict:
    data = await api.ok(EVALUATE, {"input": {"service": service, "changeType": change, "version": version,
                                             "pipelineRunId": run}}, role=role)
    return data["evaluateDeploy"]


async def test_the_gate_scenario_over_graphql(api):
    container = api.container
    clock = Clock()
    container.store.clock = clock
    adopted = (await api.ok(ADOPT, {"input": {"document": (POLICY_DIR / "default.yaml").read_text(),
                                              "note": "the workbook policy"}}, role="leadership"))["adoptPolicy"]
    assert adopted["adopted"] and adopted["policy"]["id"] == "default" and adopted["policy"]["version"] == 1
    rules = {r["id"]: r for r in adopted["policy"]["current"]["rules"]}
    assert rules["freeze-when-exhausted"]["exempt"] == ["RELIABILITY_FIX", "SECURITY_FIX", "ROLLBACK"]
    await active_objective(container, policy_version=1)
    await observe(container, 0, 60, 1000, 1000)

    ok = await evaluate(api, "FEATURE", "run-0")
    assert ok["outcome"] == "ALLOW" and ok["objectives"] == [OID] and ok["policyVersions"] == ["default@1"]
    assert ok["id"] == "run-0" and ok["recorded"] and not ok["replayed"] and ok["actor"] == "ci-person"

    # The budget burns out: a freeze on the service, visible on the objective.
    await observe(container, 60, 70, 0, 1000)
    actions = (await api.ok("""query($id: ID!) { objective(id: $id) { policyActions {
        activeFreezes { id ruleId services exempt cause active policyVersion }
        postmortems { id open ruleId } escalations { id } } } }""", {"id": OID}, role="auditor"))
    freezes = actions["objective"]["policyActions"]["activeFreezes"]
    assert [f["id"] for f in freezes] == [f"{OID}/freeze-1"]
    assert freezes[0]["ruleId"] == "freeze-when-exhausted" and freezes[0]["services"] == [SERVICE]
    assert freezes[0]["cause"] and freezes[0]["active"]

    denied = await evaluate(api, "FEATURE", "run-1", version="abc123")
    assert denied["outcome"] == "DENY" and denied["ruleIds"] == ["freeze-when-exhausted"]
    assert denied["freezes"] == [f"{OID}/freeze-1"] and any("frozen" in r for r in denied["reasons"])
    assert denied["changeType"] == "FEATURE" and denied["version"] == "abc123"
    assert denied["evaluatedAtPosition"] <= await api.head()
    assert (await evaluate(api, "CONFIG", "run-1b"))["outcome"] == "DENY"
    assert (await evaluate(api, "RELIABILITY_FIX", "run-2"))["outcome"] == "ALLOW"
    assert (await evaluate(api, "ROLLBACK", "run-3", role="sre"))["outcome"] == "ALLOW"

    # The same pipeline run again: the first answer, nothing appended.
    before = await api.head()
    again = await evaluate(api, "FEATURE", "run-1", version="other")
    assert again["replayed"] and again["outcome"] == "DENY" and again["position"] == denied["position"]
    assert again["reasons"] == denied["reasons"] and again["version"] == "abc123"
    assert await api.head() == before

    # A preview appends nothing; any role may ask.
    for role in ("auditor", "product", "ci"):
        preview = (await api.ok(PREVIEW, {"s": SERVICE, "t": "FEATURE", "v": "v9"}, role=role))["deployPreview"]
        assert preview["outcome"] == "DENY" and preview["id"] is None and not preview["recorded"]
    assert await api.head() == before

    # Exceptions: ci is refused (nothing appended); leadership lets the service through.
    grant = {"service": SERVICE, "expiresAt": (clock.now + timedelta(hours=2)).isoformat(),
             "reason": "contractual launch", "exceptionId": "launch-1"}
    for role in ("ci", "sre", "admin"):
        code, _ = await api.fail("grantFreezeException", grant, role=role)
        assert code == "FORBIDDEN"
    granted = (await api.ok(GRANT, {"input": grant}, role="leadership"))["grantFreezeException"]
    assert granted["exception"]["id"] == "launch-1" and granted["exception"]["grantedBy"] == "leadership-person"
    assert [e["type"] for e in granted["events"]] and not granted["replayed"]
    code, _ = await api.fail("grantFreezeException", grant, role="leadership")
    assert code == "CONFLICT"
    code, _ = await api.fail("grantFreezeException", {**grant, "exceptionId": "late",
                             "expiresAt": (clock.now - timedelta(minutes=1)).isoformat()}, role="leadership")
    assert code == "BAD_USER_INPUT"

    through = await evaluate(api, "FEATURE", "run-4")
    assert through["outcome"] == "ALLOW" and through["exceptions"] == ["launch-1"]
    assert through["freezes"] == [f"{OID}/freeze-1"]

    # The auditor lists and replays every decision: each one matches.
    listed = (await api.ok("""{ deployDecisions(service: "payments", first: 3) { totalCount
        edges { cursor node { id outcome } } pageInfo { hasNextPage endCursor } } }""", role="auditor"))
    page = listed["deployDecisions"]
    assert page["totalCount"] == 6 and [e["node"]["id"] for e in page["edges"]] == ["run-0", "run-1", "run-1b"]
    rest = (await api.ok("""query($after: String) { deployDecisions(service: "payments", after: $after) {
        nodes { id } pageInfo { hasNextPage } } }""", {"after": page["pageInfo"]["endCursor"]}, role="auditor"))
    assert [n["id"] for n in rest["deployDecisions"]["nodes"]] == ["run-2", "run-3", "run-4"]
    for run in ("run-0", "run-1", "run-1b", "run-2", "run-3", "run-4"):
        replay = (await api.ok(REPLAY, {"id": run}, role="auditor"))["replayDeployDecision"]
        assert replay["matches"] and replay["differences"] == [], replay
        assert replay["replayed"]["outcome"] == replay["recorded"]["outcome"]
        assert replay["replayed"]["reasons"] == replay["recorded"]["reasons"]
    shown = (await api.ok(f'{{ deployDecision(id: "run-1") {{ {DECISION} }} }}', role="auditor"))["deployDecision"]
    assert shown["outcome"] == "DENY" and shown["at"] == denied["at"] and shown["actor"] == "ci-person"
    assert (await api.ok('{ deployDecision(id: "never-ran") { id } }'))["deployDecision"] is None
    missing = await api.post('{ replayDeployDecision(id: "never-ran") { matches } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_gate_inputs_and_authentication(api):
    before = await api.head()
    body = await api.post(EVALUATE, {"input": {"service": SERVICE, "changeType": "YOLO", "version": "v1",
                                               "pipelineRunId": "run-x"}}, role="ci")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(EVALUATE, {"input": {"service": SERVICE, "changeType": "FEATURE", "version": "v1",
                                               "pipelineRunId": "bad id!"}}, role="ci")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await api.post(EVALUATE, {"input": {"service": SERVICE, "changeType": "FEATURE", "version": "v1",
                                               "pipelineRunId": "run-x"}}, role=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api.post(PREVIEW, {"s": SERVICE, "t": "FEATURE", "v": "v1"}, role=None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api.post(EVALUATE, {"input": {"service": SERVICE, "changeType": "FEATURE", "version": "v1",
                                               "pipelineRunId": "run-x"}}, role="auditor")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await api.head() == before

    # A service nobody depends on is not waved through: the policy decides (approval), and
    # a known name close to it is suggested; the answer is recorded and replays.
    await active_objective(api.container)
    query = EVALUATE.replace("actor", "actor approverRoles")
    d = (await api.ok(query, {"input": {"service": SERVICE + "s", "changeType": "FEATURE", "version": "v1",
                                        "pipelineRunId": "run-s"}}, role="ci"))["evaluateDeploy"]
    assert d["outcome"] == "REQUIRE_APPROVAL" and d["objectives"] == [] and d["recorded"]
    assert d["reasons"][0].startswith("no objective covers this service")
    assert d["suggestions"] == [SERVICE] and d["approverRoles"] == ["sre"] and d["policyVersions"] == ["default@0"]
    replay = (await api.ok(REPLAY.replace("policyVersions }", "policyVersions suggestions }"),
                           {"id": "run-s"}))["replayDeployDecision"]
    assert replay["matches"] and replay["replayed"]["suggestions"] == [SERVICE]


async def test_policies_escalations_and_postmortems(api):
    container = api.container
    doc = "id: careful\nrules:\n  - id: low\n    when: {budget_remaining_at_most: 0.5}\n" \
          "    actions: [{type: require_approval, role: sre}]\n"
    code, _ = await api.fail("adoptPolicy", {"document": doc}, role="ci")
    assert code == "FORBIDDEN"
    code, err = await api.fail("adoptPolicy", {"document": "id: careful\nrules:\n  - id: x\n"}, role="sre")
    assert code == "BAD_USER_INPUT"
    first = (await api.ok(ADOPT, {"input": {"document": doc}}))["adoptPolicy"]
    assert first["adopted"] and first["policy"]["version"] == 1
    same = (await api.ok(ADOPT, {"input": {"document": doc}}))["adoptPolicy"]
    assert not same["adopted"] and same["policy"]["version"] == 1
    code, _ = await api.fail("adoptPolicy", {"document": doc.replace("0.5", "0.25"), "expectedVersion": 0})
    assert code == "CONFLICT"
    second = (await api.ok(ADOPT, {"input": {"document": doc.replace("0.5", "0.25"), "expectedVersion": 1,
                                             "note": "tighter"}}, role="leadership"))["adoptPolicy"]
    assert second["policy"]["version"] == 2
    shown = (await api.ok("""{ policy(id: "careful") { id version versions { version note adoptedBy
        rules { id condition conditionKind conditionValue actions { type role } } } } }"""))["policy"]
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert shown["versions"][0]["rules"][0]["condition"] == "budget_remaining_at_most: 0.5"
    assert shown["versions"][1]["note"] == "tighter" and shown["versions"][1]["adoptedBy"] == "leadership-person"
    assert (await api.ok('{ policy(id: "nope") { id } }'))["policy"] is None

    # An objective pinned to v1: remaining ~0.45 <= 0.5 needs approval.
    await active_objective(container, policy_id="careful", policy_version=1)
    await observe(container, 0, 10, 1000, 1000)
    await observe(container, 10, 11, 994, 1000)
    d = await evaluate(api, "FEATURE", "run-c")
    assert d["outcome"] == "REQUIRE_APPROVAL" and d["ruleIds"] == ["low"] and d["policyVersions"] == ["careful@1"]
    replay = (await api.ok(REPLAY, {"id": "run-c"}, role="auditor"))["replayDeployDecision"]
    assert replay["matches"]


async def test_escalations_and_postmortems_are_closed_over_graphql(api):
    container = api.container
    await active_objective(container, oid="o2", journey_id="j2", services=("svc2",))
    await observe(container, 0, 60, 1000, 1000, oid="o2")
    await observe(container, 60, 70, 0, 1000, oid="o2")
    await observe(container, 70, 80, 1_000_000, 1_000_000, oid="o2")
    await observe(container, 80, 90, 0, 1_000_000, oid="o2")
    query = """{ objective(id: "o2") { policyActions { escalations { id open role acknowledgedBy }
        postmortems { id open completedBy link } incidents { id budgetShareOfFourWeeks budgetShareOfWindow }
        freezes { id active } } } }"""
    actions = (await api.ok(query))["objective"]["policyActions"]
    incident = actions["incidents"][0]
    assert incident["budgetShareOfWindow"] > 0.2 and \
        incident["budgetShareOfFourWeeks"] == pytest.approx(incident["budgetShareOfWindow"] * 30 / 28)
    assert [e["id"] for e in actions["escalations"]] == ["escalation-1"]
    assert actions["postmortems"][0]["id"] == "postmortem-1" and actions["postmortems"][0]["open"]

    ack = {"objectiveId": "o2", "escalationId": "escalation-1", "note": "staffing reliability work"}
    code, _ = await api.fail("acknowledgeEscalation", ack, role="sre")
    assert code == "FORBIDDEN"
    done = (await api.ok("""mutation($input: AcknowledgeEscalationInput!) { acknowledgeEscalation(input: $input) {
        actions { escalations { id open acknowledgedBy note } } events { type } } }""",
                         {"input": ack}, role="leadership"))["acknowledgeEscalation"]
    assert done["actions"]["escalations"][0]["acknowledgedBy"] == "leadership-person"
    assert not done["actions"]["escalations"][0]["open"]
    pm = {"objectiveId": "o2", "postmortemId": "postmortem-1", "summary": "bad config push", "link": "https://wiki/pm"}
    code, _ = await api.fail("completePostmortem", pm, role="ci")
    assert code == "FORBIDDEN"
    done = (await api.ok("""mutation($input: CompletePostmortemInput!) { completePostmortem(input: $input) {
        actions { postmortems { id open completedBy link } } } }""", {"input": pm}))["completePostmortem"]
    assert done["actions"]["postmortems"][0] == {"id": "postmortem-1", "open": False, "completedBy": "sre-person",
                                                 "link": "https://wiki/pm"}


POLICY = """query($id: ID!) { policy(id: $id) { id version current { version bundled adoptedAt }
  versions { version bundled name rules { id } } } }"""


async def test_a_fresh_installation_has_default_version_0_and_pins_only_what_exists(api):
    fresh = (await api.ok(POLICY, {"id": "default"}))["policy"]
    assert fresh["version"] == 0 and fresh["current"] == {"version": 0, "bundled": True, "adoptedAt": None}
    assert [r["id"] for r in fresh["versions"][0]["rules"]][0] == "freeze-when-exhausted"
    assert (await api.ok(POLICY, {"id": "careful"}))["policy"] is None

    from tests.graphql.conftest import negotiating_objective

    await negotiating_objective(api, OID, "checkout")
    for party in ("product", "sre", "engineering", "leadership"):
        await api.mutate("endorseProposal", {"objectiveId": OID, "proposalId": "p1", "party": party.upper()},
                         role=party)
    pin = {"objectiveId": OID, "policyId": "default", "productOwner": "pat", "sreOwner": "sam",
           "escalationPath": ["sre-oncall"], "resourceCommitment": "20%"}
    code, error = await api.fail("formalizeAgreement", {**pin, "policyVersion": 1})
    assert code == "NOT_FOUND" and "version 0 is the bundled text" in error["message"]
    code, _ = await api.fail("formalizeAgreement", {**pin, "policyId": "careful", "policyVersion": 0})
    assert code == "NOT_FOUND"
    await api.mutate("formalizeAgreement", {**pin, "policyVersion": 0})

    doc = (POLICY_DIR / "default.yaml").read_text()
    await api.ok(ADOPT, {"input": {"document": doc.replace("0.20", "0.25")}}, role="leadership")
    adopted = (await api.ok(POLICY, {"id": "default"}))["policy"]
    assert adopted["version"] == 1 and [v["version"] for v in adopted["versions"]] == [0, 1]
    assert [v["bundled"] for v in adopted["versions"]] == [True, False] and adopted["current"]["version"] == 1
    await api.mutate("formalizeAgreement", {**pin, "policyVersion": 1})
