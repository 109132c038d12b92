"""Policies and the deploy gate in the API.

Mutations: adoptPolicy, acknowledgeEscalation, completePostmortem (through ``run_command``,
so the guards apply), grantFreezeException and revokeFreezeException (leadership),
evaluateDeploy (ci, sre, admin; the same pipelineRunId twice returns the first answer,
nothing appended) and approveDeploy (the roles a REQUIRE_APPROVAL answer names).
Queries: deployDecision, deployDecisions, replayDeployDecision, deployPreview (read
only, any role) and policy. ``Objective.policyActions`` shows an objective's freezes,
escalations, postmortems and incidents.

Everything is read through ``service.gate``; its ``DeployDecision`` is the source of the
``DeployDecision`` type here.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import orjson
import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from api.auth import current_principal
from api.schema import inputs as i
from api.schema.connections import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from api.schema.shared import AsOf, EventRef, as_of_reads, event_refs, measured, run_command
from domain import freeze_exception as exceptions_domain
from domain import gate as gate_domain
from domain import policy as policy_domain
from domain import policy_actions as actions_domain
from domain.commands import parse_iso
from domain.errors import NotFound
from domain.permissions import authorize
from policies.language import parse_policy
from policies.loader import default_policy
from policies.registry import bundled_document
from policies.loader import parse_yaml
from projections.tables import deploy_decisions as deploy_decisions_table
from service import gate

MAX_DECISIONS_PAGE_SIZE = 100


# --- enums ---------------------------------------------------------------------------


@strawberry.enum(description="What a deploy changes; fixes and rollbacks are exempt from freezes by default.")
class ChangeType(Enum):
    FEATURE = "feature"
    CONFIG = "config"
    RELIABILITY_FIX = "reliability_fix"
    SECURITY_FIX = "security_fix"
    ROLLBACK = "rollback"


@strawberry.enum(description="The gate's answer.")
class DeployOutcome(Enum):
    ALLOW = "ALLOW"
    REQUIRE_APPROVAL = "REQUIRE_APPROVAL"
    DENY = "DENY"


# --- the decision --------------------------------------------------------------------


@strawberry.type(
    description="The deploy gate's answer for one pipeline run, with why: the rules that applied, the "
    "objectives judged, the freezes and exceptions in play, the policy versions, and the log position and "
    "time it was evaluated at (what a replay folds the log up to)."
)
class DeployDecision:
    id: strawberry.ID | None = strawberry.field(description="The pipeline run id; null for a preview.")
    service: str
    change_type: ChangeType
    version: str = strawberry.field(description="The change's version label (a git sha, a build number).")
    outcome: DeployOutcome
    reasons: list[str]
    rule_ids: list[str]
    objectives: list[str] = strawberry.field(description="Active objectives whose journey depends critically on it.")
    freezes: list[str] = strawberry.field(description='Active freezes naming the service, "objectiveId/freeze-n".')
    exceptions: list[str] = strawberry.field(description="Unexpired freeze exceptions that applied.")
    policy_versions: list[str] = strawberry.field(
        description='"policyId@version" of each text whose rules applied (the objectives\' pinned versions, '
        'each freeze\'s own; default@0: the bundled default).')
    suggestions: list[str] | None = strawberry.field(
        description="For a service no journey depends on: known service names close to it (a typo?), closest "
        "first; null: recorded before the gate judged unknown services.")
    evaluated_at_position: int = strawberry.field(description="The log head the gate read.")
    at: datetime = strawberry.field(description="The server time the gate evaluated at.")
    recorded: bool = strawberry.field(description="Appended as a DeployEvaluated event (false for a preview).")
    replayed: bool = strawberry.field(
        description="True: this pipeline run was judged before and this is that first answer, replayed "
        "(nothing appended); false on the first evaluation."
    )
    position: int | None = strawberry.field(description="The DeployEvaluated event's log position.")
    actor: str | None = strawberry.field(description="Who asked (recorded decisions).")
    approver_roles: list[str] | None = strawberry.field(
        description="Who may approve a REQUIRE_APPROVAL answer (the roles its rules name); null: recorded "
        "before decisions named them."
    )
    approval: DeployApproval | None = strawberry.field(description="The approval recorded since, or null.")
    may_deploy: bool = strawberry.field(
        description="ALLOW, or REQUIRE_APPROVAL approved since (the outcome itself never changes)."
    )


@strawberry.type(description="An approval of a REQUIRE_APPROVAL decision (a DeployApproved event).")
class DeployApproval:
    by: str | None = strawberry.field(description="The approving actor.")
    role: str = strawberry.field(description="The role, among the decision's approverRoles, it approved as.")
    at: datetime
    reason: str


def from_decision(d: gate.DeployDecision) -> DeployDecision:
    return DeployDecision(
        id=None if d.pipeline_run_id is None else strawberry.ID(d.pipeline_run_id),
        service=d.service,
        change_type=ChangeType(d.change_type),
        version=d.version,
        outcome=DeployOutcome(d.outcome),
        reasons=list(d.reasons),
        rule_ids=list(d.rule_ids),
        objectives=list(d.objectives),
        freezes=list(d.freezes),
        exceptions=list(d.exceptions),
        policy_versions=list(d.policy_versions),
        suggestions=None if d.suggestions is None else list(d.suggestions),
        evaluated_at_position=d.evaluated_at_position,
        at=d.at,
        recorded=d.recorded,
        replayed=d.replayed,
        position=d.position,
        actor=d.actor,
        approver_roles=None if d.approver_roles is None else list(d.approver_roles),
        approval=None if d.approval is None else DeployApproval(
            by=d.approval.by, role=d.approval.role, at=d.approval.at, reason=d.approval.reason),
        may_deploy=d.may_deploy,
    )


@strawberry.type(description="A decision evaluated again (replay), without its recording.")
class EvaluatedDecision:
    outcome: DeployOutcome
    reasons: list[str]
    rule_ids: list[str]
    objectives: list[str]
    freezes: list[str]
    exceptions: list[str]
    policy_versions: list[str]
    suggestions: list[str]


@strawberry.type(
    description="A recorded decision re-evaluated on the log folded up to its evaluatedAtPosition, at its time: "
    "matches is true when the replay gives the same answer for the same reasons."
)
class DeployReplay:
    id: strawberry.ID
    matches: bool
    recorded: DeployDecision
    replayed: EvaluatedDecision
    differences: list[str] = strawberry.field(description="Each field that differs, recorded vs replayed.")


def _replay(r: gate.DeployReplay) -> DeployReplay:
    d = r.replayed
    return DeployReplay(
        id=strawberry.ID(r.recorded.pipeline_run_id or ""),
        matches=r.matches,
        recorded=from_decision(r.recorded),
        replayed=EvaluatedDecision(
            outcome=DeployOutcome(d.outcome), reasons=list(d.reasons), rule_ids=list(d.rule_ids),
            objectives=list(d.objectives), freezes=list(d.freezes), exceptions=list(d.exceptions),
            policy_versions=list(d.policy_versions), suggestions=list(d.suggestions),
        ),
        differences=list(r.differences),
    )


async def decision_connection(
    container: Any, service: str | None, first: int | None, after: str | None, until: int | None = None
) -> Connection[DeployDecision]:
    """Recorded decisions, oldest first; `until`: only those recorded at or before that log position."""
    size = page_size(first, MAX_DECISIONS_PAGE_SIZE)
    after_position = decode_cursor(after)
    t = deploy_decisions_table
    where = [] if service is None else [t.c.service == service]
    if until is not None:
        where.append(t.c.created_position <= until)
    async with container.engines.read.connect() as conn:
        rows = (await conn.execute(
            select(t.c.doc, t.c.created_position)
            .where(t.c.created_position > after_position, *where)
            .order_by(t.c.created_position)
            .limit(size + 1)
        )).all()
        total = (await conn.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
    edges = [
        Edge(cursor=encode_cursor(r.created_position),
             node=from_decision(gate.decision_from_state(gate_domain.from_dict(orjson.loads(r.doc)), r.created_position)))
        for r in rows[:size]
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )


# --- policies ----------------------------------------------------------------------------


@strawberry.type
class PolicyRuleAction:
    type: str = strawberry.field(description="freeze, require_approval, escalate or require_postmortem.")
    level: str | None
    role: str | None


@strawberry.type(description="One rule: a condition, its actions and the change types exempt from it.")
class PolicyRule:
    id: str
    description: str
    condition: str = strawberry.field(description='The condition as text, e.g. "budget_remaining_at_most: 0.0".')
    condition_kind: str
    condition_value: str
    actions: list[PolicyRuleAction]
    exempt: list[ChangeType]


@strawberry.type(description="One version of a policy: adopted in the log (1, 2, ...), or the bundled text "
                             "(version 0 of \"default\", there from an installation's first start).")
class PolicyVersion:
    version: int
    bundled: bool = strawberry.field(description="The text shipped with slogov (version 0 of \"default\").")
    adopted_at: datetime | None = strawberry.field(description="null for the bundled version.")
    adopted_by: str | None
    note: str | None
    name: str
    description: str
    document: str = strawberry.field(description="The canonical document (JSON).")
    rules: list[PolicyRule]


@strawberry.type(description="An error-budget policy and its versions, oldest first.")
class Policy:
    id: strawberry.ID
    version: int = strawberry.field(description="The version in force (for expectedVersion).")
    current: PolicyVersion
    versions: list[PolicyVersion]


def _rule(r: Any) -> PolicyRule:
    return PolicyRule(
        id=r.id, description=r.description,
        condition=f"{r.condition.kind}: {r.condition.value}",
        condition_kind=r.condition.kind, condition_value=str(r.condition.value),
        actions=[PolicyRuleAction(type=a.type, level=a.level, role=a.role) for a in r.actions],
        exempt=[ChangeType(x) for x in r.exempt],
    )


def _version(v: policy_domain.PolicyVersion) -> PolicyVersion:
    parsed = parse_policy(v.doc())
    return PolicyVersion(
        version=v.version, bundled=False, adopted_at=parse_iso(v.adopted_at), adopted_by=v.adopted_by,
        note=v.note, name=parsed.name, description=parsed.description, document=v.document,
        rules=[_rule(r) for r in parsed.rules],
    )


def _bundled() -> PolicyVersion:
    parsed = default_policy()
    return PolicyVersion(
        version=policy_domain.BUILTIN_VERSION, bundled=True, adopted_at=None, adopted_by=None,
        note="bundled with slogov", name=parsed.name, description=parsed.description,
        document=bundled_document(), rules=[_rule(r) for r in parsed.rules],
    )


def from_policy(s: policy_domain.PolicyState | None, policy_id: str) -> Policy | None:
    """The policy's versions, oldest first; "default" starts with its bundled version 0."""
    versions = [_version(v) for v in s.versions] if s is not None else []
    if policy_id == policy_domain.BUILTIN_POLICY_ID:
        versions.insert(0, _bundled())
    if not versions:
        return None
    return Policy(id=strawberry.ID(policy_id), version=s.version if s is not None else 0,
                  current=versions[-1], versions=versions)


