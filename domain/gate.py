"""Deploy decisions, `deploy-{pipeline_run_id}`: one per pipeline run.

The service evaluates the request (the pure evaluator in `policies/evaluate.py`, on the
gate state as of log position N and server time `at`) and records the answer with
`RecordDeployDecision`. A pipeline run is judged once: when its stream exists the
decider appends nothing and the first decision stands (the service reads it back).

DeployEvaluated {pipeline_run_id, service, change_type, version, outcome, reasons,
                 rule_ids, objectives, freezes, exceptions, policy_versions,
                 evaluated_at_position, at}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import codec
from domain.commands import require_id
from domain.errors import InvalidInput
from domain.events import Context, NewEvent, RecordedEvent

CATEGORY = "deploy"
EVENT_TYPES: tuple[str, ...] = ("DeployEvaluated",)
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


COMMANDS: tuple[type, ...] = (RecordDeployDecision,)

_FIELDS = ("pipeline_run_id", "service", "change_type", "version", "outcome", "reasons", "rule_ids",
           "objectives", "freezes", "exceptions", "policy_versions", "evaluated_at_position", "at")


def decide(command: Any, state: DeployState | None, ctx: Context) -> list[NewEvent]:
    if not isinstance(command, RecordDeployDecision):
        raise TypeError(f"not a deploy command: {type(command).__name__}")
    run_id = require_id(command.pipeline_run_id, "pipeline_run_id")
    if state is not None:
        return []  # judged already: the first answer stands
    data = dict(command.decision)
    missing = [f for f in _FIELDS if f not in data]
    if missing or data["pipeline_run_id"] != run_id or data["outcome"] not in OUTCOMES:
        raise InvalidInput(f"a deploy decision needs {', '.join(_FIELDS)}", field="decision")
    return [NewEvent("DeployEvaluated", {f: data[f] for f in _FIELDS})]


def evolve(state: DeployState | None, event: RecordedEvent) -> DeployState:
    if event.type != "DeployEvaluated":
        raise ValueError(f"unknown deploy event type {event.type!r}")
    d = event.data
    return DeployState(
        d["pipeline_run_id"], d["service"], d["change_type"], d["version"], d["outcome"],
        tuple(d["reasons"]), tuple(d["rule_ids"]), tuple(d["objectives"]), tuple(d["freezes"]),
        tuple(d["exceptions"]), tuple(d["policy_versions"]), d["evaluated_at_position"], d["at"],
        event.metadata.get("actor"), event.stream_version,
    )
