"""A lean JSON route for the deploy gate, beside GraphQL (the primary API):

    POST /gate/evaluate   {"service", "changeType", "version", "pipelineRunId"}
      200 {"evaluateDeploy": {...the DeployDecision fields, as GraphQL names them...}}
      4xx {"errors": [{"message", "extensions": {"code", ...}}]}   (the GraphQL error shape)

It exists because a pipeline asks on every deploy and GraphQL's parse, validate and
execute cost several times the gate's own work. It calls the same service function
(`service.gate.evaluate_deploy`) under the same authentication (the middleware's bearer
token), roles, input checks and error codes, and counts under the same command metric.
`changeType` is accepted as GraphQL's enum (`ROLLBACK`) or the policy's word (`rollback`).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.errors import ORJSONResponse, jsonable
from api.schema.shared import measured
from domain.commands import iso
from domain.errors import DomainError, InvalidInput, Unauthenticated
from domain.text import check_text, check_texts
from service import gate
from service.gate import DeployDecision

_STATUS = {"BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
           "CONFLICT": 409, "POLICY_VIOLATION": 422, "UNAVAILABLE": 503}
_FIELDS = ("service", "changeType", "version", "pipelineRunId")


def decision_json(d: DeployDecision) -> dict[str, Any]:
    """The decision with the field names and values of GraphQL's DeployDecision."""
    return {
        "id": d.pipeline_run_id, "service": d.service, "changeType": d.change_type.upper(), "version": d.version,
        "outcome": d.outcome, "reasons": list(d.reasons), "ruleIds": list(d.rule_ids),
        "objectives": list(d.objectives), "freezes": list(d.freezes), "exceptions": list(d.exceptions),
        "policyVersions": list(d.policy_versions),
        "suggestions": None if d.suggestions is None else list(d.suggestions), "evaluatedAtPosition": d.evaluated_at_position,
        "at": d.at.isoformat(), "recorded": d.recorded, "replayed": d.replayed, "position": d.position,
        "actor": d.actor, "approverRoles": None if d.approver_roles is None else list(d.approver_roles),
        "approval": None if d.approval is None else {
            "by": d.approval.by, "role": d.approval.role, "at": iso(d.approval.at), "reason": d.approval.reason},
        "mayDeploy": d.may_deploy,
    }


def _input(body: bytes) -> dict[str, str]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the body must be a JSON object", field="body") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        check_texts(unknown, "unknown field")  # a name it echoes must be fit to echo
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(_FIELDS)}", field=unknown[0])
    for name in _FIELDS:
        if not isinstance(data.get(name), str):
            raise InvalidInput(f"{name} is required (a string)", field=name)
        check_text(data[name], name)
    return data


async def evaluate_endpoint(request: Request) -> Response:
    principal = request.scope.get("state", {}).get("principal")
    try:
        if principal is None:  # the middleware lets no token through; this is belt and braces
            raise Unauthenticated("Authentication required")
        data = _input(await request.body())
        change_type = data["changeType"].strip().lower()

        async def execute() -> DeployDecision:
            return await gate.evaluate_deploy(
                request.app.state.container, principal.actor, principal.roles, data["service"], change_type,
                data["version"], data["pipelineRunId"],
            )

        decision = await measured("EvaluateDeploy", execute)
    except DomainError as err:
        code = err.code if err.code in _STATUS else "BAD_USER_INPUT"
        extensions = {**jsonable(err.details), "code": code}  # as GraphQL reports a refusal
        return ORJSONResponse({"errors": [{"message": err.message, "extensions": extensions}]},
                              status_code=_STATUS[code])
    return ORJSONResponse({"evaluateDeploy": decision_json(decision)})


__all__ = ["decision_json", "evaluate_endpoint"]
