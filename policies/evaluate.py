"""The deploy gate's judgment: a pure function of the gate state, the policies, the
request and a time. No I/O, no clock.

    evaluate(state: GateState, policies, request, at) -> Decision

A deploy of service S is judged against every active objective whose journey depends
critically on S (`state.objectives`) and every active freeze whose scope names S
(`state.freezes`):

  * an active freeze denies the deploy, unless the change type is exempt from the
    freeze's rule, or an unexpired freeze exception (leadership) covers the service or
    this very change (service + version);
  * a `require_approval` rule whose level condition holds on an objective's budget
    (remaining at or below a level, an active burn-rate alert of a severity), and from
    which the change type is not exempt, requires approval by the rule's role;
  * DENY beats REQUIRE_APPROVAL beats ALLOW. Every step leaves a human-readable reason.

A service nothing knows (`state.known` False: no journey lists it as a dependency, no
objective measures it) gets the answer the installation's policy gives unknown
services (`state.installation_policy`; by default REQUIRE_APPROVAL by sre), with the
known names closest to it as suggestions (`state.suggestions`): a typo must not pass.

Policies are looked up by "id@version" (`policy_key`), the version the objective's
agreement pins (version 0 of "default": its bundled text). A decision cites the versions
whose rules it applied: each objective's pinned version, and each freeze's own version.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Iterable, Mapping

from policies.language import (
    BUDGET_REMAINING_AT_MOST,
    BURN_RATE_ALERT,
    CHANGE_TYPES,
    UNKNOWN_SERVICES_DEFAULT,
    Condition,
    Policy,
)

ALLOW = "ALLOW"
REQUIRE_APPROVAL_OUTCOME = "REQUIRE_APPROVAL"
DENY = "DENY"
_RANK = {ALLOW: 0, REQUIRE_APPROVAL_OUTCOME: 1, DENY: 2}
UNKNOWN_SERVICES_RULE = "unknown_services"  # the rule id an unknown service's decision cites
_BY_OBJECTIVE, _BY_FREEZE, _BY_EXCEPTION = attrgetter("objective_id"), attrgetter("freeze_id"), attrgetter("exception_id")


def policy_key(policy_id: str, version: int) -> str:
    return f"{policy_id}@{version}"


@dataclass(frozen=True)
class ObjectiveFacts:
    """What the gate knows of one objective: its budget at the ledger's event time."""

    objective_id: str
    journey_id: str
    policy_id: str
    policy_version: int
    exhausted: bool
    remaining: float | None
    alert_severities: tuple[str, ...] = ()

    @property
    def policy_key(self) -> str:
        return policy_key(self.policy_id, self.policy_version)


@dataclass(frozen=True)
class FreezeFacts:
    freeze_id: str
    objective_id: str
    rule_id: str
    policy_key: str
    services: tuple[str, ...]
    exempt: tuple[str, ...]
    reason: str
    started_at: str


@dataclass(frozen=True)
class ExceptionFacts:
    exception_id: str
    service: str
    version: str | None
    expires_at: datetime
    reason: str
    granted_by: str | None

    def covers(self, service: str, version: str) -> bool:
        return self.service == service and (self.version is None or self.version == version)


@dataclass(frozen=True)
class GateState:
    service: str
    position: int
    objectives: tuple[ObjectiveFacts, ...] = ()
    freezes: tuple[FreezeFacts, ...] = ()
    exceptions: tuple[ExceptionFacts, ...] = ()
    known: bool = True  # a journey depends on the service, or an objective measures it
    suggestions: tuple[str, ...] = ()  # known service names close to an unknown one
    installation_policy: str | None = None  # "default@n": judges unknown services


@dataclass(frozen=True)
class DeployRequest:
    service: str
    change_type: str
    version: str
    pipeline_run_id: str


@dataclass(frozen=True)
class Decision:
    outcome: str
    reasons: tuple[str, ...]
    rule_ids: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()
    freezes: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    policy_versions: tuple[str, ...] = ()
    approver_roles: tuple[str, ...] = field(default=())
    suggestions: tuple[str, ...] = ()  # for an unknown service: known names close to it

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOW


