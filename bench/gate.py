"""Deploy-gate benchmark: recorded `evaluateDeploy` decisions per second over HTTP against a
real uvicorn server on PostgreSQL, beside a plain Starlette JSON route on the same server
in the same run.

    python -m bench.gate [--pg URL] [--clients 16] [--seconds 10]

It creates `slogov_bench_<random>_gate`, sets up a frozen service (`payments`, its
journey's objective has exhausted its budget under the default policy) and an unfrozen one
(`search`), starts `uvicorn bench.gate:app_factory --factory` (the product app mounted
under a wrapper that adds `/bench-ping`; the product app itself gains no route), then runs
`--clients` concurrent httpx clients for `--seconds` each against `evaluateDeploy` (unique
pipeline run ids, alternating the two services and feature/rollback) and then against
`/bench-ping`. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench.store import Databases

TARGET_DECISIONS_PER_SECOND = 2_000
TARGET_P99_MS = 20.0
ROOT = Path(__file__).resolve().parents[1]
EVALUATE = ("mutation($input: EvaluateDeployInput!) { evaluateDeploy(input: $input) "
            "{ id outcome reasons evaluatedAtPosition } }")


# ---- the server's app (imported by uvicorn in its own process) ----------------------


def app_factory():
    """The product app (from SLOGOV_DATABASE_URL) mounted under a wrapper with /bench-ping."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from api.main import create_app_for
    from service.config import Settings

    product = create_app_for(Settings.from_env())

    async def ping(request):
        return JSONResponse({"ok": True, "at": datetime.now(timezone.utc).isoformat()})

    def lifespan(app):
        return product.router.lifespan_context(product)

    return Starlette(routes=[Route("/bench-ping", ping, methods=["GET", "POST"]), Mount("/", app=product)],
                     lifespan=lifespan)


# ---- setup ------------------------------------------------------------------------


async def setup(database_url: str) -> str:
    """Default policy adopted; `payments` frozen, `search` not; returns a ci token."""
    from api.auth import create_token
    from policies.loader import POLICY_DIR
    from service import gate
    from service.bootstrap import build
    from service.config import Settings
    from tests.policies.support import LEADERSHIP, active_objective, observe

    container = build(Settings.from_env(database_url=database_url))
    await container.startup()
    try:
        await gate.adopt_policy(container, "vp", LEADERSHIP, (POLICY_DIR / "default.yaml").read_text())
        await active_objective(container, "checkout-availability", "checkout", ("payments",))
        await observe(container, 0, 60, 1000, 1000, oid="checkout-availability")
        await observe(container, 60, 70, 0, 1000, oid="checkout-availability")  # exhausted: frozen
        await active_objective(container, "search-availability", "search", ("search",))
        await observe(container, 0, 60, 1000, 1000, oid="search-availability")
        frozen = await gate.deploy_preview(container, "b", frozenset({"ci"}), "payments", "feature", "v")
        free = await gate.deploy_preview(container, "b", frozenset({"ci"}), "search", "feature", "v")
        assert frozen.outcome == "DENY" and free.outcome == "ALLOW", (frozen, free)
        _, token = await create_token(container.engines.write, "bench-ci", ["ci"], datetime.now(timezone.utc))
        return token
    finally:
        await container.shutdown()


async def decisions_recorded(database_url: str) -> int:
    from sqlalchemy import func, select

    from eventstore.engine import create_engines
    from projections.tables import deploy_decisions

    engines = create_engines(database_url)
    try:
        async with engines.read.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(deploy_decisions))).scalar_one()
    finally:
        await engines.dispose()


# ---- load ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_ready(url: str, proc) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if proc.returncode is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never became ready")


async def load(url: str, clients: int, seconds: float, request) -> tuple[int, int, list[float], float]:
    """`clients` concurrent clients, each sending requests one after another for `seconds`."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        started = time.perf_counter()
        deadline = started + seconds

        async def client(n: int) -> None:
            nonlocal failures
            i = 0
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                ok = await request(http, n, i)
                latencies.append(time.perf_counter() - t0) if ok else None
                failures += 0 if ok else 1
                i += 1

        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies), failures, latencies, elapsed


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


async def run(pg: str, clients: int, seconds: float) -> int:
    dbs = Databases(pg)
    proc = None
    try:
        name = await dbs.create("gate")
        database_url = dbs.sa_url(name)
        t0 = time.perf_counter()
        token = await setup(database_url)
        print(f"setup: {time.perf_counter() - t0:.1f}s (payments frozen, search not)")
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_DATABASE_URL": database_url}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", "bench.gate:app_factory", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log", cwd=ROOT, env=env,
        )
        url = f"http://127.0.0.1:{port}"
        await wait_ready(url, proc)
        headers = {"Authorization": f"Bearer {token}"}
        tag = uuid.uuid4().hex[:8]
        outcomes: dict[str, int] = {}

        async def decide(http: httpx.AsyncClient, n: int, i: int) -> bool:
            service = ("payments", "search")[i % 2]
            change = ("FEATURE", "ROLLBACK")[(i // 2) % 2]
            body = {"query": EVALUATE, "variables": {"input": {
                "service": service, "changeType": change, "version": f"v{i}",
                "pipelineRunId": f"bench-{tag}-{n}-{i}"}}}
            response = await http.post("/graphql", json=body, headers=headers)
            data = response.json()
            if data.get("errors"):
                return False
            outcome = data["data"]["evaluateDeploy"]["outcome"]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            return True

        async def ping(http: httpx.AsyncClient, n: int, i: int) -> bool:
            return (await http.get("/bench-ping")).status_code == 200

        await load(url, clients, 1.0, ping)  # warm up connections and the server
        n_dec, f_dec, lat_dec, el_dec = await load(url, clients, seconds, decide)
        recorded = await decisions_recorded(database_url)
        n_ping, f_ping, lat_ping, el_ping = await load(url, clients, seconds, ping)

        rate_dec, rate_ping = n_dec / el_dec, n_ping / el_ping
        p50d, p99d, p50p, p99p = pct(lat_dec, 50), pct(lat_dec, 99), pct(lat_ping, 50), pct(lat_ping, 99)
        print(f"\n{clients} clients x {seconds:.0f}s each, uvicorn (1 process) on PostgreSQL")
        print(f"{'':24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ok':>9}{'failed':>8}")
        print(f"{'evaluateDeploy':24}{rate_dec:>10,.0f}{p50d:>10.1f}{p99d:>10.1f}{n_dec:>9}{f_dec:>8}")
        print(f"{'/bench-ping (Starlette)':24}{rate_ping:>10,.0f}{p50p:>10.1f}{p99p:>10.1f}{n_ping:>9}{f_ping:>8}")
        print(f"outcomes: {outcomes}; decisions recorded in the read model: {recorded} (answered: {n_dec})")
        print(f"ratio evaluateDeploy / plain route: {rate_dec / rate_ping:.2f}x throughput, "
              f"{p99d / p99p:.1f}x p99")
        print(f"target: >= {TARGET_DECISIONS_PER_SECOND:,} decisions/s -> "
              f"{'met' if rate_dec >= TARGET_DECISIONS_PER_SECOND else 'NOT met'} "
              f"({rate_dec / TARGET_DECISIONS_PER_SECOND:.2f}x); "
              f"p99 < {TARGET_P99_MS:.0f} ms -> {'met' if p99d < TARGET_P99_MS else 'NOT met'}")
        if recorded != n_dec:
            print("WARNING: recorded decisions differ from answered ones", file=sys.stderr)
            return 1
        return 0
    finally:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
        await dbs.drop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("SLOGOV_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.pg, args.clients, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
