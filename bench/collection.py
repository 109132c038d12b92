"""Collection and baseline end to end (source, bus, store, projections), each beside a
floor from the same run.

    python -m bench.collection [--pg URL] [--objectives 1000] [--days 28] [--rounds 3]

- collection cycle: `Collector.run_once` for `--objectives` agreed objectives (99.9%,
  30-day rolling), each with a ratio SLI of two counters (defined through the log, read
  by the collector's catalog every round): one new minute per objective
  per round, pulled (BATCH = 50 objectives' good and total selectors a range query, the
  batches in flight together) and recorded (one RecordObservations each through the
  command bus, the budget reactor judging it, each group of 500 as soon as its batches' counts are in).
  Floors: the same range queries the collector sends (`batch_query`: the adapter's own
  text), raw (httpx, JSON decoded); and
  the issue's "two queries each": 2 x objectives raw range queries, 8 in flight.
  Target: under 10 s, within 2x the raw queries.
- baseline: `measure_baseline` over `--days` for a fresh objective each round (pull,
  backfill of every minute through the bus, the analysis with five candidates, the
  baseline event), against the raw chunked `query_range` floor (`bench.prometheus_source`).
  Target: within 2x the floor. Its pull alone (`minute_counts`) is printed beside the
  same floor, so the recording and the analysis show as the difference.

History: `promtool tsdb create-blocks-from openmetrics` + `prometheus` on a free loopback
port (the test suite's harness). Database: a temporary SQLite file, or with --pg a
uniquely named PostgreSQL database dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench.budget import setup_objectives
from bench.prometheus_source import CONCURRENCY, START, history, raw_range
from bench.store import Databases
from domain import objective as o
from domain import sources
from domain.data_source import DataSource
from domain.sli_definition import count_queries, parse_definition
from service.bootstrap import build
from service.collection.baseline import measure_baseline
from service.collection.catalog import StaticCatalog, Target
from service.collection.collector import BATCH, Collector
from service.config import Settings
from service.envelope import Envelope
from service.sources.prometheus import PrometheusSource, batch_query
from tests.prometheus.harness import PrometheusServer, create_blocks

SRE = frozenset({"sre"})


def at(minute: int) -> datetime:
    return datetime.fromtimestamp(START + 60 * minute, timezone.utc)


async def define_slis(container, url: str, ids: list[str]) -> list[Target]:
    """A source and, for each agreed objective, an SLI of two counters (a proposal the four
    parties endorse), recorded unchecked: what the collector's catalog then reads."""
    bus = container.bus
    await bus.execute(Envelope(sources.DefineDataSource("prom", "prometheus", url), "sre-person", SRE))
    definitions = {oid: {"kind": "ratio", "source": "prom", "good": f'obj_good_total{{objective="{oid}"}}',
                         "total": f'obj_all_total{{objective="{oid}"}}', "series": "single"} for oid in ids}
    await asyncio.gather(*(bus.execute(Envelope(o.DefineSli(oid, d, "sli", "read from Prometheus"), "sre-person", SRE))
                           for oid, d in definitions.items()))
    for party in o.PARTIES:
        await asyncio.gather(*(bus.execute(Envelope(o.EndorseProposal(oid, "sli", party), f"{party}-person",
                                                    frozenset({party}))) for oid in ids))
    source = DataSource("prom", "prometheus", url)
    return [Target(oid, parse_definition(d), source) for oid, d in definitions.items()]


async def timed(fn) -> float:
    # The garbage of the measure before (the floors' 2,000 httpx requests) is not this one's
    # cost; the collector stays enabled, so each pays for the collections its own garbage calls.
    gc.collect()
    t0 = time.perf_counter()
    await fn()
    return time.perf_counter() - t0


def line(name: str, ours: list[float], floors: dict[str, list[float]]) -> None:
    m = statistics.median(ours)
    parts = [f"{name:17s} slogov {m * 1000:8.1f} ms (runs {', '.join(f'{x * 1000:.0f}' for x in ours)})"]
    for label, xs in floors.items():
        f = statistics.median(xs)
        parts.append(f"{label} {f * 1000:8.1f} ms  ratio {m / f:.2f}x")
    print("  ".join(parts))


