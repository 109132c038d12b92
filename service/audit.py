"""The auditor's reads: the log filtered through ``rm_event_index``, causation walks,
state as of a log position or a time (folded from the nearest snapshot), and the
hash-chain check.

Events are shown as stored (no upcasting): the bytes the hash chain covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Sequence

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from domain.errors import InvalidInput
from eventstore.codec import GENESIS_HASH
from eventstore.store import aware
from eventstore.tables import events
from eventstore.verify import ChainReport, verify_chain
from projections.snapshots import fold_as_of
from projections.tables import event_index
from service.offload import run_heavy

# A transitive causes/consequences walk stops after this many events.
MAX_WALK = 1000


@dataclass(frozen=True)
class LogEntry:
    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: Any
    metadata: dict[str, Any]
    recorded_at: datetime
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class EventFilter:
    stream_id: str | None = None
    types: Sequence[str] | None = None
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in vars(self).values())

    def matches(self, e: LogEntry) -> bool:
        """The same test as the SQL conditions, for events arriving live."""
        m = e.metadata
        return (
            (self.stream_id is None or e.stream_id == self.stream_id)
            and (self.types is None or e.type in self.types)
            and (self.actor is None or m.get("actor") == self.actor)
            and (self.correlation_id is None or m.get("correlation_id") == self.correlation_id)
            and (self.causation_id is None or m.get("causation_id") == self.causation_id)
            and (self.since is None or e.recorded_at >= self.since)
            and (self.until is None or e.recorded_at <= self.until)
        )


def utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InvalidInput("times need a zone (ISO 8601 with an offset)", field="time")
    return at.astimezone(timezone.utc)


def _conditions(f: EventFilter) -> list[Any]:
    c = event_index.c
    out: list[Any] = []
    if f.stream_id is not None:
        out.append(c.stream_id == f.stream_id)
    if f.types is not None:
        out.append(c.type.in_(list(f.types)))
    if f.actor is not None:
        out.append(c.actor == f.actor)
    if f.correlation_id is not None:
        out.append(c.correlation_id == f.correlation_id)
    if f.causation_id is not None:
        out.append(c.causation_id == f.causation_id)
    if f.since is not None:
        out.append(c.recorded_at >= utc(f.since))
    if f.until is not None:
        out.append(c.recorded_at <= utc(f.until))
    return out


_prev = aliased(events)
_SELECT = select(
    events.c.position, events.c.event_id, events.c.stream_id, events.c.stream_version, events.c.type,
    events.c.schema_version, events.c.data, events.c.metadata, events.c.recorded_at, events.c.hash,
    _prev.c.hash.label("prev_hash"),
).select_from(events.outerjoin(_prev, _prev.c.position == events.c.position - 1))


def entry(row: Any) -> LogEntry:
    return LogEntry(
        position=row.position,
        event_id=row.event_id,
        stream_id=row.stream_id,
        stream_version=row.stream_version,
        type=row.type,
        schema_version=row.schema_version,
        data=orjson.loads(row.data),
        metadata=orjson.loads(row.metadata),
        recorded_at=aware(row.recorded_at),
        hash=row.hash,
        prev_hash=row.prev_hash or GENESIS_HASH,
    )


@dataclass(frozen=True)
class EventPage:
    items: list[LogEntry]
    has_next: bool
    total: int


async def event_page(container: Any, f: EventFilter, first: int, after: int) -> EventPage:
    """Events matching the filter, oldest first, after position `after`."""
    conditions = _conditions(f)
    positions = select(event_index.c.position).where(*conditions)
    if after:
        positions = positions.where(event_index.c.position > after)
    positions = positions.order_by(event_index.c.position).limit(first + 1).subquery()
    query = _SELECT.where(events.c.position.in_(select(positions.c.position))).order_by(events.c.position)
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(query)).all()
        if f.empty:
            total = (await container.store.head(conn))[0]  # positions are contiguous
        else:
            total = (await conn.execute(select(func.count()).select_from(event_index).where(*conditions))).scalar_one()
    return EventPage([entry(r) for r in rows[:first]], len(rows) > first, int(total))


async def entries_at(container: Any, positions: Sequence[int]) -> list[LogEntry]:
    if not positions:
        return []
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(_SELECT.where(events.c.position.in_(list(positions))).order_by(events.c.position))).all()
    return [entry(r) for r in rows]


async def entries_after(container: Any, after: int, limit: int = 1000) -> list[LogEntry]:
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(_SELECT.where(events.c.position > after).order_by(events.c.position).limit(limit))).all()
    return [entry(r) for r in rows]


async def tail(container: Any, after: int, poll: float = 0.5) -> AsyncIterator[LogEntry]:
    """Follow the log from `after`, as stored: ``EventStore.tail`` (woken early by this
    process's appends, polling for other processes'), but reading the stored form with
    each event's previous hash, in batches."""
    while True:
        chunk = await entries_after(container, after)
        for e in chunk:
            yield e
            after = e.position
        if not chunk:
            await container.store.wait_for_append(poll)