# --- policy actions on an objective -------------------------------------------------------


@strawberry.type(description="A freeze the objective's policy started: deploys of its services are denied while active.")
class Freeze:
    id: strawberry.ID = strawberry.field(description='"objectiveId/freeze-n", as decisions name it.')
    freeze_id: str
    objective_id: strawberry.ID
    rule_id: str
    policy_id: str
    policy_version: int
    journey_id: strawberry.ID
    services: list[str] = strawberry.field(description="The scope: the journey's critical services.")
    exempt: list[ChangeType]
    cause: str = strawberry.field(description="Why it started (the budget event's summary).")
    started_at: datetime
    active: bool
    lifted_at: datetime | None


@strawberry.type
class Escalation:
    id: strawberry.ID
    rule_id: str
    level: str
    role: str = strawberry.field(description="Who acknowledges it.")
    reason: str
    raised_at: datetime
    open: bool
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None


@strawberry.type
class Postmortem:
    id: strawberry.ID
    rule_id: str
    incident_id: str | None
    reason: str
    required_at: datetime
    open: bool
    completed_by: str | None
    completed_at: datetime | None
    summary: str | None
    link: str | None


@strawberry.type
class Incident:
    id: strawberry.ID
    started_at: datetime
    opened_at: datetime
    closed_at: datetime | None
    budget_share: float | None = strawberry.field(
        description="Share of the four-week budget it consumed (as budgetShareOfFourWeeks).",
        deprecation_reason="Use budgetShareOfFourWeeks (or budgetShareOfWindow), which say which budget.")
    budget_share_of_four_weeks: float | None = strawberry.field(
        description="Share of the four-week budget it consumed: the share of the objective's window scaled by "
        "window / 28 days (what the policy's incident_budget_share_over compares); null while open.")
    budget_share_of_window: float | None = strawberry.field(
        description="Share of the objective's own window's budget it consumed (the ledger's debits); null while "
        "open, or for incidents closed before it was recorded.")


