"""The auditor's event index: one ``rm_event_index`` row per event (the metadata
auditors filter and walk causation by), so the log itself never grows columns.

State snapshots for as-of reads live in ``projections.snapshots``.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from projections.tables import event_index


def _index_row(e: RecordedEvent) -> dict[str, Any]:
    m = e.metadata
    return {
        "position": e.position,
        "event_id": e.event_id,
        "stream_id": e.stream_id,
        "type": e.type,
        "actor": m.get("actor"),
        "role": m.get("role"),
        "correlation_id": m.get("correlation_id"),
        "causation_id": m.get("causation_id"),
        "recorded_at": e.recorded_at,
    }


async def _insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        await conn.execute(table.insert(), rows[start : start + 5000])


class EventIndexProjection:
    name = "event_index"
    tables = (event_index,)

    def handles(self, event: RecordedEvent) -> bool:
        return True

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        await _insert(conn, event_index, [_index_row(e) for e in events])

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        rows: list[dict[str, Any]] = []
        async for batch in batches:
            rows.extend(_index_row(e) for e in batch)
        await _insert(conn, event_index, rows)