async def causes(container: Any, e: LogEntry, transitive: bool = False) -> list[LogEntry]:
    """The event that caused `e` (its causation id is that event's id); with `transitive`,
    that event's cause too, and so on back to the command: nearest first."""
    out: list[LogEntry] = []
    current = e
    async with container.read_engine.connect() as conn:
        while len(out) < MAX_WALK:
            causation = current.metadata.get("causation_id")
            if not causation:
                break
            position = (
                await conn.execute(select(event_index.c.position).where(event_index.c.event_id == causation))
            ).scalar()
            if position is None:  # a command's id: the chain starts here
                break
            row = (await conn.execute(_SELECT.where(events.c.position == position))).one()
            current = entry(row)
            out.append(current)
            if not transitive:
                break
    return out


async def consequences(container: Any, e: LogEntry, transitive: bool = False) -> list[LogEntry]:
    """Events whose causation id is this event's id; with `transitive`, theirs too (by position)."""
    found: dict[int, LogEntry] = {}
    frontier = [e.event_id]
    async with container.read_engine.connect() as conn:
        while frontier and len(found) < MAX_WALK:
            positions = (
                await conn.execute(
                    select(event_index.c.position)
                    .where(event_index.c.causation_id.in_(frontier))
                    .order_by(event_index.c.position)
                    .limit(MAX_WALK - len(found))
                )
            ).scalars().all()
            rows = (await conn.execute(_SELECT.where(events.c.position.in_(list(positions))))).all() if positions else []
            new = [entry(r) for r in rows if r.position not in found]
            for n in new:
                found[n.position] = n
            frontier = [n.event_id for n in new] if transitive else []
    return [found[p] for p in sorted(found)]


# --- as of ------------------------------------------------------------------------


async def resolve_as_of(container: Any, position: int | None, time: datetime | None) -> int:
    """The log position an as-of point names: a position as given, or the last event
    recorded at or before the time (recorded_at never goes backwards along the log)."""
    if (position is None) == (time is None):
        raise InvalidInput("asOf takes exactly one of position and time", field="asOf")
    if position is not None:
        if position < 0:
            raise InvalidInput("asOf.position must not be negative", field="asOf.position")
        return position
    async with container.read_engine.connect() as conn:
        found = (
            await conn.execute(select(func.max(event_index.c.position)).where(event_index.c.recorded_at <= utc(time)))
        ).scalar()
    return int(found or 0)


async def state_as_of(container: Any, stream_id: str, position: int) -> Any:
    """The stream's folded state as it stood at `position` (None before it existed):
    the newest snapshot at or below the position, then the events after it."""
    async with container.read_engine.connect() as conn:
        return await fold_as_of(conn, container.store, stream_id, position)


async def created_by(
    container: Any, table: Any, position: int, after: int, first: int, *where: Any
) -> tuple[list[str], bool, int]:
    """Ids of rows of an entity read model created at or before `position` (pagination by
    creation); `where`: conditions on columns that never change (e.g. an objective's journey)."""
    conditions = [table.c.created_position <= position, *where]
    query = select(table.c.id, table.c.created_position).where(*conditions, table.c.created_position > after)
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(query.order_by(table.c.created_position).limit(first + 1))).all()
        total = (await conn.execute(select(func.count()).select_from(table).where(*conditions))).scalar_one()
    return [(r.id, r.created_position) for r in rows[:first]], len(rows) > first, int(total)


async def integrity(container: Any) -> ChainReport:
    async with container.long_reads.slot("verify"):  # in the server's worker process (service/offload.py)
        return await run_heavy(container, chain_report)


async def chain_report(container: Any) -> ChainReport:
    return await verify_chain(container.engines)
