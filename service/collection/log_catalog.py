"""`LogCatalog`: the collector's and the baseline's targets read from the read models --
each live objective's SLI definition (`rm_objectives`) with the data source it names
(`rm_data_sources`). Retired objectives are left out; so are definitions whose source
is missing or retired (a collector cannot read them; `target()` says why)."""

from __future__ import annotations

from typing import Any, Sequence

import orjson
from sqlalchemy import select

from domain import objective as objectives
from domain import sources
from domain.errors import Conflict, NotFound
from domain.sli_definition import parse_definition
from projections.tables import data_sources
from projections.tables import objectives as objectives_table

from .catalog import Target


class LogCatalog:
    def __init__(self, container: Any) -> None:
        self._container = container

    async def _sources(self, conn: Any) -> dict[str, sources.SourceState]:
        rows = await conn.execute(select(data_sources.c.doc))
        states = (sources.from_dict(orjson.loads(r.doc)) for r in rows)
        return {s.name: s for s in states if not s.retired}

    async def targets(self) -> Sequence[Target]:
        async with self._container.read_engine.connect() as conn:
            live = await self._sources(conn)
            rows = (await conn.execute(
                select(objectives_table.c.doc)
                .where(objectives_table.c.status != str(objectives.ObjectiveStatus.RETIRED))
                .order_by(objectives_table.c.created_position))).all()
        out = []
        for row in rows:
            state = objectives.from_dict(orjson.loads(row.doc))
            q = state.sli_definition
            if q is not None and q.source in live:
                out.append(Target(state.id, parse_definition(q.definition()), live[q.source].source()))
        return out

    async def target(self, objective_id: str) -> Target:
        async with self._container.read_engine.connect() as conn:
            doc = (await conn.execute(select(objectives_table.c.doc)
                                      .where(objectives_table.c.id == objective_id))).scalar()
            live = await self._sources(conn)
        if doc is None:
            raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
        state = objectives.from_dict(orjson.loads(doc))
        q = state.sli_definition
        if q is None:
            raise Conflict(f"objective {objective_id} has no SLI definition: define one first (defineSli)",
                           objective_id=objective_id)
        if q.source not in live:
            raise Conflict(f"objective {objective_id} reads data source {q.source}, which is not defined or retired",
                           objective_id=objective_id, source=q.source)
        return Target(state.id, parse_definition(q.definition()), live[q.source].source())