@strawberry.type(description="What an objective's error-budget policy did: freezes, escalations, postmortems.")
class PolicyActions:
    objective_id: strawberry.ID
    version: int = strawberry.field(description="The actions stream's version.")
    active_freezes: list[Freeze]
    freezes: list[Freeze] = strawberry.field(description="Every freeze, lifted ones included, oldest first.")
    escalations: list[Escalation]
    postmortems: list[Postmortem]
    incidents: list[Incident]


def _dt(value: str | None) -> datetime | None:
    return None if value is None else parse_iso(value)


def _freeze(f: actions_domain.Freeze) -> Freeze:
    return Freeze(
        id=strawberry.ID(f"{f.objective_id}/{f.freeze_id}"), freeze_id=f.freeze_id,
        objective_id=strawberry.ID(f.objective_id), rule_id=f.rule_id, policy_id=f.policy_id,
        policy_version=f.policy_version, journey_id=strawberry.ID(f.journey_id), services=list(f.services),
        exempt=[ChangeType(x) for x in f.exempt], cause=f.reason, started_at=parse_iso(f.started_at),
        active=f.active, lifted_at=_dt(f.lifted_at),
    )


def from_actions(s: actions_domain.ActionsState) -> PolicyActions:
    return PolicyActions(
        objective_id=strawberry.ID(s.objective_id),
        version=s.version,
        active_freezes=[_freeze(f) for f in s.active_freezes],
        freezes=[_freeze(f) for f in s.freezes],
        escalations=[
            Escalation(id=strawberry.ID(e.escalation_id), rule_id=e.rule_id, level=e.level, role=e.role,
                       reason=e.reason, raised_at=parse_iso(e.raised_at), open=e.open,
                       acknowledged_by=e.acknowledged_by, acknowledged_at=_dt(e.acknowledged_at), note=e.note)
            for e in s.escalations
        ],
        postmortems=[
            Postmortem(id=strawberry.ID(p.postmortem_id), rule_id=p.rule_id, incident_id=p.incident_id,
                       reason=p.reason, required_at=parse_iso(p.required_at), open=p.open,
                       completed_by=p.completed_by, completed_at=_dt(p.completed_at), summary=p.summary,
                       link=p.link)
            for p in s.postmortems
        ],
        incidents=[
            Incident(id=strawberry.ID(x.incident_id), started_at=parse_iso(x.started_at),
                     opened_at=parse_iso(x.opened_at), closed_at=_dt(x.closed_at), budget_share=x.budget_share,
                     budget_share_of_four_weeks=x.budget_share, budget_share_of_window=x.budget_share_of_window)
            for x in s.incidents
        ],
    )


