"""A projection whose rows are the folded state of each stream of one category.

The fold is the domain's own `evolve`, so the read model cannot drift from what
deciders see. Each row keeps the state as JSON (`doc_json`) beside the columns
queries filter on; a stream's row is read, evolved and upserted inline, and a
rebuild folds everything in memory and bulk-inserts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Sequence

import orjson
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from projections.bulk import insert_rows, insert_rows_inline
from projections.documents import doc_json

# (state, created_position) -> {table: [rows]}: the main row first, then side tables.
RowMapper = Callable[[Any, int], dict[Table, list[dict[str, Any]]]]


@dataclass
class EntityProjection:
    name: str
    category: str
    main: Table
    evolve: Callable[[Any, RecordedEvent], Any]
    to_dict: Callable[[Any], dict]
    from_dict: Callable[[dict], Any]
    rows: RowMapper
    side_tables: tuple[Table, ...] = field(default_factory=tuple)
    # Side tables are keyed by this column naming the entity (e.g. journey_id).
    side_key: str = "id"

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.main, *self.side_tables)

    def __post_init__(self) -> None:
        self._prefix = self.category + "-"  # asked for every event appended

    def handles(self, event: RecordedEvent) -> bool:
        return event.stream_id.startswith(self._prefix)

    def entity_id(self, stream_id: str) -> str:
        return stream_id[len(self.category) + 1 :]

    def doc(self, state: Any) -> str:
        return doc_json(self.to_dict(state))

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        by_entity: dict[str, list[RecordedEvent]] = {}
        for event in events:
            by_entity.setdefault(self.entity_id(event.stream_id), []).append(event)
        # A stream whose first event here is its first event ever has no row yet:
        # only older streams are looked up (a batch of new streams costs no read).
        ids = [entity_id for entity_id, evs in by_entity.items() if evs[0].stream_version > 1]
        existing = {
            r[0]: (self.from_dict(orjson.loads(r[1])), r[2])
            for r in (await self._existing(conn, ids) if ids else ())
        }
        out: dict[Table, list[dict[str, Any]]] = {t: [] for t in self.tables}
        for entity_id, stream_events in by_entity.items():
            state, created = existing.get(entity_id, (None, stream_events[0].position))
            for event in stream_events:
                state = self.evolve(state, event)
            for table, rows in self.rows(state, created).items():
                out[table].extend(rows)
        # Rows are replaced whole. Side rows are only ever written beside their
        # main row, so entities without a main row yet (new streams) have none.
        stale = list(existing)
        if stale:
            await conn.execute(delete(self.main).where(self.main.c.id.in_(stale)))
            for table in self.side_tables:
                await conn.execute(delete(table).where(table.c[self.side_key].in_(stale)))
        await self._insert(conn, out)

    async def _existing(self, conn: AsyncConnection, ids: list[str]) -> Sequence[Any]:
        """(id, doc, created_position) of the rows these entities have now."""
        if conn.dialect.name == "postgresql":
            # On every inline apply: one prepared statement with an array
            # parameter instead of an IN list compiled anew for each batch size.
            raw = await conn.get_raw_connection()
            return await raw.driver_connection.fetch(
                f"SELECT id, doc, created_position FROM {self.main.name} WHERE id = ANY($1::text[])",
                ids,
            )
        return (
            await conn.execute(
                select(self.main.c.id, self.main.c.doc, self.main.c.created_position).where(
                    self.main.c.id.in_(ids)
                )
            )
        ).all()

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        states: dict[str, Any] = {}
        created: dict[str, int] = {}  # entity id -> position of its first event
        evolve, offset, get = self.evolve, len(self.category) + 1, states.get
        async for batch in batches:
            for event in batch:
                entity_id = event.stream_id[offset:]
                state = get(entity_id)
                if state is None:
                    created[entity_id] = event.position
                states[entity_id] = evolve(state, event)
        out: dict[Table, list[dict[str, Any]]] = {t: [] for t in self.tables}
        for entity_id, state in states.items():
            for table, rows in self.rows(state, created[entity_id]).items():
                out[table].extend(rows)
        for table in self.tables:
            await insert_rows(conn, table, out[table])

    async def _insert(self, conn: AsyncConnection, out: dict[Table, list[dict[str, Any]]]) -> None:
        for table in self.tables:
            await insert_rows_inline(conn, table, out.get(table, ()))

