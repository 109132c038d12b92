"""Budget transitions -> policy actions: the pure part of the policy reactor.

`react(...)` looks at one objective's budget at one instant of data time (its facts as
the ledger stood then), the actions already recorded for it, and its policy, and returns
the events for `actions-{objective_id}`. The policy reactor calls it at each instant a
budget command's data reaches, in order, with the actions of the instants before.

Level rules (budget remaining at or below x; an active burn-rate alert) fire once when
the condition starts to hold -- FreezeStarted (scope: the services the objective's
journey depends on critically), EscalationRaised, PostmortemRequired -- and clear when
it stops: FreezeLifted for a freeze, PolicyRuleCleared otherwise.

Repeated exhaustion: when a BudgetExhausted is recorded, the exhaustions whose event
time falls in the same calendar quarter (UTC) are counted (the reactor reads them from
the budget stream); at or above the rule's count the rule fires once for that quarter.

Single incident share: an incident is the time a page-severity burn-rate alert is
active. It opens when the first page alert is raised -- starting one long window
before (the data that fired the alert belongs to it), but never before the previous
incident closed -- and closes when the last page alert clears. Two shares are kept,
named, because they differ whenever the objective's window is not four weeks:
    budget_share_of_window       sum(debit of intervals in [start, t]): each interval's bad
                                 events over the allowance of the objective's own window at
                                 that time, as the ledger chart shows them (2.0% of a 30-day
                                 budget, say)
    budget_share (of four weeks) the same scaled to the workbook's four-week budget:
                                 of_window x window length / 28 days (2.14% for those 30 days;
                                 traffic is taken as even across the window only for that
                                 scaling, not within the incident)
The policy's `incident_budget_share_over` compares the four-week share (the workbook's
rule). It is checked at every instant of data time while the incident is open and when
it closes; above the rule's share the rule fires once for that incident.

A freeze whose rule the policy in force has no freeze for (the objective was re-pinned
to a version without it) is lifted at the next instant: nothing else would lift it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from domain.commands import iso, parse_iso
from domain.events import NewEvent
from domain.policy_actions import LEVEL_KEY, ActionsState, Freeze
from policies.evaluate import ObjectiveFacts, condition_holds
from policies.language import (
    BUDGET_REMAINING_AT_MOST,
    ESCALATE,
    EXHAUSTIONS_IN_QUARTER_AT_LEAST,
    FREEZE,
    INCIDENT_BUDGET_SHARE_OVER,
    REQUIRE_POSTMORTEM,
    Policy,
    Rule,
)

INCIDENT_SEVERITY = "page"
FOUR_WEEKS = timedelta(days=28)


def quarter_of(at: datetime) -> str:
    at = at.astimezone(timezone.utc)
    return f"{at.year}Q{(at.month - 1) // 3 + 1}"


def incident_share(debits: float, window: timedelta) -> float:
    """Debits booked against the objective's window allowance, as a share of four weeks' budget."""
    return debits * (window / FOUR_WEEKS)


def _days(window: timedelta) -> str:
    return f"{window / timedelta(days=1):g}-day window's"


@dataclass(frozen=True)
class BudgetFacts:
    objective_id: str
    journey_id: str
    services: tuple[str, ...]  # the journey's critical dependencies now
    at: datetime  # the ledger's event time
    exhausted: bool
    remaining: float | None
    alert_severities: tuple[str, ...]
    page_long_window: timedelta | None  # the longest long window among active page alerts
    exhaustions_in_quarter: int | None = None  # counted only when a BudgetExhausted was recorded
    window: timedelta = FOUR_WEEKS  # the objective's window length at `at` (scales shares to four weeks)


def _objective_facts(f: BudgetFacts, policy_id: str, version: int) -> ObjectiveFacts:
    return ObjectiveFacts(f.objective_id, f.journey_id, policy_id, version, f.exhausted, f.remaining, f.alert_severities)


class _Ids:
    def __init__(self, state: ActionsState) -> None:
        self.freezes = len(state.freezes)
        self.escalations = len(state.escalations)
        self.postmortems = len(state.postmortems)


def _level_rules(policy: Policy) -> list[Rule]:
    return [r for r in policy.rules
            if r.condition.level and (r.has(FREEZE) or r.has(ESCALATE) or r.has(REQUIRE_POSTMORTEM))]


def _orphaned_freezes(policy: Policy, state: ActionsState) -> list[Freeze]:
    """Active freezes whose rule the policy in force has no freeze for (the objective was
    re-pinned to a version without it): nothing would ever lift them, so they are lifted."""
    freezing = {r.id for r in policy.rules if r.condition.level and r.has(FREEZE)}
    return [f for f in state.active_freezes if f.rule_id not in freezing]


def _level_changes(policy: Policy, objective: ObjectiveFacts, state: ActionsState) -> Iterator[tuple[Rule, bool]]:
    """(rule, holds now) for each level rule whose condition no longer agrees with its latch."""
    for rule in _level_rules(policy):
        holds = condition_holds(rule.condition, objective)
        if holds != (state.latch(rule.id) == LEVEL_KEY):
            yield rule, holds


def settled(policy: Policy, objective: ObjectiveFacts, actions: ActionsState | None) -> bool:
    """True when `react` returns nothing for facts with these level values and no new
    exhaustion (`exhaustions_in_quarter` None): every level rule agrees with its latch, and
    no incident is open or opening (no page alert). The policy reactor asks this first, so a
    budget command that crossed no rule's condition costs no more than these checks."""
    state = actions or ActionsState(objective.objective_id)
    if next(_level_changes(policy, objective, state), None) is not None or _orphaned_freezes(policy, state):
        return False
    if any(r.condition.kind == INCIDENT_BUDGET_SHARE_OVER for r in policy.rules):
        return INCIDENT_SEVERITY not in objective.alert_severities and state.open_incident is None
    return True