async def actions_of(container: Any, objective_id: str, reads: Any = None) -> PolicyActions | None:
    state = await (gate.policy_actions(container, objective_id) if reads is None else reads.actions(objective_id))
    return None if state is None else from_actions(state)


# --- inputs and payloads ------------------------------------------------------------------


@i.command_input
class AdoptPolicyInput:
    document: str = strawberry.field(description="The policy document as YAML (or JSON) text.")
    note: str | None = None


@i.command_input
class AcknowledgeEscalationInput:
    objective_id: strawberry.ID
    escalation_id: strawberry.ID
    note: str | None = None


@i.command_input
class CompletePostmortemInput:
    objective_id: strawberry.ID
    postmortem_id: strawberry.ID
    summary: str
    link: str | None = None


@i.command_input
class GrantFreezeExceptionInput:
    service: str
    expires_at: datetime = strawberry.field(description="In the future; the exception is ignored after it.")
    reason: str
    version: str | None = strawberry.field(default=None, description="Only this change; null: any change.")
    exception_id: strawberry.ID | None = strawberry.field(default=None, description="Default: generated.")


@i.command_input
class RevokeFreezeExceptionInput:
    exception_id: strawberry.ID
    reason: str


@i.command_input
class ApproveDeployInput:
    pipeline_run_id: strawberry.ID = strawberry.field(description="The run whose REQUIRE_APPROVAL answer to approve.")
    reason: str


@strawberry.type
class DeployApprovalPayload:
    decision: DeployDecision
    events: list[EventRef]
    replayed: bool


@strawberry.input
class EvaluateDeployInput:
    service: str
    change_type: ChangeType
    version: str
    pipeline_run_id: strawberry.ID = strawberry.field(
        description="The CI run asking; the same id again gets the first answer and appends nothing."
    )


@strawberry.type
class PolicyPayload:
    policy: Policy
    adopted: bool = strawberry.field(description="False: this text is already in force; nothing appended.")
    events: list[EventRef]
    replayed: bool


@strawberry.type
class PolicyActionsPayload:
    actions: PolicyActions
    events: list[EventRef]
    replayed: bool


