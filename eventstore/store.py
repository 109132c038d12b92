"""Append, read and tail the log.

Appends happen inside `EventStore.transaction()`, which takes the one global
append lock (PostgreSQL: a transaction-level advisory lock; SQLite: the single
writer's BEGIN IMMEDIATE) and reads the log head. Everything appended in that
transaction gets the next contiguous positions and extends the hash chain; the
head row is advanced in the same transaction. Because the lock is held until
commit, transactions become visible in position order: a reader that has seen
position N never later finds a new event below N.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, AsyncIterator, Callable, Iterable, Mapping, NamedTuple, Sequence

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.errors import Conflict, InvalidInput
from domain.events import NewEvent, RecordedEvent
from eventstore.codec import Unstorable, chain_hash, iso, storable
from eventstore.engine import Engines
from eventstore.ids import new_id
from eventstore.sqlite_bulk import insert_tuples
from eventstore.tables import events, idempotency_keys, log_head, streams
from eventstore.upcasting import Upcasters

# Any fixed 64-bit number unique to this application's advisory locks.
APPEND_LOCK_KEY = 0x510607
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything the store writes is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


# What a read of the log selects (also the budget reads' own event queries).
EVENT_COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.stream_id,
    events.c.stream_version,
    events.c.type,
    events.c.schema_version,
    events.c.data,
    events.c.metadata,
    events.c.recorded_at,
    events.c.hash,
)


_ACTIVE: ContextVar["AppendTransaction | None"] = ContextVar("slogov_append_transaction", default=None)


def active_transaction(conn: AsyncConnection) -> "AppendTransaction | None":
    """The append transaction this task runs on `conn`, if any: an inline projection
    can use the states its writer already folded (`AppendTransaction.folded`)."""
    tx = _ACTIVE.get()
    return tx if tx is not None and tx.conn is conn else None


class _Head(NamedTuple):
    position: int
    hash: str
    recorded_at: datetime | None


class EventStore:
    def __init__(
        self, engines: Engines, upcasters: Upcasters | None = None, clock: Clock = utc_now
    ) -> None:
        self.engines = engines
        self.upcasters = upcasters or Upcasters()
        self.clock = clock
        self._appended = asyncio.Event()

    # ---- writing -------------------------------------------------------

    @asynccontextmanager
    async def transaction(self, streams: Iterable[str] = ()) -> AsyncIterator["AppendTransaction"]:
        """Take the append lock and read the head; `streams`: versions to load with it."""
        if self.engines.dialect == "postgresql":
            opened = self._pg_transaction(list(dict.fromkeys(streams)))
        else:
            opened = self._sqlite_transaction(streams)
        async with opened as tx:
            token = _ACTIVE.set(tx)
            try:
                yield tx
                await tx.flush()
            finally:
                _ACTIVE.reset(token)
        if tx.appended:
            self._wake()

    @asynccontextmanager
    async def _pg_transaction(self, wanted: list[str]) -> AsyncIterator["AppendTransaction"]:
        # The transaction is the driver's own, on a connection from the read engine (the
        # same pool, in autocommit mode, so SQLAlchemy opens no transaction of its own):
        # through SQLAlchemy, BEGIN, the lock and COMMIT cost ~0.2 ms more CPU and wall
        # time per transaction, which every batch pays under the lock. Statements that
        # projections send through the SQLAlchemy connection run inside it all the same:
        # it is one session.
        async with self.engines.read.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            try:
                async with raw.transaction():
                    # Lock, head and stream versions in one round trip (migration 0007): the
                    # function reads them after the lock, each with a fresh snapshot, so they
                    # see every commit before ours.
                    rows = await raw.fetch(_PG_BEGIN_SQL, APPEND_LOCK_KEY, wanted)
                    tx = self._open(conn, _Head(rows[0]["version"], rows[0]["hash"], rows[0]["recorded_at"]))
                    tx._versions.update(dict.fromkeys(wanted, 0))  # streams not written yet
                    tx._versions.update((r["stream_id"], r["version"]) for r in rows[1:])
                    yield tx
            except BaseException:
                if raw.is_closed():  # the session died: keep it out of the pool
                    await conn.invalidate()
                raise

    @asynccontextmanager
    async def _sqlite_transaction(self, streams: Iterable[str]) -> AsyncIterator["AppendTransaction"]:
        async with self.engines.write.begin() as conn:  # BEGIN IMMEDIATE: the write lock
            head = (
                await conn.execute(
                    select(log_head.c.position, log_head.c.hash, log_head.c.recorded_at).where(log_head.c.id == 1)
                )
            ).one()
            tx = self._open(conn, head)
            await tx.load_versions(streams)
            yield tx

    def _open(self, conn: AsyncConnection, head: Any) -> "AppendTransaction":
        now = self.clock()
        if head.recorded_at is not None:
            now = max(now, aware(head.recorded_at))
        return AppendTransaction(self, conn, head.position, head.hash, now)

    def _wake(self) -> None:
        self._appended.set()
        self._appended = asyncio.Event()

    async def wait_for_append(self, timeout: float) -> None:
        """Sleep until this process appends something or `timeout` passes."""
        try:
            await asyncio.wait_for(self._appended.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    # ---- reading -------------------------------------------------------

    def decode(self, row: Any) -> RecordedEvent:
        data = orjson.loads(row.data)
        version = row.schema_version
        if self.upcasters:
            version, data = self.upcasters.upcast(row.type, version, data)
        return RecordedEvent(
            position=row.position,
            event_id=row.event_id,
            stream_id=row.stream_id,
            stream_version=row.stream_version,
            type=row.type,
            schema_version=version,
            data=data,
            metadata=orjson.loads(row.metadata),
            recorded_at=aware(row.recorded_at),
            hash=row.hash,
        )

    async def head(self, conn: AsyncConnection | None = None) -> tuple[int, str]:
        query = select(log_head.c.position, log_head.c.hash).where(log_head.c.id == 1)
        if conn is not None:
            row = (await conn.execute(query)).one()
        else:
            async with self.engines.read.connect() as c:
                row = (await c.execute(query)).one()
        return row.position, row.hash

    async def read_all(
        self, after: int = 0, limit: int = 1000, conn: AsyncConnection | None = None
    ) -> list[RecordedEvent]:
        query = (
            select(*EVENT_COLUMNS)
            .where(events.c.position > after)
            .order_by(events.c.position)
            .limit(limit)
        )
        if conn is not None:
            rows = (await conn.execute(query)).all()
        else:
            async with self.engines.read.connect() as c:
                rows = (await c.execute(query)).all()
        return [self.decode(r) for r in rows]

    async def iter_all(
        self, after: int = 0, until: int | None = None, batch: int = 5000,
        conn: AsyncConnection | None = None,
    ) -> AsyncIterator[list[RecordedEvent]]:
        """Every event after `after` (up to `until`), in position order, in batches."""
        while True:
            chunk = await self.read_all(after, batch, conn)
            if until is not None:
                chunk = [e for e in chunk if e.position <= until]
            if not chunk:
                return
            yield chunk
            after = chunk[-1].position
            if len(chunk) < batch:
                return

    async def read_stream(
        self,
        stream_id: str,
        after_version: int = 0,
        until_position: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[RecordedEvent]:
        query = (
            select(*EVENT_COLUMNS)
            .where(events.c.stream_id == stream_id, events.c.stream_version > after_version)
            .order_by(events.c.stream_version)
        )
        if until_position is not None:
            query = query.where(events.c.position <= until_position)
        if conn is not None:
            rows = (await conn.execute(query)).all()
        else:
            async with self.engines.read.connect() as c:
                rows = (await c.execute(query)).all()
        return [self.decode(r) for r in rows]

    async def idempotent_result(self, key: str) -> tuple[str, str, bytes] | None:
        """The stored (request_hash, stream_id, result) of an idempotency key already used,
        read outside any append (a caller may answer a retry before doing any work)."""
        query = select(idempotency_keys.c.request_hash, idempotency_keys.c.stream_id, idempotency_keys.c.result
                       ).where(idempotency_keys.c.key == key)
        async with self.engines.read.connect() as c:
            row = (await c.execute(query)).first()
        return None if row is None else (row.request_hash, row.stream_id, row.result.encode())

    async def tail(self, after: int = 0, poll: float = 0.5) -> AsyncIterator[RecordedEvent]:
        """Follow the log forever from `after`, waking early on local appends."""
        while True:
            chunk = await self.read_all(after, 1000)
            for event in chunk:
                yield event
                after = event.position
            if not chunk:
                await self.wait_for_append(poll)


class AppendTransaction:
    """One all-or-nothing append under the global lock.

    Commands in a group commit share it: each checks its own expected version
    against what the log plus the earlier commands of the batch say.
    """

    def __init__(
        self, store: EventStore, conn: AsyncConnection, position: int, head_hash: str, now: datetime
    ) -> None:
        self.store = store
        self.conn = conn
        self.now = now
        self._position = position
        self._hash = head_hash
        self._versions: dict[str, int] = {}
        self._touched: dict[str, int] = {}
        self._rows: list[dict[str, Any]] = []
        self._idempotency_rows: list[dict[str, Any]] = []
        # PostgreSQL statements that run as part of the flush's one statement (see `ride`).
        self._riders: list[tuple[str, tuple[Any, ...]]] = []
        self.appended: list[RecordedEvent] = []
        # (projection names, position): checkpoints the flush sets, in its own statement.
        self._checkpoints: tuple[list[str], int] | None = None
        # stream id -> (version, state): states the writer folded with the events of this
        # transaction, each exactly the fold of its stream up to that version.
        self.folded: dict[str, tuple[int, Any]] = {}

    @property
    def position(self) -> int:
        """The newest position, counting what this transaction has appended."""
        return self._position

    async def load_versions(self, stream_ids: Iterable[str]) -> None:
        versions = self._versions
        wanted = [s for s in stream_ids if s not in versions]
        if not wanted:
            return
        wanted = list(dict.fromkeys(wanted))
        if self.store.engines.dialect == "postgresql" and len(wanted) > 1:
            # One array parameter: an IN list of a thousand streams (a push for a thousand
            # objectives) costs SQLAlchemy more to render than the query takes.
            raw = await self.conn.get_raw_connection()
            rows = await raw.driver_connection.fetch(
                "SELECT stream_id, version FROM streams WHERE stream_id = ANY($1::varchar[])", wanted
            )
            found = {r["stream_id"]: r["version"] for r in rows}
        else:
            rows = await self.conn.execute(
                select(streams.c.stream_id, streams.c.version).where(streams.c.stream_id.in_(wanted))
            )
            found = dict(rows.all())
        for stream_id in wanted:
            self._versions[stream_id] = found.get(stream_id, 0)

    def knows(self, stream_id: str) -> bool:
        """Whether the stream's version is loaded (then `load_versions` has nothing to do)."""
        return stream_id in self._versions

    def version(self, stream_id: str) -> int:
        """Current version of a stream whose version was loaded (0: no such stream)."""
        return self._versions[stream_id]

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        """Events of a stream, including those appended earlier in this transaction."""
        flushed = await self.store.read_stream(stream_id, after_version, conn=self.conn)
        pending = [
            e for e in self.appended if e.stream_id == stream_id and e.stream_version > after_version
        ]
        seen = {e.position for e in flushed}
        return flushed + [e for e in pending if e.position not in seen]

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        metadata: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> list[RecordedEvent]:
        current = self._versions[stream_id]
        if expected_version is not None and expected_version != current:
            raise Conflict(
                f"{stream_id} is at version {current}, not the expected {expected_version}",
                stream_id=stream_id,
                expected_version=expected_version,
                actual_version=current,
            )
        # Encoded (and so checked) before anything changes: a refused event leaves the
        # transaction as it was.
        try:
            meta_json = storable(dict(metadata))
            encoded = [storable(dict(new.data)) for new in new_events]
        except Unstorable as error:
            raise InvalidInput(f"{stream_id}: the log cannot keep this event: {error}", stream_id=stream_id) from None
        recorded_at = iso(self.now)
        out: list[RecordedEvent] = []
        for new, data_json in zip(new_events, encoded):
            current += 1
            self._position += 1
            event_id = new_id()
            self._hash = chain_hash(
                self._hash, self._position, event_id, stream_id, current,
                new.type, new.schema_version, recorded_at, data_json, meta_json,
            )
            self._rows.append(
                {
                    "position": self._position,
                    "event_id": event_id,
                    "stream_id": stream_id,
                    "stream_version": current,
                    "type": new.type,
                    "schema_version": new.schema_version,
                    "data": data_json,
                    "metadata": meta_json,
                    "recorded_at": self.now,
                    "hash": self._hash,
                }
            )
            out.append(
                RecordedEvent(
                    position=self._position,
                    event_id=event_id,
                    stream_id=stream_id,
                    stream_version=current,
                    type=new.type,
                    schema_version=new.schema_version,
                    data=orjson.loads(data_json),  # the value as a reader will see it
                    metadata=dict(metadata),
                    recorded_at=self.now,
                    hash=self._hash,
                )
            )
        self._versions[stream_id] = current
        self._touched[stream_id] = current
        self.appended.extend(out)
        return out

    @property
    def writes_checkpoints(self) -> bool:
        """Whether `set_checkpoints` is taken into the flush (PostgreSQL: no round trip of its own)."""
        return self.store.engines.dialect == "postgresql"

    def set_checkpoints(self, names: Sequence[str], position: int) -> None:
        """Inline projections' checkpoints, written with the events (see `writes_checkpoints`)."""
        self._checkpoints = (list(names), position)

    @property
    def takes_riders(self) -> bool:
        """Whether `ride` is available (PostgreSQL)."""
        return self.store.engines.dialect == "postgresql"

    def ride(self, sql: str, args: Sequence[Any]) -> None:
        """Run a PostgreSQL INSERT/UPDATE/DELETE (`$1`.. parameters) inside the flush's statement.

        Inline projections write their rows this way: one round trip for the events and
        every read model, instead of one per table while the append lock is held. Riders
        become CTEs of that statement, so they all see the transaction as it was before
        the flush and must not touch the same rows; what must see an earlier write
        (a correction of an interval inserted in the same batch) runs at once instead.
        """
        if len(args) != _parameter_count(sql):
            raise ValueError(f"a rider takes {_parameter_count(sql)} arguments, not {len(args)}")
        self._riders.append((sql, tuple(args)))

    async def find_idempotent(self, keys: Iterable[str]) -> dict[str, tuple[str, str, bytes]]:
        """Stored (request_hash, stream_id, result) for keys already used."""
        wanted = list(set(keys))
        found: dict[str, tuple[str, str, bytes]] = {}
        if wanted:
            rows = await self.conn.execute(
                select(
                    idempotency_keys.c.key,
                    idempotency_keys.c.request_hash,
                    idempotency_keys.c.stream_id,
                    idempotency_keys.c.result,
                ).where(idempotency_keys.c.key.in_(wanted))
            )
            for r in rows:
                found[r.key] = (r.request_hash, r.stream_id, r.result.encode())
        return found

    def remember(self, key: str, request_hash: str, stream_id: str, result: bytes) -> None:
        self._idempotency_rows.append(
            {
                "key": key,
                "request_hash": request_hash,
                "stream_id": stream_id,
                "result": result.decode(),
                "recorded_at": self.now,
            }
        )

    async def flush(self) -> None:
        """Write what was appended; called once, at the end of the transaction."""
        if self._rows and self.store.engines.dialect == "postgresql":
            await self._flush_postgresql()
        if self._riders:  # nothing appended to carry them: on their own
            raw = await self.conn.get_raw_connection()
            for sql, args in self._riders:
                await raw.driver_connection.execute(sql, *args)
            self._riders = []
        if self._checkpoints is not None:  # nothing appended to carry them: on their own
            names, position = self._checkpoints
            raw = await self.conn.get_raw_connection()
            await raw.driver_connection.execute(_PG_CHECKPOINTS, names, position)
            self._checkpoints = None
        if self._rows:
            # SQLite (PostgreSQL flushed above): the driver's executemany over tuples, with
            # no parameter dict per row for SQLAlchemy to process (see sqlite_bulk).
            await insert_tuples(self.conn, events, _EVENT_ROW, [tuple(map(r.__getitem__, _EVENT_ROW)) for r in self._rows])
            await insert_tuples(self.conn, streams, ("stream_id", "version"), list(self._touched.items()),
                                upsert_on=("stream_id",))
            await self.conn.execute(
                update(log_head)
                .where(log_head.c.id == 1)
                .values(position=self._position, hash=self._hash, recorded_at=self.now)
            )
            self._rows = []
            self._touched = {}
        if self._idempotency_rows:
            await self.conn.execute(idempotency_keys.insert(), self._idempotency_rows)
            self._idempotency_rows = []

    async def _flush_postgresql(self) -> None:
        """The events, the stream versions, the inline checkpoints and the log head in one statement.

        Same rows as the portable path below, but one round trip, with the
        batch passed as arrays (asyncpg encodes them in C) instead of rendered
        row by row. Runs on the transaction's own connection, after the lock.
        """
        rows = self._rows
        raw = await self.conn.get_raw_connection()
        riders, self._riders = self._riders, []
        await raw.driver_connection.execute(
            _flush_statement(tuple(sql for sql, _ in riders)),
            [r["position"] for r in rows],
            [r["event_id"] for r in rows],
            [r["stream_id"] for r in rows],
            [r["stream_version"] for r in rows],
            [r["type"] for r in rows],
            [r["schema_version"] for r in rows],
            [r["data"] for r in rows],
            [r["metadata"] for r in rows],
            [r["hash"] for r in rows],
            self.now,
            list(self._touched),
            list(self._touched.values()),
            self._position,
            self._hash,
            self._checkpoints[0] if self._checkpoints else [],
            self._checkpoints[1] if self._checkpoints else 0,
            *(arg for _, args in riders for arg in args),
        )
        self._checkpoints = None
        self._rows = []
        self._touched = {}


