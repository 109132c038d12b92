"""Derives budget transitions (exhausted/recovered, burn-rate alerts raised/cleared,
observations stale/fresh) in the same transaction as the budget events causing them.

The reactor looks at the budget stream's state after the command that appended the event
(the bus has already folded it into the view) and walks the instants the event's data
reaches, in data time (`decider.judged_at`: each interval end of an ObservationsRecorded,
else the event time -- never the wall clock), comparing the ledger there with the flags
the stream's earlier transitions set. So a batch derives what its intervals would one by
one, each transition stamped with the instant it happened at. It reacts once per command:
to the command's last data event on the stream (a command may append `BudgetConfigured`
before its data), so the derived events' causation id is that event's id (e.g. the
ObservationsRecorded).
"""

from __future__ import annotations

from domain.budget import decider
from domain.events import NewEvent, RecordedEvent

_PREFIX = decider.CATEGORY + "-"
_DATA = frozenset(decider.DATA_EVENTS)


async def budget_transitions(event: RecordedEvent, view) -> list[tuple[str, list[NewEvent]]]:
    if event.type not in _DATA or not event.stream_id.startswith(_PREFIX):
        return []
    # Only the last event of the command on this stream: the state is the one after it.
    if event.stream_version != view.tx.version(event.stream_id):
        return []
    state = await view.state(event.stream_id)
    derived = decider.derive_at(state, decider.judged_at(state, event.type, event.data))
    return [(event.stream_id, derived)] if derived else []