def settles_on_flags(policy: Policy) -> bool:
    """True when `settled` reads nothing but the exhausted flag and the alert severities:
    every level rule is on an alert or on the budget being spent (remaining at most 0).
    Then, while those flags hold still, it answers the same at every instant."""
    return all(r.condition.kind != BUDGET_REMAINING_AT_MOST or r.condition.value <= 0 for r in _level_rules(policy))


def react(
    policy: Policy,
    version: int,
    facts: BudgetFacts,
    actions: ActionsState | None,
    share_since: Callable[[datetime], float],  # share of the objective's window budget consumed since
) -> list[NewEvent]:
    state = actions or ActionsState(facts.objective_id)
    ids = _Ids(state)
    at = iso(facts.at)
    oid = facts.objective_id
    base = {"objective_id": oid, "policy_id": policy.id, "policy_version": version}
    out: list[NewEvent] = []

    def fire(rule: Rule, key: str, reason: str, incident_id: str | None = None) -> None:
        if rule.has(FREEZE):
            ids.freezes += 1
            out.append(NewEvent("FreezeStarted", {
                **base, "freeze_id": f"freeze-{ids.freezes}", "rule_id": rule.id, "journey_id": facts.journey_id,
                "services": list(facts.services), "exempt": list(rule.exempt), "reason": reason, "at": at,
            }))
        esc = rule.action(ESCALATE)
        if esc is not None:
            ids.escalations += 1
            out.append(NewEvent("EscalationRaised", {
                **base, "escalation_id": f"escalation-{ids.escalations}", "rule_id": rule.id,
                "level": esc.level, "role": esc.role, "key": key, "reason": reason, "at": at,
            }))
        if rule.has(REQUIRE_POSTMORTEM):
            ids.postmortems += 1
            out.append(NewEvent("PostmortemRequired", {
                **base, "postmortem_id": f"postmortem-{ids.postmortems}", "rule_id": rule.id,
                "incident_id": incident_id, "key": key, "reason": reason, "at": at,
            }))

    # --- level rules -----------------------------------------------------------------
    objective = _objective_facts(facts, policy.id, version)
    for rule, holds in _level_changes(policy, objective, state):
        if holds:
            fire(rule, LEVEL_KEY, rule.description or rule.condition.describe())
        else:
            freeze = state.active_freeze(rule.id)
            if freeze is not None:
                out.append(NewEvent("FreezeLifted", {
                    "objective_id": oid, "freeze_id": freeze.freeze_id, "rule_id": rule.id,
                    "reason": f"no longer: {rule.condition.describe()}", "at": at,
                }))
            else:
                out.append(NewEvent("PolicyRuleCleared", {"objective_id": oid, "rule_id": rule.id, "at": at}))

    for freeze in _orphaned_freezes(policy, state):
        out.append(NewEvent("FreezeLifted", {
            "objective_id": oid, "freeze_id": freeze.freeze_id, "rule_id": freeze.rule_id,
            "reason": f"policy {policy.id}@{version} in force has no freeze rule {freeze.rule_id}", "at": at,
        }))

    # --- repeated exhaustion ---------------------------------------------------------
    if facts.exhaustions_in_quarter is not None:
        quarter = quarter_of(facts.at)
        for rule in policy.rules:
            if rule.condition.kind != EXHAUSTIONS_IN_QUARTER_AT_LEAST:
                continue
            if facts.exhaustions_in_quarter >= rule.condition.value and state.latch(rule.id) != quarter:
                fire(rule, quarter, f"{rule.description or rule.condition.describe()}: "
                                    f"{facts.exhaustions_in_quarter} exhaustions in {quarter}")

    # --- single-incident share -------------------------------------------------------
    incident_rules = [r for r in policy.rules if r.condition.kind == INCIDENT_BUDGET_SHARE_OVER]
    if incident_rules:
        page = INCIDENT_SEVERITY in facts.alert_severities
        current = state.open_incident
        incident_id = start = None
        if current is not None:
            incident_id, start = current.incident_id, parse_iso(current.started_at)
        elif page:
            incident_id = f"incident-{len(state.incidents) + 1}"
            start = facts.at - (facts.page_long_window or timedelta(0))
            closed = [parse_iso(i.closed_at) for i in state.incidents if i.closed_at is not None]
            if closed and max(closed) > start:
                start = max(closed)
            out.append(NewEvent("IncidentOpened", {
                "objective_id": oid, "incident_id": incident_id, "started_at": iso(start), "at": at,
                "alert": INCIDENT_SEVERITY,
            }))
        if incident_id is not None and start is not None:
            of_window = share_since(start) if facts.at > start else 0.0
            share = incident_share(of_window, facts.window)
            for rule in incident_rules:
                if share > rule.condition.value and state.latch(rule.id) != incident_id:
                    fire(rule, incident_id,
                         f"{rule.description or rule.condition.describe()}: incident {incident_id} "
                         f"consumed {share:.1%} of the four-week budget ({of_window:.1%} of the "
                         f"objective's {_days(facts.window)} budget)", incident_id=incident_id)
            if not page:
                out.append(NewEvent("IncidentClosed", {
                    "objective_id": oid, "incident_id": incident_id, "at": at, "budget_share": share,
                    "budget_share_of_window": of_window,
                }))
    return out
