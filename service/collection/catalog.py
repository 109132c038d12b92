"""What the collector and the baseline need to know about an objective: its SLI
definition and the data source it names, resolved together (`Target`).

`Catalog` is the port; `LogCatalog` reads it from the read models (the objective's
definition and the `source-{name}` stream's). A target whose source is not defined
is left out of `targets()` and refused by `target()` with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import orjson
from sqlalchemy import func, select

from domain import objective as objectives
from domain import sources
from domain.data_source import DataSource
from domain.errors import Conflict, NotFound
from domain.sli_definition import SLIDefinition, parse_definition
from projections.tables import data_sources
from projections.tables import objectives as objectives_table


@dataclass(frozen=True)
class Target:
    objective_id: str
    definition: SLIDefinition
    source: DataSource


class Catalog(Protocol):
    async def targets(self) -> Sequence[Target]:
        """Every live objective with an SLI definition whose source is defined."""

    async def target(self, objective_id: str) -> Target:
        """The objective's target; NotFound / Conflict (no definition, no source) otherwise."""


class StaticCatalog:
    """A fixed list of targets (one-off tools and unit tests)."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self._targets = {t.objective_id: t for t in targets}

    async def targets(self) -> Sequence[Target]:
        return list(self._targets.values())

    async def target(self, objective_id: str) -> Target:
        found = self._targets.get(objective_id)
        if found is None:
            raise Conflict(f"objective {objective_id} has no SLI definition with a source: define one first",
                           objective_id=objective_id)
        return found


class LogCatalog:
    """The targets from the read models: every objective that is not retired and has an
    SLI definition, with its data source (a retired or undefined source is left out of
    `targets()`: the definition cannot be read until the source is defined again).

    A collector asks every round: each objective's definition is parsed once per version
    of its stream (a round reads the ids and versions, and the documents of the changed
    ones only: decoding 1,000 objective documents took ~170 ms a round); sources, few
    and small, are read every time. The ids and versions are read only when the
    objectives' stamp -- their number and the sum of their versions -- moved: every event
    of an objective raises its version and rows are never removed, so any change moves it
    (reading 1,000 rows every round cost ~8 ms before the round's first query went out)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._parsed: dict[str, tuple[int, SLIDefinition | None]] = {}  # id -> (version, its definition)
        self._stamp: tuple[int, int] | None = None  # the objectives' stamp `_defined` was read at
        self._defined: list[tuple[str, SLIDefinition]] = []  # live objectives' definitions, in creation order
        self._names: set[str] = set()  # the sources they name
        self._answer: tuple[dict[str, DataSource], list[Target]] | None = None  # the last targets, and their sources

    async def _sources(self, conn: Any, names: set[str]) -> dict[str, DataSource]:
        if not names:
            return {}
        rows = await conn.execute(select(data_sources.c.doc).where(data_sources.c.id.in_(sorted(names))))
        states = (sources.from_dict(orjson.loads(r.doc)) for r in rows)
        return {s.name: s.source() for s in states if not s.retired}

    async def targets(self) -> Sequence[Target]:
        async with self.engine.connect() as conn:
            stamp = tuple((await conn.execute(select(func.count(), func.coalesce(func.sum(objectives_table.c.version), 0)))).one())
            if stamp != self._stamp:
                # The stamp is read first: a change landing before the rows are moves it again.
                self._defined, self._stamp, self._answer = await self._definitions(conn), stamp, None
                self._names = {d.source for _, d in self._defined}
            found = await self._sources(conn, self._names)
        if self._answer is None or self._answer[0] != found:
            self._answer = found, [Target(oid, d, found[d.source]) for oid, d in self._defined if d.source in found]
        return list(self._answer[1])

    async def _definitions(self, conn: Any) -> list[tuple[str, SLIDefinition]]:
        """Every live objective with a definition, in creation order, as (id, definition)."""
        live = (await conn.execute(select(objectives_table.c.id, objectives_table.c.version)
                                   .where(objectives_table.c.status != objectives.ObjectiveStatus.RETIRED.value)
                                   .order_by(objectives_table.c.created_position))).all()
        changed = [r.id for r in live if self._parsed.get(r.id, (None,))[0] != r.version]
        for i in range(0, len(changed), 500):
            rows = await conn.execute(select(objectives_table.c.id, objectives_table.c.version, objectives_table.c.doc)
                                      .where(objectives_table.c.id.in_(changed[i:i + 500])))
            for r in rows:
                q = objectives.from_dict(orjson.loads(r.doc)).sli_definition
                self._parsed[r.id] = (r.version, None if q is None else parse_definition(q.definition()))
        ids = {r.id for r in live}
        for gone in [oid for oid in self._parsed if oid not in ids]:
            del self._parsed[gone]
        return [(r.id, d) for r in live if (d := self._parsed.get(r.id, (None, None))[1]) is not None]

    async def target(self, objective_id: str) -> Target:
        async with self.engine.connect() as conn:
            doc = (await conn.execute(select(objectives_table.c.doc).where(objectives_table.c.id == objective_id))).scalar()
            state = None if doc is None else objectives.from_dict(orjson.loads(doc))
            if state is None:
                raise NotFound(f"objective {objective_id} does not exist", objective_id=objective_id)
            q = state.sli_definition
            if q is None:
                raise Conflict(f"objective {objective_id} has no SLI definition: define one (defineSli) first",
                               objective_id=objective_id)
            found = await self._sources(conn, {q.source})
        if q.source not in found:
            raise Conflict(f"objective {objective_id}'s SLI reads data source {q.source!r}, which is not defined "
                           "(or retired)", objective_id=objective_id, source=q.source)
        return Target(objective_id, parse_definition(q.definition()), found[q.source])
