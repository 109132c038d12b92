"""The error-budget policy language: rules as data.

A policy is a list of rules. Each rule has one condition (`when`), one or more
actions and the change types exempt from it:

    id: default
    name: ...
    rules:
      - id: freeze-when-exhausted
        description: ...
        when: {budget_remaining_at_most: 0.0}
        actions: [{type: freeze}]
        exempt: [reliability_fix, security_fix, rollback]

Conditions
  budget_remaining_at_most: x      the budget's remaining fraction is <= x (0.0: exhausted)
  burn_rate_alert: severity        a burn-rate alert of this severity is active
  exhaustions_in_quarter_at_least: n
                                   the budget was exhausted n times or more in the calendar
                                   quarter (UTC) of the latest exhaustion
  incident_budget_share_over: x    one incident consumed more than x of the four-week budget

The first two are *level* conditions: they hold or not at any moment, from the budget's
state. The last two are *episode* conditions: they become true at a moment (an exhaustion,
an incident growing) and fire once per episode (per quarter, per incident).

Actions
  freeze                           deploys of the services the objective's journey depends on
                                   critically are denied while the condition holds (level only)
  require_approval {role}          deploys need an approval by `role` while it holds (level only)
  escalate {level, role}           an escalation to a named level, for a role to acknowledge
  require_postmortem               a postmortem is required

Exemptions: change types a rule does not apply to (feature, config, reliability_fix,
security_fix, rollback).

Unknown services (optional, top level): what the gate answers for a service no journey
depends on and no objective measures (a typo, or a service nobody mapped yet):
    unknown_services: {outcome: require_approval, role: sre}    # allow | require_approval | deny
Left out, it means require_approval by sre: the gate does not wave through what it does
not know. The installation's policy ("default" at its latest version) decides it.

Alert tiers (optional, top level): the multiwindow burn-rate alerts its objectives use,
unless an objective configures its own (`configureBudgetAlerts`):
    alert_tiers:
      - {severity: page, long_window: 1h, short_window: 5m, threshold: 14.4}
Severity page or ticket; windows like 5m, 1h, 1d; threshold a positive burn rate. Left
out: the workbook's tiers (14.4 over 1h/5m and 6 over 6h/30m page, 1 over 3d/6h ticket).
Sloth's google-30d tiers and Pyrra's are written the same way (tests/policies/test_tiers.py).
An agreement under the policy refuses a tier whose long window is longer than the
objective's window.

`parse_policy(dict) -> Policy` validates everything and raises `InvalidInput` naming
the field (e.g. `rules[0].when.budget_remaining_at_most`). `Policy.to_dict()` is the
canonical document kept in the `PolicyAdopted` event; `parse_policy(p.to_dict()) == p`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

from domain.budget.burn import SEVERITIES, AlertTier, parse_tiers
from domain.budget.errors import BudgetInputError
from domain.errors import InvalidInput

CHANGE_TYPES: tuple[str, ...] = ("feature", "config", "reliability_fix", "security_fix", "rollback")

BUDGET_REMAINING_AT_MOST = "budget_remaining_at_most"
BURN_RATE_ALERT = "burn_rate_alert"
EXHAUSTIONS_IN_QUARTER_AT_LEAST = "exhaustions_in_quarter_at_least"
INCIDENT_BUDGET_SHARE_OVER = "incident_budget_share_over"
LEVEL_CONDITIONS: tuple[str, ...] = (BUDGET_REMAINING_AT_MOST, BURN_RATE_ALERT)
EPISODE_CONDITIONS: tuple[str, ...] = (EXHAUSTIONS_IN_QUARTER_AT_LEAST, INCIDENT_BUDGET_SHARE_OVER)
CONDITIONS: tuple[str, ...] = LEVEL_CONDITIONS + EPISODE_CONDITIONS

FREEZE = "freeze"
REQUIRE_APPROVAL = "require_approval"
ESCALATE = "escalate"
REQUIRE_POSTMORTEM = "require_postmortem"
ACTIONS: tuple[str, ...] = (FREEZE, REQUIRE_APPROVAL, ESCALATE, REQUIRE_POSTMORTEM)
# Actions that last while a condition holds need a level condition.
LEVEL_ONLY_ACTIONS: tuple[str, ...] = (FREEZE, REQUIRE_APPROVAL)

ROLES: tuple[str, ...] = ("product", "sre", "engineering", "leadership", "admin")
UNKNOWN_OUTCOMES: tuple[str, ...] = ("allow", "require_approval", "deny")
_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
MAX_RULES = 50


@dataclass(frozen=True)
class Condition:
    kind: str
    value: Any  # float | str | int, by kind

    def to_dict(self) -> dict[str, Any]:
        return {self.kind: self.value}

    def describe(self) -> str:
        if self.kind == BUDGET_REMAINING_AT_MOST:
            return "budget exhausted" if self.value <= 0 else f"budget remaining at or below {self.value:.0%}"
        if self.kind == BURN_RATE_ALERT:
            return f"an active {self.value} burn-rate alert"
        if self.kind == EXHAUSTIONS_IN_QUARTER_AT_LEAST:
            return f"budget exhausted {self.value} or more times this quarter"
        return f"one incident consumed more than {self.value:.0%} of the four-week budget"

    @property
    def level(self) -> bool:
        return self.kind in LEVEL_CONDITIONS


@dataclass(frozen=True)
class Action:
    type: str
    level: str | None = None  # escalate
    role: str | None = None  # escalate, require_approval

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.level is not None:
            out["level"] = self.level
        if self.role is not None:
            out["role"] = self.role
        return out


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    condition: Condition
    actions: tuple[Action, ...]
    exempt: tuple[str, ...] = ()

    def has(self, action_type: str) -> bool:
        return any(a.type == action_type for a in self.actions)

    def action(self, action_type: str) -> Action | None:
        return next((a for a in self.actions if a.type == action_type), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "when": self.condition.to_dict(),
            "actions": [a.to_dict() for a in self.actions],
            "exempt": list(self.exempt),
        }


@dataclass(frozen=True)
class UnknownServices:
    """The gate's answer for a service nothing covers: allow, require_approval (by role) or deny."""

    outcome: str = REQUIRE_APPROVAL
    role: str | None = "sre"  # require_approval only

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, **({"role": self.role} if self.role is not None else {})}