async def run(url: str, objectives: int, days: int, rounds: int) -> None:
    ids = [f"o{i}" for i in range(objectives)]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        create_blocks(history(days, objectives), data)
        print(f"history written in {time.perf_counter() - t0:.1f} s")
        container = build(Settings(database_url=url or f"sqlite+aiosqlite:///{tmp}/bench.db",
                                   checkpoint_key=f"{tmp}/key", collect_delay_seconds=0))
        await container.startup()
        try:
            print(f"{objectives} objectives agreed in {await setup_objectives(container, ids):.1f} s")
            with PrometheusServer(data) as server:
                t0 = time.perf_counter()
                targets = await define_slis(container, server.url, ids)
                print(f"their SLIs defined on {server.url} in {time.perf_counter() - t0:.1f} s")
                collector = Collector(container)  # the log's catalog, read every round
                # The very queries the collector sends: one per BATCH objectives, good and total.
                queries = [batch_query([count_queries(t.definition) for t in targets[i:i + BATCH]])
                           for i in range(0, len(targets), BATCH)]
                minute = 10
                await collector.run_once(now=at(minute))  # each objective's first minute: the resume points exist
                async with httpx.AsyncClient(timeout=60) as client:
                    limit = asyncio.Semaphore(CONCURRENCY)

                    async def cycle():
                        nonlocal minute
                        minute += 1
                        report = await collector.run_once(now=at(minute))
                        assert report.minutes_recorded == objectives and not report.faults, report

                    async def same_queries():
                        a, z = START + 60 * (minute - 1), START + 60 * minute
                        await asyncio.gather(*(raw_range(client, limit, server.url, query, a, z) for query in queries))

                    async def two_each():
                        a, z = START + 60 * (minute - 1), START + 60 * minute
                        await asyncio.gather(*(raw_range(client, limit, server.url, f'obj_{side}_total{{objective="{oid}"}}', a, z)
                                               for oid in ids for side in ("good", "all")))

                    ours, floor, issue = [], [], []
                    for _ in range(rounds):  # interleaved, so all see the same machine
                        ours.append(await timed(cycle))
                        floor.append(await timed(same_queries))
                        issue.append(await timed(two_each))
                    line("collection cycle", ours, {"same queries raw": floor, "two raw queries each": issue})

                    # The baseline: a fresh objective per round, so every round records every minute.
                    base = DataSource("prom", "prometheus", server.url)
                    defn = parse_definition({"kind": "ratio", "source": "prom", "good": 'base_requests_total{code="200"}',
                                             "total": "base_requests_total"})
                    end = at(days * 1440)
                    ours, floor = [], []
                    for r in range(rounds):
                        oid = f"baseline-{r}"
                        await container.bus.execute(Envelope(o.DraftObjective(
                            oid, "journey-0", oid, o.SLI("availability"), o.Window("rolling", 28), o.Budgeting("occurrences")),
                            "sre-person", SRE))
                        catalog = StaticCatalog([Target(oid, defn, base)])

                        async def baseline():
                            result = await measure_baseline(container, "sre-person", SRE, oid, days, until=end, catalog=catalog)
                            assert result.minutes_recorded == days * 1440, result.minutes_recorded

                        async def baseline_floor():
                            await asyncio.gather(raw_range(client, limit, server.url, 'base_requests_total{code="200"}', START, START + days * 86400),
                                                 raw_range(client, limit, server.url, "base_requests_total", START, START + days * 86400))

                        ours.append(await timed(baseline))
                        floor.append(await timed(baseline_floor))
                    line("baseline", ours, {"raw query_range": floor})

                    # Its first part alone: the counts pulled, beside the same floor.
                    pull, floor = [], []
                    for _ in range(rounds):
                        async def pulled():
                            async with PrometheusSource(server.url, max_concurrency=CONCURRENCY) as adapter:
                                counts = await adapter.minute_counts(count_queries(defn), START, START + days * 86400)
                            assert len(counts.counts) == days * 1440

                        pull.append(await timed(pulled))
                        floor.append(await timed(baseline_floor))
                    line("baseline's pull", pull, {"raw query_range": floor})
            print(f"({days} days at one-minute resolution for the baseline; {objectives} objectives, one minute each "
                  f"per cycle, {BATCH} objectives' good and total selectors a query, {CONCURRENCY} raw queries in flight; "
                  f"{'PostgreSQL' if url else 'SQLite'})")
        finally:
            await container.shutdown()


async def main_async(args) -> None:
    if not args.pg:
        await run("", args.objectives, args.days, args.rounds)
        return
    dbs = Databases(args.pg)
    try:
        name = await dbs.create("collection")
        await run(dbs.sa_url(name), args.objectives, args.days, args.rounds)
    finally:
        await dbs.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=None, help="a PostgreSQL server URL (postgresql+asyncpg://...)")
    parser.add_argument("--objectives", type=int, default=1000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
