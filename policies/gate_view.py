"""The deploy gate's view of one service from folded streams: pure.

`GateStreams` holds the folded states of the streams the gate reads (journeys,
objectives, budgets, policies, policy actions, freeze exceptions), by kind, and answers
`view(service, position, at)` -> (GateState, policies by key): the active end-to-end
objectives whose journey depends critically on the service and the active component
objectives that measure it (with their budgets and pinned policies), the active freezes
naming it and its unexpired, unrevoked exceptions. A decision's replay (service/gate_state.py,
`gate_state_at`) builds it once from the log folded up to the decision; the policy what-if
(policies/whatif.py) keeps one up to date while it folds the log and asks it at every
recorded decision's position. One implementation, so both see what the gate saw.

`put(stream_id, state)` files a folded state. Which objectives judge a service depends on
journeys and objectives only: that answer is kept per service until one of those changes.
`policy_of(objective, policy_states)` may be replaced (the what-if's candidate): it returns
(policy id, version, Policy) for an objective, or None when its pinned policy is unknown.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any, Callable, Iterable, Mapping

from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain import policy as policy_domain
from domain.budget import decider as budget_decider
from policies.evaluate import (
    Decision, DeployRequest, ExceptionFacts, FreezeFacts, GateState, ObjectiveFacts, close_names, evaluate, policy_key,
)
from policies.language import Policy
from policies.registry import installation_policy, resolve

_ACTIVE = str(objectives_domain.ObjectiveStatus.ACTIVE)
_BY_OBJECTIVE, _BY_FREEZE, _BY_EXCEPTION = attrgetter("objective_id"), attrgetter("freeze_id"), attrgetter("exception_id")
PolicyOf = Callable[[Any, Mapping[str, Any]], "tuple[str, int, Policy] | tuple[str, int, None]"]


def pinned_policy(objective: Any, policy_states: Mapping[str, Any]) -> tuple[str, int, Policy | None]:
    """The policy the objective's agreement pins, as the registry resolves it (None: unknown)."""
    a = objective.agreement
    resolved = resolve(policy_states.get(a.policy_id), a.policy_id, a.policy_version)
    if resolved is None:
        return a.policy_id, a.policy_version, None
    return a.policy_id, resolved[0], resolved[1]


def freeze_facts(freeze: Any) -> FreezeFacts:
    return FreezeFacts(
        freeze_id=f"{freeze.objective_id}/{freeze.freeze_id}", objective_id=freeze.objective_id,
        rule_id=freeze.rule_id, policy_key=policy_key(freeze.policy_id, freeze.policy_version),
        services=freeze.services, exempt=freeze.exempt, reason=freeze.reason, started_at=freeze.started_at,
    )


def exception_facts(e: Any) -> ExceptionFacts:
    return ExceptionFacts(e.exception_id, e.service, e.version_label, e.expires, e.reason, e.granted_by)


def gate_state(service: str, position: int, objs: Iterable[ObjectiveFacts], freezes: Iterable[FreezeFacts],
               excs: Iterable[ExceptionFacts], unknown: dict[str, Any] | None = None) -> GateState:
    return GateState(
        service=service, position=position,
        objectives=tuple(sorted(objs, key=_BY_OBJECTIVE)),
        freezes=tuple(sorted(freezes, key=_BY_FREEZE)),
        exceptions=tuple(sorted(excs, key=_BY_EXCEPTION)),
        **(unknown or {}),
    )


def unknown_service(service: str, names: Any, default_state: Any, found: dict[str, Policy]) -> dict[str, Any]:
    """The GateState fields of a service nothing knows: the closest known names and the
    installation's policy (put into `found` under its key)."""
    version, policy = installation_policy(default_state)
    found[policy_key(policy_domain.BUILTIN_POLICY_ID, version)] = policy
    return {"known": False, "suggestions": close_names(service, names),
            "installation_policy": policy_key(policy_domain.BUILTIN_POLICY_ID, version)}


def budget_facts(b: budget_decider.BudgetState | None) -> tuple[bool, float | None, tuple[str, ...]]:
    """(exhausted, remaining, alert severities) of a budget at its event time, as its read
    model row holds them (projections/budgets.py `summary_row`, from `status()`): the
    ledger's judgement there, which computes those figures the one way `status` does."""
    if b is None or b.ledger is None or b.target is None:
        return False, None, ()
    at_us = b.event_time_us
    if at_us is None:
        return False, None, ()
    judged = b.ledger.judge_at_us(at_us)
    alerts = judged.alerts
    return bool(judged.exhausted), judged.remaining, tuple(sorted({t.severity for t in alerts})) if alerts else ()


