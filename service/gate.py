"""Policies and the deploy gate at the service level: the functions the GraphQL schema
and the CLI call.

Writes (through the command bus):
  adopt_policy(container, actor, roles, document, *, note=None) -> PolicyAdoption
  acknowledge_escalation(container, actor, roles, objective_id, escalation_id, note=None) -> CommandResult
  complete_postmortem(container, actor, roles, objective_id, postmortem_id, summary, link=None) -> CommandResult
  grant_freeze_exception(container, actor, roles, service, expires_at, reason, *, version=None,
                         exception_id=None) -> ExceptionGrant
  revoke_freeze_exception(container, actor, roles, exception_id, reason) -> CommandResult
  evaluate_deploy(container, actor, roles, service, change_type, version, pipeline_run_id) -> DeployDecision
  approve_deploy(container, actor, roles, pipeline_run_id, reason) -> DeployDecision
Reads:
  deploy_preview(container, actor, roles, service, change_type, version) -> DeployDecision (not recorded)
  deploy_decision(container, pipeline_run_id) -> DeployDecision | None
  replay_deploy_decision(container, pipeline_run_id) -> DeployReplay
  policy(container, policy_id) -> PolicyState | None
  policy_actions(container, objective_id) -> ActionsState | None

The gate's view of a service at log head N comes from `container.gate` (service/gate_state.py:
a snapshot of the read models, reused while the gate epoch stands). The gate evaluates it at
the server time `at` and records `DeployEvaluated` with `evaluated_at_position = N` and `at`.
A replay folds the log up to N into the same `GateState` and evaluates at `at`; the two must
agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping

import orjson
from sqlalchemy import select

from domain import freeze_exception as exceptions_domain
from domain import gate as gate_domain
from domain import policy as policy_domain
from domain import policy_actions as actions_domain
from domain.commands import NAME_MAX_LENGTH, iso, parse_iso, require_id, require_text
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.permissions import authorize
from policies.evaluate import Decision, DeployRequest, evaluate
from policies.gate_view import differences, rejudge
from policies.language import CHANGE_TYPES, parse_policy
from policies.loader import parse_yaml
from projections.tables import deploy_decisions, policies as policies_table, policy_actions as actions_table
from service.envelope import CommandResult, Envelope
from service.gate_state import gate_state_at
from service.offload import run_heavy
from service.retry import retrying


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PolicyAdoption:
    policy_id: str
    version: int  # the version in force after the command
    adopted: bool  # False: the text in force already, nothing appended
    result: CommandResult


@dataclass(frozen=True)
class ExceptionGrant:
    exception_id: str
    result: CommandResult


@dataclass(frozen=True)
class Approval:
    by: str | None
    role: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class DeployDecision:
    pipeline_run_id: str | None  # None for a preview
    service: str
    change_type: str
    version: str
    outcome: str  # ALLOW | REQUIRE_APPROVAL | DENY
    reasons: tuple[str, ...]
    rule_ids: tuple[str, ...]
    objectives: tuple[str, ...]
    freezes: tuple[str, ...]  # "objective_id/freeze-n"
    exceptions: tuple[str, ...]
    policy_versions: tuple[str, ...]  # "policy_id@version" (0: the bundled default)
    evaluated_at_position: int
    at: datetime
    recorded: bool = False  # appended as a DeployEvaluated event
    replayed: bool = False  # True: this pipeline run was judged before; this is that answer, replayed
    position: int | None = None  # the DeployEvaluated event's position
    actor: str | None = None
    approver_roles: tuple[str, ...] | None = ()  # who may approve a REQUIRE_APPROVAL answer
    approval: Approval | None = None
    # Known service names close to an unknown service's (None: recorded before they were)
    suggestions: tuple[str, ...] | None = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == "ALLOW"

    @property
    def may_deploy(self) -> bool:
        """ALLOW, or REQUIRE_APPROVAL with the approval recorded since."""
        return self.outcome == "ALLOW" or (self.outcome == "REQUIRE_APPROVAL" and self.approval is not None)


@dataclass(frozen=True)
class DeployReplay:
    recorded: DeployDecision
    replayed: Decision
    matches: bool
    differences: tuple[str, ...]


# --------------------------------------------------------------------------- writes


def _envelope(command: Any, actor: str, roles: frozenset[str], **guards: Any) -> Envelope:
    return Envelope(command, actor, frozenset(roles), **guards)


async def adopt_policy(
    container: Any, actor: str, roles: frozenset[str], document: Mapping[str, Any] | str, *,
    note: str | None = None, expected_version: int | None = None, idempotency_key: str | None = None,
) -> PolicyAdoption:
    """Adopt (or revise) a policy from its document: a mapping, or YAML text."""
    authorize(policy_domain.AdoptPolicy("x", None), roles)  # refuse before parsing
    parsed = parse_yaml(document) if isinstance(document, str) else parse_policy(document)
    result = await container.bus.execute(_envelope(
        policy_domain.AdoptPolicy(parsed.id, parsed, note), actor, roles,
        expected_version=expected_version, idempotency_key=idempotency_key,
    ))
    return PolicyAdoption(parsed.id, result.version, bool(result.events), result)


async def acknowledge_escalation(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, escalation_id: str,
    note: str | None = None, *, idempotency_key: str | None = None,
) -> CommandResult:
    return await container.bus.execute(_envelope(
        actions_domain.AcknowledgeEscalation(objective_id, escalation_id, note), actor, roles,
        idempotency_key=idempotency_key,
    ))


async def complete_postmortem(
    container: Any, actor: str, roles: frozenset[str], objective_id: str, postmortem_id: str,
    summary: str, link: str | None = None, *, idempotency_key: str | None = None,
) -> CommandResult:
    return await container.bus.execute(_envelope(
        actions_domain.CompletePostmortem(objective_id, postmortem_id, summary, link), actor, roles,
        idempotency_key=idempotency_key,
    ))


async def grant_freeze_exception(
    container: Any, actor: str, roles: frozenset[str], service: str, expires_at: datetime, reason: str, *,
    version: str | None = None, exception_id: str | None = None, idempotency_key: str | None = None,
) -> ExceptionGrant:
    """Leadership lets `service` (or only its change `version`) through freezes until `expires_at`."""
    exception_id = exception_id or f"exc-{uuid.uuid4().hex[:16]}"
    result = await container.bus.execute(_envelope(
        exceptions_domain.GrantFreezeException(exception_id, service, expires_at, reason, version), actor, roles,
        idempotency_key=idempotency_key,
    ))
    return ExceptionGrant(exception_id, result)


async def revoke_freeze_exception(
    container: Any, actor: str, roles: frozenset[str], exception_id: str, reason: str, *,
    idempotency_key: str | None = None,
) -> CommandResult:
    """Leadership withdraws an exception: from now on it lets nothing through."""
    return await container.bus.execute(_envelope(
        exceptions_domain.RevokeFreezeException(exception_id, reason), actor, roles,
        idempotency_key=idempotency_key, reason=reason,
    ))


async def approve_deploy(
    container: Any, actor: str, roles: frozenset[str], pipeline_run_id: str, reason: str, *,
    idempotency_key: str | None = None,
) -> DeployDecision:
    """Approve a REQUIRE_APPROVAL decision (by a role its rules name); returns the decision with it."""
    await container.bus.execute(_envelope(
        gate_domain.ApproveDeploy(pipeline_run_id, reason), actor, roles,
        idempotency_key=idempotency_key, reason=reason,
    ))
    return await _decision_from_log(container, pipeline_run_id)


# --------------------------------------------------------------------------- the gate


def _request(service: Any, change_type: Any, version: Any, pipeline_run_id: str | None) -> DeployRequest:
    service = require_text(service, "service", max_length=NAME_MAX_LENGTH)
    if change_type not in CHANGE_TYPES:
        raise InvalidInput(
            f"change_type must be one of {', '.join(CHANGE_TYPES)} (got {change_type!r})", field="change_type"
        )
    version = require_text(version, "version", max_length=NAME_MAX_LENGTH)
    run_id = require_id(pipeline_run_id, "pipeline_run_id") if pipeline_run_id is not None else ""
    return DeployRequest(service, change_type, version, run_id)


def _decision(request: DeployRequest, d: Decision, seen: int, at: datetime, **extra: Any) -> DeployDecision:
    return DeployDecision(
        pipeline_run_id=request.pipeline_run_id or None, service=request.service, change_type=request.change_type,
        version=request.version, outcome=d.outcome, reasons=d.reasons, rule_ids=d.rule_ids,
        objectives=d.objectives, freezes=d.freezes, exceptions=d.exceptions, policy_versions=d.policy_versions,
        approver_roles=d.approver_roles, suggestions=d.suggestions, evaluated_at_position=seen, at=at, **extra,
    )


def decision_from_state(s: gate_domain.DeployState, position: int | None, **extra: Any) -> DeployDecision:
    return DeployDecision(
        pipeline_run_id=s.pipeline_run_id, service=s.service, change_type=s.change_type, version=s.version_label,
        outcome=s.outcome, reasons=s.reasons, rule_ids=s.rule_ids, objectives=s.objectives, freezes=s.freezes,
        exceptions=s.exceptions, policy_versions=s.policy_versions, evaluated_at_position=s.evaluated_at_position,
        at=parse_iso(s.at), recorded=True, position=position, actor=s.actor, approver_roles=s.approver_roles,
        approval=Approval(s.approved_by, s.approved_role, parse_iso(s.approved_at), s.approval_reason)
        if s.approved else None, suggestions=s.suggestions, **extra,
    )


async def _judge(container: Any, request: DeployRequest) -> tuple[Decision, int, datetime]:
    at = container.store.clock()
    state, found = await retrying(lambda: container.gate.view(request.service, at), idempotent=True,
                                  what="deploy gate read")
    return evaluate(state, found, request, at), state.position, at


async def deploy_preview(
    container: Any, actor: str, roles: frozenset[str], service: str, change_type: str, version: str,
) -> DeployDecision:
    """The gate's answer now, without recording it (any authenticated role may ask)."""
    if not roles:
        raise Forbidden("a deploy preview needs a role", needed_roles=["ci", "sre", "admin"])
    request = _request(service, change_type, version, None)
    decision, position, at = await _judge(container, request)
    return _decision(request, decision, position, at)


