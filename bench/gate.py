"""Deploy-gate benchmark: recorded `evaluateDeploy` decisions per second over HTTP against a
real uvicorn server on PostgreSQL, beside a plain Starlette JSON route on the same server
in the same run.

    python -m bench.gate [--pg URL] [--clients 16] [--seconds 10]

It creates `slogov_bench_<random>_gate`, sets up a frozen service (`payments`, its
journey's objective has exhausted its budget under the default policy) and an unfrozen one
(`search`), starts `uvicorn bench.gate:app_factory --factory` (the product app as served,
beside a plain Starlette app with `/bench-ping`; the product app itself gains no route),
then runs `--clients` concurrent raw HTTP clients (`bench/loadgen.py`) for `--seconds` each
against the gate -- `POST /gate/evaluate` (what `slogov gate` asks on), then GraphQL's
`evaluateDeploy` -- (unique pipeline run ids, alternating the two services and
feature/rollback) and then against `/bench-ping`. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx

from bench.store import Databases
from service.config import Settings

TARGET_DECISIONS_PER_SECOND = 2_000
TARGET_P99_MS = 20.0
ROOT = Path(__file__).resolve().parents[1]
EVALUATE = ("mutation($input: EvaluateDeployInput!) { evaluateDeploy(input: $input) "
            "{ id outcome reasons evaluatedAtPosition } }")


# ---- the server's app (imported by uvicorn in its own process) ----------------------


def app_factory():
    """The product app (from SLOGOV_DATABASE_URL) beside a plain Starlette app with /bench-ping.

    A bare ASGI dispatch sends those two paths to the plain app and everything else to
    the product app as it is served in production (its lifespan too): mounting the
    product under a wrapper Starlette app would add the wrapper's middleware and routing
    to every gate request but not to the ping.
    """
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from api.main import create_app_for
    from service.config import Settings

    product = create_app_for(Settings.from_env())

    async def ping(request):
        return JSONResponse({"ok": True, "at": datetime.now(timezone.utc).isoformat()})

    async def gather(request):
        # Bench only: switch the bus's batch gathering (ms) between phases of one run.
        product.state.container.bus.gather_max = float(request.query_params["ms"]) / 1000
        return JSONResponse({"ok": True})

    plain = Starlette(routes=[Route("/bench-ping", ping, methods=["GET", "POST"]),
                              Route("/bench-gather", gather, methods=["POST"])])
    own = {"/bench-ping", "/bench-gather"}

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"] in own:
            await plain(scope, receive, send)
        else:
            await product(scope, receive, send)

    return app


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


async def load(port: int, target: str, token: str, clients: int, seconds: float, tag: str) -> dict:
    """Run `bench.loadgen` in its own process (lean raw HTTP/1.1 clients) and return its figures."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", "--port", str(port), "--target", target, "--token", token,
        "--clients", str(clients), "--seconds", str(seconds), "--tag", tag,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process and its children (uvicorn's worker processes)."""
    total = cpu_seconds(pid)
    if total is None:
        return None
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                total += cpu_seconds(int(entry)) or 0.0
    return total


async def batch_totals(url: str, token: str) -> tuple[float, float]:
    """(commands, transactions) the server's group commit has handled so far, from /metrics."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(url + "/metrics", headers={"Authorization": f"Bearer {token}"})).text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith("slogov_group_commit_batch_size_")}
    return values.get("slogov_group_commit_batch_size_sum", 0.0), values.get("slogov_group_commit_batch_size_count", 0.0)


LABELS = {"graphql": "evaluateDeploy (GraphQL)", "json": "POST /gate/evaluate", "ping": "/bench-ping (Starlette)",
          "graphql-ungathered": "evaluateDeploy, no gathering", "json-ungathered": "/gate/evaluate, no gathering"}
GATHER_MS = Settings.from_env().gather_max_ms


async def run(pg: str, clients: int, seconds: float, targets: list[str], profile: str | None = None,
              workers: int = 1) -> int:
    dbs = Databases(pg)
    scratch = tempfile.TemporaryDirectory(prefix="slogov-gate-")
    proc = None
    try:
        name = await dbs.create("gate")
        database_url = dbs.sa_url(name)
        t0 = time.perf_counter()
        token = await setup(database_url)
        print(f"setup: {time.perf_counter() - t0:.1f}s (payments frozen, search not)")
        port = free_port()
        # The server signs checkpoints: its key goes to a temporary directory, not the repository.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_DATABASE_URL": database_url,
               "SLOGOV_CHECKPOINT_KEY": os.path.join(scratch.name, "checkpoint.key")}
        # --profile: the server runs under py-spy (pip install py-spy), which writes a
        # flame graph (svg) or raw folded stacks (.txt) when the server stops.
        spy = ["py-spy", "record", "--subprocesses", "-o", profile,
               "--format", "raw" if profile.endswith(".txt") else "flamegraph", "--"] if profile else []
        proc = await asyncio.create_subprocess_exec(
            *spy, sys.executable, "-m", "uvicorn", "bench.gate:app_factory", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning", "--no-access-log", "--workers", str(workers),
            cwd=ROOT, env=env,
        )
        url = f"http://127.0.0.1:{port}"
        await wait_ready(url, proc)
        tag = uuid.uuid4().hex[:8]

        await load(port, "ping", token, clients, 1.0, tag)  # warm up
        results: dict[str, dict] = {}
        for target in targets:
            route, _, variant = target.partition("-")
            async with httpx.AsyncClient() as client:  # the bus's batch gathering for this phase
                for _ in range(4 * workers):  # each worker process has its own bus (best effort)
                    await client.post(url + "/bench-gather", params={"ms": 0 if variant == "ungathered" else GATHER_MS})
            if target != "ping":
                await load(port, route, token, clients, 1.0, f"{tag}w{route}")  # warm the gate path
            cpu0 = None if profile else tree_cpu_seconds(proc.pid)  # under py-spy, proc is py-spy
            commands0, batches0 = await batch_totals(url, token)
            results[target] = await load(port, route, token, clients, seconds, f"{tag}{route}{variant}")
            cpu1 = tree_cpu_seconds(proc.pid)
            commands1, batches1 = await batch_totals(url, token)
            # /metrics is per process: with several workers it would show one of them.
            results[target]["per_batch"] = ((commands1 - commands0) / (batches1 - batches0)
                                            if batches1 > batches0 and workers == 1 else None)
            ok = results[target]["ok"] + results[target]["failed"]
            # Server CPU per request: what the figures would be with the server alone on a core.
            results[target]["cpu_ms"] = (cpu1 - cpu0) * 1000 / ok if cpu0 is not None and cpu1 is not None and ok else None
        recorded = await decisions_recorded(database_url)

        print(f"\n{clients} clients (raw HTTP/1.1 keep-alive, own process) x {seconds:.0f}s each, "
              f"uvicorn ({workers} worker process{'es' if workers > 1 else ''}) on PostgreSQL")
        print(f"{'':26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ok':>9}{'failed':>8}{'server CPU ms/req':>19}")
        for target, r in results.items():
            rate = r["ok"] / r["elapsed"]
            r["rate"] = rate
            cpu = f"{r['cpu_ms']:.3f}" if r.get("cpu_ms") is not None else "-"
            print(f"{LABELS[target]:26}{rate:>10,.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['ok']:>9}{r['failed']:>8}"
                  f"{cpu:>19}")
            if r["outcomes"]:
                per_batch = f"; {r['per_batch']:.1f} commands per transaction" if r.get("per_batch") else ""
                print(f"{'':26}outcomes: {r['outcomes']}{per_batch}")
            if r["first_error"]:
                print(f"{'':26}first error: {r['first_error']}")
        ping = results.get("ping")
        for target in (t for t in targets if t != "ping"):
            r = results[target]
            if ping:
                cpu_ratio = (f", {r['cpu_ms'] / ping['cpu_ms']:.1f}x server CPU per request"
                             if r.get("cpu_ms") and ping.get("cpu_ms") else "")
                print(f"ratio {LABELS[target]} / plain route: {r['rate'] / ping['rate']:.2f}x throughput, "
                      f"{r['p99_ms'] / ping['p99_ms']:.1f}x p99{cpu_ratio}")
            print(f"target ({LABELS[target]}): >= {TARGET_DECISIONS_PER_SECOND:,} decisions/s -> "
                  f"{'met' if r['rate'] >= TARGET_DECISIONS_PER_SECOND else 'NOT met'} "
                  f"({r['rate'] / TARGET_DECISIONS_PER_SECOND:.2f}x); "
                  f"p99 < {TARGET_P99_MS:.0f} ms -> {'met' if r['p99_ms'] < TARGET_P99_MS else 'NOT met'}")
        print(f"decisions recorded in the read model: {recorded}")
        return 0 if all(r["failed"] == 0 for r in results.values()) else 1
    finally:
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGINT) if profile else proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
        scratch.cleanup()
        await dbs.drop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("SLOGOV_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--targets", default="json,graphql,ping",
                        help="comma-separated, measured in the order given: json (the route `slogov gate` asks "
                             "on), graphql, ping (the peer); graphql-ungathered "
                             "and json-ungathered run with the bus's batch gathering off (the code before it)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the server")
    parser.add_argument("--profile", help="record the server with py-spy into this file (.svg or .txt)")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.pg, args.clients, args.seconds, args.targets.split(","), args.profile,
                           args.workers))


if __name__ == "__main__":
    sys.exit(main())
