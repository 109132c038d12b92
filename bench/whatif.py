"""Target what-if benchmark: one objective with 90 days of per-minute history, a candidate
target judged over the whole period, beside replaying the same stream in the same run.

    python -m bench.whatif [--pg URL] [--days 90] [--batch-minutes 60] [--runs 7]

The history (99.9% over 30 days, agreed, healthy minutes with an hour of 0.5% errors every ten
days and a 20-minute outage every month) is recorded through the real command bus in
requests of --batch-minutes (an hourly exporter by default), so the stream is one the
deciders and reactors wrote. Then, each --runs times:
  replay   read the budget stream and fold it with the decider's own `evolve` (what any
           cold load of the stream costs)
  core     `domain.budget.whatif.both` over those events with 99.95%: one fold, runs of
           appends judged at once (the reactor's walk, by halving), the recorded side
           from the same data under the recorded configuration
  whatif   `service.whatif.target_whatif_of`: read (the budget stream, the objective's
           governance, its actions, the deploy decisions), the fold with the policy
           following it, the decisions this objective could change judged again (what
           GraphQL and the CLI answer with)
and prints p50 of each and their ratios to replay. Target: whatif p50 under 500 ms.

On SQLite (default) a temporary file; with --pg a uniquely named database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone

from bench.budget import setup_objectives
from bench.store import Databases
from domain.budget import decider
from domain.budget.whatif import Candidate, both
from service import budget_queries as bq
from service.bootstrap import build
from service.config import Settings
from service.whatif import target_whatif_of

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
TARGET_MS = 500.0


def _good(m: int) -> int:
    day = m // 1440
    if day % 10 == 3 and 600 <= m % 1440 < 660:
        return 995  # an hour at 0.5% errors
    if day % 30 == 17 and 900 <= m % 1440 < 920:
        return 0  # an outage
    return 1000


async def _history(container, days: int, batch: int) -> tuple[str, float]:
    container.store.clock = lambda: T0 + timedelta(days=days + 1)
    oid = "whatif-obj"
    await setup_objectives(container, [oid])
    started = time.perf_counter()
    minutes = days * 1440
    for a in range(0, minutes, batch):
        rows = [{"objective_id": oid, "start": T0 + m * MIN, "end": T0 + (m + 1) * MIN, "good": _good(m), "total": 1000}
                for m in range(a, min(a + batch, minutes))]
        await bq.record_observations(container, "monitoring", frozenset({"sre"}), rows)
    return oid, time.perf_counter() - started


def _p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def run(url: str, days: int, batch: int, runs: int) -> None:
    container = build(Settings(database_url=url))
    await container.startup()
    try:
        oid, took = await _history(container, days, batch)
        stream = decider.stream_id(oid)
        print(f"history: {days} days per minute in {batch}-minute requests, recorded in {took:.1f} s")
        end = T0 + timedelta(days=days)
        candidate = Candidate.parse(0.9995)
        replay, core, whole = [], [], []
        for _ in range(runs):
            t = time.perf_counter()
            events = await container.store.read_stream(stream)
            state = None
            for e in events:
                state = decider.evolve(state, e)
            replay.append(time.perf_counter() - t)
            t = time.perf_counter()
            outcome, _ = both(events, candidate, T0, end)
            core.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = await target_whatif_of(container, oid, T0, end, target=0.9995)
            whole.append(time.perf_counter() - t)
        print(f"stream: {len(events)} events; recorded transitions {len(result.recorded)}, "
              f"at 99.95%: {len(outcome.transitions)} "
              f"({len(outcome.of('BudgetExhausted'))} exhaustions, attainment {outcome.attainment:.6f})")
        r = _p50(replay)
        print(f"replay  p50 {r:8.1f} ms")
        print(f"core    p50 {_p50(core):8.1f} ms   {_p50(core) / r:5.2f}x replay")
        print(f"whatif  p50 {_p50(whole):8.1f} ms   {_p50(whole) / r:5.2f}x replay   "
              f"(target < {TARGET_MS:.0f} ms: {'met' if _p50(whole) < TARGET_MS else 'NOT met'})")
    finally:
        await container.shutdown()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL (postgresql+asyncpg://...); default SQLite")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--batch-minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.pg:
        dbs = Databases(args.pg)
        try:
            name = await dbs.create("whatif")
            await run(dbs.sa_url(name), args.days, args.batch_minutes, args.runs)
        finally:
            await dbs.drop_all()
        return
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{tmp}/bench.db", args.days, args.batch_minutes, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
