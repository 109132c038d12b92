"""As-of benchmark: the same GraphQL query on an objective with 100,000 events of history,
as of early, middle and late log positions and at the head, in one run.

    python -m bench.asof [--pg URL | --sqlite] [--events 100000] [--rounds 100] [--reads 100]

The history is made through the bus (live snapshots, derived transitions, policy reactions
included): a journey and an objective under the default policy, `--rounds` negotiation
rounds on the objective (a revision and four endorsements each, so its state grows), then
per-minute observation pushes with incidents, until the objective's streams hold `--events`
events. Each query runs in-process through the schema (no HTTP), `--reads` times per point.
Target: as-of p50 within 3x the head's. The database is created and dropped by the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from api.auth import Principal
from api.http import GraphQLContext
from api.schema.schema import build_schema
from bench.store import Databases
from domain import journey as j
from domain import objective as o
from domain.budget import Interval
from eventstore.tables import events
from projections.tables import snapshots
from service import budget_queries as bq
from service.bootstrap import build
from service.config import Settings
from service.envelope import Envelope

TARGET_RATIO = 3.0
OID = "checkout-availability"
MIN = timedelta(minutes=1)
PARTIES = ("product", "sre", "engineering", "leadership")
IN_FLIGHT = 32  # pushes sent at once: group commit batches them, each judged on its own

CORE = """query($asOf: AsOf) { objective(id: "%s", asOf: $asOf) {
  version status agreedTarget openProposal { target revision } owners } }""" % OID
NESTED = """query($asOf: AsOf) { objective(id: "%s", asOf: $asOf) {
  version status agreedTarget
  budget { remaining consumed exhausted burnRates { window rate } alerts { severity } }
  policyActions { freezes { id active } escalations { id } }
  journey { version criticalServices } } }""" % OID


def _env(command, role: str) -> Envelope:
    return Envelope(command, f"{role}-person", frozenset({role}))


async def _stream_events(container) -> int:
    streams = [f"objective-{OID}", f"budget-{OID}", f"actions-{OID}"]
    async with container.read_engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events).where(events.c.stream_id.in_(streams)))).scalar_one())


async def make_history(container, total: int, rounds: int, rng: random.Random) -> tuple[int, float]:
    bus = container.bus
    started = time.perf_counter()
    await bus.execute(_env(j.ProposeJourney("checkout", "Checkout", "buy", ("cart", "pay"), "cart", "paid",
                                            "the order is placed", "team-a", 1), "product"))
    await bus.execute(_env(j.PrioritizeJourney("checkout", 1, 1, "revenue"), "leadership"))
    await bus.execute(_env(j.MapDependency("checkout", "payments", "service", True), "sre"))
    await bus.execute(_env(o.DraftObjective(OID, "checkout", "Checkout availability", o.SLI("availability"),
                                            o.Window("rolling", 30), o.Budgeting("occurrences")), "sre"))
    await bus.execute(_env(o.ProposeTarget(OID, "p1", 0.999, "baseline"), "sre"))
    for k in range(rounds):  # a long negotiation: every party re-endorses each revision
        await bus.execute(_env(o.ReviseProposal(OID, "p1", 0.999 - (k % 5) / 10000, f"round {k}"), "product"))
        for party in PARTIES[:-1]:
            await bus.execute(_env(o.EndorseProposal(OID, "p1", party), party))
    for party in PARTIES:
        await bus.execute(_env(o.EndorseProposal(OID, "p1", party), party))
    await bus.execute(_env(o.FormalizeAgreement(OID, "default", 0, "pat", "sam", ("oncall", "vp-eng"), "20%"), "sre"))

    # Per-minute pushes until the objective's streams hold `total` events; minutes end before now.
    have = await _stream_events(container)
    minutes = total - have
    first = datetime.now(timezone.utc).replace(second=0, microsecond=0) - (minutes + 10) * MIN
    incidents = {int(minutes * f) for f in (0.2, 0.5, 0.8)}

    def push(m: int):
        bad = any(0 <= m - i < 30 for i in incidents)
        total_ = rng.randint(800, 1200)
        good = total_ - (rng.randint(40, 120) if bad else (1 if rng.random() < 0.3 else 0))
        s = first + m * MIN
        return bq.record_observations(container, "exporter", frozenset({"sre"}), [bq.ObservationItem(OID, Interval(s, s + MIN, good, total_))])

    m = 0
    while True:
        have = await _stream_events(container)
        if have >= total:
            break
        n = min(IN_FLIGHT, total - have)
        await asyncio.gather(*(push(m + k) for k in range(n)))
        m += n
        if m % 10_000 < n:
            print(f"  {have:,} events ...", flush=True)
    return await _stream_events(container), time.perf_counter() - started


async def time_query(schema, container, query: str, as_of: dict | None, reads: int) -> list[float]:
    context = GraphQLContext(container=container, principal=Principal("bench", frozenset({"auditor"}), "bench"))
    samples = []
    for _ in range(reads + 3):  # the first few warm connections and statement caches
        started = time.perf_counter()
        result = await schema.execute(query, variable_values={"asOf": as_of}, context_value=context)
        samples.append(time.perf_counter() - started)
        if result.errors:
            raise RuntimeError(result.errors[0])
    return samples[3:]


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def run_on(url: str, args) -> bool:
    rng = random.Random(11)
    container = build(Settings(database_url=url))
    await container.startup()
    ok = True
    try:
        print(f"history: {args.rounds} negotiation rounds, then per-minute pushes to {args.events:,} events ...", flush=True)
        count, seconds = await make_history(container, args.events, args.rounds, rng)
        head, _ = await container.store.head()
        async with container.read_engine.connect() as conn:
            snaps = (await conn.execute(select(func.count(), func.sum(func.length(snapshots.c.state)))
                                        .where(snapshots.c.stream_id.like(f"%{OID}")))).one()
        print(f"  {count:,} events on the objective's streams ({head:,} in the log) in {seconds:.0f}s; "
              f"{snaps[0]} snapshots, {int(snaps[1] or 0) / 1e6:.1f} MB")
        # Rebuilding the snapshots beside rebuilding the budget read model (the peer) over the same log.
        async with container.read_engine.connect() as conn:
            live = sorted(tuple(r) for r in (await conn.execute(select(snapshots))).all())
        for name in ("budgets", "snapshots"):
            started = time.perf_counter()
            await container.projections.rebuild([name])
            took = time.perf_counter() - started
            print(f"  rebuild {name}: {took:.2f}s ({head / took:,.0f} log events/s)")
        async with container.read_engine.connect() as conn:
            same = sorted(tuple(r) for r in (await conn.execute(select(snapshots))).all()) == live
        print(f"  rebuilt snapshots equal the live ones: {same}")
        ok = ok and same
        schema = build_schema(container.settings)
        points = [("early", max(1, head // 10)), ("middle", head // 2), ("late", head * 9 // 10)]
        for name, query in (("core", CORE), ("nested", NESTED)):
            h50, h99 = _ms(await time_query(schema, container, query, None, args.reads))
            print(f"\n{name} query: head p50 {h50:.2f} ms, p99 {h99:.2f} ms")
            for label, position in points:
                a50, a99 = _ms(await time_query(schema, container, query, {"position": position}, args.reads))
                ratio = a50 / h50
                met = ratio <= TARGET_RATIO
                ok = ok and (met or name != "core")
                print(f"  as of {label:6} (position {position:,}): p50 {a50:.2f} ms, p99 {a99:.2f} ms; "
                      f"p50 ratio {ratio:.2f}x head, p99 ratio {a99 / h99:.2f}x "
                      f"{'(target <= 3x: met)' if met else '(target <= 3x: MISSED)'}")
    finally:
        await container.shutdown()
    return ok


async def main_async(args) -> int:
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = "sqlite+aiosqlite:///" + os.path.join(tmp, "asof.db")
            print("SQLite (temporary file)")
            return 0 if await run_on(url, args) else 1
    db = Databases(args.pg)
    print(f"PostgreSQL at {args.pg}; database slogov_bench_{db.tag}_asof (dropped at the end)")
    try:
        name = await db.create("asof")
        return 0 if await run_on(db.sa_url(name), args) else 1
    finally:
        await db.drop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--events", type=int, default=100_000, help="events on the objective's streams")
    parser.add_argument("--rounds", type=int, default=100, help="negotiation rounds (5 events each)")
    parser.add_argument("--reads", type=int, default=100, help="queries per point")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
