"""The Prometheus adapter against a real Prometheus, each figure beside a floor from the same run.

    python -m bench.prometheus_source [--objectives 1000] [--days 28] [--rounds 3]

- baseline: `minute_counts` for one objective over `--days` at one-minute resolution
  (good and total, chunked under the 11,000-point limit), against the floor: the same
  chunked `query_range` requests sent with httpx and their JSON decoded, nothing else.
- collection cycle: the last 5 complete minutes of every one of `--objectives`
  objectives (two range queries each, 8 in flight), against the same raw requests;
  and the same counts with `minute_counts_many` (100 objectives' selectors a query)
  against that same per-objective floor.

History is written with `promtool tsdb create-blocks-from openmetrics` and served by
`prometheus` on a free loopback port (the test suite's harness), then removed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from domain.sli_definition import count_queries, parse_definition
from service.sources.prometheus import DEFAULT_CHUNK_POINTS, PrometheusSource
from tests.prometheus.harness import Counter, PrometheusServer, create_blocks, cumulative, openmetrics

START = 1_767_571_200  # 2026-01-05T00:00:00Z
CYCLE_MINUTES = 120
CONCURRENCY = 8


def history(days: int, objectives: int) -> str:
    minutes = days * 1440
    series = [
        Counter("base_requests", {"code": "200"}, cumulative(START, [100] * minutes)),
        Counter("base_requests", {"code": "500"}, cumulative(START, [1] * minutes)),
    ]
    for i in range(objectives):
        series.append(Counter("obj_good", {"objective": f"o{i}"}, cumulative(START, [50] * CYCLE_MINUTES)))
        series.append(Counter("obj_all", {"objective": f"o{i}"}, cumulative(START, [51] * CYCLE_MINUTES)))
    return openmetrics(series)


async def raw_range(client: httpx.AsyncClient, limit: asyncio.Semaphore, url: str, expr: str, start: int, end: int) -> int:
    """The floor: the chunked query_range requests, JSON decoded; returns points seen."""
    points = 0
    chunks = []
    t = start
    while t <= end:
        last = min(end, t + (DEFAULT_CHUNK_POINTS - 1) * 60)
        chunks.append((t, last))
        t = last + 60

    async def one(a: int, z: int) -> None:
        nonlocal points
        async with limit:
            r = await client.post(f"{url}/api/v1/query_range", data={"query": expr, "start": str(a), "end": str(z), "step": "60"})
        for s in r.json()["data"]["result"]:
            points += len(s["values"])

    await asyncio.gather(*(one(a, z) for a, z in chunks))
    return points


async def timed(fn) -> float:
    t0 = time.perf_counter()
    await fn()
    return time.perf_counter() - t0


async def run(objectives: int, days: int, rounds: int) -> None:
    baseline_q = count_queries(parse_definition({"kind": "ratio", "source": "p", "good": 'base_requests_total{code="200"}', "total": "base_requests_total"}))
    cycle_q = [count_queries(parse_definition({"kind": "ratio", "source": "p", "good": f'obj_good_total{{objective="o{i}"}}',
                                               "total": f'obj_all_total{{objective="o{i}"}}', "series": "single"}))
               for i in range(objectives)]
    end = START + days * 1440 * 60
    cycle_end = START + CYCLE_MINUTES * 60
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        t0 = time.perf_counter()
        create_blocks(history(days, objectives), data)
        print(f"history written in {time.perf_counter() - t0:.1f} s")
        with PrometheusServer(data) as server:
            async with PrometheusSource(server.url, max_concurrency=CONCURRENCY) as source, httpx.AsyncClient(timeout=60) as client:
                limit = asyncio.Semaphore(CONCURRENCY)

                async def baseline():
                    counts = await source.minute_counts(baseline_q, START, end)
                    assert not counts.missing and counts.counts[START] == (100, 101)

                async def baseline_floor():
                    await asyncio.gather(raw_range(client, limit, server.url, baseline_q.good, START, end),
                                         raw_range(client, limit, server.url, baseline_q.total, START, end))

                async def cycle():
                    results = await asyncio.gather(*(source.minute_counts(q, cycle_end - 300, cycle_end) for q in cycle_q))
                    assert all(r.counts[cycle_end - 60] == (50, 51) for r in results)

                async def cycle_floor():
                    await asyncio.gather(*(raw_range(client, limit, server.url, e, cycle_end - 300, cycle_end)
                                           for q in cycle_q for e in (q.good, q.total)))

                async def cycle_batched():
                    results = await source.minute_counts_many(cycle_q, cycle_end - 300, cycle_end)
                    assert all(r.counts[cycle_end - 60] == (50, 51) for r in results)

                for name, ours, floor in (("baseline", baseline, baseline_floor), ("collection cycle", cycle, cycle_floor),
                                          ("cycle, batched", cycle_batched, cycle_floor)):
                    await ours()  # warm Prometheus's caches for both
                    await floor()
                    a, b = [], []
                    for _ in range(rounds):  # interleaved, so both see the same machine
                        a.append(await timed(ours))
                        b.append(await timed(floor))
                    ma, mb = statistics.median(a), statistics.median(b)
                    print(f"{name:17s} slogov {ma * 1000:8.1f} ms (runs {', '.join(f'{x * 1000:.0f}' for x in a)})  "
                          f"raw query_range {mb * 1000:8.1f} ms  ratio {ma / mb:.2f}x")
    print(f"({days} days at one-minute resolution for the baseline; {objectives} objectives, two queries each, "
          f"{CONCURRENCY} in flight, for the cycle)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objectives", type=int, default=1000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.objectives, args.days, args.rounds))


if __name__ == "__main__":
    main()
