"""A policy's actions along a budget history judged again (the target what-if).

`PolicyFollower` is handed each command of a `budget-{objective}` stream as the what-if
judged it (`domain.budget.whatif.Judged`, in log order) and runs the policy reactor's own
walk over it (`policies.reaction_walk.walk`, which live runs after each such command):
at each instant the command's data reaches, `settled` first, then `react` with the actions
so far. The actions it finds are folded into its own `ActionsState` with
`domain.policy_actions.evolve`; none is appended anywhere.

What the reactor reads besides the budget -- is the objective ACTIVE with an agreement,
the policy version that agreement pins, the services a freeze covers -- it reads as of the
command's log position, from `Governance` entries the caller folded from the objective's,
its journey's and its policy's streams (`governance`). So a candidate equal to what was in
force reproduces the actions the log holds.

It also keeps, at the log positions it is asked about (the positions deploy decisions
were judged at), what the gate would have read of this objective: its budget at the
stream's event time and its active freezes (`at_position`).
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from domain import journey as journeys
from domain import objective as objectives
from domain import policy as policy_domain
from domain import policy_actions
from domain.budget import decider
from domain.events import RecordedEvent
from policies.language import Policy
from policies.reaction_walk import NEED_SERVICES, needs_exhaustions, services_of, walk
from policies.registry import resolve

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Governance:
    """What the policy reactor reads besides the budget, from a log position on."""

    position: int
    policy: Policy | None  # None: not ACTIVE, no agreement, or a policy nobody adopted
    version: int = 0
    objective: Any = None  # domain.objective.ObjectiveState
    services: tuple[str, ...] = ()


def governance(objective_id: str, events: Iterable[RecordedEvent]) -> list[Governance]:
    """The objective's governance after each event of its own, its journey's and its
    policies' streams (`events` in log order), as the policy reactor reads it."""
    obj = journey = None
    policy_states: dict[str, Any] = {}
    out: list[Governance] = []
    for e in events:
        if e.stream_id == objectives.stream_id(objective_id):
            obj = objectives.evolve(obj, e)
        elif e.stream_id.startswith(journeys.CATEGORY + "-"):
            journey = journeys.evolve(journey, e)
        elif e.stream_id.startswith(policy_domain.CATEGORY + "-"):
            pid = e.stream_id[len(policy_domain.CATEGORY) + 1:]
            policy_states[pid] = policy_domain.evolve(policy_states.get(pid), e)
        else:
            continue
        out.append(_governance(e.position, obj, journey, policy_states))
    return out


def _governance(position: int, obj: Any, journey: Any, policy_states: dict[str, Any]) -> Governance:
    if obj is None or obj.status != objectives.ObjectiveStatus.ACTIVE or obj.agreement is None:
        return Governance(position, None)
    a = obj.agreement
    resolved = resolve(policy_states.get(a.policy_id), a.policy_id, a.policy_version)
    if resolved is None:
        return Governance(position, None)
    version, policy = resolved
    return Governance(position, policy, version, obj, services_of(obj, journey))


@dataclass(frozen=True)
class GateView:
    """What the gate reads of the objective at a log position (`gate_view.budget_facts`:
    the budget at the stream's event time) and its freezes active then."""

    exhausted: bool
    remaining: float | None
    alert_severities: tuple[str, ...]
    freezes: tuple[policy_actions.Freeze, ...]


