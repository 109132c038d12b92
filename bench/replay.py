"""Replay and rebuild of a large log, beside a raw read-and-decode floor and the
`eventsourcing` library's notification read, in one run.

    python -m bench.replay [--pg URL] [--events 1000000] [--page 20000]

The log is a realistic mix: a template world (a journey mapping two critical
services, an objective negotiated by four parties and formalized under the default
policy, an informational one, an hour of per-minute observation pushes (one event
per objective per minute, as a live exporter sends them) with an outage that
exhausts the budget, raises alerts and starts a freeze, and deploy decisions before
and during the freeze) is run once through the real command bus on a scratch SQLite
log, so every event is one the deciders and reactors wrote. It is then cloned, ids
renamed per clone, until the log holds `--events` events, re-chained and written
with COPY (bypassing the bus, so filling does not take longer than what is measured);
the read models stay empty until the rebuild.

Measured, on one PostgreSQL database:
  replay    read the whole log and fold every stream with the domain's own `evolve`
  rebuild   `ProjectionSet.rebuild()` of every read model
  floor     asyncpg SELECT of every event row + orjson decode of data and metadata
  es        the eventsourcing library's `select_notifications` over as many stored
            events (same payloads) in its own PostgreSQL recorder, pages of --page

Every database it uses is created with a unique name and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import orjson

from bench.store import Databases
from domain import journey as j
from domain import objective as o
from domain.events import RecordedEvent
from eventstore.codec import GENESIS_HASH, canonical, chain_hash, iso
from eventstore.reader import paused_gc
from service.bootstrap import build
from service.config import Settings
from service.envelope import Envelope

TARGET_REPLAY = 100_000  # events/s
TOKEN = "ZZ"  # in every id of the template world; replaced per clone
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
T_BASE = datetime(2025, 3, 1, tzinfo=timezone.utc)  # the template's clock starts here
OBS_START = datetime(2025, 1, 1, tzinfo=timezone.utc)


# ---- the template world ----------------------------------------------------


class SteppingClock:
    """The store's clock for the template: one second further at every call."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


