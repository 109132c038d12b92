"""POST /gate/evaluate, the gate's lean JSON route (SQLite and PostgreSQL): the same
answer, fields, roles and error codes as GraphQL's evaluateDeploy, nothing appended on
a refusal or a repeated run, and every decision it records replays."""

from __future__ import annotations

from tests.graphql.test_gate import DECISION, evaluate
from tests.policies.support import OID, SERVICE, active_objective, assert_every_decision_replays, observe

APPROVAL_FIELDS = "approverRoles mayDeploy approval { by role at reason }"


async def post(api, body, role: str | None = "ci", raw: bytes | None = None):
    headers = {"Authorization": f"Bearer {api.tokens[role]}"} if role else {}
    if raw is not None:
        return await api.client.post("/gate/evaluate", content=raw, headers=headers)
    return await api.client.post("/gate/evaluate", json=body, headers=headers)


def request(run: str, change: str = "FEATURE", service: str = SERVICE, version: str = "v1") -> dict:
    return {"service": service, "changeType": change, "version": version, "pipelineRunId": run}


async def test_the_json_route_answers_as_graphql_does(api):
    await active_objective(api.container)
    await observe(api.container, 0, 60, 1000, 1000)
    await observe(api.container, 60, 70, 0, 1000)  # exhausted: payments frozen

    via_graphql = (await api.ok(f'''mutation($input: EvaluateDeployInput!) {{ evaluateDeploy(input: $input) {{
        {DECISION} {APPROVAL_FIELDS} }} }}''', {"input": request("run-g")}, role="ci"))["evaluateDeploy"]
    response = await post(api, request("run-j"))
    assert response.status_code == 200
    via_json = response.json()["evaluateDeploy"]
    assert set(via_json) == set(via_graphql)  # the same fields
    differ = {"id", "at", "position", "evaluatedAtPosition"}
    assert {k: v for k, v in via_json.items() if k not in differ} == \
        {k: v for k, v in via_graphql.items() if k not in differ}
    assert via_json["outcome"] == "DENY" and via_json["objectives"] == [OID] and via_json["actor"] == "ci-person"
    assert via_json["id"] == "run-j" and via_json["recorded"] and not via_json["replayed"]

    # The policy's word for a change type works too; a rollback goes through the freeze.
    rollback = (await post(api, request("run-r", change="rollback"), role="sre")).json()["evaluateDeploy"]
    assert rollback["outcome"] == "ALLOW" and rollback["changeType"] == "ROLLBACK"

    # The same run again (over either API): the first answer, nothing appended.
    before = await api.head()
    again = (await post(api, request("run-j", change="ROLLBACK"))).json()["evaluateDeploy"]
    assert again["replayed"] and again["outcome"] == "DENY" and again["position"] == via_json["position"]
    assert (await evaluate(api, "ROLLBACK", "run-j"))["replayed"]
    assert await api.head() == before
    assert await assert_every_decision_replays(api.container) == 3

    # A typo of the frozen service is not waved through: approval, and the name meant.
    typo = (await post(api, request("run-t", service=SERVICE[:-1]))).json()["evaluateDeploy"]
    assert typo["outcome"] == "REQUIRE_APPROVAL" and typo["suggestions"] == [SERVICE] and not typo["mayDeploy"]
    assert await assert_every_decision_replays(api.container) == 4


async def test_the_json_route_refuses_as_graphql_does(api):
    await active_objective(api.container)
    before = await api.head()
    cases = [
        (401, "UNAUTHENTICATED", await post(api, request("run-x"), role=None)),
        (403, "FORBIDDEN", await post(api, request("run-x"), role="auditor")),
        (403, "FORBIDDEN", await post(api, request("run-x"), role="leadership")),
        (400, "BAD_USER_INPUT", await post(api, request("run-x", change="YOLO"))),
        (400, "BAD_USER_INPUT", await post(api, request("bad id!"))),
        (400, "BAD_USER_INPUT", await post(api, request("run-x", service=""))),
        (400, "BAD_USER_INPUT", await post(api, {k: v for k, v in request("run-x").items() if k != "version"})),
        (400, "BAD_USER_INPUT", await post(api, {**request("run-x"), "extra": 1})),
        (400, "BAD_USER_INPUT", await post(api, [request("run-x")])),
        (400, "BAD_USER_INPUT", await post(api, None, raw=b"{not json")),
    ]
    for status, code, response in cases:
        assert response.status_code == status, (code, response.text)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code and error["message"], response.text
    field = cases[3][2].json()["errors"][0]["extensions"]
    assert field["field"] == "change_type"
    forbidden = cases[1][2].json()["errors"][0]["extensions"]
    assert set(forbidden["needed_roles"]) == {"ci", "sre", "admin"}
    assert await api.head() == before  # nothing appended by any refusal
    assert (await api.client.get("/gate/evaluate", headers={"Authorization": f"Bearer {api.tokens['ci']}"})
            ).status_code == 405