@strawberry.type(description="Leadership's permission for a service (or one change) to deploy through freezes.")
class FreezeException:
    id: strawberry.ID
    service: str
    version: str | None
    expires_at: datetime
    reason: str
    granted_by: str | None
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None = strawberry.field(description="Set: it lets nothing through since.")
    revocation_reason: str | None


def from_exception(state: exceptions_domain.ExceptionState) -> FreezeException:
    return FreezeException(
        id=strawberry.ID(state.exception_id), service=state.service, version=state.version_label,
        expires_at=parse_iso(state.expires_at), reason=state.reason, granted_by=state.granted_by,
        granted_at=parse_iso(state.granted_at), revoked_by=state.revoked_by, revoked_at=_dt(state.revoked_at),
        revocation_reason=state.revocation_reason,
    )


async def _exception_payload(info: Info, exception_id: str, result: Any) -> FreezeExceptionPayload:
    state = None
    for event in await info.context["container"].store.read_stream(exceptions_domain.stream_id(exception_id)):
        state = exceptions_domain.evolve(state, event)
    if state is None:
        raise NotFound(f"exception {exception_id} is not readable yet", exception_id=exception_id)
    return FreezeExceptionPayload(exception=from_exception(state), events=event_refs(result.events),
                                  replayed=result.replayed)


@strawberry.type
class FreezeExceptionPayload:
    exception: FreezeException
    events: list[EventRef]
    replayed: bool


async def _actions_payload(info: Info, result: Any) -> PolicyActionsPayload:
    objective_id = result.stream_id.removeprefix(f"{actions_domain.CATEGORY}-")
    state = await gate.policy_actions(info.context["container"], objective_id)
    if state is None:
        raise NotFound(f"policy actions of {objective_id} are not readable yet", objective_id=objective_id)
    return PolicyActionsPayload(actions=from_actions(state), events=event_refs(result.events),
                                replayed=result.replayed)


@strawberry.type
class GateMutation:
    @strawberry.mutation(
        description="Adopt a policy, or a new version of it, from its YAML document (sre, leadership). "
        "The text in force already appends nothing (adopted: false)."
    )
    async def adopt_policy(self, info: Info, input: AdoptPolicyInput) -> PolicyPayload:
        def build() -> policy_domain.AdoptPolicy:
            authorize(policy_domain.AdoptPolicy("x", None), current_principal(info).roles)  # before parsing
            parsed = parse_yaml(input.document)
            return policy_domain.AdoptPolicy(parsed.id, parsed, input.note)

        result = await run_command(info, "AdoptPolicy", input, build)
        policy_id = result.stream_id.removeprefix(f"{policy_domain.CATEGORY}-")
        state = await gate.policy(info.context["container"], policy_id)
        if state is None:
            raise NotFound(f"policy {policy_id} is not readable yet", policy_id=policy_id)
        return PolicyPayload(policy=from_policy(state, policy_id), adopted=bool(result.events),
                             events=event_refs(result.events), replayed=result.replayed)

    @strawberry.mutation(description="Acknowledge an escalation raised by an objective's policy (its role).")
    async def acknowledge_escalation(self, info: Info, input: AcknowledgeEscalationInput) -> PolicyActionsPayload:
        result = await run_command(info, "AcknowledgeEscalation", input, lambda: actions_domain.AcknowledgeEscalation(
            str(input.objective_id), str(input.escalation_id), input.note))
        return await _actions_payload(info, result)

    @strawberry.mutation(description="Complete a required postmortem with its summary (sre, engineering).")
    async def complete_postmortem(self, info: Info, input: CompletePostmortemInput) -> PolicyActionsPayload:
        result = await run_command(info, "CompletePostmortem", input, lambda: actions_domain.CompletePostmortem(
            str(input.objective_id), str(input.postmortem_id), input.summary, input.link))
        return await _actions_payload(info, result)

    @strawberry.mutation(
        description="Let a service (or one change of it) deploy through freezes until expiresAt (leadership only)."
    )
    async def grant_freeze_exception(self, info: Info, input: GrantFreezeExceptionInput) -> FreezeExceptionPayload:
        import uuid

        exception_id = str(input.exception_id) if input.exception_id is not None else f"exc-{uuid.uuid4().hex[:16]}"
        result = await run_command(info, "GrantFreezeException", input, lambda: exceptions_domain.GrantFreezeException(
            exception_id, input.service, input.expires_at, input.reason, input.version))
        return await _exception_payload(info, exception_id, result)

    @strawberry.mutation(
        description="Withdraw a freeze exception (leadership only): it lets nothing through from now on; "
        "decisions recorded before still replay to their answer."
    )
    async def revoke_freeze_exception(self, info: Info, input: RevokeFreezeExceptionInput) -> FreezeExceptionPayload:
        exception_id = str(input.exception_id)
        result = await run_command(info, "RevokeFreezeException", input, lambda: exceptions_domain.RevokeFreezeException(
            exception_id, input.reason))
        return await _exception_payload(info, exception_id, result)

    @strawberry.mutation(
        description="Approve a REQUIRE_APPROVAL decision, once, under one of the roles its rules name "
        "(FORBIDDEN otherwise). NOT_FOUND for an unknown run, CONFLICT when it was allowed or is approved "
        "already, POLICY_VIOLATION when it was denied. The decision itself is unchanged; mayDeploy turns true."
    )
    async def approve_deploy(self, info: Info, input: ApproveDeployInput) -> DeployApprovalPayload:
        run_id = str(input.pipeline_run_id)
        result = await run_command(info, "ApproveDeploy", input, lambda: gate_domain.ApproveDeploy(run_id, input.reason))
        decision = await gate.deploy_decision(info.context["container"], run_id)
        if decision is None:
            raise NotFound(f"deploy decision {run_id} is not readable yet", pipeline_run_id=run_id)
        return DeployApprovalPayload(decision=from_decision(decision), events=event_refs(result.events),
                                     replayed=result.replayed)

    @strawberry.mutation(
        description="The deploy gate (ci, sre, admin): judge a deploy against the policies of every active "
        "objective whose journey depends critically on the service, and record the answer. The same "
        "pipelineRunId again returns the first answer (replayed: true) and appends nothing."
    )
    async def evaluate_deploy(self, info: Info, input: EvaluateDeployInput) -> DeployDecision:
        async def execute() -> gate.DeployDecision:
            principal = current_principal(info)
            return await gate.evaluate_deploy(
                info.context["container"], principal.actor, principal.roles, input.service,
                input.change_type.value, input.version, str(input.pipeline_run_id),
            )

        return from_decision(await measured("EvaluateDeploy", execute))


