"""Closes a journey's instrumentation gaps when an SLI definition takes effect on one of
its objectives, in the same transaction (phase 3: once the query exists, the gap of
that SLI kind is instrumented). Which gaps is the domain's rule (`objective.gaps_closed`);
this only loads the two states and hands the journey its events."""

from __future__ import annotations

from domain import journey as journeys
from domain import objective as objectives
from domain.events import RecordedEvent

_PREFIX = objectives.CATEGORY + "-"


async def gap_closures(event: RecordedEvent, view) -> list[tuple[str, list]]:
    if not event.stream_id.startswith(_PREFIX) or not objectives.takes_effect(event):
        return []
    state = await view.state(event.stream_id)
    journey_stream = journeys.stream_id(state.journey_id)
    closed = objectives.gaps_closed(state, await view.state(journey_stream))
    return [(journey_stream, closed)] if closed else []
