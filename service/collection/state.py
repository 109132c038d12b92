"""An objective's collection state, as a reader sees it (`collectionState`).

Folded from what the log already holds, read now:
- the objective's SLI definition and the data source it names (their read models):
  whether the collector collects it at all, and if not why (no definition, the
  source retired or not defined, the objective retired);
- the budget's read model: the end of the last minute recorded (data time) and the
  freshness rule the budget uses (`stale`: recorded by a probe, or no data for longer
  than its `stale_after` before now, as the live budget read judges it);
- the `collection-{objective}` stream: the source's fault in force (the reason word and
  Prometheus's message), the last fault and when it cleared, the gaps recorded;
- the collector's settings in this process: its horizon, delay and interval.

Nothing here appends; it never asks the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select

from domain import collection
from domain import objective as objectives
from domain import sources
from domain.budget.ledger import DEFAULT_STALE_AFTER
from domain.commands import parse_iso
from projections.tables import budgets, data_sources
from projections.tables import objectives as objectives_table
from service.aggregates import fold

# The words of `stale_reason` when no fault is in force.
NO_DATA = "no_data"


@dataclass(frozen=True)
class CollectionView:
    objective_id: str
    source: str | None  # the data source the SLI definition names (None: no definition)
    collected: bool  # the collector asks the source for this objective's minutes
    not_collected_reason: str | None
    collected_until: datetime | None  # the end of the last minute the budget holds (data time)
    stale: bool
    stale_reason: str | None  # a fault reason (collection.FAULT_REASONS) or NO_DATA; None when fresh
    stale_after: timedelta
    judged_at: datetime
    state: collection.CollectionState  # the collection stream folded (empty when it has no events)
    horizon: timedelta
    delay: timedelta
    interval_seconds: float


async def collection_view(container: Any, objective_id: str) -> CollectionView | None:
    """The objective's collection state now; None when the objective does not exist."""
    async with container.read_engine.connect() as conn:
        doc = (await conn.execute(select(objectives_table.c.doc).where(objectives_table.c.id == objective_id))).scalar()
        if doc is None:
            return None
        obj = objectives.from_dict(orjson.loads(doc))
        source_name = None if obj.sli_definition is None else obj.sli_definition.source
        source_doc = None if source_name is None else (await conn.execute(
            select(data_sources.c.doc).where(data_sources.c.id == source_name))).scalar()
        budget = (await conn.execute(select(budgets.c.last_observation_end, budgets.c.stale, budgets.c.doc)
                                     .where(budgets.c.objective_id == objective_id))).first()
    events = await container.store.read_stream(collection.stream_id(objective_id))
    state = fold(collection.evolve, None, events) or collection.CollectionState(objective_id)
    source = None if source_doc is None else sources.from_dict(orjson.loads(source_doc))
    settings = container.settings
    now = container.store.clock()

    reason = _not_collected(obj, source_name, source)
    last = None if budget is None or budget.last_observation_end is None else parse_iso(budget.last_observation_end)
    stale_after = DEFAULT_STALE_AFTER
    if budget is not None:
        seconds = orjson.loads(budget.doc).get("stale_after_seconds")
        stale_after = DEFAULT_STALE_AFTER if seconds is None else timedelta(seconds=seconds)
    # The budget's own rule, judged now (as `Budget.stale` on a live read).
    stale = budget is not None and (bool(budget.stale) or (last is not None and last < now - stale_after))
    stale_reason = None
    if stale:
        stale_reason = state.fault.reason if state.fault is not None else NO_DATA
    return CollectionView(
        objective_id=objective_id, source=source_name, collected=reason is None, not_collected_reason=reason,
        collected_until=last, stale=stale, stale_reason=stale_reason, stale_after=stale_after, judged_at=now,
        state=state, horizon=timedelta(minutes=settings.collect_horizon_minutes),
        delay=timedelta(seconds=settings.collect_delay_seconds), interval_seconds=settings.collect_interval_seconds,
    )


def _not_collected(obj: objectives.ObjectiveState, name: str | None, source: sources.SourceState | None) -> str | None:
    """Why the collector leaves this objective out (as `LogCatalog.targets` does), or None."""
    if obj.retired:
        return f"objective {obj.id} is retired"
    if name is None:
        return "no SLI definition: define one (defineSli)"
    if source is None:
        return f"its SLI names data source {name}, which is not defined"
    if source.retired:
        return f"its SLI names data source {name}, which is retired"
    return None