@strawberry.type
class GateQuery:
    @strawberry.field(description="A recorded deploy decision by pipeline run id, or null (with asOf: null "
                      "when it was recorded after that point; a decision never changes once recorded).")
    async def deploy_decision(self, info: Info, id: strawberry.ID, as_of: AsOf | None = None) -> DeployDecision | None:
        current_principal(info)
        past = await as_of_reads(info, as_of)
        d = await gate.deploy_decision(info.context["container"], str(id))
        if d is None or (past is not None and d.position > past.position):
            return None
        return from_decision(d)

    @strawberry.field(description=f"Recorded deploy decisions, oldest first (at most {MAX_DECISIONS_PAGE_SIZE} a page).")
    async def deploy_decisions(
        self, info: Info, service: str | None = None, first: int | None = None, after: str | None = None,
        as_of: AsOf | None = None,
    ) -> Connection[DeployDecision]:
        current_principal(info)
        past = await as_of_reads(info, as_of)
        until = None if past is None else past.position
        return await decision_connection(info.context["container"], service, first, after, until)

    @strawberry.field(
        description="Re-evaluate a recorded decision on the log folded up to its evaluatedAtPosition, at its "
        "time (the auditor's check); NOT_FOUND for an unknown run."
    )
    async def replay_deploy_decision(self, info: Info, id: strawberry.ID) -> DeployReplay:
        current_principal(info)
        return _replay(await gate.replay_deploy_decision(info.context["container"], str(id)))

    @strawberry.field(description="The gate's answer now, without recording anything (any role).")
    async def deploy_preview(
        self, info: Info, service: str, change_type: ChangeType, version: str = "preview",
    ) -> DeployDecision:
        principal = current_principal(info)
        return from_decision(await gate.deploy_preview(
            info.context["container"], principal.actor, principal.roles, service, change_type.value, version))

    @strawberry.field(description="An error-budget policy with its versions and rules, or null (with asOf: "
                      "as it stood then).")
    async def policy(self, info: Info, id: strawberry.ID, as_of: AsOf | None = None) -> Policy | None:
        current_principal(info)
        past = await as_of_reads(info, as_of)
        if past is not None:
            state = await past.state(policy_domain.stream_id(str(id)))
        else:
            state = await gate.policy(info.context["container"], str(id))
        return from_policy(state, str(id))
