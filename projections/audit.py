"""The auditor's event index: one ``rm_event_index`` row per event (the metadata
auditors filter and walk causation by), so the log itself never grows columns.

State snapshots for as-of reads live in ``projections.snapshots``.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from projections.bulk import insert_records, write_pg
from projections.tables import event_index


_INDEX_COLUMNS = ("position", "event_id", "stream_id", "type", "actor", "role", "correlation_id",
                  "causation_id", "recorded_at")


def _index_record(e: RecordedEvent) -> tuple[Any, ...]:
    """An event's index row: the values of `_INDEX_COLUMNS`."""
    m = e.metadata
    return (e.position, e.event_id, e.stream_id, e.type, m.get("actor"), m.get("role"),
            m.get("correlation_id"), m.get("causation_id"), e.recorded_at)
# A transaction's index rows in one statement of column arrays (one parameter per column,
# whatever the number of events) instead of an executemany of one row per event.
_PG_INSERT_INDEX = (
    f"INSERT INTO rm_event_index ({', '.join(_INDEX_COLUMNS)}) SELECT * FROM unnest("
    "$1::int8[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], "
    "$7::varchar[], $8::varchar[], $9::timestamptz[])"
)


class EventIndexProjection:
    name = "event_index"
    tables = (event_index,)

    def handles(self, event: RecordedEvent) -> bool:
        return True

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        if conn.dialect.name == "postgresql":
            metas = [e.metadata for e in events]
            await write_pg(
                conn,
                _PG_INSERT_INDEX,
                [e.position for e in events], [e.event_id for e in events], [e.stream_id for e in events],
                [e.type for e in events], [m.get("actor") for m in metas], [m.get("role") for m in metas],
                [m.get("correlation_id") for m in metas], [m.get("causation_id") for m in metas],
                [e.recorded_at for e in events],
            )
            return
        await insert_records(conn, event_index, _INDEX_COLUMNS, [_index_record(e) for e in events])

    # On PostgreSQL the runner reads the log on its own connection, so each batch's rows
    # can go in while the other projections fold (see ProjectionSet._refold).
    writes_while_folding = True

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        streaming = self.writes_while_folding and conn.dialect.name == "postgresql"
        records: list[tuple[Any, ...]] = []
        async for batch in batches:
            records.extend(map(_index_record, batch))
            if streaming:
                await insert_records(conn, event_index, _INDEX_COLUMNS, records)
                records = []
        await insert_records(conn, event_index, _INDEX_COLUMNS, records)
