"""approveDeploy and revokeFreezeException over GraphQL (SQLite and PostgreSQL): every
refusal's code with nothing appended, the approval shown on the decision, replay unchanged."""

from __future__ import annotations

from datetime import timedelta

from service import gate
from tests.graphql.test_gate import DECISION, REPLAY, evaluate
from tests.policies.support import SERVICE, Clock, active_objective, observe
from tests.policies.test_approval import CAREFUL

APPROVAL = "approverRoles mayDeploy approval { by role at reason }"
APPROVE = f"""mutation($input: ApproveDeployInput!) {{ approveDeploy(input: $input) {{
  decision {{ {DECISION} {APPROVAL} }} events {{ type position }} replayed }} }}"""
REVOKE = """mutation($input: RevokeFreezeExceptionInput!) { revokeFreezeException(input: $input) {
  exception { id revokedBy revokedAt revocationReason } events { type } replayed } }"""


async def test_approve_deploy_over_graphql(api):
    container = api.container
    await gate.adopt_policy(container, "sre-1", frozenset({"sre"}), CAREFUL)
    await active_objective(container, policy_id="careful", policy_version=1)
    await observe(container, 0, 10, 1000, 1000)
    allowed = await evaluate(api, "FEATURE", "run-ok")
    await observe(container, 10, 11, 994, 1000)  # remaining ~0.45: approval by sre
    d = await evaluate(api, "FEATURE", "run-c")
    assert d["outcome"] == "REQUIRE_APPROVAL" and allowed["outcome"] == "ALLOW"

    approve = {"pipelineRunId": "run-c", "reason": "canary looked fine", "idempotencyKey": "approve-run-c"}
    for role in ("ci", "auditor", "admin", "leadership", "product"):
        code, _ = await api.fail("approveDeploy", approve, role=role)
        assert code == "FORBIDDEN", role
    code, err = await api.fail("approveDeploy", {**approve, "pipelineRunId": "run-never"})
    assert code == "NOT_FOUND"
    code, _ = await api.fail("approveDeploy", {**approve, "pipelineRunId": "run-ok"})
    assert code == "CONFLICT"
    code, _ = await api.fail("approveDeploy", {**approve, "reason": ""})
    assert code == "BAD_USER_INPUT"
    missing = await api.post("mutation { approveDeploy(input: {pipelineRunId: \"run-c\", reason: \"x\"}) { replayed } }",
                             role=None)
    assert missing["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    done = (await api.ok(APPROVE, {"input": approve}, role="sre"))["approveDeploy"]
    decision = done["decision"]
    assert decision["outcome"] == "REQUIRE_APPROVAL" and decision["mayDeploy"] and decision["approverRoles"] == ["sre"]
    assert decision["approval"]["by"] == "sre-person" and decision["approval"]["role"] == "sre"
    assert decision["approval"]["reason"] == "canary looked fine"
    assert [e["type"] for e in done["events"]] == ["DeployApproved"] and not done["replayed"]
    # The same idempotency key again: the first result, nothing appended.
    before = await api.head()
    retried = (await api.ok(APPROVE, {"input": approve}, role="sre"))["approveDeploy"]
    assert retried["replayed"] and retried["decision"]["approval"] == decision["approval"]
    assert await api.head() == before
    # A second approval (new key) is a CONFLICT.
    code, err = await api.fail("approveDeploy", {**approve, "idempotencyKey": "other"})
    assert code == "CONFLICT" and "already approved" in err["message"]

    shown = (await api.ok(f'{{ deployDecision(id: "run-c") {{ {DECISION} {APPROVAL} }} }}', role="auditor"))
    assert shown["deployDecision"]["approval"] == decision["approval"]
    again = await evaluate(api, "FEATURE", "run-c")
    assert again["replayed"] and again["outcome"] == "REQUIRE_APPROVAL"
    replay = (await api.ok(REPLAY, {"id": "run-c"}, role="auditor"))["replayDeployDecision"]
    assert replay["matches"] and replay["replayed"]["outcome"] == "REQUIRE_APPROVAL"


async def test_revoke_freeze_exception_over_graphql(api):
    container = api.container
    clock = Clock()
    container.store.clock = clock
    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)  # exhausted: frozen
    await gate.grant_freeze_exception(container, "vp", frozenset({"leadership"}), SERVICE,
                                      clock.now + timedelta(hours=2), "launch", exception_id="launch-1")
    assert (await evaluate(api, "FEATURE", "run-1"))["outcome"] == "ALLOW"

    revoke = {"exceptionId": "launch-1", "reason": "launch slipped"}
    for role in ("ci", "sre", "admin", "auditor"):
        code, _ = await api.fail("revokeFreezeException", revoke, role=role)
        assert code == "FORBIDDEN", role
    code, _ = await api.fail("revokeFreezeException", {**revoke, "exceptionId": "nope"}, role="leadership")
    assert code == "NOT_FOUND"
    done = (await api.ok(REVOKE, {"input": revoke}, role="leadership"))["revokeFreezeException"]
    assert done["exception"]["revokedBy"] == "leadership-person" and done["exception"]["revokedAt"]
    assert done["exception"]["revocationReason"] == "launch slipped"
    assert [e["type"] for e in done["events"]] == ["FreezeExceptionRevoked"]
    code, _ = await api.fail("revokeFreezeException", revoke, role="leadership")
    assert code == "CONFLICT"

    assert (await evaluate(api, "FEATURE", "run-2"))["outcome"] == "DENY"
    for run in ("run-1", "run-2"):
        assert (await api.ok(REPLAY, {"id": run}, role="auditor"))["replayDeployDecision"]["matches"]
