"""The auditor's read models: the event index and state snapshots.

``EventIndexProjection`` writes one ``rm_event_index`` row per event (the metadata
auditors filter and walk causation by), so the log itself never grows columns.

``SnapshotProjection`` writes the folded state of a journey, objective, policy or
policy-actions stream every ``SNAPSHOT_EVERY`` events (at stream versions N, 2N, ...),
so folding a stream as of any position starts from the nearest snapshot at or below it
and reads at most N - 1 events more. Live and rebuilt snapshots are the same rows: both
fold the same events with the domain's own ``evolve``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Sequence

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import journey, objective, policy, policy_actions
from domain.events import RecordedEvent
from eventstore.codec import canonical
from eventstore.store import EventStore
from projections.bulk import insert_records
from projections.tables import event_index, snapshots

# Stream versions at which a snapshot is written (every N events of a stream).
SNAPSHOT_EVERY = 100


@dataclass(frozen=True)
class Snapshotted:
    evolve: Callable[[Any, RecordedEvent], Any]
    to_dict: Callable[[Any], Any]
    from_dict: Callable[[Any], Any]


SNAPSHOTTED: dict[str, Snapshotted] = {
    m.CATEGORY: Snapshotted(m.evolve, m.to_dict, m.from_dict)
    for m in (journey, objective, policy, policy_actions)
}


def category_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


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


_INDEX_COLUMNS = ("position", "event_id", "stream_id", "type", "actor", "role", "correlation_id",
                  "causation_id", "recorded_at")
# A transaction's index rows in one statement of column arrays (one parameter per column,
# whatever the number of events) instead of an executemany of one row per event.
_PG_INSERT_INDEX = (
    f"INSERT INTO rm_event_index ({', '.join(_INDEX_COLUMNS)}) SELECT * FROM unnest("
    "$1::int8[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], "
    "$7::varchar[], $8::varchar[], $9::timestamptz[])"
)


async def _insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        await conn.execute(table.insert(), rows[start : start + 5000])


class EventIndexProjection:
    name = "event_index"
    tables = (event_index,)

    def handles(self, event: RecordedEvent) -> bool:
        return True

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        if conn.dialect.name == "postgresql":
            metas = [e.metadata for e in events]
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.execute(
                _PG_INSERT_INDEX,
                [e.position for e in events], [e.event_id for e in events], [e.stream_id for e in events],
                [e.type for e in events], [m.get("actor") for m in metas], [m.get("role") for m in metas],
                [m.get("correlation_id") for m in metas], [m.get("causation_id") for m in metas],
                [e.recorded_at for e in events],
            )
            return
        await _insert(conn, event_index, [_index_row(e) for e in events])

    # On PostgreSQL the runner reads the log on its own connection, so each batch's rows
    # can go in while the other projections fold (see ProjectionSet._refold).
    writes_while_folding = True

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        streaming = self.writes_while_folding and conn.dialect.name == "postgresql"
        records: list[tuple[Any, ...]] = []
        async for batch in batches:
            # The same values as `_index_row`, as tuples: this runs once per event of the log.
            records.extend(
                (e.position, e.event_id, e.stream_id, e.type, m.get("actor"), m.get("role"),
                 m.get("correlation_id"), m.get("causation_id"), e.recorded_at)
                for e in batch for m in (e.metadata,)
            )
            if streaming:
                await insert_records(conn, event_index, _INDEX_COLUMNS, records)
                records = []
        await insert_records(conn, event_index, _INDEX_COLUMNS, records)


async def latest_snapshot(
    conn: AsyncConnection, stream_id: str, until_position: int | None = None
) -> tuple[int, int, Any] | None:
    """(version, position, state dict) of the newest snapshot at or below the position."""
    query = select(snapshots.c.version, snapshots.c.position, snapshots.c.state).where(
        snapshots.c.stream_id == stream_id
    )
    if until_position is not None:
        query = query.where(snapshots.c.position <= until_position)
    row = (await conn.execute(query.order_by(snapshots.c.version.desc()).limit(1))).first()
    return None if row is None else (row.version, row.position, orjson.loads(row.state))


class SnapshotProjection:
    name = "snapshots"
    tables = (snapshots,)

    def __init__(self, store: EventStore | None = None) -> None:
        # Only for the stream reads of `apply`; rebuild needs none.
        self.store = store

    def handles(self, event: RecordedEvent) -> bool:
        return category_of(event.stream_id) in SNAPSHOTTED

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        every = SNAPSHOT_EVERY
        due = [e for e in events if e.stream_version % every == 0]
        if not due:
            return
        rows: list[dict[str, Any]] = []
        written: dict[str, tuple[int, Any]] = {}  # stream -> (version, state) written in this batch
        for target in due:
            spec = SNAPSHOTTED[category_of(target.stream_id)]
            stream_id = target.stream_id
            if stream_id in written:
                version, state = written[stream_id]
            else:
                found = await latest_snapshot(conn, stream_id)
                version, state = (0, None) if found is None else (found[0], spec.from_dict(found[2]))
            # Events after the snapshot: those already written, then this batch's (not yet flushed).
            folded = [e for e in await self._read_stream(conn, stream_id, version) if e.stream_version <= target.stream_version]
            seen = {e.stream_version for e in folded}
            folded += [
                e for e in events
                if e.stream_id == stream_id and version < e.stream_version <= target.stream_version
                and e.stream_version not in seen
            ]
            folded.sort(key=lambda e: e.stream_version)
            for event in folded:
                state = spec.evolve(state, event)
            rows.append({
                "stream_id": stream_id, "version": target.stream_version, "position": target.position,
                "state": canonical(spec.to_dict(state)),
            })
            written[stream_id] = (target.stream_version, spec.from_dict(orjson.loads(rows[-1]["state"])))
        await _insert(conn, snapshots, rows)

    async def _read_stream(self, conn: AsyncConnection, stream_id: str, after_version: int) -> list[RecordedEvent]:
        if self.store is None:
            raise RuntimeError("SnapshotProjection needs the store to apply events inline")
        return await self.store.read_stream(stream_id, after_version, conn=conn)

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        every = SNAPSHOT_EVERY
        states: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        async for batch in batches:
            for event in batch:
                spec = SNAPSHOTTED[category_of(event.stream_id)]
                state = states[event.stream_id] = spec.evolve(states.get(event.stream_id), event)
                if event.stream_version % every == 0:
                    rows.append({
                        "stream_id": event.stream_id, "version": event.stream_version,
                        "position": event.position, "state": canonical(spec.to_dict(state)),
                    })
        await _insert(conn, snapshots, rows)