UNKNOWN_SERVICES_DEFAULT = UnknownServices()


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    description: str
    rules: tuple[Rule, ...]
    unknown_services: UnknownServices | None = None  # None: not said (UNKNOWN_SERVICES_DEFAULT applies)
    alert_tiers: tuple[AlertTier, ...] | None = None  # None: not said (the workbook's tiers apply)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @cached_property
    def approval_rules(self) -> tuple[tuple[Rule, Action], ...]:
        """Each rule with a require_approval action, and that action, in rule order: what
        the gate consults on every objective the policy governs (found once per policy)."""
        return tuple((r, a) for r in self.rules if (a := r.action(REQUIRE_APPROVAL)) is not None)

    @property
    def unknown_services_rule(self) -> UnknownServices:
        return self.unknown_services or UNKNOWN_SERVICES_DEFAULT

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "rules": [r.to_dict() for r in self.rules],
        }
        # Only when said, so documents adopted before the field existed keep their canonical text.
        if self.unknown_services is not None:
            out["unknown_services"] = self.unknown_services.to_dict()
        if self.alert_tiers is not None:
            out["alert_tiers"] = [t.to_dict() for t in self.alert_tiers]
        return out


# --- parsing ----------------------------------------------------------------------


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be a mapping (got {type(value).__name__})", field=field)
    return value


def _unknown(value: Mapping[str, Any], allowed: tuple[str, ...], field: str) -> None:
    extra = sorted(str(k) for k in value if k not in allowed)
    if extra:
        raise InvalidInput(
            f"{field}.{extra[0]} is not a known field (expected {', '.join(allowed)})", field=f"{field}.{extra[0]}"
        )


