"""Policy what-if: the recorded history judged again with a candidate policy in force. Pure.

    run = PolicyWhatIf(candidate, candidate_version, decisions, start, end, objective_ids=None)
    for page in log: run.feed(page)        # the log in position order, once
    outcome = run.finish()

Which objectives the candidate governs ("affected"): those whose agreement pins the
candidate's policy id (or, with `objective_ids`, those objectives whatever they pin),
unless the version they pin has the candidate's very text -- then nothing changes for
them. It is cited as `{id}@{candidate_version}` (the version adopting it would make).

One pass over the log, folding every stream the gate reads with its own `evolve` into a
`GateStreams` (policies/gate_view.py), the view a decision's replay builds:

  * each recorded deploy decision (`decisions`: DeployEvaluated events, `at` in [start,
    end)) is judged again when the fold reaches its `evaluated_at_position`, at its own
    time, by `rejudge` -- the replay's own judgment -- with the candidate standing in
    for the affected objectives' pinned policy;
  * the affected objectives' policy actions are derived again: their recorded derived
    actions (freezes, escalations, postmortems, incidents, rule clears) are set aside,
    and after each budget command (its last data event and the transitions recorded
    with it) the policy reactor's own walk (policies/reaction_walk.py) runs with the
    candidate over the recorded budget stream, as live ran it with the policy in force.
    People's acknowledgements and completions are folded as recorded. So the freezes
    a re-judged decision sees are the candidate's.

The budget streams are the recorded ones -- a policy decides what happens on a budget's
transitions, not the transitions -- except for its alert tiers: where the candidate
states other tiers than those in force for an objective it governs (`tiers_differ`), that
budget stream is read as it would have been recorded with the candidate's tiers, its
burn-rate alerts derived again by the budget reactor's own functions
(policies/whatif_tiers.py), so the walk and the gate read the candidate's alerts; the
alerts raised and cleared under both are reported (`alerts`).

With a candidate whose text is the one in force, nothing is affected and every decision
is judged exactly as its replay judges it; the tests hold that against generated histories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from domain import freeze_exception, gate as gate_domain, journey, objective, policy as policy_domain, policy_actions
from domain.budget import decider as budget
from domain.commands import parse_iso
from domain.events import RecordedEvent
from policies.evaluate import Decision, DeployRequest
from policies.gate_view import GateStreams, differences, pinned_policy, rejudge
from policies.language import Policy
from policies.evaluate import ObjectiveFacts
from policies.reaction_walk import NEED_SERVICES, needs_exhaustions, services_of, walk
from policies.reactions import settled, settles_on_flags
from policies.whatif_tiers import ObjectiveAlerts, Retiering

_BUDGET = budget.CATEGORY
_DATA = frozenset(budget.DATA_EVENTS)
_TRANSITIONS = frozenset(budget.TRANSITION_EVENTS.values())
_ACTIVE = str(objective.ObjectiveStatus.ACTIVE)
_PEOPLE = frozenset({"EscalationAcknowledged", "PostmortemCompleted"})
STARTED = ("FreezeStarted", "EscalationRaised", "PostmortemRequired")
_EVOLVERS = {
    journey.CATEGORY: journey.evolve, objective.CATEGORY: objective.evolve, budget.CATEGORY: budget.evolve,
    policy_domain.CATEGORY: policy_domain.evolve, policy_actions.CATEGORY: policy_actions.evolve,
    freeze_exception.CATEGORY: freeze_exception.evolve,
}


@dataclass(frozen=True)
class Action:
    """A freeze, escalation or postmortem started (or a freeze lifted), as recorded or as
    the candidate would have had it."""

    objective_id: str
    type: str
    action_id: str
    rule_id: str
    at: str
    reason: str
    policy: str | None  # "id@version"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.objective_id, self.type, self.at


@dataclass(frozen=True)
class Judged:
    """A recorded decision and its judgment with the candidate in force."""

    recorded: Any        # domain.gate.DeployState
    position: int        # the DeployEvaluated event's position
    what_if: Decision

    @property
    def differences(self) -> tuple[str, ...]:
        """Recorded vs what-if, field by field (empty: the same answer for the same reasons)."""
        return differences(self.recorded, self.what_if)

    @property
    def changed(self) -> bool:
        return self.recorded.outcome != self.what_if.outcome


@dataclass(frozen=True)
class PolicyOutcome:
    judged: tuple[Judged, ...]          # every decision of the period, in log order
    actual: tuple[Action, ...]          # the affected objectives' actions as recorded (at in the period)
    what_if: tuple[Action, ...]         # ... and with the candidate in force
    affected: tuple[str, ...]           # objective ids the candidate governed at some point
    tiers_differ: tuple[str, ...]       # affected objectives whose alert tiers the candidate would change
    events: int                         # events folded
    alerts: tuple[ObjectiveAlerts, ...] = ()  # their alerts, as recorded and under the candidate's tiers

    @property
    def changed(self) -> tuple[Judged, ...]:
        return tuple(j for j in self.judged if j.changed)

    @property
    def only_what_if(self) -> tuple[Action, ...]:
        seen = {a.key for a in self.actual}
        return tuple(a for a in self.what_if if a.key not in seen)

    @property
    def only_actual(self) -> tuple[Action, ...]:
        seen = {a.key for a in self.what_if}
        return tuple(a for a in self.actual if a.key not in seen)


def _action(d: Any, type_: str) -> Action:
    ident = d.get("freeze_id") or d.get("escalation_id") or d.get("postmortem_id") or ""
    policy = f"{d['policy_id']}@{d['policy_version']}" if "policy_id" in d else None
    return Action(d["objective_id"], type_, ident, d["rule_id"], d["at"], d.get("reason", ""), policy)


class PolicyWhatIf:
    def __init__(self, candidate: Policy, candidate_version: int, decisions: Iterable[RecordedEvent],
                 start: datetime, end: datetime, objective_ids: Sequence[str] | None = None,
                 retier: bool = True) -> None:
        """`retier`: False when the caller knows the candidate changes no objective's alert
        tiers (`whatif_tiers.may_change_tiers`): the budget events are then not looked at for it."""
        self.candidate = candidate
        self.version = candidate_version
        self.text = candidate.to_dict()
        self.scope = None if objective_ids is None else frozenset(objective_ids)
        # (evaluated_at_position, the DeployEvaluated event), judged in that order
        wanted = [e for e in decisions if start <= parse_iso(e.data["at"]) < end]
        self.queue = sorted(wanted, key=lambda e: (e.data["evaluated_at_position"], e.position))
        self.next = 0
        self.judge_at = self.queue[0].data["evaluated_at_position"] if self.queue else 1 << 62
        self.folds: dict[str, list[Any]] = {}  # stream id -> [category, evolve, state]
        self._governing: dict[str, bool] = {}
        self._quiet: dict[str, tuple[Any, Any]] = {}  # objective id -> (objective, actions) it was settled with
        self._flags_only = settles_on_flags(candidate)
        self.streams = GateStreams(self._policy_of)
        self.exhaustions: dict[str, list[tuple[int, str]]] = {}
        # A budget command's last data event so far (of a governed objective), its objective
        # and the transitions recorded after it (None: none yet).
        self.pending: RecordedEvent | None = None
        self._pending_objective = ""
        self._derived: list[RecordedEvent] | None = None
        self.judged: list[Judged] = []
        self.actual: list[Action] = []
        self.what_if: list[Action] = []
        self.affected: set[str] = set()
        self.events = 0
        self._same_text: dict[tuple[str, int], bool] = {}
        self._start, self._end = start, end
        self.retiering = Retiering(candidate, self.governs, self.streams.budgets, self.streams.objectives,
                                   start, end) if retier else None

    # --- which objectives the candidate governs ---------------------------------------

    def _governs(self, obj: Any, policies: Any) -> bool:
        a = obj.agreement
        if a is None:
            return False
        if (a.policy_id != self.candidate.id) if self.scope is None else (obj.id not in self.scope):
            return False
        key = (a.policy_id, a.policy_version)
        same = self._same_text.get(key)
        if same is None:  # a version's text never changes once adopted
            _, _, pinned = pinned_policy(obj, policies)
            same = self._same_text[key] = pinned is not None and pinned.to_dict() == self.text
        return not same

    def _policy_of(self, obj: Any, policies: Any) -> tuple[str, int, Policy | None]:
        if self._governs(obj, policies):
            return self.candidate.id, self.version, self.candidate
        return pinned_policy(obj, policies)

    def governs(self, objective_id: str) -> bool:
        """Whether the candidate governs the objective at the point the pass has reached."""
        return self._governed(objective_id)

    def _governed(self, objective_id: str) -> bool:
        """Whether the candidate governs the objective now (kept until an objective or a
        policy changes)."""
        governed = self._governing.get(objective_id)
        if governed is None:
            obj = self.streams.objectives.get(objective_id)
            governed = self._governing[objective_id] = obj is not None and self._governs(obj, self.streams.policies)
        return governed

    # --- the pass ---------------------------------------------------------------------

    def feed(self, events: Iterable[RecordedEvent]) -> None:
        """The next events of the log, in position order (read through `retiering`, when
        the candidate may change alert tiers)."""
        self._feed(events if self.retiering is None else self.retiering.events(events))

    def _feed(self, events: Iterable[RecordedEvent]) -> None:
        """One loop with its lookups held in locals: it runs for every event of the log, and
        nearly all of them are budget data events of objectives settled on their flags."""
        folds, governing, quiet = self.folds, self._governing, self._quiet
        objectives, actions, put = self.streams.objectives, self.streams.actions, self.streams.put
        pending, derived, pending_objective = self.pending, self._derived, self._pending_objective
        judge_at = self.judge_at
        count = 0
        try:
            for e in events:
                count += 1
                stream_id = e.stream_id
                if pending is not None:
                    same = stream_id == pending.stream_id
                    if same and e.type in _TRANSITIONS:
                        if derived is None:
                            derived = [e]
                        else:
                            derived.append(e)
                    else:
                        if (same and e.type in _DATA and derived is None
                                and e.metadata.get("command_id") == pending.metadata.get("command_id")):
                            pass  # not its command's last data event: live reacts to the last only
                        elif derived is not None or not (
                                (q := quiet.get(pending_objective)) is not None  # `_still_quiet`, inlined
                                and q[0] is objectives.get(pending_objective)
                                and q[1] is actions.get(pending_objective)):
                            self._react(pending, derived or ())
                        pending = derived = None
                if e.position > judge_at:
                    self._judge_before(e.position)
                    judge_at = self.judge_at
                fold = folds.get(stream_id)
                if fold is None:
                    category = stream_id.split("-", 1)[0]
                    fold = folds[stream_id] = [category, _EVOLVERS.get(category), None]
                category, evolve, old = fold
                if evolve is None:
                    continue  # deploy decisions: the gate does not read them
                if category != _BUDGET:
                    self._fold_other(e, fold)
                    continue
                state = fold[2] = evolve(old, e)  # a budget's state is updated in place
                if state is not old:
                    put(stream_id, state)
                if e.type in _DATA:
                    oid = state.objective_id
                    governed = governing.get(oid)
                    if governed is None:
                        governed = self._governed(oid)
                    if governed:
                        pending, pending_objective = e, oid
                elif e.type == "BudgetExhausted":
                    self.exhaustions.setdefault(stream_id, []).append((e.position, e.data["at"]))
        finally:
            self.pending, self._derived, self._pending_objective = pending, derived, pending_objective
            self.events += count

    def _fold_other(self, e: RecordedEvent, fold: list[Any]) -> None:
        """Any stream the gate reads but a budget's."""
        category, evolve, old = fold
        if category == policy_actions.CATEGORY:
            if e.type not in _PEOPLE:
                oid = e.data["objective_id"]
                if self._governed(oid):
                    self.affected.add(oid)
                    if e.type in STARTED and self._in_period(e.data["at"]):
                        self.actual.append(_action(e.data, e.type))
                    return  # the candidate derives its own
        elif category == objective.CATEGORY or category == policy_domain.CATEGORY:
            self._governing.clear()
        state = fold[2] = evolve(old, e)
        self.streams.put(e.stream_id, state)

    def _still_quiet(self, objective_id: str) -> bool:
        """Settled after a command, and since then no transition, no action, no new
        agreement: on the same flags a policy that reads only flags is settled still
        (`settles_on_flags`), and the walk would judge every instant to find so."""
        quiet = self._quiet.get(objective_id)
        return (quiet is not None and quiet[0] is self.streams.objectives.get(objective_id)
                and quiet[1] is self.streams.actions.get(objective_id))

    def _in_period(self, at: str) -> bool:
        return self._start <= parse_iso(at) < self._end

    def _judge_before(self, position: int) -> None:
        """Judge every decision evaluated at a position before `position` (the fold holds
        the log up to position - 1)."""
        queue = self.queue
        while self.next < len(queue) and queue[self.next].data["evaluated_at_position"] < position:
            self._judge(queue[self.next])
            self.next += 1
        self.judge_at = queue[self.next].data["evaluated_at_position"] if self.next < len(queue) else 1 << 62

    def _judge(self, e: RecordedEvent) -> None:
        recorded = gate_domain.evolve(None, e)
        at = parse_iso(recorded.at)
        state, found = self.streams.view(recorded.service, recorded.evaluated_at_position, at)
        request = DeployRequest(recorded.service, recorded.change_type, recorded.version_label,
                                recorded.pipeline_run_id)
        decision = rejudge(state, found, request, at, recorded.suggestions)
        self.judged.append(Judged(recorded, e.position, decision))

    def _react(self, event: RecordedEvent, derived: Sequence[RecordedEvent]) -> None:
        """The walk after a budget command's last data event (`derived`: the transitions
        recorded after it)."""
        objective_id = event.data["objective_id"]
        obj = self.streams.objectives.get(objective_id)
        if obj is None or str(obj.status) != _ACTIVE or obj.agreement is None:
            return
        self.affected.add(objective_id)
        actions_stream = policy_actions.stream_id(objective_id)
        fold = self.folds.get(actions_stream)
        if fold is None:
            fold = self.folds[actions_stream] = [policy_actions.CATEGORY, policy_actions.evolve, None]
        actions = fold[2]
        state = self.streams.budgets[objective_id]
        exhaustions = self.exhaustions.get(event.stream_id, []) if needs_exhaustions(self.candidate, derived) else None
        steps = walk(self.candidate, self.version, obj, state, event, derived, actions, exhaustions)
        reply = None
        while True:
            try:
                step = steps.send(reply)
            except StopIteration:
                break
            reply = None
            if step is NEED_SERVICES:
                reply = services_of(obj, self.streams.journeys.get(obj.journey_id))
                continue
            new, cause = step
            for n in new:
                actions = policy_actions.evolve(actions, RecordedEvent(
                    event.position, "", actions_stream, (actions.version if actions else 0) + 1, n.type,
                    n.schema_version, n.data, {}, event.recorded_at))
                if n.type in STARTED and self._in_period(n.data["at"]):
                    self.what_if.append(_action(n.data, n.type))
        if actions is not fold[2]:
            fold[2] = actions
            self.streams.put(actions_stream, actions)
        if self._flags_only:
            # The walk's last instant is judged on the flags the stream holds after it.
            facts = ObjectiveFacts(objective_id, obj.journey_id, self.candidate.id, self.version, state.exhausted,
                                   None, tuple(sorted({a.severity for a in state.alerts.values()})))
            if settled(self.candidate, facts, actions):
                self._quiet[objective_id] = (obj, actions)
            else:
                self._quiet.pop(objective_id, None)

    def finish(self) -> PolicyOutcome:
        if self.retiering is not None:
            self._feed(self.retiering.flush())
        if self.pending is not None:
            if self._derived is not None or not self._still_quiet(self._pending_objective):
                self._react(self.pending, self._derived or ())
            self.pending = None
            self._derived = None
        self._judge_before(1 << 62)
        return PolicyOutcome(tuple(sorted(self.judged, key=lambda j: j.position)), tuple(self.actual),
                             tuple(self.what_if), tuple(sorted(self.affected)),
                             () if self.retiering is None else tuple(sorted(self.retiering.retiered)),
                             self.events, () if self.retiering is None else self.retiering.alerts())


def policy_whatif(candidate: Policy, candidate_version: int, log: Iterable[RecordedEvent], start: datetime,
                  end: datetime, objective_ids: Sequence[str] | None = None,
                  progress: Callable[[int], None] | None = None) -> PolicyOutcome:
    """The whole pass over an in-memory log (tests, small logs)."""
    events = list(log)
    run = PolicyWhatIf(candidate, candidate_version, [e for e in events if e.type == "DeployEvaluated"],
                       start, end, objective_ids)
    run.feed(events)
    if progress is not None:
        progress(run.events)
    return run.finish()
