"""State snapshots for as-of reads.

``SnapshotProjection`` writes the folded state of journey, objective, policy,
policy-actions, data-source and budget streams, so folding a stream as of any position starts from
the nearest snapshot at or below it and reads a bounded number of events more.

When: a stream is considered at versions N, 2N, ... (``SNAPSHOT_EVERY``) and a snapshot
is written there when ``(version - last snapshot's version) * BYTES_PER_EVENT`` reaches
the last snapshot's size. Small states are snapshotted every N events; a state that has
grown to S bytes only every S / BYTES_PER_EVENT events, so the snapshots of a stream
take at most about ``BYTES_PER_EVENT`` per event in all (linear, not quadratic, in the
stream's length), and an as-of fold reads at most max(N, S / BYTES_PER_EVENT) + N
events after loading S bytes. The rule looks only at rows already written, so a skipped
version costs no fold and no serialization.

Budgets are snapshotted trimmed to their window (``projections.budget_snapshots``).

Live and rebuilt snapshots are the same rows: both fold the same events with the same
``evolve`` and apply the same rule (a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, NamedTuple, Sequence

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import journey, objective, policy, policy_actions, sources
from domain.events import RecordedEvent
from eventstore.store import EventStore
from projections import budget_snapshots
from projections.tables import snapshots

# Stream versions at which a snapshot may be written (every N events of a stream).
SNAPSHOT_EVERY = 100
# A snapshot of S bytes is followed by the next one no sooner than S / this many events.
BYTES_PER_EVENT = 1000


def encode(state_dict: Any) -> str:
    """A snapshot's stored text: deterministic (sorted keys), so live and rebuilt rows are
    equal; orjson, because a rebuild serializes every snapshot (floats round-trip exactly)."""
    return orjson.dumps(state_dict, option=orjson.OPT_SORT_KEYS).decode()


def _always_sound(stored: Any, state: Any) -> bool:
    return True


@dataclass(frozen=True)
class Snapshotted:
    evolve: Callable[[Any, RecordedEvent], Any]
    to_dict: Callable[[Any], Any]
    from_dict: Callable[[Any], Any]
    # Whether a state folded on from a snapshot (its stored dict) equals the fold from the start.
    sound: Callable[[Any, Any], bool] = _always_sound


SNAPSHOTTED: dict[str, Snapshotted] = {
    **{m.CATEGORY: Snapshotted(m.evolve, m.to_dict, m.from_dict)
       for m in (journey, objective, policy, policy_actions, sources)},
    budget_snapshots.CATEGORY: Snapshotted(
        budget_snapshots.evolve, budget_snapshots.to_dict, budget_snapshots.from_dict, budget_snapshots.sound
    ),
}


def category_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


def due(version: int, last_version: int, last_size: int) -> bool:
    """Whether a snapshot is written at `version`, given the stream's last one (0, 0: none)."""
    return version % SNAPSHOT_EVERY == 0 and (version - last_version) * BYTES_PER_EVENT >= last_size


class Snapshot(NamedTuple):
    version: int
    position: int
    size: int
    state: Any  # the stored dict


async def latest_snapshot(conn: AsyncConnection, stream_id: str, until_position: int | None = None) -> Snapshot | None:
    """The newest snapshot at or below the position."""
    query = select(snapshots.c.version, snapshots.c.position, snapshots.c.state).where(
        snapshots.c.stream_id == stream_id
    )
    if until_position is not None:
        query = query.where(snapshots.c.position <= until_position)
    row = (await conn.execute(query.order_by(snapshots.c.version.desc()).limit(1))).first()
    return None if row is None else Snapshot(row.version, row.position, len(row.state), orjson.loads(row.state))