def _id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(
            f"{field} must be 1-100 letters, digits, '.', '_' or '-' (got {value!r})", field=field
        )
    return value


def _text(value: Any, field: str, *, required: bool = True, max_length: int = 2000) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"{field} must be non-empty text", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return value.strip()


def _number(value: Any, field: str, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a number (got {value!r})", field=field)
    if value < low or value > high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise InvalidInput(f"{field} must be in {bracket}{low}, {high}] (got {value!r})", field=field)
    return float(value)


def _condition(value: Any, field: str) -> Condition:
    when = _mapping(value, field)
    if len(when) != 1:
        raise InvalidInput(
            f"{field} must hold exactly one condition, one of {', '.join(CONDITIONS)}", field=field
        )
    kind, raw = next(iter(when.items()))
    if kind not in CONDITIONS:
        raise InvalidInput(
            f"{field}.{kind} is not a known condition (expected one of {', '.join(CONDITIONS)})",
            field=f"{field}.{kind}",
        )
    f = f"{field}.{kind}"
    if kind == BUDGET_REMAINING_AT_MOST:
        return Condition(kind, _number(raw, f, 0.0, 1.0))
    if kind == BURN_RATE_ALERT:
        return Condition(kind, _id(raw, f))
    if kind == EXHAUSTIONS_IN_QUARTER_AT_LEAST:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 100:
            raise InvalidInput(f"{f} must be a whole number in 1..100 (got {raw!r})", field=f)
        return Condition(kind, raw)
    return Condition(kind, _number(raw, f, 0.0, 1.0, low_open=True))


def _role(value: Any, field: str) -> str:
    if value not in ROLES:
        raise InvalidInput(f"{field} must be one of {', '.join(ROLES)} (got {value!r})", field=field)
    return value


def _action(value: Any, field: str) -> Action:
    raw = _mapping(value, field)
    kind = raw.get("type")
    if kind not in ACTIONS:
        raise InvalidInput(
            f"{field}.type must be one of {', '.join(ACTIONS)} (got {kind!r})", field=f"{field}.type"
        )
    if kind == ESCALATE:
        _unknown(raw, ("type", "level", "role"), field)
        return Action(kind, level=_text(raw.get("level"), f"{field}.level", max_length=100),
                      role=_role(raw.get("role"), f"{field}.role"))
    if kind == REQUIRE_APPROVAL:
        _unknown(raw, ("type", "role"), field)
        return Action(kind, role=_role(raw.get("role", "sre"), f"{field}.role"))
    _unknown(raw, ("type",), field)
    return Action(kind)


def _rule(value: Any, field: str) -> Rule:
    raw = _mapping(value, field)
    _unknown(raw, ("id", "description", "when", "actions", "exempt"), field)
    rule_id = _id(raw.get("id"), f"{field}.id")
    description = _text(raw.get("description"), f"{field}.description", required=False)
    if "when" not in raw:
        raise InvalidInput(f"{field}.when is required", field=f"{field}.when")
    condition = _condition(raw["when"], f"{field}.when")
    actions_raw = raw.get("actions")
    if not isinstance(actions_raw, list) or not actions_raw:
        raise InvalidInput(f"{field}.actions must be a non-empty list", field=f"{field}.actions")
    actions = tuple(_action(a, f"{field}.actions[{i}]") for i, a in enumerate(actions_raw))
    seen: set[str] = set()
    for i, a in enumerate(actions):
        if a.type in seen:
            raise InvalidInput(f"{field}.actions[{i}].type: {a.type} appears twice", field=f"{field}.actions[{i}].type")
        seen.add(a.type)
        if a.type in LEVEL_ONLY_ACTIONS and not condition.level:
            raise InvalidInput(
                f"{field}.actions[{i}].type: {a.type} lasts while a condition holds, so it needs "
                f"{' or '.join(LEVEL_CONDITIONS)} (not {condition.kind})",
                field=f"{field}.actions[{i}].type",
            )
    exempt_raw = raw.get("exempt", [])
    if exempt_raw is None:
        exempt_raw = []
    if not isinstance(exempt_raw, list):
        raise InvalidInput(f"{field}.exempt must be a list of change types", field=f"{field}.exempt")
    exempt: list[str] = []
    for i, c in enumerate(exempt_raw):
        if c not in CHANGE_TYPES:
            raise InvalidInput(
                f"{field}.exempt[{i}] must be one of {', '.join(CHANGE_TYPES)} (got {c!r})",
                field=f"{field}.exempt[{i}]",
            )
        if c not in exempt:
            exempt.append(c)
    return Rule(rule_id, description, condition, actions, tuple(exempt))


def _unknown_services(value: Any, field: str) -> UnknownServices | None:
    if value is None:
        return None
    raw = _mapping(value, field)
    _unknown(raw, ("outcome", "role"), field)
    outcome = raw.get("outcome")
    if outcome not in UNKNOWN_OUTCOMES:
        raise InvalidInput(f"{field}.outcome must be one of {', '.join(UNKNOWN_OUTCOMES)} (got {outcome!r})",
                           field=f"{field}.outcome")
    if outcome != REQUIRE_APPROVAL:
        if raw.get("role") is not None:
            raise InvalidInput(f"{field}.role applies only to require_approval", field=f"{field}.role")
        return UnknownServices(outcome, None)
    return UnknownServices(outcome, _role(raw.get("role", "sre"), f"{field}.role"))


TIER_FIELDS = ("severity", "long_window", "short_window", "threshold")


def _alert_tiers(value: Any, field: str) -> tuple[AlertTier, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{field} must be a non-empty list of tiers", field=field)
    tiers = []
    for i, raw in enumerate(value):
        f = f"{field}[{i}]"
        raw = _mapping(raw, f)
        _unknown(raw, TIER_FIELDS, f)
        missing = [k for k in TIER_FIELDS if k not in raw]
        if missing:
            raise InvalidInput(f"{f}.{missing[0]} is required", field=f"{f}.{missing[0]}")
        if raw["severity"] not in SEVERITIES:
            raise InvalidInput(f"{f}.severity must be one of {', '.join(SEVERITIES)} (got {raw['severity']!r})",
                               field=f"{f}.severity")
        try:
            tiers.extend(parse_tiers([raw]))
        except BudgetInputError as error:
            name = error.field.rsplit(".", 1)[-1]
            raise InvalidInput(f"{f}.{name}: {error}", field=f"{f}.{name}") from None
    try:
        return parse_tiers(tiers)  # duplicates
    except BudgetInputError as error:
        raise InvalidInput(f"{field}: {error}", field=field) from None


def parse_policy(document: Any) -> Policy:
    """A validated `Policy` from its document (a YAML file's or an API input's data)."""
    raw = _mapping(document, "policy")
    _unknown(raw, ("id", "name", "description", "rules", "unknown_services", "alert_tiers"), "policy")
    policy_id = _id(raw.get("id"), "id")
    name = _text(raw.get("name", policy_id), "name", max_length=200)
    description = _text(raw.get("description"), "description", required=False, max_length=5000)
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise InvalidInput("rules must be a non-empty list", field="rules")
    if len(rules_raw) > MAX_RULES:
        raise InvalidInput(f"rules may hold at most {MAX_RULES} rules", field="rules")
    rules = tuple(_rule(r, f"rules[{i}]") for i, r in enumerate(rules_raw))
    ids: set[str] = set()
    for i, r in enumerate(rules):
        if r.id in ids:
            raise InvalidInput(f"rules[{i}].id {r.id!r} is used by another rule", field=f"rules[{i}].id")
        ids.add(r.id)
    return Policy(policy_id, name, description, rules,
                  _unknown_services(raw.get("unknown_services"), "unknown_services"),
                  _alert_tiers(raw.get("alert_tiers"), "alert_tiers"))
