"""Reading the whole log fast: for replay, rebuild and catch-up.

`read_log` yields the log in position order, in pages. On PostgreSQL it goes
straight to asyncpg: pages that are bounded ranges of positions, from one prepared
statement, with the next page requested before the current one is handed over,
so the server reads it while the caller folds. Data is upcast only for
(type, schema version) pairs that have an upcaster. `fold_log` decodes and folds
each row in one loop. Elsewhere (SQLite) it uses
the store's portable reads. Either way the events are the same `RecordedEvent`s
`EventStore.decode` makes.
"""

from __future__ import annotations

import asyncio
import gc
from contextlib import aclosing, asynccontextmanager, contextmanager
from dataclasses import fields
from typing import Any, AsyncIterator, Callable, Iterator, Mapping, Sequence

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import RecordedEvent
from eventstore.pacing import SLICE
from eventstore.store import EventStore
from eventstore.upcasting import Upcasters

Evolve = Callable[[Any, RecordedEvent], Any]

PAGE = 20_000
_FIRST_PAGE = 1_000

_PAGE_SQL = (
    "SELECT position, event_id, stream_id, stream_version, type, schema_version,"
    " data, metadata, recorded_at, hash FROM events"
    " WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3"
)
_FOLD_SQL = _PAGE_SQL.replace(", hash FROM", " FROM")


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a whole log is folded into memory.

    A fold allocates millions of long-lived objects (events, states), and each
    collection walks all of them: with the collector on, reading and folding a large
    log spends a good part of its time there. Reference counting still frees what is
    dropped; the collector resumes (if it was on) when the fold ends.
    """
    was_enabled = gc.isenabled()
    # A process that froze its startup objects (service.gc_tuning) must keep them frozen:
    # `unfreeze` below would hand them back to the collector, so it is skipped there.
    frozen_before = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not frozen_before:
                # What the fold kept (the states) is long-lived by construction: move it
                # straight to the oldest generation (freeze, then unfreeze into it) rather
                # than let the first young collection walk every object of it. Cycles
                # among it are still found by the next full collection.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _event_maker() -> Callable[..., RecordedEvent]:
    """`RecordedEvent(...)` without the frozen dataclass's `__init__`, which sets each of
    its ten fields through `object.__setattr__` (about as much CPU as decoding the event's
    JSON): the same slots, filled through their descriptors. A test holds the result equal
    to the constructor's."""
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 = (getattr(RecordedEvent, f.name).__set__ for f in fields(RecordedEvent))
    new = object.__new__

    def make(position: int, event_id: str, stream_id: str, version: int, type_: str, schema: int,
             data: Any, meta: Any, at: Any, hash_: str) -> RecordedEvent:
        e = new(RecordedEvent)
        s0(e, position); s1(e, event_id); s2(e, stream_id); s3(e, version); s4(e, type_)  # noqa: E702
        s5(e, schema); s6(e, data); s7(e, meta); s8(e, at); s9(e, hash_)  # noqa: E702
        return e

    return make


make_event = _event_maker()


class JsonObject(Mapping[str, Any]):
    """A JSON object's text, decoded when first read: an event's metadata as a long read
    hands it over on request (`read_log(..., lazy_metadata=True)`), for a pass that reads
    the metadata of few of the events it folds. Equal to the dict it decodes to."""

    __slots__ = ("_text", "_value")

    def __init__(self, text: str | bytes) -> None:
        self._text = text
        self._value: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        value = self._value
        if value is None:
            value = self._value = orjson.loads(self._text)
        return value

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._decoded().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._decoded()

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __eq__(self, other: object) -> bool:
        return self._decoded() == (other._decoded() if isinstance(other, JsonObject) else other)

    __hash__ = None  # type: ignore[assignment]  # a dict's equal is not hashable either

    def __repr__(self) -> str:
        return repr(self._decoded())


