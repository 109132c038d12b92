"""Stall benchmark: `/healthz` latency while the server answers the most expensive
queries its limits allow, beside `/healthz` on the idle server, in one run.

    python -m bench.stall [--pg URL] [--events 100000] [--seconds 8] [--clients 4]

It fills `slogov_bench_<random>_stall` with a realistic log (bench/replay.py's template
world cloned to `--events` events: journeys, negotiated objectives with an hour of
per-minute budget data each, freezes, deploy decisions), rebuilds the read models and
starts `uvicorn api.main:create_app_for --factory` (the product app as served). Then,
for each shape below, `--clients` clients send that query back to back for `--seconds`
while one client asks `/healthz` every 5 ms; first the same poll with nothing else
running (idle). Printed per shape: how long the query took, `/healthz` p50 and p99,
and p99 over the idle p99 (goal: p99 under 50 ms).

Shapes, each as large as `SLOGOV_MAX_QUERY_COST` (api/cost.py) lets it be:
  verify    auditIntegrity, as many aliases as the limit allows (each reads the whole log)
  report    leadershipReport, likewise
  replay    replayDeployDecision of the newest decisions (each folds the log up to it)
  budgets   objectives(first: 100) with budget and a budget ledger page, aliased
  refused   30 auditIntegrity aliases (the issue's query): refused before it runs
and, as the peer for "the server is busy at all", `cheap`: `{ viewer { actor } }` back to
back from the same clients. Each shape's p99 is printed over the idle p99 and over cheap's.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone

import httpx

from api.cost import EXPENSIVE, operation_cost
from bench.gate import ROOT, free_port, wait_ready
from bench.replay import fill
from bench.store import Databases
from service.config import Settings

GOAL_P99_MS = 50.0
STOP_SECONDS = 10  # the server's drain on SIGTERM (uvicorn's graceful-shutdown bound)
POLL_SECONDS = 0.005


def _aliases(field: str, limit: int) -> int:
    return max(1, limit // EXPENSIVE[("Query", field)])


def shapes(limit: int, decisions: list[str]) -> dict[str, str]:
    verify = " ".join(f"a{i}: auditIntegrity {{ ok eventsChecked }}" for i in range(_aliases("auditIntegrity", limit)))
    report = " ".join(f'r{i}: leadershipReport(quarter: "{_quarter()}") {{ quarter }}'
                      for i in range(_aliases("leadershipReport", limit)))
    newest = decisions[-_aliases("replayDeployDecision", limit):]
    replay = " ".join(f'p{i}: replayDeployDecision(id: "{d}") {{ matches }}' for i, d in enumerate(newest))
    sweep = ("objectives(first: 100) { edges { node { id budget { remaining burnRates { rate } } "
             "budgetLedger(first: 50) { edges { node { remaining } } } } } }")
    one = operation_cost(_schema(), _parse("{ " + sweep + " }"), None, {}, Settings().max_page_size)[0]
    budgets = " ".join(f"o{i}: {sweep}" for i in range(max(1, limit // one)))
    refused = " ".join(f"a{i}: auditIntegrity {{ ok }}" for i in range(30))
    return {name: "{ " + body + " }" for name, body in
            (("cheap", "viewer { actor }"), ("verify", verify), ("report", report), ("replay", replay),
             ("budgets", budgets), ("refused", refused))}


def _quarter() -> str:
    now = datetime.now(timezone.utc)
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def _schema():
    from api.schema import build_schema

    return build_schema()._schema


def _parse(query: str):
    from graphql import parse

    return parse(query)


async def prepare(url: str, events: int) -> tuple[str, list[str], int]:
    """Fill and rebuild; returns (an admin token, recorded decision ids, events)."""
    from api.auth import create_token
    from service import gate
    from service.bootstrap import build

    written, _ = await fill(url, events)
    container = build(Settings(database_url=url), auto_migrate=False)
    await container.startup()
    try:
        await container.projections.rebuild()
        _, token = await create_token(container.engines.write, "bench-admin", ["admin"], datetime.now(timezone.utc))
        decisions = await gate.deploy_decision_ids(container)
    finally:
        await container.shutdown()
    return token, decisions, written


async def poll_health(client: httpx.AsyncClient, until: float) -> list[float]:
    samples = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        response = await client.get("/healthz")
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        await asyncio.sleep(POLL_SECONDS)
    return samples


async def heavy(client: httpx.AsyncClient, query: str, token: str, until: float) -> tuple[list[float], set[str]]:
    took, codes = [], set()
    while time.perf_counter() < until:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"},
                                     timeout=600)
        took.append(time.perf_counter() - started)
        body = response.json()
        codes.update(e["extensions"]["code"] for e in body.get("errors") or ())
    return took, codes


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, token: str, queries: dict[str, str], seconds: float, clients: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    async with httpx.AsyncClient(base_url=url) as health, httpx.AsyncClient(base_url=url) as load:
        await poll_health(health, time.perf_counter() + 1.0)  # warm up
        samples = await poll_health(health, time.perf_counter() + seconds)
        results["idle"] = {"health": samples}
        for name, query in queries.items():
            until = time.perf_counter() + seconds
            work = [heavy(load, query, token, until) for _ in range(clients)]
            samples, *done = await asyncio.gather(poll_health(health, until), *work)
            took = [t for d in done for t in d[0]]
            codes = set().union(*(d[1] for d in done))
            results[name] = {"health": samples, "took": took, "codes": codes}
    return results


def report(results: dict[str, dict], limit: int, events: int, clients: int, seconds: float) -> bool:
    idle = results["idle"]["health"]
    idle_p99 = _p(idle, 0.99)
    print(f"\n/healthz polled every {POLL_SECONDS * 1000:.0f} ms for {seconds:.0f} s per shape; {clients} clients "
          f"send the shape back to back; log of {events:,} events; SLOGOV_MAX_QUERY_COST {limit:,}")
    cheap_p99 = _p(results["cheap"]["health"], 0.99)
    print(f"{'shape':10}{'queries':>9}{'query s p50':>13}{'codes':>16}{'health p50':>12}{'p99 ms':>9}"
          f"{'p99 / idle':>12}{'p99 / cheap':>13}")
    print(f"{'idle':10}{'-':>9}{'-':>13}{'-':>16}{statistics.median(idle):>12.2f}{idle_p99:>9.2f}{1.0:>11.1f}x"
          f"{idle_p99 / cheap_p99:>12.1f}x")
    met = True
    for name, r in results.items():
        if name == "idle":
            continue
        p99 = _p(r["health"], 0.99)
        met &= p99 < GOAL_P99_MS
        codes = ",".join(sorted(r["codes"])) or "ok"
        print(f"{name:10}{len(r['took']):>9}{statistics.median(r['took']):>13.2f}{codes:>16}"
              f"{statistics.median(r['health']):>12.2f}{p99:>9.2f}{p99 / idle_p99:>11.1f}x{p99 / cheap_p99:>12.1f}x")
    print(f"goal: /healthz p99 under {GOAL_P99_MS:.0f} ms under every shape -> {'met' if met else 'NOT met'}")
    return met


async def run(args) -> int:
    dbs = Databases(args.pg)
    scratch = tempfile.TemporaryDirectory(prefix="slogov-stall-")
    proc = None
    try:
        name = await dbs.create("stall")
        url = dbs.sa_url(name)
        started = time.perf_counter()
        token, decisions, events = await prepare(url, args.events)
        print(f"setup: {events:,} events, {len(decisions):,} decisions, {time.perf_counter() - started:.1f}s")
        limit = Settings.from_env().max_query_cost
        queries = shapes(limit, decisions)
        port = free_port()
        # The server's own rounds are off: both would run their first round during the
        # measurement (a chain check of the whole log for the first signed checkpoint; a
        # freshness round over ~1,250 budgets whose data ended long ago). The key file,
        # were one made, goes to a temporary directory, not the working directory.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_DATABASE_URL": url,
               "SLOGOV_CHECKPOINT_INTERVAL": "0", "SLOGOV_FRESHNESS_PROBE_SECONDS": "0",
               "SLOGOV_CHECKPOINT_KEY": os.path.join(scratch.name, "checkpoint.key")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", "api.main:create_app_for", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown",
            str(STOP_SECONDS), cwd=ROOT, env=env,
            stderr=asyncio.subprocess.DEVNULL)  # refusals are logged: not this benchmark's output
        server = f"http://127.0.0.1:{port}"
        await wait_ready(server, proc)
        results = await measure(server, token, queries, args.seconds, args.clients)
        return 0 if report(results, limit, events, args.clients, args.seconds) else 1
    finally:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_SECONDS + 10)
            except asyncio.TimeoutError:
                print(f"the server did not stop within {STOP_SECONDS + 10} s of SIGTERM: killed", file=sys.stderr)
                proc.kill()
                await proc.wait()
        scratch.cleanup()
        await dbs.drop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stall", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("SLOGOV_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=1)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
