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
The walk over the instants is pure (`policies/reaction_walk.py`), shared with the policy
what-if; this module reads what it needs from the transaction.
"""

from __future__ import annotations

from typing import AsyncIterator

import orjson
from sqlalchemy import select

from domain import journey as journeys
from domain import objective as objectives
from domain import policy as policies_domain
from domain import policy_actions
from domain.budget import decider as budget
from domain.events import NewEvent, RecordedEvent
from eventstore.tables import events as events_table
from policies.reaction_walk import NEED_SERVICES, needs_exhaustions, services_of, walk
from policies.registry import resolve

_PREFIX = budget.CATEGORY + "-"
_TRANSITIONS = frozenset(budget.TRANSITION_EVENTS.values())
_DATA = frozenset(budget.DATA_EVENTS)
_ACTIVE = objectives.ObjectiveStatus.ACTIVE


async def _exhaustions(view, stream_id: str) -> list[tuple[int, str]]:
    """The stream's BudgetExhausted events so far (committed and in this transaction), as
    (position, event time)."""
    tx = view.tx
    rows = await tx.conn.execute(
        select(events_table.c.position, events_table.c.data).where(
            events_table.c.stream_id == stream_id, events_table.c.type == "BudgetExhausted",
        )
    )
    seen: dict[int, str] = {r.position: orjson.loads(r.data)["at"] for r in rows}
    for e in tx.appended:
        if e.stream_id == stream_id and e.type == "BudgetExhausted":
            seen.setdefault(e.position, e.data["at"])
    return sorted(seen.items())


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


async def policy_reactions(event: RecordedEvent, view) -> list | AsyncIterator[tuple[str, list[NewEvent], RecordedEvent]]:
    """The policy's actions at each instant the event's data reaches (as the budget reactor
    walked them), in data time; each caused by the first budget transition at its instant,
    else by the data event. The walk itself is `policies.reaction_walk.walk`.

    An async iterator of the actions (each instant's appended before the next is judged)
    when a policy applies; else an empty list, settled without starting an async generator
    (its creation and the event loop's hooks cost more than these checks, and most data
    events meet an objective without a formalized policy)."""
    if not event.stream_id.startswith(_PREFIX) or event.type not in _DATA:
        return []
    objective_id = event.stream_id[len(_PREFIX):]
    obj = await view.state(objectives.stream_id(objective_id))
    # The objective first: it settles most events before the transaction is scanned.
    if obj is None or obj.status != _ACTIVE or obj.agreement is None:
        return []
    derived = _derived_after(view.tx, event)
    if derived is None:
        return []
    agreement = obj.agreement
    resolved = resolve(await view.state(policies_domain.stream_id(agreement.policy_id)),
                       agreement.policy_id, agreement.policy_version)
    if resolved is None:
        return []
    return _actions(event, view, objective_id, obj, derived, *resolved)


async def _actions(event: RecordedEvent, view, objective_id: str, obj, derived: list[RecordedEvent], version, policy,
                   ) -> AsyncIterator[tuple[str, list[NewEvent], RecordedEvent]]:
    """`policy_reactions`' actions, once a policy applies to the event's objective."""
    state = await view.state(event.stream_id)
    actions_stream = policy_actions.stream_id(objective_id)
    exhaustions = await _exhaustions(view, event.stream_id) if needs_exhaustions(policy, derived) else None
    steps = walk(policy, version, obj, state, event, derived, await view.state(actions_stream), exhaustions)
    reply = None
    while True:
        try:
            step = steps.send(reply)
        except StopIteration:
            return
        reply = None
        if step is NEED_SERVICES:
            reply = services_of(obj, await view.state(journeys.stream_id(obj.journey_id)))
            continue
        new, cause = step
        yield actions_stream, new, (cause or event)
