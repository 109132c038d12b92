"""Policy what-if in the API.

Query: whatIfPolicy -- a candidate policy document (YAML or JSON text, as adoptPolicy takes
it) judged over the recorded history of [from, to): every deploy decision recorded in the
period judged again at its own log position and time with the candidate in force (the
replay's own judgment), and the freezes, escalations and postmortems the candidate would
have started (``service.policy_whatif``). Leadership and the negotiating parties may ask
(it reads the whole log: one at a time, in the long-read slot); nothing is appended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.auth import require_roles
from api.schema.gate import DeployDecision, DeployOutcome, EvaluatedDecision, from_decision
from api.schema.whatif import WhatIfTransition, transition
from domain.permissions import WHATIF_POLICY_ROLES
from policies.whatif import Action, Judged
from service import policy_whatif as service
from service.gate import decision_from_state


@strawberry.type(description="A recorded decision and its judgment with the candidate policy in force.")
class PolicyWhatIfDecision:
    recorded: DeployDecision
    what_if: EvaluatedDecision
    changed: bool = strawberry.field(description="The outcome differs (ALLOW -> DENY, DENY -> REQUIRE_APPROVAL...).")
    differences: list[str] = strawberry.field(description="Each field that differs, recorded vs what-if.")


@strawberry.type(description="A freeze, escalation or postmortem started, as recorded or under the candidate.")
class PolicyWhatIfAction:
    objective_id: strawberry.ID
    type: str = strawberry.field(description="FreezeStarted, EscalationRaised or PostmortemRequired.")
    action_id: str
    rule_id: str
    at: datetime = strawberry.field(description="Data time.")
    reason: str
    policy: str | None = strawberry.field(description='The policy text it came from, "id@version".')


@strawberry.type(description="How many, as recorded and under the candidate.")
class PolicyWhatIfCount:
    actual: int
    what_if: int


@strawberry.type(description="An objective whose alert tiers the candidate changes: the burn-rate alerts raised and "
                             "cleared in the period (data time), as recorded and under the candidate's tiers.")
class PolicyWhatIfAlerts:
    objective_id: strawberry.ID
    since_position: int = strawberry.field(description="The log position from which the candidate's tiers applied.")
    actual: list[WhatIfTransition]
    what_if: list[WhatIfTransition]


@strawberry.type(description="A candidate policy judged over the recorded history of the period.")
class PolicyWhatIf:
    policy_id: strawberry.ID
    candidate_version: int = strawberry.field(
        description="The version adopting the candidate would make; its decisions cite policyId@candidateVersion.")
    start: datetime = strawberry.field(name="from")
    end: datetime = strawberry.field(name="to")
    position: int = strawberry.field(description="The log position the history was read up to.")
    decisions: int = strawberry.field(description="Decisions recorded in the period, every one judged again.")
    allow_to_deny: int
    deny_to_allow: int
    changed: list[PolicyWhatIfDecision] = strawberry.field(description="The decisions whose outcome changes.")
    affected_objectives: list[strawberry.ID] = strawberry.field(
        description="Objectives the candidate governs (they pin its id, in another text).")
    tiers_differ: list[strawberry.ID] = strawberry.field(
        description="Affected objectives whose alert tiers the candidate would change: their burn-rate alerts are "
        "derived again under the candidate's tiers (alerts), and the policy and the gate judge those.")
    alerts: list[PolicyWhatIfAlerts] = strawberry.field(
        description="For each objective in tiersDiffer, its alerts as recorded and under the candidate's tiers.")
    freezes: PolicyWhatIfCount
    escalations: PolicyWhatIfCount
    postmortems: PolicyWhatIfCount
    actual_actions: list[PolicyWhatIfAction] = strawberry.field(
        description="The affected objectives' freezes, escalations and postmortems started in the period, as recorded.")
    what_if_actions: list[PolicyWhatIfAction] = strawberry.field(description="... and under the candidate.")
    only_actual: list[PolicyWhatIfAction] = strawberry.field(description="Started as recorded, not under the candidate.")
    only_what_if: list[PolicyWhatIfAction] = strawberry.field(description="Started only under the candidate.")


def _action(a: Action) -> PolicyWhatIfAction:
    return PolicyWhatIfAction(objective_id=strawberry.ID(a.objective_id), type=a.type, action_id=a.action_id,
                              rule_id=a.rule_id, at=datetime.fromisoformat(a.at), reason=a.reason, policy=a.policy)


def _decision(j: Judged) -> PolicyWhatIfDecision:
    d = j.what_if
    return PolicyWhatIfDecision(
        recorded=from_decision(decision_from_state(j.recorded, j.position)),
        what_if=EvaluatedDecision(
            outcome=DeployOutcome(d.outcome), reasons=list(d.reasons), rule_ids=list(d.rule_ids),
            objectives=list(d.objectives), freezes=list(d.freezes), exceptions=list(d.exceptions),
            policy_versions=list(d.policy_versions), suggestions=list(d.suggestions)),
        changed=j.changed, differences=list(j.differences),
    )


def from_result(r: service.PolicyWhatIfResult) -> PolicyWhatIf:
    o, s = r.outcome, service.summary(r)
    return PolicyWhatIf(
        policy_id=strawberry.ID(r.policy_id), candidate_version=r.candidate_version, start=r.start, end=r.end,
        position=r.position, decisions=s["decisions"], allow_to_deny=s["allow_to_deny"],
        deny_to_allow=s["deny_to_allow"], changed=[_decision(j) for j in o.changed],
        affected_objectives=[strawberry.ID(x) for x in o.affected],
        tiers_differ=[strawberry.ID(x) for x in o.tiers_differ],
        alerts=[PolicyWhatIfAlerts(objective_id=strawberry.ID(a.objective_id), since_position=a.since_position,
                                   actual=[transition(m) for m in a.actual], what_if=[transition(m) for m in a.what_if])
                for a in o.alerts],
        freezes=PolicyWhatIfCount(**s["freezes"]), escalations=PolicyWhatIfCount(**s["escalations"]),
        postmortems=PolicyWhatIfCount(**s["postmortems"]),
        actual_actions=[_action(a) for a in o.actual], what_if_actions=[_action(a) for a in o.what_if],
        only_actual=[_action(a) for a in o.only_actual], only_what_if=[_action(a) for a in o.only_what_if],
    )


@strawberry.type
class WhatIfPolicyQuery:
    @strawberry.field(description=(
        "A candidate policy (YAML or JSON text, as adoptPolicy takes it) judged over the recorded history of "
        "[from, to): every deploy decision recorded in the period judged again at its own log position and time "
        "with the candidate in force for the objectives that pin its id (or objectiveIds), and the freezes, "
        "escalations and postmortems it would have started. Leadership and the parties; appends nothing."))
    async def what_if_policy(
        self, info: Info, document: str,
        start: Annotated[datetime, strawberry.argument(name="from")],
        end: Annotated[datetime, strawberry.argument(name="to")],
        objective_ids: list[strawberry.ID] | None = None,
    ) -> PolicyWhatIf:
        require_roles(info, *WHATIF_POLICY_ROLES)
        result = await service.policy_whatif_of(
            info.context["container"], document, start, end,
            objective_ids=None if objective_ids is None else [str(x) for x in objective_ids])
        return from_result(result)