async def template_world(minutes: int = 60, deploys: int = 10) -> list[RecordedEvent]:
    """One world's events, decided by the real bus on a scratch SQLite log."""
    from policies.loader import POLICY_DIR
    from service import budget_queries as bq
    from service import gate

    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(database_url=f"sqlite+aiosqlite:///{os.path.join(tmp, 't.db')}"))
        container.store.clock = SteppingClock(T_BASE)
        await container.startup()
        try:
            async def do(role: str, command: Any) -> None:
                await container.bus.execute(Envelope(command, f"{role}-person", frozenset({role})))

            await gate.adopt_policy(container, "vp", frozenset({"leadership"}),
                                    (POLICY_DIR / "default.yaml").read_text())
            jid = f"j{TOKEN}"
            await do("product", j.ProposeJourney(
                jid, f"Checkout {TOKEN}", "A shopper pays for the basket.", ("basket", "pay", "confirm"),
                "basket page", "confirmation page", "order confirmed within 3 s", "payments-team", 1,
                revenue_impact="high", conversion_impact="direct", support_volume=120))
            await do("leadership", j.PrioritizeJourney(jid, 1, 1, "every order passes through it"))
            for service in (f"svc{TOKEN}-api", f"svc{TOKEN}-db"):
                await do("sre", j.MapDependency(jid, service, "service", True, ("timeouts",)))
            await do("engineering", j.MapDependency(jid, f"svc{TOKEN}-recs", "service", False, ()))
            avail, latency = f"o{TOKEN}-avail", f"o{TOKEN}-latency"
            await do("sre", o.DraftObjective(avail, jid, "Checkout availability", o.SLI("availability"),
                                             o.Window("rolling", 30), o.Budgeting("occurrences")))
            await do("sre", o.DraftObjective(latency, jid, "Checkout latency", o.SLI("latency", threshold_ms=800),
                                             o.Window("rolling", 30), o.Budgeting("occurrences")))
            for oid in (avail, latency):
                await do("sre", o.ProposeTarget(oid, "p1", 0.999 if oid == avail else 0.99, "from the baseline"))
                for party in ("product", "sre", "engineering", "leadership"):
                    await do(party, o.EndorseProposal(oid, "p1", party))
            await do("sre", o.FormalizeAgreement(avail, "default", 0, "pm", "sre-lead", ("oncall", "vp"), "two"))
            outage = range(minutes * 2 // 3, minutes * 2 // 3 + 5)
            every = max(minutes // deploys, 1)
            for k in range(minutes):
                # What a live exporter sends: one request a minute holding that minute for every objective.
                start, end = OBS_START + timedelta(minutes=k), OBS_START + timedelta(minutes=k + 1)
                good = 0 if k in outage else 1000
                await bq.record_observations(container, "monitoring", frozenset({"sre"}), [
                    {"objective_id": avail, "start": start, "end": end, "good": good, "total": 1000},
                    {"objective_id": latency, "start": start, "end": end, "good": 995, "total": 1000},
                ])
                if k % every == every - 1:
                    await gate.evaluate_deploy(container, "pipeline", frozenset({"ci"}), f"svc{TOKEN}-api",
                                               "feature", "v1", f"run{TOKEN}-{k}")
            return [e async for chunk in container.store.iter_all() for e in chunk]
        finally:
            await container.shutdown()


# ---- cloning into a large log ----------------------------------------------


@dataclass
class _Shape:
    """One template event, ready to be stamped per clone."""

    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: str
    metadata: str
    uuids: tuple[str, ...]  # template uuids in metadata and data, renamed per clone
    position_fields: tuple[str, ...]  # data fields holding a log position
    recorded_at: datetime


def _shape(e: RecordedEvent) -> _Shape:
    data, meta = canonical(dict(e.data)), canonical(dict(e.metadata))
    uuids = tuple(dict.fromkeys([e.event_id, *_UUID.findall(meta), *_UUID.findall(data)]))
    positions = tuple(k for k, v in e.data.items() if k.endswith("position") and isinstance(v, int))
    return _Shape(e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version, data, meta,
                  uuids, positions, e.recorded_at)


def _clone_uuid(template: str, clone: int) -> str:
    return f"{template[:24]}{clone:012x}"


def log_rows(template: list[RecordedEvent], total: int) -> tuple[list[tuple], dict[str, int]]:
    """`total` event rows (tuples in the events table's column order) and stream versions.

    Shared streams (the policy) are written once; every other stream is cloned with
    TOKEN renamed to the clone's number, uuids renamed, positions in data shifted and
    recorded_at moved on by the template's span, then the whole log is re-chained.
    """
    shared = [_shape(e) for e in template if TOKEN not in e.stream_id]
    cloned = [_shape(e) for e in template if TOKEN in e.stream_id]
    first_cloned = min(e.position for e in template if TOKEN in e.stream_id)
    span = template[-1].recorded_at - template[0].recorded_at + timedelta(seconds=1)
    rows: list[tuple] = []
    versions: dict[str, int] = {}
    prev = GENESIS_HASH

    def emit(s: _Shape, stream_id: str, event_id: str, data: str, meta: str, at: datetime) -> None:
        nonlocal prev
        position = len(rows) + 1
        prev = chain_hash(prev, position, event_id, stream_id, s.stream_version, s.type, s.schema_version,
                          iso(at), data, meta)
        rows.append((position, event_id, stream_id, s.stream_version, s.type, s.schema_version, data, meta, at, prev))
        versions[stream_id] = s.stream_version

    for s in shared:
        if len(rows) < total:
            emit(s, s.stream_id, s.event_id, s.data, s.metadata, s.recorded_at)
    clone = 0
    while len(rows) < total:
        tag = f"{clone:06d}"
        offset = len(rows) + 1 - first_cloned  # template position p lands at p + offset
        for s in cloned:
            if len(rows) >= total:
                break
            data, meta = s.data.replace(TOKEN, tag), s.metadata.replace(TOKEN, tag)
            for u in s.uuids:
                new = _clone_uuid(u, clone)
                data, meta = data.replace(u, new), meta.replace(u, new)
            if s.position_fields:
                values = orjson.loads(data)
                for k in s.position_fields:
                    if values[k] >= first_cloned:
                        values[k] += offset
                data = canonical(values)
            emit(s, s.stream_id.replace(TOKEN, tag), _clone_uuid(s.event_id, clone), data, meta,
                 s.recorded_at + clone * span)
        clone += 1
    return rows, versions


_EVENT_COLUMNS = ["position", "event_id", "stream_id", "stream_version", "type", "schema_version",
                  "data", "metadata", "recorded_at", "hash"]


async def write_log(engines: Any, rows: list[tuple], versions: dict[str, int]) -> None:
    """Write the rows into a migrated, empty log (COPY on PostgreSQL) and advance its head."""
    from sqlalchemy import update

    from eventstore.tables import events, log_head, streams
    from projections.bulk import insert_records

    async with engines.write.begin() as conn:
        await insert_records(conn, events, _EVENT_COLUMNS, rows)
        await insert_records(conn, streams, ("stream_id", "version"), list(versions.items()))
        last = rows[-1]
        await conn.execute(update(log_head).where(log_head.c.id == 1)
                           .values(position=last[0], hash=last[9], recorded_at=last[8]))
    if engines.dialect == "postgresql":
        # Committed: the statistics are rolled back with the transaction otherwise (and
        # autovacuum may be off), leaving the log as a fresh restore, with none.
        async with engines.write.begin() as conn:
            await conn.exec_driver_sql("ANALYZE events")


async def fill(url: str, total: int) -> tuple[int, dict[str, int]]:
    """Migrate the database and write a `total`-event log; returns (events, events per type)."""
    template = await template_world()
    rows, versions = log_rows(template, total)
    container = build(Settings(database_url=url))  # migrates on startup
    await container.startup()
    try:
        await write_log(container.engines, rows, versions)
    finally:
        await container.shutdown()
    mix: dict[str, int] = {}
    for r in rows:
        mix[r[4]] = mix.get(r[4], 0) + 1
    return len(rows), mix


# ---- the measurements -------------------------------------------------------


@dataclass
class Rate:
    events: int
    seconds: float
    cpu: float = 0.0  # this process's CPU seconds over the same span (server time excluded)

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


async def replay(url: str) -> tuple[Rate, int]:
    """Read the whole log and fold every stream with its decider's own evolve."""
    from eventstore.reader import fold_log
    from service.aggregates import AGGREGATES

    evolvers = {category: a.evolve for category, a in AGGREGATES.items()}
    container = build(Settings(database_url=url), auto_migrate=False)
    try:
        await container.store.head()  # connect first: time the fold, not the handshake
        started, cpu = time.perf_counter(), time.process_time()
        states, count = await fold_log(container.store, evolvers)
        rate = Rate(count, time.perf_counter() - started, time.process_time() - cpu)
    finally:
        await container.shutdown()
    return rate, len(states)


async def rebuild(url: str, warm: bool = False) -> Rate:
    """Time one full rebuild; with `warm`, rebuild once untimed first, so the timed one
    replaces a full set of read models (as on a live system) rather than empty tables."""
    container = build(Settings(database_url=url), auto_migrate=False)
    try:
        await container.store.head()
        if warm:
            await container.projections.rebuild()
        started, cpu = time.perf_counter(), time.process_time()
        counts = await container.projections.rebuild()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await container.shutdown()
    # Every event once (the event index folds each one; summing would count it per projection).
    return Rate(counts.get("event_index", sum(counts.values())), seconds, cpu)


async def raw_read_decode(dsn: str, page: int) -> Rate:
    """The floor: every row over asyncpg (keyset pages), data and metadata decoded."""
    conn = await asyncpg.connect(dsn)
    try:
        query = await conn.prepare(
            "SELECT position, event_id, stream_id, stream_version, type, schema_version,"
            " data, metadata, recorded_at, hash FROM events WHERE position > $1 ORDER BY position LIMIT $2"
        )
        loads = orjson.loads
        count, after = 0, 0
        with paused_gc():  # as replay and rebuild run: the floor must not be handicapped
            started, cpu = time.perf_counter(), time.process_time()
            while True:
                rows = await query.fetch(after, page)
                if not rows:
                    break
                decoded = [(loads(r[6]), loads(r[7])) for r in rows]
                count += len(decoded)
                after = rows[-1][0]
            return Rate(count, time.perf_counter() - started, time.process_time() - cpu)
    finally:
        await conn.close()


def _es_env(db: Databases, dbname: str) -> dict[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(db.server.replace("postgresql+asyncpg", "postgresql"))
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "CREATE_TABLE": "y",
    }


async def eventsourcing_read(db: Databases, dbname: str, rows: int, payloads: list[bytes], page: int) -> Rate:
    """Fill the library's own recorder with `rows` stored events (COPY), then time its
    notification read in pages of `page`, as its process runners read."""
    from eventsourcing.application import Application

    class Log(Application):
        pass

    app = await asyncio.to_thread(Log, env=_es_env(db, dbname))
    try:
        table = app.recorder.events_table_name  # type: ignore[attr-defined]
        conn = await asyncpg.connect(db.dsn(dbname))
        try:
            records = []
            for i in range(rows):
                records.append((uuid.UUID(int=i // 100 + 1), i % 100 + 1, "bench.replay:Event", payloads[i % len(payloads)]))
                if len(records) == 100_000:
                    await conn.copy_records_to_table(table, records=records, columns=[
                        "originator_id", "originator_version", "topic", "state"])
                    records = []
            if records:
                await conn.copy_records_to_table(table, records=records, columns=[
                    "originator_id", "originator_version", "topic", "state"])
            await conn.execute(f"ANALYZE {table}")
        finally:
            await conn.close()

        def read_all() -> Rate:
            recorder = app.recorder
            recorder.select_notifications(start=1, limit=10)  # warm the pool and the prepared statement
            count, start = 0, 1
            started, cpu = time.perf_counter(), time.process_time()
            while True:
                notifications = recorder.select_notifications(start=start, limit=page)
                if not notifications:
                    break
                count += len(notifications)
                start = notifications[-1].id + 1
            return Rate(count, time.perf_counter() - started, time.process_time() - cpu)

        return await asyncio.to_thread(read_all)
    finally:
        app.close()


# ---- report ----------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def report(replayed: Rate, streams: int, rebuilt: Rate, floor: Rate, es: Rate | None) -> bool:
    print()
    print(f"Replay and rebuild, PostgreSQL, {floor.events:,} events")
    header = (f"{'what':<46} | {'seconds':>7} | {'events/s':>10} | {'/ floor':>7} | {'/ es':>6} | "
              f"{'cpu s':>6} | {'ev/cpu-s':>9}")
    print(header)
    print("-" * len(header))

    def line(name: str, r: Rate) -> None:
        vs_es = f"{r.per_second / es.per_second:>5.2f}x" if es else "     -"
        per_cpu = _fmt(r.events / r.cpu) if r.cpu else "-"
        print(f"{name:<46} | {r.seconds:>7.2f} | {_fmt(r.per_second):>10} | "
              f"{r.per_second / floor.per_second:>6.2f}x | {vs_es} | {r.cpu:>6.2f} | {per_cpu:>9}")

    line(f"replay: read + evolve every stream ({streams:,})", replayed)
    line("rebuild: every read model", rebuilt)
    line("floor: asyncpg SELECT + orjson data, metadata", floor)
    if es:
        line("eventsourcing select_notifications", es)
    print("(floor: the faster of a run before replay and one after rebuild; cpu s: this process's CPU"
          " time, which load on a shared machine inflates less than wall time)")
    ok = replayed.per_second >= TARGET_REPLAY
    print(f"target: replay >= {TARGET_REPLAY:,} events/s -> {_fmt(replayed.per_second)} {'MET' if ok else 'NOT MET'}")
    return ok


async def run(args) -> int:
    db = Databases(args.pg)
    print(f"PostgreSQL at {args.pg}; databases slogov_bench_{db.tag}_* (dropped at the end)")
    try:
        name = await db.create("replay")
        started = time.perf_counter()
        written, mix = await fill(db.sa_url(name), args.events)
        print(f"filled {written:,} events in {time.perf_counter() - started:.1f}s; mix: "
              + ", ".join(f"{t} {n / written:.0%}" for t, n in sorted(mix.items(), key=lambda x: -x[1]) if n / written >= 0.01),
              flush=True)
        await raw_read_decode(db.dsn(name), args.page)  # warm the server's cache
        floor = await raw_read_decode(db.dsn(name), args.page)
        replayed, streams = await replay(db.sa_url(name))
        rebuilt = Rate(0, 0.0)
        if not args.skip_rebuild:
            rebuilt = await rebuild(db.sa_url(name), warm=args.warm_rebuild)
        # Load on a shared machine swings: the floor is the faster of two runs around the others.
        floor = max(floor, await raw_read_decode(db.dsn(name), args.page), key=lambda r: r.per_second)
        es = None
        if not args.skip_es:
            payloads = await _payloads(db.dsn(name))
            es_name = await db.create("es")
            es = await eventsourcing_read(db, es_name, written, payloads, args.page)
        ok = report(replayed, streams, rebuilt, floor, es)
    finally:
        await db.drop_all()
    return 0 if ok else 1


async def _payloads(dsn: str, n: int = 10_000) -> list[bytes]:
    """The first events' data, reused as the eventsourcing events' state (same sizes)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT data FROM events ORDER BY position LIMIT $1", n)
    finally:
        await conn.close()
    return [r[0].encode() for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432",
                        help="PostgreSQL server URL (no database); bench databases are created and dropped")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log (e.g. 50000 for a smoke test)")
    parser.add_argument("--page", type=int, default=20_000, help="rows per read page (floor and eventsourcing)")
    parser.add_argument("--skip-rebuild", action="store_true", help="measure replay and the floors only")
    parser.add_argument("--skip-es", action="store_true", help="leave out the eventsourcing peer")
    parser.add_argument("--warm-rebuild", action="store_true",
                        help="rebuild once untimed first, so the timed rebuild replaces full read models")
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
