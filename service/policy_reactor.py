"""Turns budget transitions into policy actions, in the transaction of the budget
events that cause them (so they carry that event's id as causation id).

For the last data event a command appended to a budget stream (after the budget reactor
derived its transitions), when the objective is ACTIVE with a formalized policy, the
policy its agreement pins (see `policies/registry.py`) is applied by the pure
`policies.reactions.react` at each instant the event's data reaches, in data time
(`decider.judged_at`, the instants the budget reactor walked), to the ledger as it stood
then. Each instant's actions are appended before the next is judged, caused by the first
budget transition at that instant (a freeze by its BudgetExhausted), or by the data event
where none happened (an incident's share crossing its limit). So a batch gets the actions
its intervals would one by one. Its events go to `actions-{objective_id}`. Nothing here
reads a clock. Most instants cross no rule's condition: `settled` (every level rule agrees
with its latch, no incident open or opening) then ends the work before the facts are built.
"""

from __future__ import annotations

from datetime import datetime
from typing import AsyncIterator

import orjson
from sqlalchemy import select

from domain import journey as journeys
from domain import objective as objectives
from domain import policy as policies_domain
from domain import policy_actions
from domain.budget import decider as budget
from domain.budget.instants import from_us, iso_us
from domain.commands import parse_iso
from domain.events import NewEvent, RecordedEvent
from eventstore.tables import events as events_table
from policies.language import EXHAUSTIONS_IN_QUARTER_AT_LEAST
from policies.evaluate import ObjectiveFacts
from policies.reactions import (
    IncidentShare, budget_facts, frozen_services, objective_facts, quarter_of, react, settled, settles_on_flags,
)
from policies.registry import resolve

_PREFIX = budget.CATEGORY + "-"
_TRANSITIONS = frozenset(budget.TRANSITION_EVENTS.values())
_DATA = frozenset(budget.DATA_EVENTS)
_ACTIVE = objectives.ObjectiveStatus.ACTIVE


async def _exhaustions_in_quarter(view, stream_id: str, at: datetime, upto: int) -> int:
    """BudgetExhausted events of the stream up to position `upto` whose event time is in
    `at`'s quarter (a batch's later exhaustions are not yet known at an earlier instant)."""
    tx = view.tx
    rows = await tx.conn.execute(
        select(events_table.c.position, events_table.c.data).where(
            events_table.c.stream_id == stream_id, events_table.c.type == "BudgetExhausted",
            events_table.c.position <= upto,
        )
    )
    seen: dict[int, str] = {r.position: orjson.loads(r.data)["at"] for r in rows}
    for e in tx.appended:
        if e.stream_id == stream_id and e.type == "BudgetExhausted" and e.position <= upto:
            seen.setdefault(e.position, e.data["at"])
    quarter = quarter_of(at)
    return sum(1 for when in seen.values() if quarter_of(parse_iso(when)) == quarter)


def _derived_after(tx, event: RecordedEvent) -> list[RecordedEvent] | None:
    """The transitions the budget reactor derived from `event`, when it is its command's
    last data event on the stream (then nothing but those follows it there); else None."""
    after: list[RecordedEvent] = []
    for e in reversed(tx.appended):
        if e.position <= event.position:
            break
        if e.stream_id == event.stream_id:
            after.append(e)
    if event.stream_version + len(after) != tx.version(event.stream_id) or any(
            e.type not in _TRANSITIONS for e in after):
        return None
    after.reverse()
    return after


async def policy_reactions(event: RecordedEvent, view) -> AsyncIterator[tuple[str, list[NewEvent], RecordedEvent]]:
    """The policy's actions at each instant the event's data reaches (as the budget reactor
    walked them), in data time; each caused by the first budget transition at its instant,
    else by the data event."""
    if not event.stream_id.startswith(_PREFIX) or event.type not in _DATA:
        return
    derived = _derived_after(view.tx, event)
    if derived is None:
        return
    objective_id = event.stream_id[len(_PREFIX):]
    obj = await view.state(objectives.stream_id(objective_id))
    if obj is None or obj.status != _ACTIVE or obj.agreement is None:
        return
    agreement = obj.agreement
    resolved = resolve(await view.state(policies_domain.stream_id(agreement.policy_id)),
                       agreement.policy_id, agreement.policy_version)
    if resolved is None:
        return
    version, policy = resolved
    state = await view.state(event.stream_id)
    points = budget.judged_at(state, event.type, event.data)
    if not points:
        return
    ledger = state.ledger
    by_instant: dict[int, list[RecordedEvent]] = {}
    for e in derived:
        by_instant.setdefault(iso_us(e.data["at"]), []).append(e)
    counts_exhaustions = any(r.condition.kind == EXHAUSTIONS_IN_QUARTER_AT_LEAST for r in policy.rules)
    actions_stream = policy_actions.stream_id(objective_id)
    services: tuple[str, ...] | None = None
    shares = IncidentShare(ledger)

    def facts_at(judged) -> ObjectiveFacts:
        return objective_facts(objective_id, obj.journey_id, policy, version, judged)

    if not derived and len(points) > 1 and settles_on_flags(policy) and settled(
            policy, facts_at(ledger.judge_at_us(points[-1])), await view.state(actions_stream)):
        # No transition in the batch: the flags held still at every instant, so the policy,
        # settled at the last, was settled at each (a healthy hourly push, usually).
        return
    for at_us in points:
        judged = ledger.judge_at_us(at_us)
        here = by_instant.get(at_us, ())
        exhausted_now = next((e for e in here if e.type == "BudgetExhausted"), None)
        level = facts_at(judged)
        actions = await view.state(actions_stream)
        if exhausted_now is None and settled(policy, level, actions):
            continue  # no rule's condition crossed since the actions last recorded: nothing to do
        if services is None:
            services = frozen_services(obj, await view.state(journeys.stream_id(obj.journey_id)))
        at = from_us(at_us)
        exhaustions = None
        if exhausted_now is not None and counts_exhaustions:
            exhaustions = await _exhaustions_in_quarter(view, event.stream_id, at, exhausted_now.position)
        facts = budget_facts(level, services, at, judged, ledger, exhaustions)
        new = react(policy, version, facts, actions, lambda start, at=at: shares.since(start, at))
        if new:
            yield actions_stream, new, (here[0] if here else event)