async def evaluate_deploy(
    container: Any, actor: str, roles: frozenset[str], service: str, change_type: str, version: str,
    pipeline_run_id: str,
) -> DeployDecision:
    """Judge a deploy and record the answer; the same pipeline run twice gets the first answer."""
    request = _request(service, change_type, version, pipeline_run_id)
    authorize(gate_domain.RecordDeployDecision(request.pipeline_run_id, {}), roles)
    # No lookup first: a run judged before is rare, and the decider appends nothing for it
    # (then its first answer is read back below), so the common case costs no extra query.
    decision, position, at = await _judge(container, request)
    data = {
        "pipeline_run_id": request.pipeline_run_id, "service": request.service,
        "change_type": request.change_type, "version": request.version, "outcome": decision.outcome,
        "reasons": list(decision.reasons), "rule_ids": list(decision.rule_ids),
        "objectives": list(decision.objectives), "freezes": list(decision.freezes),
        "exceptions": list(decision.exceptions), "policy_versions": list(decision.policy_versions),
        "approver_roles": list(decision.approver_roles), "suggestions": list(decision.suggestions),
        "evaluated_at_position": position, "at": iso(at),
    }
    # Idempotent per pipeline run (a second record of a run appends nothing), so a lost
    # connection may be retried too.
    envelope = _envelope(gate_domain.RecordDeployDecision(request.pipeline_run_id, data), actor, roles)
    result = await retrying(lambda: container.bus.execute(envelope), idempotent=True, what="deploy decision")
    if not result.events:  # this run was judged before (or concurrently, first)
        earlier = await _decision_from_log(container, request.pipeline_run_id)
        return _with(earlier, replayed=True)
    return _decision(request, decision, position, parse_iso(iso(at)), recorded=True,
                     position=result.events[0].position, actor=actor)