class PolicyFollower:
    """Call it with each `Judged` command in log order; read `events`, `actions`, `at_position`."""

    def __init__(self, objective_id: str, timeline: Sequence[Governance], command_positions: Sequence[int],
                 asked: Iterable[int] = ()) -> None:
        self.objective_id = objective_id
        self.timeline = list(timeline)
        self._positions = [g.position for g in self.timeline]
        self.actions: policy_actions.ActionsState | None = None
        self.events: list[RecordedEvent] = []  # the actions, as the actions stream would hold them
        # The candidate's exhaustions so far as (sequence, at): numbered in the order derived,
        # as their log positions would be (the walk counts those up to the one it is at).
        self._exhaustions: list[tuple[int, str]] = []
        self._seq = 0
        # The commands whose state answers each asked position: the last one at or before it.
        self._asked: dict[int, list[int]] = {}
        for p in sorted(set(asked)):
            i = bisect_right(command_positions, p) - 1
            self._asked.setdefault(command_positions[i] if i >= 0 else -1, []).append(p)
        self._views: dict[int, GateView] = {p: GateView(False, None, (), ()) for p in self._asked.get(-1, ())}

    def at_position(self, position: int) -> GateView | None:
        return self._views.get(position)

    def _governance(self, position: int) -> Governance | None:
        i = bisect_right(self._positions, position) - 1
        return self.timeline[i] if i >= 0 else None

    def __call__(self, judged: Any) -> None:
        derived = []
        for e in judged.derived:
            self._seq += 1
            derived.append(dataclasses.replace(e, position=self._seq))
            if e.type == "BudgetExhausted":
                self._exhaustions.append((self._seq, e.data["at"]))
        g = self._governance(judged.position)
        if g is not None and g.policy is not None and judged.has_target and judged.points:
            self._walk(g, judged, derived)
        for p in self._asked.get(judged.position, ()):
            self._views[p] = self._view(judged)

    def _walk(self, g: Governance, judged: Any, derived: list[RecordedEvent]) -> None:
        state = decider.BudgetState(self.objective_id, ledger=judged.ledger)
        cause = derived[-1] if derived else RecordedEvent(
            self._seq, "", decider.stream_id(self.objective_id), 0, "ObservationsRecorded", decider.OBSERVATIONS_SCHEMA,
            {"objective_id": self.objective_id, "runs": [], "backfill": False}, {}, _EPOCH)
        steps = walk(g.policy, g.version, g.objective, state, cause, derived, self.actions,
                     self._exhaustions if needs_exhaustions(g.policy, derived) else None, judged.points)
        reply = None
        while True:
            try:
                step = steps.send(reply)
            except StopIteration:
                return
            reply = None
            if step is NEED_SERVICES:
                reply = g.services
                continue
            new, _ = step
            for n in new:
                version = (self.actions.version if self.actions is not None else 0) + 1
                event = RecordedEvent(judged.position, "", policy_actions.stream_id(self.objective_id), version,
                                      n.type, 1, n.data, {}, _EPOCH)
                self.actions = policy_actions.evolve(self.actions, event)
                self.events.append(event)

    def _view(self, judged: Any) -> GateView:
        freezes = self.actions.active_freezes if self.actions is not None else ()
        if not judged.has_target or judged.ledger is None or judged.event_time_us is None:
            return GateView(False, None, (), freezes)
        status = judged.ledger.status_at_us(judged.event_time_us)
        return GateView(status.exhausted, status.remaining, tuple(sorted({a.severity for a in status.alerts})),
                        freezes)


def freezes_started(events: Sequence[RecordedEvent], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The FreezeStarted among `events` at a data time in [start, end), each with when it
    was lifted (None: still active at the end of the history read)."""
    lifted = {e.data["freeze_id"]: e.data["at"] for e in events if e.type == "FreezeLifted"}
    s, t = start.timestamp(), end.timestamp()
    return [dataclasses.asdict(_Freeze(e.data["freeze_id"], e.data["rule_id"], e.data["at"], lifted.get(e.data["freeze_id"]),
                                       tuple(e.data["services"]), e.data["reason"]))
            for e in events if e.type == "FreezeStarted" and s <= datetime.fromisoformat(e.data["at"]).timestamp() < t]


@dataclass(frozen=True)
class _Freeze:
    freeze_id: str
    rule_id: str
    started_at: str
    lifted_at: str | None
    services: tuple[str, ...]
    reason: str
