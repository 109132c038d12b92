"""What-if over the recorded history: an objective's budget stream read from the log up to
one position and judged by the pure `domain.budget.whatif` with the candidate in force,
beside what the log holds (the transitions, the figures under the configuration recorded).

Completeness: the objective's policy (as its agreement pinned it at each point, read from
the objective's, journey's and policy's streams) follows the candidate's history
(`policies.target_whatif`: the policy reactor's own walk), so the freezes it would have
started are known; and every deploy decision recorded in the period that this objective
could change (it judged the deploy, or one of its freezes covers the service) is judged
again by the gate's own `evaluate` on the gate's view at the decision's log position
(`gate_states_along`, the replay's fold), with this objective's budget and freezes taken
from the candidate's history instead. With the candidate equal to what was in force the
freezes and decisions are the recorded ones (tests/whatif).

Reads only: nothing is appended, and the same position gives the same answer (the result
names it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable

import orjson
from sqlalchemy import select

from domain import journey as journeys
from domain import objective as objectives
from domain import policy as policy_domain
from domain import policy_actions
from domain.budget import BudgetInputError, decider
from domain.budget.burn import check_tiers_fit, parse_tiers
from domain.budget.whatif import Candidate, Moment, Outcome, both, commands, series
from domain.commands import parse_iso, require_id
from domain.errors import InvalidInput, NotFound
from policies.evaluate import DeployRequest
from policies.gate_view import freeze_facts, rejudge
from policies.target_whatif import PolicyFollower, freezes_started, governance
from projections.tables import deploy_decisions
from service.gate_state import gate_states_along

MAX_PERIOD_DAYS = 400  # a year and a quarter-review's margin; the cost grows with the stream, not this


@dataclass(frozen=True)
class TargetWhatIf:
    objective_id: str
    start: datetime
    end: datetime
    position: int                 # the log position the history was read up to
    candidate: Candidate
    whatif: Outcome               # the candidate in force
    actual: Outcome               # the recorded configuration, judged again the same way
    recorded: tuple[Moment, ...]  # the transitions the log holds in the period
    freezes: tuple[dict[str, Any], ...] = ()           # the policy's freezes under the candidate
    recorded_freezes: tuple[dict[str, Any], ...] = ()  # the freezes the log holds
    deploys: tuple["Rejudged", ...] = ()               # recorded decisions this objective could change
    proposal_id: str | None = None                     # the proposal whose target is the candidate's

    @property
    def denied(self) -> tuple["Rejudged", ...]:
        """Recorded decisions that would have been DENY and were not."""
        return tuple(d for d in self.deploys if d.whatif == "DENY" and d.recorded != "DENY")


@dataclass(frozen=True)
class Rejudged:
    pipeline_run_id: str
    service: str
    change_type: str
    at: datetime
    recorded: str      # the outcome the gate gave
    whatif: str        # the outcome under the candidate
    reasons: tuple[str, ...]  # the candidate's reasons

    @property
    def changed(self) -> bool:
        return self.recorded != self.whatif


def period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from and to need a time zone (ISO 8601 with Z or an offset)", field="from")
    if not start < end:
        raise InvalidInput("the period is [from, to): from must be before to", field="to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput(f"a period spans at most {MAX_PERIOD_DAYS} days", field="to")
    return start, end


async def target_whatif_of(
    container: Any,
    objective_id: str,
    start: datetime,
    end: datetime,
    *,
    target: float | None = None,
    window: Any = None,
    budgeting: Any = None,
    tiers: Any = None,
    proposal_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TargetWhatIf:
    """The objective's recorded history over [start, end) judged with the candidate (any
    of target, window, budgeting, tiers, or a proposal's target; None keeps the recorded
    one) beside the history as recorded."""
    objective_id = require_id(objective_id, "objective_id")
    start, end = period(start, end)
    if proposal_id is not None:
        proposal_id = require_id(proposal_id, "proposal_id")
        if target is not None:
            raise InvalidInput("give a target or a proposal, not both", field="proposal_id")
    try:
        candidate = Candidate.parse(target, window, budgeting, tiers)
    except BudgetInputError as error:
        raise decider.domain_error(error) from None
    store = container.store
    async with container.read_engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            position, _ = await store.head(conn)
            objective_events = await store.read_stream(objectives.stream_id(objective_id), until_position=position,
                                                       conn=conn)
            if not objective_events:
                raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
            obj = None
            for e in objective_events:
                obj = objectives.evolve(obj, e)
            if proposal_id is not None:
                proposal = next((p for p in obj.proposals if p.proposal_id == proposal_id), None)
                if proposal is None:
                    raise NotFound(f"objective {objective_id} has no proposal {proposal_id}",
                                   objective_id=objective_id, proposal_id=proposal_id)
                candidate = replace(candidate, target=proposal.target)
            if candidate.tiers is not None:  # refused as the agreement refuses them
                try:
                    check_tiers_fit(parse_tiers(candidate.tiers), candidate.window or obj.window.budget_window())
                except BudgetInputError as error:
                    raise decider.domain_error(error) from None
            events = await store.read_stream(decider.stream_id(objective_id), until_position=position, conn=conn)
            context = list(objective_events)
            context += await store.read_stream(journeys.stream_id(obj.journey_id), until_position=position, conn=conn)
            for pid in sorted({e.data["policy_id"] for e in objective_events if "policy_id" in e.data}):
                context += await store.read_stream(policy_domain.stream_id(pid), until_position=position, conn=conn)
            actions = await store.read_stream(policy_actions.stream_id(objective_id), until_position=position,
                                              conn=conn)
            decisions = [orjson.loads(r.doc) for r in await conn.execute(
                select(deploy_decisions.c.doc).where(deploy_decisions.c.created_position <= position)
                .order_by(deploy_decisions.c.created_position))]
    context.sort(key=lambda e: e.position)
    timeline = governance(objective_id, context)
    in_scope = {s for g in timeline for s in g.services}
    mine = [d for d in decisions if start <= parse_iso(d["at"]) < end and (
        objective_id in d["objectives"] or any(f.startswith(objective_id + "/") for f in d["freezes"])
        or d["service"] in in_scope)]
    follower = PolicyFollower(objective_id, timeline, [g[-1].position for g in commands(events)],
                              [d["evaluated_at_position"] for d in mine])
    whatif, actual = both(events, candidate, start, end, progress, follower)
    deploys = await _rejudge(container, objective_id, mine, follower) if mine else ()
    return TargetWhatIf(
        objective_id=objective_id, start=start, end=end, position=position, candidate=candidate,
        whatif=whatif, actual=actual, recorded=actual.transitions,
        freezes=tuple(freezes_started(follower.events, start, end)),
        recorded_freezes=tuple(freezes_started(actions, start, end)),
        deploys=deploys, proposal_id=proposal_id,
    )


async def _rejudge(container: Any, objective_id: str, mine: list[dict[str, Any]],
                   follower: PolicyFollower) -> tuple[Rejudged, ...]:
    """Each decision judged by the gate's `evaluate` on its own view at its position, this
    objective's budget and freezes there taken from the candidate's history."""
    asks = [(d["service"], d["evaluated_at_position"], parse_iso(d["at"])) for d in mine]
    async with container.long_reads.slot("replay"):  # folds the log up to the last decision
        views = await gate_states_along(container, asks)
    out = []
    for d, (state, found) in zip(mine, views):
        view = follower.at_position(d["evaluated_at_position"])
        if view is not None:
            facts = tuple(replace(o, exhausted=view.exhausted, remaining=view.remaining,
                                  alert_severities=view.alert_severities) if o.objective_id == objective_id else o
                          for o in state.objectives)
            freezes = tuple(f for f in state.freezes if f.objective_id != objective_id) + tuple(
                freeze_facts(f) for f in view.freezes if d["service"] in f.services)
            state = replace(state, objectives=facts, freezes=tuple(sorted(freezes, key=lambda f: f.freeze_id)))
        at = parse_iso(d["at"])
        decision = rejudge(state, found, DeployRequest(d["service"], d["change_type"], d["version_label"],
                                                       d["pipeline_run_id"]), at, d.get("suggestions"))
        out.append(Rejudged(d["pipeline_run_id"], d["service"], d["change_type"], at, d["outcome"], decision.outcome,
                            decision.reasons))
    return tuple(out)


def _outcome_dict(o: Outcome, transitions: tuple[Moment, ...], freezes: tuple[dict[str, Any], ...],
                  chart: bool, start: datetime, end: datetime) -> dict[str, Any]:
    s = o.status
    out = {
        "target": o.target, "attainment": o.attainment, "budget_spent": o.budget_spent,
        "good": o.good, "total": o.total,
        "remaining": None if s is None else s.remaining, "exhausted": None if s is None else s.exhausted,
        "exhaustions": [m.at for m in transitions if m.type == "BudgetExhausted"],
        "recoveries": [m.at for m in transitions if m.type == "BudgetRecovered"],
        "transitions": [{"type": m.type, **m.data} for m in transitions],
        "freezes": [{**f, "services": list(f["services"])} for f in freezes],
    }
    if chart:
        out["series"] = [{"at": p.at.isoformat(), "remaining": p.remaining, "attainment": p.attainment}
                         for p in series(o, start, end)]
    return out


def _deploy_dict(d: Rejudged) -> dict[str, Any]:
    return {"pipeline_run_id": d.pipeline_run_id, "service": d.service, "change_type": d.change_type,
            "at": d.at.isoformat(), "actual": d.recorded, "what_if": d.whatif, "changed": d.changed,
            "reasons": list(d.reasons)}


def to_dict(r: TargetWhatIf, chart: bool = False) -> dict[str, Any]:
    """JSON-safe: the inputs (what changed, the period, the position), both outcomes with
    their freezes, and the recorded deploy decisions judged again (`chart`: with the series
    a chart draws)."""
    c = r.candidate
    return {
        "objective_id": r.objective_id, "from": r.start.isoformat(), "to": r.end.isoformat(), "position": r.position,
        "proposal_id": r.proposal_id,
        "candidate": {"target": c.target, "window": c.window, "budgeting": c.budgeting,
                      "tiers": None if c.tiers is None else [dict(t) for t in c.tiers]},
        "what_if": _outcome_dict(r.whatif, r.whatif.transitions, r.freezes, chart, r.start, r.end),
        "actual": _outcome_dict(r.actual, r.recorded, r.recorded_freezes, chart, r.start, r.end),
        "deploys": [_deploy_dict(d) for d in r.deploys],
        "deploys_denied": [d.pipeline_run_id for d in r.denied],
    }