# The columns of an appended row, in the order the SQLite flush writes them.
_EVENT_ROW = ("position", "event_id", "stream_id", "stream_version", "type", "schema_version", "data", "metadata",
              "recorded_at", "hash")

_PG_CHECKPOINTS = """
INSERT INTO checkpoints (projection, position) SELECT unnest($1::text[]), $2::bigint
ON CONFLICT (projection) DO UPDATE SET position = excluded.position
"""

_PG_BEGIN_SQL = "SELECT * FROM slogov_append_begin($1, $2::text[])"

_PG_FLUSH_CTES = """
WITH appended AS (
    INSERT INTO events (position, event_id, stream_id, stream_version, type,
                        schema_version, data, metadata, recorded_at, hash)
    SELECT p, e, s, v, t, sv, d, m, $10::timestamptz, h
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[],
                $6::int[], $7::text[], $8::text[], $9::text[])
         AS x(p, e, s, v, t, sv, d, m, h)
), versions AS (
    INSERT INTO streams (stream_id, version)
    SELECT * FROM unnest($11::text[], $12::int[])
    ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version
), marks AS (
    INSERT INTO checkpoints (projection, position)
    SELECT unnest($15::text[]), $16::bigint
    ON CONFLICT (projection) DO UPDATE SET position = excluded.position
)"""
_PG_FLUSH_HEAD = "UPDATE log_head SET position = $13, hash = $14, recorded_at = $10::timestamptz WHERE id = 1"
_PG_FLUSH_PARAMETERS = 16
_PARAMETER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=64)
def _parameter_count(sql: str) -> int:
    return max((int(n) for n in _PARAMETER.findall(sql)), default=0)


@lru_cache(maxsize=64)
def _flush_statement(riders: tuple[str, ...]) -> str:
    """The flush: events, stream versions, checkpoints and head, with each rider as one
    more CTE, its parameters numbered on after those before it."""
    parts = [_PG_FLUSH_CTES]
    offset = _PG_FLUSH_PARAMETERS
    for n, sql in enumerate(riders):
        shift = offset
        parts.append(f", ride{n} AS (\n" + _PARAMETER.sub(lambda m: f"${int(m.group(1)) + shift}", sql) + "\n)")
        offset += _parameter_count(sql)
    parts.append("\n" + _PG_FLUSH_HEAD)
    return "".join(parts)
