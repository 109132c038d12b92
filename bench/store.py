"""Store benchmark: slogov's command path against the `eventsourcing` library and
a raw asyncpg floor, plus projection rebuild speed against a raw read-and-decode.

    python -m bench.store [--pg URL] [--commands N] [--rebuild-events N] [--sqlite]

Every database it uses is created with a unique name and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import orjson

from domain.events import NewEvent
from domain.journey import MapDependency, ProposeJourney
from domain.journey import stream_id as journey_stream
from eventstore.codec import canonical
from service.bootstrap import build
from service.config import Settings
from service.envelope import Envelope

CONCURRENCY = (1, 8, 32)
TARGET_VS_ES = 5.0  # at 32 clients
TARGET_REBUILD = 100_000  # events/s
ROLES = frozenset({"product"})


# ---- databases -------------------------------------------------------------


def _dsn(server: str, database: str) -> str:
    return server.replace("postgresql+asyncpg", "postgresql").rstrip("/") + "/" + database


class Databases:
    """Creates uniquely named databases on the server and drops them all at the end."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.tag = uuid.uuid4().hex[:10]
        self.created: list[str] = []

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(_dsn(self.server, "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, purpose: str) -> str:
        name = f"slogov_bench_{self.tag}_{purpose}"
        await self._admin(f"CREATE DATABASE {name}")
        self.created.append(name)
        return name

    def sa_url(self, name: str) -> str:
        return f"{self.server}/{name}"

    def dsn(self, name: str) -> str:
        return _dsn(self.server, name)

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            try:
                await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except Exception as exc:  # keep dropping the others
                print(f"warning: could not drop {name}: {exc}", file=sys.stderr)
        self.created.clear()


# ---- the workload ----------------------------------------------------------


def _proposal(journey_id: str) -> ProposeJourney:
    return ProposeJourney(
        journey_id=journey_id,
        name=f"Checkout {journey_id}",
        description="A customer pays for the items in their basket.",
        steps=("open basket", "enter payment", "confirm"),
        starts_at="basket page",
        ends_at="order confirmation",
        success_criteria="order confirmed within 3 seconds",
        owner="payments-team",
        tier=1,
        revenue_impact="high",
        conversion_impact="direct",
        support_volume=120,
    )


def _proposal_data(journey_id: str) -> dict:
    """JourneyProposed's data as the decider writes it (for the rebuild fixture and the floor)."""
    c = _proposal(journey_id)
    return {
        "journey_id": c.journey_id, "name": c.name, "description": c.description,
        "steps": list(c.steps), "starts_at": c.starts_at, "ends_at": c.ends_at,
        "success_criteria": c.success_criteria, "owner": c.owner, "tier": c.tier,
        "revenue_impact": c.revenue_impact, "conversion_impact": c.conversion_impact,
        "support_volume": c.support_volume,
    }


def _dependency_data(journey_id: str, n: int) -> dict:
    c = MapDependency(
        journey_id=journey_id, service=f"svc-{n}", kind="service", critical=n % 2 == 0,
        failure_modes=("timeout", "5xx"),
    )
    return {"journey_id": c.journey_id, "service": c.service, "kind": c.kind,
            "critical": c.critical, "failure_modes": list(c.failure_modes)}


def _split(total: int, clients: int) -> list[int]:
    base, extra = divmod(total, clients)
    return [base + (1 if i < extra else 0) for i in range(clients)]


@dataclass
class Rate:
    ops: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds else float("inf")


# ---- 1. slogov -------------------------------------------------------------


async def slogov_commands(url: str, commands: int, levels=CONCURRENCY) -> dict[int, Rate]:
    batches: list[int] = []
    container = build(Settings(database_url=url), on_batch=batches.append)
    await container.startup()
    bus = container.bus
    run = uuid.uuid4().hex[:8]
    out: dict[int, Rate] = {}
    try:
        async def client(level: int, cid: int, n: int) -> None:
            for i in range(n):
                result = await bus.execute(
                    Envelope(_proposal(f"{run}-{level}-{cid}-{i}"), actor=f"client-{cid}", roles=ROLES)
                )
                assert len(result.events) == 1

        # Warm up: connections, statement caches, imports.
        await asyncio.gather(*(client(0, c, 20) for c in range(8)))
        for level in levels:
            batches.clear()
            started = time.perf_counter()
            await asyncio.gather(*(client(level, c, n) for c, n in enumerate(_split(commands, level))))
            out[level] = Rate(commands, time.perf_counter() - started)
            out[level].mean_batch = commands / len(batches) if batches else 0  # type: ignore[attr-defined]
    finally:
        await container.shutdown()
    return out


# ---- 2. eventsourcing ------------------------------------------------------


def eventsourcing_commands(db: Databases, dbname: str, commands: int, levels=CONCURRENCY) -> dict[int, Rate]:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate

    class Journey(Aggregate):
        def __init__(self, data: dict) -> None:
            self.data = data

    class Journeys(Application):
        pass

    parts = urlsplit(db.server.replace("postgresql+asyncpg", "postgresql"))
    out: dict[int, Rate] = {}
    for level in levels:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or "",
            "POSTGRES_POOL_SIZE": str(max(level, 1)),
            "POSTGRES_MAX_OVERFLOW": "0",
            "CREATE_TABLE": "y",
        }
        app = Journeys(env=env)
        try:
            def client(cid: int, n: int, tag: str) -> None:
                for i in range(n):
                    app.save(Journey(_proposal_data(f"{tag}-{cid}-{i}")))

            with ThreadPoolExecutor(max_workers=level) as pool:
                # Warm up every pooled connection.
                list(pool.map(lambda c: client(c, 5, f"warm{level}"), range(level)))
                barrier = threading.Barrier(level + 1)

                def timed(cid: int, n: int) -> None:
                    barrier.wait()
                    client(cid, n, f"run{level}")

                futures = [pool.submit(timed, c, n) for c, n in enumerate(_split(commands, level))]
                barrier.wait()
                started = time.perf_counter()
                for f in futures:
                    f.result()
                out[level] = Rate(commands, time.perf_counter() - started)
        finally:
            app.close()
    return out


# ---- 3. raw asyncpg floor --------------------------------------------------

FLOOR_TABLE = """
CREATE TABLE floor_events (
    position bigserial PRIMARY KEY,
    event_id varchar(36) NOT NULL UNIQUE,
    stream_id varchar(200) NOT NULL,
    stream_version integer NOT NULL,
    type varchar(100) NOT NULL,
    schema_version integer NOT NULL,
    data text NOT NULL,
    metadata text NOT NULL,
    recorded_at timestamptz NOT NULL,
    hash varchar(64) NOT NULL,
    UNIQUE (stream_id, stream_version)
)
"""
FLOOR_INSERT = (
    "INSERT INTO floor_events (event_id, stream_id, stream_version, type, schema_version,"
    " data, metadata, recorded_at, hash) VALUES ($1, $2, 1, 'JourneyProposed', 1, $3, $4, now(), $5)"
)


async def floor_commands(dsn: str, commands: int, levels=CONCURRENCY) -> dict[int, Rate]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(FLOOR_TABLE)
    finally:
        await conn.close()
    meta = canonical({"actor": "client", "role": "product", "command": "ProposeJourney"})
    out: dict[int, Rate] = {}
    for level in levels:
        pool = await asyncpg.create_pool(dsn, min_size=level, max_size=level)
        try:
            async def client(cid: int, n: int, tag: str) -> None:
                for i in range(n):
                    jid = f"{tag}-{cid}-{i}"
                    # One autocommitted statement: its own durable transaction.
                    async with pool.acquire() as c:
                        await c.execute(
                            FLOOR_INSERT, str(uuid.uuid4()), journey_stream(jid),
                            canonical(_proposal_data(jid)), meta, "0" * 64,
                        )

            await asyncio.gather(*(client(c, 5, f"warm{level}") for c in range(level)))
            started = time.perf_counter()
            await asyncio.gather(*(client(c, n, f"run{level}") for c, n in enumerate(_split(commands, level))))
            out[level] = Rate(commands, time.perf_counter() - started)
        finally:
            await pool.close()
    return out


# ---- 5. rebuild ------------------------------------------------------------


async def fill_log(url: str, total: int, per_tx: int = 10_000, deps_per_journey: int = 3) -> int:
    """Append `total` journey events straight through the store, in large transactions."""
    container = build(Settings(database_url=url))
    await container.startup()
    store = container.store
    meta = {"actor": "bench", "role": "product", "command": "bench"}
    written = 0
    j = 0
    try:
        while written < total:
            async with store.transaction() as tx:
                in_tx = 0
                while in_tx < per_tx and written < total:
                    jid = f"j{j}"
                    j += 1
                    stream = journey_stream(jid)
                    n = min(1 + deps_per_journey, total - written)
                    new = [NewEvent("JourneyProposed", _proposal_data(jid))]
                    new += [NewEvent("DependencyMapped", _dependency_data(jid, k)) for k in range(n - 1)]
                    tx._versions[stream] = 0  # a fresh stream: nothing to load
                    tx.append(stream, new, meta, expected_version=0)
                    written += n
                    in_tx += n
    finally:
        await container.shutdown()
    return written


async def rebuild(url: str) -> tuple[int, float]:
    container = build(Settings(database_url=url), auto_migrate=False)
    try:
        await container.store.head()  # connect first: time the fold, not the handshake
        started = time.perf_counter()
        counts = await container.projections.rebuild()
        seconds = time.perf_counter() - started
    finally:
        await container.shutdown()
    # Every event once (the event index folds each one; summing would count it per projection).
    return counts.get("event_index", sum(counts.values())), seconds


async def raw_read_decode(dsn: str) -> tuple[int, float]:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        rows = await conn.fetch(
            "SELECT position, event_id, stream_id, stream_version, type, schema_version,"
            " data, metadata, recorded_at, hash FROM events ORDER BY position"
        )
        loads = orjson.loads
        decoded = [loads(r[6]) for r in rows]
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    return len(decoded), seconds


# ---- report ----------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def print_commands(slogov, es, floor, commands: int) -> bool:
    print()
    print(f"Command throughput, one-event commands ({commands:,} per level), PostgreSQL")
    header = f"{'clients':>7} | {'slogov cmd/s':>12} | {'batch':>5} | {'eventsourcing':>13} | {'raw floor':>9} | {'slogov/es':>9} | {'slogov/floor':>12}"
    print(header)
    print("-" * len(header))
    ok = True
    for level in CONCURRENCY:
        s, e, f = slogov[level].per_second, es[level].per_second, floor[level].per_second
        batch = getattr(slogov[level], "mean_batch", 0)
        print(f"{level:>7} | {_fmt(s):>12} | {batch:>5.1f} | {_fmt(e):>13} | {_fmt(f):>9} | {s / e:>8.2f}x | {s / f:>11.2f}x")
        if level == 32:
            ok = s / e >= TARGET_VS_ES
    s32, e32 = slogov[32].per_second, es[32].per_second
    print(f"target: at 32 clients slogov >= {TARGET_VS_ES:.0f}x eventsourcing -> "
          f"{s32 / e32:.2f}x {'MET' if ok else 'NOT MET'}")
    print("(batch = mean commands per group-commit transaction; floor = one autocommitted INSERT per op, no lock)")
    return ok


def print_rebuild(events: int, seconds: float, raw_events: int, raw_seconds: float) -> bool:
    rate, raw_rate = events / seconds, raw_events / raw_seconds
    ok = rate >= TARGET_REBUILD
    print()
    print("Projection rebuild, PostgreSQL")
    header = f"{'events':>9} | {'rebuild s':>9} | {'rebuild ev/s':>12} | {'raw read+decode ev/s':>20} | {'rebuild/raw':>11}"
    print(header)
    print("-" * len(header))
    print(f"{events:>9,} | {seconds:>9.2f} | {_fmt(rate):>12} | {_fmt(raw_rate):>20} | {rate / raw_rate:>10.2f}x")
    print(f"target: rebuild >= {TARGET_REBUILD:,} events/s -> {_fmt(rate)} {'MET' if ok else 'NOT MET'}")
    return ok


async def run_postgres(args) -> int:
    db = Databases(args.pg)
    print(f"PostgreSQL at {args.pg}; databases slogov_bench_{db.tag}_* (dropped at the end)")
    try:
        name = await db.create("slogov")
        print("running slogov ...", flush=True)
        slogov = await slogov_commands(db.sa_url(name), args.commands)

        name = await db.create("es")
        print("running eventsourcing ...", flush=True)
        es = await asyncio.to_thread(eventsourcing_commands, db, name, args.commands)

        name = await db.create("floor")
        print("running raw asyncpg floor ...", flush=True)
        floor = await floor_commands(db.dsn(name), args.commands)

        ok = print_commands(slogov, es, floor, args.commands)

        if args.rebuild_events > 0:
            name = await db.create("rebuild")
            print(f"\nappending {args.rebuild_events:,} events for the rebuild ...", flush=True)
            started = time.perf_counter()
            written = await fill_log(db.sa_url(name), args.rebuild_events)
            print(f"  appended {written:,} in {time.perf_counter() - started:.1f}s", flush=True)
            raw = await raw_read_decode(db.dsn(name))  # also warms the server's cache
            folded, seconds = await rebuild(db.sa_url(name))
            raw = await raw_read_decode(db.dsn(name))
            ok = print_rebuild(folded, seconds, *raw) and ok
    finally:
        await db.drop_all()
    return 0


async def run_sqlite(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"
        slogov = await slogov_commands(url, args.commands)
        print()
        print(f"slogov on SQLite (synchronous=FULL, WAL), one-event commands ({args.commands:,} per level)")
        print(f"{'clients':>7} | {'cmd/s':>10} | {'batch':>5}")
        for level in CONCURRENCY:
            r = slogov[level]
            print(f"{level:>7} | {_fmt(r.per_second):>10} | {getattr(r, 'mean_batch', 0):>5.1f}")
        if args.rebuild_events > 0:
            await fill_log(url, args.rebuild_events)
            folded, seconds = await rebuild(url)
            print(f"rebuild: {folded:,} events in {seconds:.2f}s = {_fmt(folded / seconds)} events/s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432",
                        help="PostgreSQL server URL (no database); bench databases are created and dropped")
    parser.add_argument("--commands", type=int, default=3000, help="commands per concurrency level")
    parser.add_argument("--rebuild-events", type=int, default=100_000, help="events in the rebuild log (0: skip)")
    parser.add_argument("--sqlite", action="store_true", help="run the slogov part on SQLite alone")
    args = parser.parse_args(argv)
    return asyncio.run(run_sqlite(args) if args.sqlite else run_postgres(args))


if __name__ == "__main__":
    raise SystemExit(main())
