"""Running projections: inline in the appending transaction, catch-up from a
checkpoint, and rebuild from the whole log.

Each projection records the last position it has folded in `checkpoints`.
Inline projections advance it in the same transaction as the events, so their
checkpoint always equals the log head. Rebuild takes the append lock, so no
event can land between the wipe and the refold, then (PostgreSQL) its tables in the
one order readers take them too (projections/locking.py).
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from functools import lru_cache
from typing import Any, AsyncIterator, Protocol, Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from eventstore.reader import PAGE, paused_gc, read_log
from eventstore.store import APPEND_LOCK_KEY, EventStore, active_transaction
from eventstore.tables import checkpoints
from projections.bulk import indexes_rebuilt_after
from projections.locking import lock_for_rebuild


class Projection(Protocol):
    name: str
    tables: tuple[Any, ...]

    async def apply(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        """Fold these events (already filtered to ones it handles) into its rows."""

    async def rebuild(self, conn: AsyncConnection, batches: AsyncIterator[list[RecordedEvent]]) -> None:
        """Fold the whole log into empty tables (may hold everything in memory).

        It must not use `conn` until `batches` is exhausted (the rebuild may read
        the log on that connection, and other projections write on it), unless it
        sets `writes_while_folding` and writes only on PostgreSQL: see
        `ProjectionSet._refold`.
        """

    def handles(self, event: RecordedEvent) -> bool:
        """Whether it folds this event. Rebuild asks once per stream (the first event's
        answer stands for the stream), so it must depend on the stream alone."""


async def _set_checkpoint(conn: AsyncConnection, name: str, position: int) -> None:
    await _set_checkpoints(conn, [name], position)


@lru_cache(maxsize=16)
def _checkpoints_upsert(count: int) -> Any:
    # Plain SQL both databases take (SQLite >= 3.24), built once per projection count.
    rows = ", ".join(f"(:n{i}, :position)" for i in range(count))
    return text(
        f"INSERT INTO {checkpoints.name} (projection, position) VALUES {rows} "
        "ON CONFLICT (projection) DO UPDATE SET position = excluded.position"
    )


async def _set_checkpoints(conn: AsyncConnection, names: Sequence[str], position: int) -> None:
    params: dict[str, Any] = {f"n{i}": name for i, name in enumerate(names)}
    params["position"] = position
    await conn.execute(_checkpoints_upsert(len(names)), params)


async def checkpoint_of(conn: AsyncConnection, name: str) -> int:
    row = (
        await conn.execute(select(checkpoints.c.position).where(checkpoints.c.projection == name))
    ).first()
    return row.position if row else 0


# Streams whose inline projections are remembered (`ProjectionSet.shares`), at most.
ROUTES_KEPT = 100_000


class ProjectionSet:
    def __init__(self, store: EventStore, inline: Sequence[Projection]) -> None:
        self.store = store
        self.inline = list(inline)
        self.page = PAGE  # events per read of the log in a rebuild
        # stream id -> the indexes in `inline` of the projections that handle its events
        self._routes: dict[str, tuple[int, ...]] = {}

    def shares(self, events: Sequence[RecordedEvent]) -> list[list[RecordedEvent]]:
        """Each inline projection's events, in log order. Which projections handle a stream
        is asked once and remembered (the answer depends on the stream alone): a collection
        round appends to the same thousand streams every minute, and asking each of a dozen
        projections about each event cost more than their own work on most of them."""
        shares: list[list[RecordedEvent]] = [[] for _ in self.inline]
        routes = self._routes
        for event in events:
            route = routes.get(event.stream_id)
            if route is None:
                if len(routes) >= ROUTES_KEPT:
                    routes.clear()
                route = routes[event.stream_id] = tuple(
                    i for i, p in enumerate(self.inline) if p.handles(event))
            for i in route:
                shares[i].append(event)
        return shares

    def names(self) -> list[str]:
        return [p.name for p in self.inline]

    async def apply_inline(self, conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
        if not events:
            return
        for projection, relevant in zip(self.inline, self.shares(events)):
            if relevant:
                await projection.apply(conn, relevant)
        # Inline checkpoints all equal the head: one statement, not one per projection
        # (each is a round trip inside the append lock, on every batch); on PostgreSQL
        # it rides in the store's flush of the events.
        tx = active_transaction(conn)
        if tx is not None and tx.writes_checkpoints:
            tx.set_checkpoints(self.names(), events[-1].position)
        else:
            await _set_checkpoints(conn, self.names(), events[-1].position)

    async def rebuild(self, names: Sequence[str] | None = None) -> dict[str, int]:
        """Drop and refold read models; returns events folded per projection.

        The log is read and decoded once and fed to every projection (each
        folds in memory while the reader fetches the next chunk); then each
        writes its rows in turn on the one connection.
        """
        chosen = [p for p in self.inline if names is None or p.name in names]
        unknown = set(names or ()) - {p.name for p in chosen}
        if unknown:
            raise ValueError(f"unknown projections: {', '.join(sorted(unknown))}")
        counts = {p.name: 0 for p in chosen}
        async with self.store.engines.write.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK_KEY})
            tables = [t for p in chosen for t in p.tables]
            # Every table at once, in the order the gate's reads take them (a deadlock otherwise).
            await lock_for_rebuild(conn, tables)
            head, _ = await self.store.head(conn)
            async with indexes_rebuilt_after(conn, tables):
                if conn.dialect.name == "postgresql":
                    # Rebuilding the indexes has locked these tables already; TRUNCATE then
                    # costs nothing per row (DELETE would visit every one).
                    await conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)))
                else:
                    for table in reversed(tables):
                        await conn.execute(delete(table))
                await self._refold(conn, chosen, head, counts)
            for projection in chosen:
                await _set_checkpoint(conn, projection.name, head)
        return counts

    async def _refold(
        self, conn: AsyncConnection, chosen: list[Projection], head: int, counts: dict[str, int]
    ) -> None:
        """Read the log once, feed every chosen projection, let each write its rows.

        On PostgreSQL the log is read on a second connection (opened under the append
        lock, so it sees exactly the log up to `head`), which leaves `conn` free: a
        projection that `writes_while_folding` (the event index) writes each batch as it
        comes, so the server stores rows while Python folds. Those projections are
        closed first, and the others write only after their end, so no two ever use
        `conn` at once. Elsewhere the log is read on `conn` and every projection writes
        after the end.
        """
        if conn.dialect.name == "postgresql":
            async with self.store.engines.write.connect() as reader:
                await self._feed(conn, reader, chosen, head, counts)
        else:
            await self._feed(conn, conn, chosen, head, counts)

    async def _feed(
        self, conn: AsyncConnection, reader: AsyncConnection, chosen: list[Projection], head: int,
        counts: dict[str, int],
    ) -> None:
        feeds = [_Feed() for _ in chosen]
        tasks = [asyncio.create_task(p.rebuild(conn, f.batches())) for p, f in zip(chosen, feeds)]
        for feed, task in zip(feeds, tasks):
            feed.consumer = task
        # Which projections handle a stream's events is asked once per stream.
        routes: dict[str, tuple[int, ...]] = {}
        try:
            with paused_gc():
                async with aclosing(read_log(self.store, 0, until=head, page=self.page, conn=reader)) as pages:
                    async for chunk in pages:
                        parts: list[list[RecordedEvent]] = [[] for _ in chosen]
                        for event in chunk:
                            route = routes.get(event.stream_id)
                            if route is None:
                                route = routes[event.stream_id] = tuple(
                                    i for i, p in enumerate(chosen) if p.handles(event)
                                )
                            for i in route:
                                parts[i].append(event)
                        for projection, feed, part in zip(chosen, feeds, parts):
                            if part:
                                counts[projection.name] += len(part)
                                await feed.put(part)
                # From here each projection writes on the shared connection: one at a time,
                # those already writing first.
                first = [f for p, f in zip(chosen, feeds) if getattr(p, "writes_while_folding", False)]
                for feed in first + [f for f in feeds if f not in first]:
                    await feed.close()
                    await feed.consumer
        finally:
            for task in tasks:
                task.cancel()

    async def catch_up(self, conn: AsyncConnection, projection: Projection) -> int:
        """Fold what a projection has not seen yet; returns how many events it folded."""
        after = await checkpoint_of(conn, projection.name)
        folded = 0
        async for chunk in self.store.iter_all(after, conn=conn):
            relevant = [e for e in chunk if projection.handles(e)]
            if relevant:
                await projection.apply(conn, relevant)
            folded += len(relevant)
            await _set_checkpoint(conn, projection.name, chunk[-1].position)
        return folded


class _Feed:
    """Hands one reader's chunks to one projection's rebuild, a chunk at a time."""

    _END: list[RecordedEvent] = []

    def __init__(self) -> None:
        self._queue: asyncio.Queue[list[RecordedEvent]] = asyncio.Queue(maxsize=1)
        self.consumer: asyncio.Task | None = None

    async def put(self, chunk: list[RecordedEvent]) -> None:
        # If the projection failed, raise its error rather than wait on a full queue.
        put = asyncio.ensure_future(self._queue.put(chunk))
        done, _ = await asyncio.wait({put, self.consumer}, return_when=asyncio.FIRST_COMPLETED)
        if put not in done:
            put.cancel()
            self.consumer.result()
            raise RuntimeError("a projection stopped reading before the end of the log")

    async def close(self) -> None:
        await self.put(self._END)

    async def batches(self) -> AsyncIterator[list[RecordedEvent]]:
        while (chunk := await self._queue.get()) is not self._END:
            yield chunk
