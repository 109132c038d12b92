"""The policy reactor's walk over the instants one budget command reached: pure.

Live (service/policy_reactor.py) and the policy what-if (policies/whatif.py) both drive
this one generator, so a candidate policy is applied to recorded budget history by
exactly the code that applied the policy in force:

    gen = walk(policy, version, objective, budget_state, event, derived, actions, exhaustions)

`budget_state` is the budget stream after the command's data event and the transitions
the budget reactor derived from it (`derived`); `actions` the objective's policy actions
before. It yields, per instant of data time (`decider.judged_at`), the events for
`actions-{objective_id}` and what caused them (the first budget transition at that instant,
else None: the data event); between instants it folds them into its own copy of the
actions, as the live reactor's next read of the stream would see them. When it first needs
the services a freeze would name it yields `NEED_SERVICES` and expects them sent back (the
live caller reads the journey then, and only then).

`exhaustions` is every `BudgetExhausted` of the stream up to the command's last transition,
as (position, at); it is read only when `needs_exhaustions` says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Generator, Sequence

from domain import policy_actions
from domain.budget import decider as budget
from domain.budget.instants import from_us, iso_us, parse_duration
from domain.budget.windows import window_length
from domain.commands import parse_iso
from domain.events import NewEvent, RecordedEvent
from domain.policy_actions import ActionsState
from policies.evaluate import ObjectiveFacts
from policies.language import EXHAUSTIONS_IN_QUARTER_AT_LEAST, Policy
from policies.reactions import INCIDENT_SEVERITY, BudgetFacts, quarter_of, react, settled, settles_on_flags

NEED_SERVICES = object()  # yielded once: send back the services a freeze would name
_US = timedelta(microseconds=1)


def counts_exhaustions(policy: Policy) -> bool:
    return any(r.condition.kind == EXHAUSTIONS_IN_QUARTER_AT_LEAST for r in policy.rules)


def needs_exhaustions(policy: Policy, derived: Sequence[RecordedEvent]) -> bool:
    """Whether the walk will count the stream's exhaustions (a new one under a rule that counts)."""
    return counts_exhaustions(policy) and any(e.type == "BudgetExhausted" for e in derived)


def services_of(objective: Any, journey: Any) -> tuple[str, ...]:
    """What a freeze of this objective names: a journey's own objective, every service the
    journey depends on critically; a component objective, only the service it measures."""
    if journey is None or journey.retired:
        return ()
    return (objective.service,) if objective.component else tuple(journey.critical_services)


class IncidentShare:
    """An incident's share of the objective's own window budget (the ledger's debits; `react`
    scales it to four weeks) at successive instants of one walk.
    An interval's debit is fixed once it has ended, so each instant adds the debits of the
    intervals ended since the last one, summed in the order one sum from the start takes."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.start: datetime | None = None
        self.until: datetime | None = None
        self.debits = 0.0

    def since(self, start: datetime, at: datetime) -> float:
        if start != self.start or self.until is None or at < self.until:
            self.start, self.until, self.debits = start, start, 0.0
        for p in self.ledger.chart(since=self.until + _US, until=at):
            if p.start >= start and not p.excluded:
                self.debits += p.debit
        self.until = at
        return self.debits


def _as_recorded(stream_id: str, version: int, new: NewEvent, cause: RecordedEvent) -> RecordedEvent:
    """A derived event as the actions stream's evolve would read it back."""
    return RecordedEvent(cause.position, "", stream_id, version, new.type, new.schema_version, new.data,
                         {}, cause.recorded_at)


def walk(
    policy: Policy,
    version: int,
    objective: Any,  # domain.objective.ObjectiveState
    state: budget.BudgetState,
    event: RecordedEvent,
    derived: Sequence[RecordedEvent],
    actions: ActionsState | None,
    exhaustions: Sequence[tuple[int, str]] | None = None,
    points: Sequence[int] | None = None,
) -> Generator[Any, Any, None]:
    # `points`: the instants, when the caller knows them (the target what-if judges a run of
    # appends at once, so its state already holds the later commands' data).
    points = budget.judged_at(state, event.type, event.data) if points is None else list(points)
    if not points:
        return
    objective_id = objective.id
    ledger = state.ledger
    by_instant: dict[int, list[RecordedEvent]] = {}
    for e in derived:
        by_instant.setdefault(iso_us(e.data["at"]), []).append(e)
    counting = counts_exhaustions(policy)
    actions_stream = policy_actions.stream_id(objective_id)
    services: tuple[str, ...] | None = None
    shares = IncidentShare(ledger)

    def facts_at(judged: Any) -> ObjectiveFacts:
        severities = tuple(sorted({t.severity for t in judged.alerts}))
        return ObjectiveFacts(objective_id, objective.journey_id, policy.id, version, judged.exhausted,
                              judged.remaining, severities)

    if not derived and len(points) > 1 and settles_on_flags(policy) and settled(
            policy, facts_at(ledger.judge_at_us(points[-1])), actions):
        # No transition in the batch: the flags held still at every instant, so the policy,
        # settled at the last, was settled at each (a healthy hourly push, usually).
        return
    for at_us in points:
        judged = ledger.judge_at_us(at_us)
        here = by_instant.get(at_us, ())
        exhausted_now = next((e for e in here if e.type == "BudgetExhausted"), None)
        objective_facts = facts_at(judged)
        if exhausted_now is None and settled(policy, objective_facts, actions):
            continue  # no rule's condition crossed since the actions last recorded: nothing to do
        if services is None:
            services = yield NEED_SERVICES
        at = from_us(at_us)
        page_windows = [parse_duration(t.long_window) for t in judged.alerts if t.severity == INCIDENT_SEVERITY]
        count = None
        if exhausted_now is not None and counting:
            quarter = quarter_of(at)
            count = sum(1 for position, when in exhaustions or ()
                        if position <= exhausted_now.position and quarter_of(parse_iso(when)) == quarter)
        facts = BudgetFacts(
            objective_id=objective_id,
            journey_id=objective.journey_id,
            services=services,
            at=at,
            exhausted=judged.exhausted,
            remaining=judged.remaining,
            alert_severities=objective_facts.alert_severities,
            page_long_window=max(page_windows) if page_windows else None,
            exhaustions_in_quarter=count,
            window=window_length(ledger.config.window, at),
        )
        new = react(policy, version, facts, actions, lambda start, at=at: shares.since(start, at))
        if new:
            cause = here[0] if here else event
            yield new, (here[0] if here else None)
            v = actions.version if actions is not None else 0
            for n in new:
                v += 1
                actions = policy_actions.evolve(actions, _as_recorded(actions_stream, v, n, cause))
