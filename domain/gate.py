"""Deploy decisions, `deploy-{pipeline_run_id}`: one per pipeline run.

The service evaluates the request (the pure evaluator in `policies/evaluate.py`, on the
gate state as of log position N and server time `at`) and records the answer with
`RecordDeployDecision`. A pipeline run is judged once: when its stream exists the
decider appends nothing and the first decision stands (the service reads it back).

A REQUIRE_APPROVAL decision is approved on its own stream by `ApproveDeploy`: only by
an actor holding one of the roles the applying rules name (`approver_roles`), once.
The recorded decision itself never changes (it still replays to REQUIRE_APPROVAL);
the approval is a later event, and the gate answers ALLOW for the run from then on.

DeployEvaluated {pipeline_run_id, service, change_type, version, outcome, reasons,
                 rule_ids, objectives, freezes, exceptions, policy_versions,
                 approver_roles, suggestions, evaluated_at_position, at}   (schema 3)
  (schema 3 added `suggestions`: known service names close to an unknown service's)
DeployApproved  {pipeline_run_id, role, reason, at}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import codec
from domain.commands import iso, require_id, require_text
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyViolation
from domain.events import Context, NewEvent, RecordedEvent
from domain.records import replace

CATEGORY = "deploy"
EVENT_TYPES: tuple[str, ...] = ("DeployEvaluated", "DeployApproved")
# DeployEvaluated: version 2 records approver_roles, 3 suggestions (see domain/upcasters.py)
SCHEMA_VERSION = 3
OUTCOMES: tuple[str, ...] = ("ALLOW", "REQUIRE_APPROVAL", "DENY")


def stream_id(pipeline_run_id: str) -> str:
    return f"{CATEGORY}-{pipeline_run_id}"


@dataclass(frozen=True)
class DeployState:
    pipeline_run_id: str
    service: str
    change_type: str
    version_label: str
    outcome: str
    reasons: tuple[str, ...]
    rule_ids: tuple[str, ...]
    objectives: tuple[str, ...]
    freezes: tuple[str, ...]
    exceptions: tuple[str, ...]
    policy_versions: tuple[str, ...]
    evaluated_at_position: int
    at: str
    actor: str | None
    version: int
    # The roles that may approve a REQUIRE_APPROVAL answer; None: recorded before
    # decisions named them (schema 1), so it cannot be approved.
    approver_roles: tuple[str, ...] | None = None
    approved_by: str | None = None
    approved_role: str | None = None
    approved_at: str | None = None
    approval_reason: str | None = None
    # Known service names close to an unknown service's; None: recorded before the gate
    # judged unknown services (schema < 3), when every service was taken as known.
    suggestions: tuple[str, ...] | None = None

    @property
    def approved(self) -> bool:
        return self.approved_by is not None


def to_dict(state: DeployState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> DeployState | None:
    return None if data is None else codec.decode(DeployState, data)


@dataclass(frozen=True)
class RecordDeployDecision:
    pipeline_run_id: str
    decision: dict[str, Any]  # the DeployEvaluated data the service computed

    def stream(self) -> str:
        return stream_id(self.pipeline_run_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class ApproveDeploy:
    pipeline_run_id: str
    reason: str

    def stream(self) -> str:
        return stream_id(self.pipeline_run_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


COMMANDS: tuple[type, ...] = (RecordDeployDecision, ApproveDeploy)

_FIELDS = ("pipeline_run_id", "service", "change_type", "version", "outcome", "reasons", "rule_ids",
           "objectives", "freezes", "exceptions", "policy_versions", "approver_roles", "suggestions",
           "evaluated_at_position", "at")


def decide(command: Any, state: DeployState | None, ctx: Context) -> list[NewEvent]:
    if isinstance(command, ApproveDeploy):
        return _approve(command, state, ctx)
    if not isinstance(command, RecordDeployDecision):
        raise TypeError(f"not a deploy command: {type(command).__name__}")
    run_id = require_id(command.pipeline_run_id, "pipeline_run_id")
    if state is not None:
        return []  # judged already: the first answer stands
    data = dict(command.decision)
    missing = [f for f in _FIELDS if f not in data]
    if missing or data["pipeline_run_id"] != run_id or data["outcome"] not in OUTCOMES:
        raise InvalidInput(f"a deploy decision needs {', '.join(_FIELDS)}", field="decision")
    return [NewEvent("DeployEvaluated", {f: data[f] for f in _FIELDS}, SCHEMA_VERSION)]


def _approve(command: ApproveDeploy, state: DeployState | None, ctx: Context) -> list[NewEvent]:
    run_id = require_id(command.pipeline_run_id, "pipeline_run_id")
    reason = require_text(command.reason, "reason")
    if state is None:
        raise NotFound(f"no deploy decision for pipeline run {run_id}", pipeline_run_id=run_id)
    if state.outcome != "REQUIRE_APPROVAL":
        if state.outcome == "DENY":
            raise PolicyViolation(
                f"pipeline run {run_id} was denied; a denied deploy cannot be approved "
                f"(a freeze exception from leadership is the way through a freeze)", pipeline_run_id=run_id)
        raise Conflict(f"pipeline run {run_id} was allowed; there is nothing to approve", pipeline_run_id=run_id)
    if state.approved:
        raise Conflict(f"pipeline run {run_id} was already approved by {state.approved_by} at {state.approved_at}",
                       pipeline_run_id=run_id)
    if not state.approver_roles:
        raise PolicyViolation(f"pipeline run {run_id} was recorded without its approver roles; "
                              f"run the gate again with a new pipeline run", pipeline_run_id=run_id)
    role = next((r for r in state.approver_roles if r in ctx.roles), None)
    if role is None:
        raise Forbidden(
            f"pipeline run {run_id} needs approval by {', '.join(state.approver_roles)} "
            f"(the rules that applied name them); you hold {', '.join(sorted(ctx.roles)) or 'no roles'}",
            needed_roles=list(state.approver_roles), pipeline_run_id=run_id,
        )
    return [NewEvent("DeployApproved", {"pipeline_run_id": run_id, "role": role, "reason": reason,
                                        "at": iso(ctx.now)})]


def evolve(state: DeployState | None, event: RecordedEvent) -> DeployState:
    d = event.data
    if event.type == "DeployApproved":
        if state is None:
            raise ValueError("DeployApproved before DeployEvaluated")
        return replace(state, approved_by=event.metadata.get("actor"), approved_role=d["role"],
                       approved_at=d["at"], approval_reason=d["reason"], version=event.stream_version)
    if event.type != "DeployEvaluated":
        raise ValueError(f"unknown deploy event type {event.type!r}")
    roles = d.get("approver_roles")
    suggestions = d.get("suggestions")
    return DeployState(
        d["pipeline_run_id"], d["service"], d["change_type"], d["version"], d["outcome"],
        tuple(d["reasons"]), tuple(d["rule_ids"]), tuple(d["objectives"]), tuple(d["freezes"]),
        tuple(d["exceptions"]), tuple(d["policy_versions"]), d["evaluated_at_position"], d["at"],
        event.metadata.get("actor"), event.stream_version, None if roles is None else tuple(roles),
        suggestions=None if suggestions is None else tuple(suggestions),
    )
