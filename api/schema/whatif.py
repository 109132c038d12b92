"""What-if over the recorded history in the API.

Query: whatIfTarget -- an objective's recorded budget history over [from, to) judged
again with a candidate target, window, budgeting method or alert tiers (any omitted one
keeps what was in force), beside the same history as recorded (``service.whatif``). Any
authenticated party may ask; nothing is appended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Mapping

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import inputs as i
from domain.budget.whatif import Moment, Outcome
from api.schema.budgets import tier_dicts
from service import whatif as whatif_service


@strawberry.type(description="A budget transition: when it happened (data time) and, for alerts, which tier.")
class WhatIfTransition:
    type: str = strawberry.field(description="BudgetExhausted, BudgetRecovered, BurnRateAlertRaised, "
                                             "BurnRateAlertCleared, ObservationsStale or ObservationsFresh.")
    at: datetime
    severity: str | None = None
    long_window: str | None = None
    short_window: str | None = None
    threshold: float | None = None
    remaining: float | None = strawberry.field(default=None, description="Budget transitions: remaining then.")


@strawberry.type(description="One history over the period: the period's figures and its transitions.")
class WhatIfOutcome:
    target: float | None = strawberry.field(description="The target judged against (null: never agreed).")
    attainment: float | None = strawberry.field(
        description="Good / total over the intervals ending in the period, excluded ones left out (as the "
        "leadership report).")
    budget_spent: float | None = strawberry.field(
        description="The period's bad over what its own traffic allowed at the target: 1.0 = the whole budget.")
    good: float
    total: float
    remaining: float | None = strawberry.field(description="The budget over the window at the period's last data.")
    exhausted: bool | None
    exhaustions: list[datetime]
    recoveries: list[datetime]
    alerts_raised: list[WhatIfTransition]
    transitions: list[WhatIfTransition] = strawberry.field(description="Every transition in the period, in order.")


@strawberry.type(description="A freeze the objective's policy started (data time), and when it was lifted.")
class WhatIfFreeze:
    freeze_id: str
    rule_id: str
    started_at: datetime
    lifted_at: datetime | None = strawberry.field(description="None: still active at the end of the history read.")
    services: list[str]
    reason: str


@strawberry.type(description="A recorded deploy decision judged again by the gate with the candidate's budget and "
                             "freezes for this objective.")
class WhatIfDeploy:
    pipeline_run_id: str
    service: str
    change_type: str
    at: datetime
    actual: str = strawberry.field(description="The outcome the gate recorded.")
    what_if: str = strawberry.field(description="The outcome under the candidate.")
    changed: bool
    reasons: list[str] = strawberry.field(description="The gate's reasons under the candidate.")


@strawberry.type(description="A candidate judged over the recorded history, beside what happened.")
class TargetWhatIf:
    objective_id: strawberry.ID
    start: datetime = strawberry.field(name="from")
    end: datetime = strawberry.field(name="to")
    position: int = strawberry.field(description="The log position the history was read up to.")
    what_if: WhatIfOutcome = strawberry.field(description="With the candidate in force.")
    actual: WhatIfOutcome = strawberry.field(description="As recorded: the figures under the configuration in "
                                                         "force, the transitions the log holds.")
    proposal_id: str | None = strawberry.field(description="The proposal whose target was the candidate's.")
    freezes: list[WhatIfFreeze] = strawberry.field(description="The freezes the objective's policy would have "
                                                               "started in the period under the candidate.")
    recorded_freezes: list[WhatIfFreeze] = strawberry.field(description="The freezes it started, as recorded.")
    deploys: list[WhatIfDeploy] = strawberry.field(description="The deploy decisions recorded in the period that "
                                                               "this objective could change, judged again.")
    deploys_denied: list[WhatIfDeploy] = strawberry.field(description="Of those, the ones that would have been "
                                                                      "denied and were not.")


def transition(m: Moment) -> WhatIfTransition:
    d: Mapping[str, Any] = m.data
    return WhatIfTransition(
        type=m.type, at=datetime.fromisoformat(m.at), severity=d.get("severity"), long_window=d.get("long_window"),
        short_window=d.get("short_window"), threshold=d.get("threshold"), remaining=d.get("remaining"),
    )


def outcome(o: Outcome, transitions: tuple[Moment, ...]) -> WhatIfOutcome:
    s = o.status
    return WhatIfOutcome(
        target=o.target, attainment=o.attainment, budget_spent=o.budget_spent, good=o.good, total=o.total,
        remaining=None if s is None else s.remaining, exhausted=None if s is None else s.exhausted,
        exhaustions=[datetime.fromisoformat(m.at) for m in transitions if m.type == "BudgetExhausted"],
        recoveries=[datetime.fromisoformat(m.at) for m in transitions if m.type == "BudgetRecovered"],
        alerts_raised=[transition(m) for m in transitions if m.type == "BurnRateAlertRaised"],
        transitions=[transition(m) for m in transitions],
    )


def _freeze(f: Mapping[str, Any]) -> WhatIfFreeze:
    return WhatIfFreeze(freeze_id=f["freeze_id"], rule_id=f["rule_id"], started_at=datetime.fromisoformat(f["started_at"]),
                        lifted_at=None if f["lifted_at"] is None else datetime.fromisoformat(f["lifted_at"]),
                        services=list(f["services"]), reason=f["reason"])


def _deploy(d: whatif_service.Rejudged) -> WhatIfDeploy:
    return WhatIfDeploy(pipeline_run_id=d.pipeline_run_id, service=d.service, change_type=d.change_type, at=d.at,
                        actual=d.recorded, what_if=d.whatif, changed=d.changed, reasons=list(d.reasons))


def from_result(r: whatif_service.TargetWhatIf) -> TargetWhatIf:
    return TargetWhatIf(
        objective_id=strawberry.ID(r.objective_id), start=r.start, end=r.end, position=r.position,
        what_if=outcome(r.whatif, r.whatif.transitions), actual=outcome(r.actual, r.recorded),
        proposal_id=r.proposal_id, freezes=[_freeze(f) for f in r.freezes],
        recorded_freezes=[_freeze(f) for f in r.recorded_freezes], deploys=[_deploy(d) for d in r.deploys],
        deploys_denied=[_deploy(d) for d in r.denied],
    )


@strawberry.type
class WhatIfQuery:
    @strawberry.field(description=(
        "An objective's recorded budget history over [from, to) judged again with a candidate target (or a "
        "proposal's: proposalId), window, budgeting method or alert tiers (each omitted one keeps what was in "
        "force), by the same ledger and transitions as live, beside what happened: the freezes its policy would "
        "have started and the recorded deploys that would then have been denied. Any role; appends nothing."))
    async def what_if_target(
        self, info: Info, objective_id: strawberry.ID,
        start: Annotated[datetime, strawberry.argument(name="from")],
        end: Annotated[datetime, strawberry.argument(name="to")],
        target: float | None = None,
        window: i.WindowInput | None = None,
        budgeting: i.BudgetingInput | None = None,
        tiers: list[i.AlertTierInput] | None = None,
        proposal_id: str | None = None,
    ) -> TargetWhatIf:
        current_principal(info)
        result = await whatif_service.target_whatif_of(
            info.context["container"], str(objective_id), start, end, target=target,
            window=None if window is None else window.as_dict(),
            budgeting=None if budgeting is None else budgeting.as_dict(),
            tiers=tier_dicts(tiers), proposal_id=proposal_id,
        )
        return from_result(result)