def _with(d: DeployDecision, **changes: Any) -> DeployDecision:
    return replace(d, **changes)


async def _decision_from_log(container: Any, pipeline_run_id: str) -> DeployDecision:
    events = await container.store.read_stream(gate_domain.stream_id(pipeline_run_id))
    if not events:
        raise NotFound(f"no deploy decision for pipeline run {pipeline_run_id}", pipeline_run_id=pipeline_run_id)
    state = None
    for event in events:
        state = gate_domain.evolve(state, event)
    return decision_from_state(state, events[0].position)


async def deploy_decision(container: Any, pipeline_run_id: str) -> DeployDecision | None:
    """A recorded decision by pipeline run id (None when that run was never judged)."""
    run_id = require_id(pipeline_run_id, "pipeline_run_id")
    async with container.engines.read.connect() as conn:
        row = (await conn.execute(
            select(deploy_decisions.c.doc, deploy_decisions.c.created_position).where(deploy_decisions.c.id == run_id)
        )).first()
    if row is None:
        return None
    return decision_from_state(gate_domain.from_dict(orjson.loads(row.doc)), row.created_position)


async def deploy_decision_ids(container: Any, service: str | None = None) -> list[str]:
    """Pipeline run ids judged, oldest first (optionally for one service)."""
    query = select(deploy_decisions.c.id).order_by(deploy_decisions.c.created_position)
    if service is not None:
        query = query.where(deploy_decisions.c.service == service)
    async with container.engines.read.connect() as conn:
        return list((await conn.execute(query)).scalars().all())


async def replay_deploy_decision(container: Any, pipeline_run_id: str) -> DeployReplay:
    """Re-evaluate a recorded decision on the log folded up to its position, at its time."""
    recorded = await deploy_decision(container, pipeline_run_id)
    if recorded is None:
        raise NotFound(f"no deploy decision for pipeline run {pipeline_run_id}", pipeline_run_id=pipeline_run_id)
    async with container.long_reads.slot("replay"):  # folds the log up to the decision, in the server's worker
        state, found = await run_heavy(container, gate_state_at, recorded.service, recorded.evaluated_at_position,
                                       recorded.at)
    request = DeployRequest(recorded.service, recorded.change_type, recorded.version, pipeline_run_id)
    replayed = rejudge(state, found, request, recorded.at, recorded.suggestions)
    found_differences = differences(recorded, replayed)
    return DeployReplay(recorded, replayed, not found_differences, found_differences)


# --------------------------------------------------------------------------- reads


async def policy(container: Any, policy_id: str) -> policy_domain.PolicyState | None:
    async with container.engines.read.connect() as conn:
        doc = (await conn.execute(select(policies_table.c.doc).where(policies_table.c.id == policy_id))).scalar()
    return policy_domain.from_dict(orjson.loads(doc)) if doc else None


async def policy_actions(container: Any, objective_id: str) -> actions_domain.ActionsState | None:
    async with container.engines.read.connect() as conn:
        doc = (await conn.execute(select(actions_table.c.doc).where(actions_table.c.id == objective_id))).scalar()
    return actions_domain.from_dict(orjson.loads(doc)) if doc else None