def _decoder(upcasters: Upcasters, hashed: bool = True,
             metadata: Callable[[Any], Mapping[str, Any]] = orjson.loads) -> Callable[[list[Any]], list[RecordedEvent]]:
    """Rows in `_PAGE_SQL`'s column order (`_FOLD_SQL`'s when not `hashed`) to events, each
    event's metadata made by `metadata` from its text."""
    loads = orjson.loads
    meta_of = metadata
    make = make_event
    stale = _upcast_check(upcasters)
    # asyncpg hands timestamptz back as aware UTC datetimes: nothing for `aware` to do.

    def decode_unhashed(rows: list[Any]) -> list[RecordedEvent]:
        out = []
        append = out.append
        for position, event_id, stream_id, version, type_, schema, data, meta, at in rows:
            data = loads(data)
            if stale is not None and stale(type_, schema):
                schema, data = upcasters.upcast(type_, schema, data)
            append(make(position, event_id, stream_id, version, type_, schema, data, meta_of(meta), at, ""))
        return out

    def decode(rows: list[Any]) -> list[RecordedEvent]:
        out = []
        append = out.append
        for position, event_id, stream_id, version, type_, schema, data, meta, at, hash_ in rows:
            data = loads(data)
            if stale is not None and stale(type_, schema):
                schema, data = upcasters.upcast(type_, schema, data)
            append(make(position, event_id, stream_id, version, type_, schema, data, meta_of(meta), at, hash_))
        return out

    return decode if hashed else decode_unhashed


def decode_rows(store: EventStore, rows: Sequence[Any]) -> list[RecordedEvent]:
    """Rows of the events table (every column, in its order) as `EventStore.decode` makes
    them: on PostgreSQL through the page decoder (no dataclass `__init__`, no column
    lookups by name), elsewhere through `decode` itself (SQLite's times need `aware`)."""
    if store.engines.dialect != "postgresql":
        return [store.decode(r) for r in rows]
    return _decoder(store.upcasters)(rows)


def _upcast_check(upcasters: Upcasters) -> Callable[[str, int], bool] | None:
    """Whether an event of (type, schema version) needs upcasting; None when nothing ever
    does. An upcaster exists only for versions below the one new events are written at,
    so an event at that version (almost all) needs no upcast call."""
    if not upcasters:
        return None
    current: dict[str, int] = {}

    def stale(type_: str, schema: int) -> bool:
        now = current.get(type_)
        if now is None:
            now = current[type_] = upcasters.current_version(type_)
        return schema != now

    return stale


