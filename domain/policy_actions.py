"""The policy actions of one objective, `actions-{objective_id}`.

Derived events (appended by the policy reactor, in the transaction of the budget
transition that causes them, with its causation id):
  FreezeStarted      {objective_id, freeze_id, rule_id, policy_id, policy_version, journey_id,
                      services, exempt, reason, at}
  FreezeLifted       {objective_id, freeze_id, rule_id, reason, at}
  EscalationRaised   {objective_id, escalation_id, rule_id, policy_id, policy_version, level,
                      role, key, reason, at}
  PostmortemRequired {objective_id, postmortem_id, rule_id, policy_id, policy_version,
                      incident_id, key, reason, at}
  IncidentOpened     {objective_id, incident_id, started_at, at, alert}
  IncidentClosed     {objective_id, incident_id, at, budget_share, budget_share_of_window}
                     (budget_share: of the four-week budget; budget_share_of_window: of the
                     objective's own window's budget, absent from events before it was kept)
  PolicyRuleCleared  {objective_id, rule_id, at}   (a level rule without a freeze stops holding)
People's commands:
  AcknowledgeEscalation(objective_id, escalation_id, note)   by the escalation's role (or admin)
  CompletePostmortem(objective_id, postmortem_id, summary, link)

`latches` maps a rule id to the key of the episode it last fired for ("level" while a
level condition holds; a quarter such as "2025Q1"; an incident id), so a rule fires
once per episode. Times are the event times the budget carries, never a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import codec
from domain.commands import iso, optional_text, require_id, require_text
from domain.errors import Conflict, Forbidden, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.records import replace

CATEGORY = "actions"
EVENT_TYPES: tuple[str, ...] = (
    "FreezeStarted", "FreezeLifted", "EscalationRaised", "EscalationAcknowledged",
    "PostmortemRequired", "PostmortemCompleted", "IncidentOpened", "IncidentClosed", "PolicyRuleCleared",
)
LEVEL_KEY = "level"


def stream_id(objective_id: str) -> str:
    return f"{CATEGORY}-{objective_id}"


@dataclass(frozen=True)
class Freeze:
    freeze_id: str
    objective_id: str
    rule_id: str
    policy_id: str
    policy_version: int
    journey_id: str
    services: tuple[str, ...]
    exempt: tuple[str, ...]
    reason: str
    started_at: str
    active: bool = True
    lifted_at: str | None = None


@dataclass(frozen=True)
class Escalation:
    escalation_id: str
    rule_id: str
    level: str
    role: str
    reason: str
    raised_at: str
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    note: str | None = None

    @property
    def open(self) -> bool:
        return self.acknowledged_by is None


@dataclass(frozen=True)
class Postmortem:
    postmortem_id: str
    rule_id: str
    incident_id: str | None
    reason: str
    required_at: str
    completed_by: str | None = None
    completed_at: str | None = None
    summary: str | None = None
    link: str | None = None

    @property
    def open(self) -> bool:
        return self.completed_by is None


@dataclass(frozen=True)
class Incident:
    incident_id: str
    started_at: str
    opened_at: str
    closed_at: str | None = None
    budget_share: float | None = None  # of the four-week budget (the workbook's postmortem rule)
    budget_share_of_window: float | None = None  # of the objective's own window's budget


@dataclass(frozen=True)
class ActionsState:
    objective_id: str
    freezes: tuple[Freeze, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    postmortems: tuple[Postmortem, ...] = ()
    incidents: tuple[Incident, ...] = ()
    latches: dict[str, str] | None = None
    version: int = 0

    @property
    def active_freezes(self) -> tuple[Freeze, ...]:
        return tuple(f for f in self.freezes if f.active)

    def active_freeze(self, rule_id: str) -> Freeze | None:
        return next((f for f in self.freezes if f.active and f.rule_id == rule_id), None)

    @property
    def open_incident(self) -> Incident | None:
        return self.incidents[-1] if self.incidents and self.incidents[-1].closed_at is None else None

    def latch(self, rule_id: str) -> str | None:
        return (self.latches or {}).get(rule_id)

    def escalation(self, escalation_id: str) -> Escalation | None:
        return next((e for e in self.escalations if e.escalation_id == escalation_id), None)

    def postmortem(self, postmortem_id: str) -> Postmortem | None:
        return next((p for p in self.postmortems if p.postmortem_id == postmortem_id), None)


def to_dict(state: ActionsState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> ActionsState | None:
    return None if data is None else codec.decode(ActionsState, data)


# --- commands -------------------------------------------------------------------


class _ActionsCommand:
    objective_id: str

    def stream(self) -> str:
        return stream_id(self.objective_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class AcknowledgeEscalation(_ActionsCommand):
    objective_id: str
    escalation_id: str
    note: str | None = None


@dataclass(frozen=True)
class CompletePostmortem(_ActionsCommand):
    objective_id: str
    postmortem_id: str
    summary: str
    link: str | None = None


COMMANDS: tuple[type, ...] = (AcknowledgeEscalation, CompletePostmortem)


def decide(command: Any, state: ActionsState | None, ctx: Context) -> list[NewEvent]:
    objective_id = require_id(command.objective_id, "objective_id")
    if isinstance(command, AcknowledgeEscalation):
        escalation_id = require_id(command.escalation_id, "escalation_id")
        esc = state.escalation(escalation_id) if state is not None else None
        if esc is None:
            raise NotFound(f"objective {objective_id} has no escalation {escalation_id}", escalation_id=escalation_id)
        if esc.role not in ctx.roles and "admin" not in ctx.roles:
            raise Forbidden(
                f"escalation {escalation_id} is for {esc.role} to acknowledge", needed_roles=[esc.role, "admin"],
            )
        if not esc.open:
            raise Conflict(
                f"escalation {escalation_id} was acknowledged by {esc.acknowledged_by} at {esc.acknowledged_at}",
                escalation_id=escalation_id,
            )
        return [NewEvent("EscalationAcknowledged", {
            "objective_id": objective_id, "escalation_id": escalation_id,
            "note": optional_text(command.note, "note"), "at": iso(ctx.now),
        })]
    if isinstance(command, CompletePostmortem):
        postmortem_id = require_id(command.postmortem_id, "postmortem_id")
        pm = state.postmortem(postmortem_id) if state is not None else None
        if pm is None:
            raise NotFound(f"objective {objective_id} has no postmortem {postmortem_id}", postmortem_id=postmortem_id)
        summary = require_text(command.summary, "summary")
        link = optional_text(command.link, "link", max_length=2000)
        if not pm.open:
            raise Conflict(
                f"postmortem {postmortem_id} was completed by {pm.completed_by} at {pm.completed_at}",
                postmortem_id=postmortem_id,
            )
        return [NewEvent("PostmortemCompleted", {
            "objective_id": objective_id, "postmortem_id": postmortem_id,
            "summary": summary, "link": link, "at": iso(ctx.now),
        })]
    raise TypeError(f"not a policy-actions command: {type(command).__name__}")


# --- evolve ---------------------------------------------------------------------


def _latched(state: ActionsState, rule_id: str, key: str | None) -> dict[str, str]:
    latches = dict(state.latches or {})
    if key is None:
        latches.pop(rule_id, None)
    else:
        latches[rule_id] = key
    return latches


def _swap(items: tuple, attr: str, ident: str, **changes: Any) -> tuple:
    return tuple(replace(x, **changes) if getattr(x, attr) == ident else x for x in items)


def evolve(state: ActionsState | None, event: RecordedEvent) -> ActionsState:
    d = event.data
    if state is None:
        state = ActionsState(d["objective_id"])
    kind = event.type
    if kind == "FreezeStarted":
        freeze = Freeze(d["freeze_id"], d["objective_id"], d["rule_id"], d["policy_id"], d["policy_version"],
                        d["journey_id"], tuple(d["services"]), tuple(d["exempt"]), d["reason"], d["at"])
        state = replace(state, freezes=state.freezes + (freeze,), latches=_latched(state, d["rule_id"], LEVEL_KEY))
    elif kind == "FreezeLifted":
        state = replace(state, freezes=_swap(state.freezes, "freeze_id", d["freeze_id"], active=False, lifted_at=d["at"]),
                        latches=_latched(state, d["rule_id"], None))
    elif kind == "EscalationRaised":
        esc = Escalation(d["escalation_id"], d["rule_id"], d["level"], d["role"], d["reason"], d["at"])
        state = replace(state, escalations=state.escalations + (esc,), latches=_latched(state, d["rule_id"], d["key"]))
    elif kind == "EscalationAcknowledged":
        state = replace(state, escalations=_swap(
            state.escalations, "escalation_id", d["escalation_id"],
            acknowledged_by=event.metadata.get("actor"), acknowledged_at=d["at"], note=d.get("note")))
    elif kind == "PostmortemRequired":
        pm = Postmortem(d["postmortem_id"], d["rule_id"], d.get("incident_id"), d["reason"], d["at"])
        state = replace(state, postmortems=state.postmortems + (pm,), latches=_latched(state, d["rule_id"], d["key"]))
    elif kind == "PostmortemCompleted":
        state = replace(state, postmortems=_swap(
            state.postmortems, "postmortem_id", d["postmortem_id"],
            completed_by=event.metadata.get("actor"), completed_at=d["at"], summary=d["summary"], link=d.get("link")))
    elif kind == "IncidentOpened":
        state = replace(state, incidents=state.incidents + (Incident(d["incident_id"], d["started_at"], d["at"]),))
    elif kind == "IncidentClosed":
        state = replace(state, incidents=_swap(state.incidents, "incident_id", d["incident_id"],
                                               closed_at=d["at"], budget_share=d["budget_share"],
                                               budget_share_of_window=d.get("budget_share_of_window")))
    elif kind == "PolicyRuleCleared":
        state = replace(state, latches=_latched(state, d["rule_id"], None))
    else:
        raise ValueError(f"unknown policy-actions event type {kind!r}")
    return replace(state, version=event.stream_version)
