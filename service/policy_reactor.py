"""Turns budget transitions into policy actions, in the transaction of the budget
events that cause them (so they carry that event's id as causation id).

For a budget event that is a transition (BudgetExhausted, BudgetRecovered,
BurnRateAlertRaised/Cleared, ...) or the last event a command appended to the budget
stream, when the objective is ACTIVE with a formalized policy, the policy its
agreement pins (see `policies/registry.py`) is applied by the pure
`policies.reactions.react` to the budget's state after the command, at the ledger's
event time. Its events go to `actions-{objective_id}`. Nothing here reads a clock.
Most budget commands cross no rule's condition: `settled` (every level rule agrees with
its latch, no incident open or opening) then ends the work before the facts are built.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
from sqlalchemy import select

from domain import journey as journeys
from domain import objective as objectives
from domain import policy as policies_domain
from domain import policy_actions
from domain.budget import decider as budget
from domain.budget.instants import parse_duration
from domain.commands import parse_iso
from domain.events import NewEvent, RecordedEvent
from eventstore.tables import events as events_table
from policies.language import EXHAUSTIONS_IN_QUARTER_AT_LEAST
from policies.evaluate import ObjectiveFacts
from policies.reactions import INCIDENT_SEVERITY, BudgetFacts, quarter_of, react, settled
from policies.registry import resolve

_PREFIX = budget.CATEGORY + "-"
_TRANSITIONS = frozenset(budget.TRANSITION_EVENTS.values())
_DATA = frozenset(budget.DATA_EVENTS)
_ACTIVE = objectives.ObjectiveStatus.ACTIVE


async def _exhaustions_in_quarter(view, stream_id: str, at: datetime) -> int:
    """BudgetExhausted events of the stream whose event time is in `at`'s quarter."""
    tx = view.tx
    rows = await tx.conn.execute(
        select(events_table.c.position, events_table.c.data).where(
            events_table.c.stream_id == stream_id, events_table.c.type == "BudgetExhausted"
        )
    )
    seen: dict[int, str] = {r.position: orjson.loads(r.data)["at"] for r in rows}
    for e in tx.appended:
        if e.stream_id == stream_id and e.type == "BudgetExhausted":
            seen.setdefault(e.position, e.data["at"])
    quarter = quarter_of(at)
    return sum(1 for when in seen.values() if quarter_of(parse_iso(when)) == quarter)


async def policy_reactions(event: RecordedEvent, view) -> list[tuple[str, list[NewEvent]]]:
    if not event.stream_id.startswith(_PREFIX):
        return []
    is_transition = event.type in _TRANSITIONS
    if not is_transition:
        if event.type not in _DATA or event.stream_version != view.tx.version(event.stream_id):
            return []
    objective_id = event.stream_id[len(_PREFIX):]
    obj = await view.state(objectives.stream_id(objective_id))
    if obj is None or obj.status != _ACTIVE or obj.agreement is None:
        return []
    agreement = obj.agreement
    resolved = resolve(await view.state(policies_domain.stream_id(agreement.policy_id)),
                       agreement.policy_id, agreement.policy_version)
    if resolved is None:
        return []
    version, policy = resolved
    state = await view.state(event.stream_id)
    at = state.event_time if state is not None else None
    status = state.status(at) if at is not None else None
    if status is None:
        return []
    severities = tuple(sorted({a.severity for a in state.alerts.values()}))
    actions = await view.state(policy_actions.stream_id(objective_id))
    if event.type != "BudgetExhausted" and settled(policy, ObjectiveFacts(
            objective_id, obj.journey_id, policy.id, version, state.exhausted, status.remaining, severities), actions):
        return []  # no rule's condition crossed since the actions last recorded: nothing to do
    journey = await view.state(journeys.stream_id(obj.journey_id))
    # A journey's own objective freezes every service it depends on critically; a component
    # objective, only the service it measures.
    services = () if journey is None or journey.retired else (
        (obj.service,) if obj.component else journey.critical_services)
    page_windows = [parse_duration(a.long_window) for a in state.alerts.values() if a.severity == INCIDENT_SEVERITY]
    exhaustions = None
    if event.type == "BudgetExhausted" and any(
        r.condition.kind == EXHAUSTIONS_IN_QUARTER_AT_LEAST for r in policy.rules
    ):
        exhaustions = await _exhaustions_in_quarter(view, event.stream_id, parse_iso(event.data["at"]))
    facts = BudgetFacts(
        objective_id=objective_id,
        journey_id=obj.journey_id,
        services=tuple(services),
        at=at,
        exhausted=state.exhausted,
        remaining=status.remaining,
        alert_severities=severities,
        page_long_window=max(page_windows) if page_windows else None,
        exhaustions_in_quarter=exhaustions,
        window=status.window_end - status.window_start,
    )
    ledger = state.ledger

    def share_since(start: datetime) -> float:  # of the objective's own window budget
        points = ledger.chart(since=start + timedelta(microseconds=1), until=at)
        return sum(p.debit for p in points if p.start >= start and not p.excluded)

    new = react(policy, version, facts, actions, share_since)
    return [(policy_actions.stream_id(objective_id), new)] if new else []
