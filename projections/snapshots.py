"""State snapshots for as-of reads.

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
from projections.tables import snapshots

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


async def _insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        await conn.execute(table.insert(), rows[start : start + 5000])


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
