"""Reading the whole log fast: for replay, rebuild and catch-up.

`read_log` yields the log in position order, in pages. On PostgreSQL it goes
straight to asyncpg: keyset pages (`position > last seen`) from one prepared
statement, with the next page requested before the current one is handed over,
so the server reads it while the caller folds. Data is upcast only for
(type, schema version) pairs that have an upcaster. Elsewhere (SQLite) it uses
the store's portable reads. Either way the events are the same `RecordedEvent`s
`EventStore.decode` makes.
"""

from __future__ import annotations

import asyncio
import gc
from contextlib import aclosing, asynccontextmanager, contextmanager
from typing import Any, AsyncIterator, Callable, Iterator, Mapping

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from eventstore.store import EventStore
from eventstore.upcasting import Upcasters

Evolve = Callable[[Any, RecordedEvent], Any]

PAGE = 20_000
_NO_LIMIT = 2**62

_PAGE_SQL = (
    "SELECT position, event_id, stream_id, stream_version, type, schema_version,"
    " data, metadata, recorded_at, hash FROM events"
    " WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3"
)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a whole log is folded into memory.

    A fold allocates millions of long-lived objects (events, states), and each
    collection walks all of them: with the collector on, reading and folding a large
    log spends a good part of its time there. Reference counting still frees what is
    dropped; the collector resumes (if it was on) when the fold ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _decoder(upcasters: Upcasters) -> Callable[[list[Any]], list[RecordedEvent]]:
    loads = orjson.loads
    make = RecordedEvent
    current: dict[str, int] = {}  # type -> schema version new events are written at
    # asyncpg hands timestamptz back as aware UTC datetimes: nothing for `aware` to do.

    def decode(rows: list[Any]) -> list[RecordedEvent]:
        out = []
        append = out.append
        for position, event_id, stream_id, version, type_, schema, data, meta, at, hash_ in rows:
            data = loads(data)
            if upcasters:
                now = current.get(type_)
                if now is None:
                    now = current[type_] = upcasters.current_version(type_)
                # An upcaster exists only for versions below the current one.
                if schema != now:
                    schema, data = upcasters.upcast(type_, schema, data)
            append(make(position, event_id, stream_id, version, type_, schema, data, loads(meta), at, hash_))
        return out

    return decode


@asynccontextmanager
async def _connection(store: EventStore, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
    if conn is not None:
        yield conn
    else:
        async with store.engines.read.connect() as c:
            yield c


async def read_log(
    store: EventStore, after: int = 0, until: int | None = None, page: int = PAGE,
    conn: AsyncConnection | None = None,
) -> AsyncIterator[list[RecordedEvent]]:
    """Every event after `after` (up to `until`), in position order, a page at a time.

    With `conn` it reads on that connection (inside its transaction); the caller must
    not use the connection for anything else until the iteration ends, and a caller
    that may stop early iterates inside `contextlib.aclosing` (so the page in flight
    is collected before the connection is used again).
    """
    if store.engines.dialect != "postgresql":
        async for chunk in store.iter_all(after, until=until, batch=page, conn=conn):
            yield chunk
        return
    decode = _decoder(store.upcasters)
    async with _connection(store, conn) as c:
        raw = (await c.get_raw_connection()).driver_connection
        statement = await raw.prepare(_PAGE_SQL)
        limit = _NO_LIMIT if until is None else until
        pending: asyncio.Future | None = asyncio.ensure_future(statement.fetch(after, limit, page))
        try:
            while pending is not None:
                rows = await pending
                pending = None
                if not rows:
                    return
                if len(rows) == page:  # maybe more: ask for the next page now
                    pending = asyncio.ensure_future(statement.fetch(rows[-1][0], limit, page))
                    await asyncio.sleep(0)  # let it send the query before the caller folds
                yield decode(rows)
        finally:
            if pending is not None:  # the caller stopped early: let the query finish on the connection
                await asyncio.gather(pending, return_exceptions=True)


async def fold_log(
    store: EventStore, evolvers: Mapping[str, Evolve], until: int | None = None,
) -> tuple[dict[str, Any], int]:
    """Every stream's state, folded with its category's own evolve (the category is the
    stream id's prefix); returns (states by stream id, events read)."""
    states: dict[str, Any] = {}
    evolve_of: dict[str, Evolve] = {}  # stream id -> its evolve, looked up once per stream
    count = 0
    get = states.get
    with paused_gc():
        async with aclosing(read_log(store, until=until)) as pages:
            async for chunk in pages:
                for event in chunk:
                    stream = event.stream_id
                    evolve = evolve_of.get(stream)
                    if evolve is None:
                        evolve = evolve_of[stream] = evolvers[stream.split("-", 1)[0]]
                    states[stream] = evolve(get(stream), event)
                count += len(chunk)
    return states, count