async def _last_written(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, tuple[int, int]]:
    """stream -> (version, size) of its newest snapshot, without loading the states."""
    newest = (
        select(snapshots.c.stream_id, func.max(snapshots.c.version).label("version"))
        .where(snapshots.c.stream_id.in_(stream_ids))
        .group_by(snapshots.c.stream_id)
        .subquery()
    )
    rows = await conn.execute(
        select(snapshots.c.stream_id, snapshots.c.version, func.length(snapshots.c.state)).join(
            newest, (newest.c.stream_id == snapshots.c.stream_id) & (newest.c.version == snapshots.c.version)
        )
    )
    return {r[0]: (r[1], r[2]) for r in rows}


async def fold_as_of(
    conn: AsyncConnection, store: EventStore, stream_id: str, position: int | None, extra: Sequence[RecordedEvent] = (),
    *, use_snapshots: bool = True,
) -> Any:
    """The stream's state at `position` (None: the head), from the nearest snapshot at or
    below it, refolded from the start when the snapshot cannot answer (see ``sound``) or
    without `use_snapshots`. `extra`: events of this transaction not yet readable (inline apply)."""
    spec = SNAPSHOTTED[category_of(stream_id)]
    snap = await latest_snapshot(conn, stream_id, position) if use_snapshots else None
    for start in ((0, None) if snap is None else (snap.version, snap.state), (0, None)):
        version, stored = start
        state = spec.from_dict(stored)
        later = await store.read_stream(stream_id, version, until_position=position, conn=conn)
        seen = {e.stream_version for e in later}
        later += [e for e in extra if e.stream_id == stream_id and e.stream_version > version and e.stream_version not in seen]
        later.sort(key=lambda e: e.stream_version)
        for event in later:
            state = spec.evolve(state, event)
        if version == 0 or spec.sound(stored, state):
            return state
    raise AssertionError("unreachable")


class SnapshotProjection:
    name = "snapshots"
    tables = (snapshots,)

    def __init__(self, store: EventStore | None = None) -> None:
        # Only for the stream reads of `apply`; rebuild needs none.
        self.store = store

    def handles(self, event: RecordedEvent) -> bool:
        return category_of(event.stream_id) in SNAPSHOTTED

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        candidates = [e for e in events if e.stream_version % SNAPSHOT_EVERY == 0]
        if not candidates:
            return
        if self.store is None:
            raise RuntimeError("SnapshotProjection needs the store to apply events inline")
        last = await _last_written(conn, sorted({e.stream_id for e in candidates}))
        for target in sorted(candidates, key=lambda e: (e.stream_id, e.stream_version)):
            version, size = last.get(target.stream_id, (0, 0))
            if not due(target.stream_version, version, size):
                continue
            spec = SNAPSHOTTED[category_of(target.stream_id)]
            upto = [e for e in events if e.stream_id == target.stream_id and e.stream_version <= target.stream_version]
            state = await fold_as_of(conn, self.store, target.stream_id, target.position, upto)
            text = encode(spec.to_dict(state))
            # Written at once, so a later snapshot of this stream in this batch starts from it.
            await _insert(conn, [{"stream_id": target.stream_id, "version": target.stream_version,
                                  "position": target.position, "state": text}])
            last[target.stream_id] = (target.stream_version, len(text))

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        every = SNAPSHOT_EVERY
        states: dict[str, Any] = {}
        last: dict[str, tuple[int, int]] = {}
        rows: list[dict[str, Any]] = []
        specs = {c: (s.evolve, s.to_dict) for c, s in SNAPSHOTTED.items()}
        async for batch in batches:
            for event in batch:
                stream_id = event.stream_id
                evolve, to_dict = specs[stream_id.split("-", 1)[0]]
                state = states[stream_id] = evolve(states.get(stream_id), event)
                version = event.stream_version
                if version % every == 0:
                    last_version, size = last.get(stream_id, (0, 0))
                    if due(version, last_version, size):
                        text = encode(to_dict(state))
                        rows.append({"stream_id": stream_id, "version": version,
                                     "position": event.position, "state": text})
                        last[stream_id] = (version, len(text))
        await _insert(conn, rows)


async def _insert(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        await conn.execute(snapshots.insert(), rows[start : start + 5000])
