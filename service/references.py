"""Guards for the commands whose decider cannot see who refers to what they change
(`service.bus.Guard`): they run in the append transaction, under the append lock, after
the decider accepted the command, so nothing can start referring in between.

- `RetireDataSource`: refused (CONFLICT, naming them in `objective_ids`) while any live
  objective's SLI definition, or its open proposal's, names the source: the collector
  would silently stop collecting them. Move them to another source first (`defineSli`).
- `LabelJourney`: refused (BAD_USER_INPUT, field `labels`, naming `objective_ids`) when a
  live objective of the journey would lack a label the naming convention requires, on
  itself or on the journey: the rule `DraftObjective` and `LabelObjective` apply.

The objectives come from the read model as committed, overlaid with those this batch
changed before the command (`view.changed`: the read model is written at the batch's end).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import orjson
from sqlalchemy import select

from domain import conventions
from domain import journey as journeys
from domain import objective as objectives
from domain import sources
from domain.errors import Conflict, InvalidInput
from domain.labels import labels_data, labels_of
from projections.tables import objectives as objectives_table

MAX_NAMED = 20  # objectives a refusal's message names (the details list them all)


async def _objectives(view: Any, where: Any, keep: Callable[[objectives.ObjectiveState], bool]) -> list[objectives.ObjectiveState]:
    """Live objectives (read model rows matching `where`, and this batch's) that `keep` selects, by id."""
    rows = await view.tx.conn.execute(select(objectives_table.c.id, objectives_table.c.doc).where(
        objectives_table.c.status != objectives.ObjectiveStatus.RETIRED.value, where))
    found: dict[str, objectives.ObjectiveState] = {}
    for row in rows:
        found[row.id] = objectives.from_dict(orjson.loads(row.doc))
    prefix = f"{objectives.CATEGORY}-"
    for stream_id, (_, state) in view.changed.items():
        if stream_id.startswith(prefix) and state is not None:
            found[state.id] = state  # newer than its row
    return [s for _, s in sorted(found.items()) if not s.retired and keep(s)]


def _named(ids: Iterable[str]) -> str:
    ids = list(ids)
    shown = ", ".join(ids[:MAX_NAMED])
    return shown + (f" and {len(ids) - MAX_NAMED} more" if len(ids) > MAX_NAMED else "")


async def source_unnamed(command: sources.RetireDataSource, view: Any) -> None:
    name = command.name
    naming = await _objectives(view, objectives_table.c.doc.contains(name, autoescape=True),
                               lambda s: name in objectives.sources_named(s))
    if naming:
        ids = [s.id for s in naming]
        raise Conflict(
            f"data source {name} is still named by the SLI definition of objective(s) {_named(ids)} (or an open "
            "proposal's): define their SLIs on another source first, then retire it",
            name=name, objective_ids=ids)


async def journey_labels_kept(command: journeys.LabelJourney, view: Any) -> None:
    convention = conventions.convention_of(await view.state(conventions.STREAM_ID))
    if not convention.required_labels:
        return
    new = labels_of(labels_data(command.labels))
    lacking: dict[str, list[str]] = {}
    for s in await _objectives(view, objectives_table.c.journey_id == command.journey_id,
                               lambda s: s.journey_id == command.journey_id):
        missing = conventions.missing_labels(convention, new, s.labels)
        if missing:
            lacking[s.id] = missing
    if lacking:
        needed = sorted({name for names in lacking.values() for name in names})
        raise InvalidInput(
            f"labels: the naming convention requires {', '.join(needed)}; without it on journey "
            f"{command.journey_id}, objective(s) {_named(lacking)} would lack it (label them first)",
            field="labels", objective_ids=list(lacking))


GUARDS: Mapping[type, Callable[[Any, Any], Any]] = {
    sources.RetireDataSource: source_unnamed,
    journeys.LabelJourney: journey_labels_kept,
}