@asynccontextmanager
async def _connection(store: EventStore, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
    if conn is not None:
        yield conn
    else:
        async with store.engines.read.connect() as c:
            yield c


async def _pages(
    store: EventStore, sql: str, after: int, until: int | None, page: int, conn: AsyncConnection | None,
) -> AsyncIterator[list[Any]]:
    """PostgreSQL: the rows of `sql` (position first; after $1, up to $2, at most $3 rows),
    a page at a time, the next page requested before this one is handed over.

    Each page asks for a range of positions as wide as the page (`until` defaults to the
    head when the read starts), not for "the next N after P up to the end": with no column
    statistics (a freshly loaded log, before any ANALYZE) the planner reads and sorts the
    whole rest of the log for that on every page, while a bounded range costs one page
    whatever the plan. Positions are contiguous, so a range of N positions holds N events;
    the next range starts where this one ended, not after its last row, so a missing row
    would not end the read early. The first pages are smaller (growing to `page`), so
    folding starts while the server reads on.
    """
    async with _connection(store, conn) as c:
        raw = (await c.get_raw_connection()).driver_connection
        if until is None:
            until = await raw.fetchval("SELECT position FROM log_head WHERE id = 1")
        statement = await raw.prepare(sql)
        size = min(page, _FIRST_PAGE)

        def fetch(lo: int) -> tuple[asyncio.Future, int]:
            hi = min(lo + size, until)
            return asyncio.ensure_future(statement.fetch(lo, hi, size)), hi

        pending, hi = fetch(after) if after < until else (None, after)
        try:
            while pending is not None:
                rows = await pending
                pending = None
                if hi < until:  # more to read: ask for the next range now
                    size = min(size * 4, page)
                    pending, hi = fetch(hi)
                    await asyncio.sleep(0)  # let it send the query before the caller folds
                if rows:
                    yield rows
        finally:
            if pending is not None:  # the caller stopped early: let the query finish on the connection
                await asyncio.gather(pending, return_exceptions=True)


async def read_log(
    store: EventStore, after: int = 0, until: int | None = None, page: int = PAGE,
    conn: AsyncConnection | None = None, hashes: bool = True, chunk: int | None = None,
    lazy_metadata: bool = False,
) -> AsyncIterator[list[RecordedEvent]]:
    """Every event after `after` (up to `until`), in position order, a page at a time.

    `hashes=False` leaves the chain hash out (on PostgreSQL it is not read; the events
    carry ""): for a fold, which no evolve reads it for.
    `chunk` hands each page over in lists of at most that many events, on PostgreSQL each
    decoded just before it is handed over: a fold that is done with an event soon after
    reading it then never holds a whole page of decoded events (20,000 of them, their
    dicts and strings spread over more memory than the CPU caches hold, cost about a
    quarter more to read than the same rows decoded a hundred at a time).
    `lazy_metadata` (PostgreSQL) hands each event's metadata over as a `JsonObject`,
    decoded when first read: for a pass that reads few events' metadata (an event's
    metadata is about as long as its data, and decoding it is about a fifth of a read).
    With `conn` it reads on that connection (inside its transaction); the caller must
    not use the connection for anything else until the iteration ends, and a caller
    that may stop early iterates inside `contextlib.aclosing` (so the page in flight
    is collected before the connection is used again).
    """
    if store.engines.dialect != "postgresql":
        async for events in store.iter_all(after, until=until, batch=page, conn=conn):
            if chunk is None:
                yield events
            else:
                for i in range(0, len(events), chunk):
                    yield events[i:i + chunk]
        return
    decode = _decoder(store.upcasters, hashed=hashes, metadata=JsonObject if lazy_metadata else orjson.loads)
    # a fold reads no chain hash: the rows leave it out, the events carry ""
    async with aclosing(_pages(store, _PAGE_SQL if hashes else _FOLD_SQL, after, until, page, conn)) as pages:
        async for rows in pages:
            if chunk is None:
                yield decode(rows)
            else:
                for i in range(0, len(rows), chunk):
                    yield decode(rows[i:i + chunk])


async def fold_log(
    store: EventStore, evolvers: Mapping[str, Evolve], until: int | None = None, page: int = PAGE,
) -> tuple[dict[str, Any], int]:
    """Every stream's state, folded with its category's own evolve (the category is the
    stream id's prefix); returns (states by stream id, events read).

    On PostgreSQL the rows are decoded and folded in one loop, without the chain hash
    (no evolve reads it: the events it hands over carry an empty `hash`).
    """
    # stream id -> [its evolve (looked up once per stream), its state]: one lookup an event
    folds: dict[str, list[Any]] = {}
    count = 0
    with paused_gc():
        if store.engines.dialect != "postgresql":
            async with aclosing(read_log(store, until=until, page=page)) as chunks:
                async for chunk in chunks:
                    for event in chunk:
                        if not event.position % SLICE:
                            await asyncio.sleep(0)  # let other requests in (eventstore/pacing.py)
                        _fold_one(folds, evolvers, event)
                    count += len(chunk)
        else:
            count = await _fold_rows(store, evolvers, until, page, folds)
    return {stream: f[1] for stream, f in folds.items()}, count


def _fold_one(folds: dict[str, list[Any]], evolvers: Mapping[str, Evolve], event: RecordedEvent) -> None:
    f = folds.get(event.stream_id)
    if f is None:
        f = folds[event.stream_id] = [evolvers[event.stream_id.split("-", 1)[0]], None]
    f[1] = f[0](f[1], event)


async def _fold_rows(
    store: EventStore, evolvers: Mapping[str, Evolve], until: int | None, page: int,
    folds: dict[str, list[Any]],
) -> int:
    loads, make, stale, upcast = orjson.loads, make_event, _upcast_check(store.upcasters), store.upcasters.upcast
    get = folds.get
    count = 0
    async with aclosing(_pages(store, _FOLD_SQL, 0, until, page, None)) as pages:
        async for rows in pages:
            for position, event_id, stream_id, version, type_, schema, data, meta, at in rows:
                if not position % SLICE:
                    await asyncio.sleep(0)  # let other requests in (eventstore/pacing.py)
                data = loads(data)
                if stale is not None and stale(type_, schema):
                    schema, data = upcast(type_, schema, data)
                event = make(position, event_id, stream_id, version, type_, schema, data, loads(meta), at, "")
                f = get(stream_id)
                if f is None:
                    f = folds[stream_id] = [evolvers[stream_id.split("-", 1)[0]], None]
                f[1] = f[0](f[1], event)
            count += len(rows)
    return count