def close_names(service: str, known: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """Known service names close to `service` (a typo's likely intent), closest first."""
    return tuple(difflib.get_close_matches(service, sorted(set(known)), n=n, cutoff=0.6))


def condition_holds(condition: Condition, facts: ObjectiveFacts) -> bool:
    """A level condition on an objective's budget (episode conditions never hold here)."""
    if condition.kind == BUDGET_REMAINING_AT_MOST:
        if condition.value <= 0:
            return facts.exhausted or (facts.remaining is not None and facts.remaining <= 0)
        return facts.remaining is not None and facts.remaining <= condition.value
    if condition.kind == BURN_RATE_ALERT:
        return condition.value in facts.alert_severities
    return False


def evaluate(state: GateState, policies: Mapping[str, Policy], request: DeployRequest, at: datetime) -> Decision:
    service, change, version = request.service, request.change_type, request.version
    if change not in CHANGE_TYPES:
        raise ValueError(f"unknown change type {change!r}")
    outcome = ALLOW
    reasons: list[str] = []
    rule_ids: set[str] = set()
    freezes_seen: set[str] = set()
    exceptions_used: set[str] = set()
    approvers: set[str] = set()

    def worse(o: str) -> None:
        nonlocal outcome
        if _RANK[o] > _RANK[outcome]:
            outcome = o

    objectives = sorted(state.objectives, key=_BY_OBJECTIVE)
    freezes = sorted([f for f in state.freezes if service in f.services], key=_BY_FREEZE)
    live = sorted([e for e in state.exceptions if e.covers(service, version) and e.expires_at > at],
                  key=_BY_EXCEPTION)

    if not objectives and not freezes:
        if not state.known:
            return _unknown_service(state, policies, service)
        return Decision(ALLOW, (f"no active objective's journey depends critically on {service}; "
                                f"nothing restricts its deploys",))

    for f in freezes:
        freezes_seen.add(f.freeze_id)
        rule_ids.add(f.rule_id)
        if change in f.exempt:
            reasons.append(f"{service} is frozen by {f.objective_id} ({f.reason}, rule {f.rule_id}), "
                           f"but {change} changes are exempt")
            continue
        if live:
            e = live[0]
            exceptions_used.add(e.exception_id)
            scope = f"change {version} of {service}" if e.version else service
            reasons.append(f"{service} is frozen by {f.objective_id} (rule {f.rule_id}); exception "
                           f"{e.exception_id} granted by {e.granted_by or 'leadership'} for {scope} "
                           f"until {e.expires_at.isoformat()} lets it through ({e.reason})")
            continue
        worse(DENY)
        reasons.append(f"{service} is frozen by {f.objective_id} since {f.started_at}: {f.reason} "
                       f"(rule {f.rule_id}); only {', '.join(f.exempt) or 'no'} changes may deploy")

    for o in objectives:
        policy = policies.get(o.policy_key)
        if policy is None:
            reasons.append(f"objective {o.objective_id}: policy {o.policy_key} is not known; "
                           f"only recorded freezes apply")
            continue
        for rule, action in policy.approval_rules:
            if not condition_holds(rule.condition, o):
                continue
            rule_ids.add(rule.id)
            if change in rule.exempt:
                reasons.append(f"objective {o.objective_id}: {rule.condition.describe()} (rule {rule.id}), "
                               f"but {change} changes are exempt")
                continue
            worse(REQUIRE_APPROVAL_OUTCOME)
            approvers.add(action.role or "sre")
            reasons.append(f"objective {o.objective_id}: {rule.condition.describe()} (rule {rule.id}); "
                           f"the deploy needs approval by {action.role or 'sre'}")

    if outcome == ALLOW and not reasons:
        names = ", ".join(o.objective_id for o in objectives)
        reasons.append(f"{len(objectives)} active objective(s) depend critically on {service} ({names}); "
                       f"no freeze or rule applies")
    elif outcome == ALLOW:
        reasons.append(f"{change} deploy of {service} allowed")
    return Decision(
        outcome=outcome,
        reasons=tuple(reasons),
        rule_ids=tuple(sorted(rule_ids)),
        objectives=tuple(o.objective_id for o in objectives),
        freezes=tuple(sorted(freezes_seen)),
        exceptions=tuple(sorted(exceptions_used)),
        policy_versions=tuple(sorted({o.policy_key for o in objectives}
                                     | {f.policy_key for f in freezes if f.freeze_id in freezes_seen})),
        approver_roles=tuple(sorted(approvers)),
    )


def _unknown_service(state: GateState, policies: Mapping[str, Policy], service: str) -> Decision:
    key = state.installation_policy
    policy = policies.get(key) if key is not None else None
    said = policy.unknown_services_rule if policy is not None else UNKNOWN_SERVICES_DEFAULT
    outcome = {"allow": ALLOW, "deny": DENY}.get(said.outcome, REQUIRE_APPROVAL_OUTCOME)
    reason = f"no objective covers this service: no journey depends on {service} and no objective measures it"
    if state.suggestions:
        reason += f"; did you mean {' or '.join(state.suggestions)}?"
    verdict = {ALLOW: "allows it", DENY: "denies it"}.get(outcome, f"needs approval by {said.role}")
    reasons = (reason, f"policy {key or 'default'} says what happens to unknown services: it {verdict}")
    return Decision(
        outcome=outcome, reasons=reasons, rule_ids=(UNKNOWN_SERVICES_RULE,),
        policy_versions=(key,) if key is not None else (),
        approver_roles=(said.role,) if outcome == REQUIRE_APPROVAL_OUTCOME and said.role else (),
        suggestions=state.suggestions,
    )