class GateStreams:
    def __init__(self, policy_of: PolicyOf = pinned_policy) -> None:
        self.journeys: dict[str, Any] = {}     # by journey id
        self.objectives: dict[str, Any] = {}   # by objective id
        self.budgets: dict[str, Any] = {}      # by objective id
        self.policies: dict[str, Any] = {}     # by policy id
        self.actions: dict[str, Any] = {}      # by objective id
        self.exceptions: dict[str, Any] = {}   # by exception id
        self.freezing: set[str] = set()        # objective ids with an active freeze
        self.policy_of = policy_of
        self._judging: dict[str, list[Any]] = {}  # service -> the objectives judging it (reset on change)
        # service -> ((objective, policy id, version) of each judging it, the policies by key)
        # (reset when a journey, an objective or a policy changes)
        self._policies_of: dict[str, tuple[tuple[tuple[Any, str, int], ...], dict[str, Policy]]] = {}
        self._facts: dict[str, tuple[int, Any]] = {}  # objective id -> (budget version, its budget_facts)
        self._frozen: dict[str, list[FreezeFacts]] = {}  # service -> the active freezes naming it (reset on change)

    @classmethod
    def of(cls, states: Mapping[str, Any], policy_of: PolicyOf = pinned_policy) -> "GateStreams":
        streams = cls(policy_of)
        for stream_id, state in states.items():
            if state is not None:
                streams.put(stream_id, state)
        return streams

    def put(self, stream_id: str, state: Any) -> None:
        category = stream_id.split("-", 1)[0]
        if category == budget_decider.CATEGORY:
            self.budgets[state.objective_id] = state
        elif category == "actions":
            old = self.actions.get(state.objective_id)
            self.actions[state.objective_id] = state
            if state.active_freezes:
                self.freezing.add(state.objective_id)
            else:
                self.freezing.discard(state.objective_id)
            if old is None or old.freezes is not state.freezes:
                self._frozen.clear()
        elif category == journeys_domain.CATEGORY:
            self.journeys[state.id] = state
            self._judging.clear()
            self._policies_of.clear()
        elif category == objectives_domain.CATEGORY:
            self.objectives[state.id] = state
            self._judging.clear()
            self._policies_of.clear()
        elif category == policy_domain.CATEGORY:
            self.policies[state.id] = state
            self._policies_of.clear()
        elif category == "exception":
            self.exceptions[state.exception_id] = state

    def judging(self, service: str) -> list[Any]:
        """The active objectives with an agreement that judge deploys of `service`: a journey's
        own objectives where the live journey depends on it critically, and the components
        that measure it (in a live journey)."""
        found = self._judging.get(service)
        if found is None:
            live = {j.id for j in self.journeys.values()
                    if not j.retired and any(d.service == service and d.critical for d in j.dependencies)}
            found = []
            for s in self.objectives.values():
                if str(s.status) != _ACTIVE or s.agreement is None:
                    continue
                if s.service is None:
                    if s.journey_id not in live:
                        continue
                else:
                    journey = self.journeys.get(s.journey_id)
                    if s.service != service or journey is None or journey.retired:
                        continue
                found.append(s)
            self._judging[service] = found
        return found

    def budget_facts(self, objective_id: str) -> tuple[bool, float | None, tuple[str, ...]]:
        """`budget_facts` of the objective's budget, kept while its stream version stands (a
        budget's state changes in place, its version with it)."""
        b = self.budgets.get(objective_id)
        if b is None:
            return budget_facts(None)
        kept = self._facts.get(objective_id)
        if kept is None or kept[0] != b.version:
            kept = self._facts[objective_id] = (b.version, budget_facts(b))
        return kept[1]

    def policies_of(self, service: str) -> tuple[tuple[tuple[Any, str, int], ...], dict[str, Policy]]:
        """(objective, policy id, version) for each objective judging `service`, and the
        policies known among them by key (`policy_of` of each)."""
        pinned, found = [], {}
        for s in self.judging(service):
            pid, version, policy = self.policy_of(s, self.policies)
            if policy is not None:
                found[policy_key(pid, version)] = policy
            pinned.append((s, pid, version))
        return tuple(pinned), found

    def view(self, service: str, position: int, at: datetime) -> tuple[GateState, dict[str, Policy]]:
        judged = self._policies_of.get(service)
        if judged is None:
            judged = self._policies_of[service] = self.policies_of(service)
        pinned, policies = judged
        found = dict(policies)
        objs = []
        for s, pid, version in pinned:
            exhausted, remaining, severities = self.budget_facts(s.id)
            objs.append(ObjectiveFacts(s.id, s.journey_id, pid, version, exhausted, remaining, severities))
        freezes = self._frozen.get(service)
        if freezes is None:
            freezes = self._frozen[service] = [freeze_facts(f) for oid in self.freezing
                                               for f in self.actions[oid].active_freezes if service in f.services]
        excs = [exception_facts(e) for e in self.exceptions.values()
                if e.service == service and e.expires > at and not e.revoked]
        unknown = None
        if not objs and not freezes:
            names = {*(d.service for j in self.journeys.values() for d in j.dependencies),
                     *(s.service for s in self.objectives.values() if s.service)}
            if service not in names:
                unknown = unknown_service(service, names, self.policies.get(policy_domain.BUILTIN_POLICY_ID), found)
        return gate_state(service, position, objs, freezes, excs, unknown), found


def rejudge(state: GateState, policies: Mapping[str, Policy], request: DeployRequest, at: datetime,
            suggestions: Any) -> Decision:
    """A recorded decision judged again on `state`, as the gate judged it: one recorded
    before unknown services were judged (`suggestions` None: none kept) took every
    service as known."""
    if suggestions is None:
        state = replace(state, known=True)
    return evaluate(state, policies, request, at)


def differences(recorded: Any, replayed: Decision) -> tuple[str, ...]:
    """Each field a recorded decision (anything with the decision's fields) and a judgment
    of it disagree on, recorded vs replayed; fields a decision was recorded without (before
    its schema kept them) are not compared."""
    compared = ("outcome", "reasons", "rule_ids", "objectives", "freezes", "exceptions", "policy_versions")
    if recorded.approver_roles is not None:  # recorded since schema 2
        compared += ("approver_roles",)
    if recorded.suggestions is not None:  # recorded since schema 3
        compared += ("suggestions",)
    return tuple(
        f"{name}: recorded {getattr(recorded, name)!r}, replayed {getattr(replayed, name)!r}"
        for name in compared if getattr(recorded, name) != getattr(replayed, name)
    )
