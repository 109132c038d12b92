"""A lean HTTP/1.1 load generator for bench/gate.py, run in its own process so that the
figures measure the server rather than the client.

    python -m bench.loadgen --port P --target {ping,graphql,json} [--token T] [--clients 16]
                            [--seconds 10] [--tag X]

Each client holds one keep-alive connection and sends its next request when the last
answer has arrived (closed loop). Requests are byte templates filled with a unique
pipeline run id; responses are read by Content-Length, their status and outcome
checked. Prints one JSON line: ok, failed, elapsed, p50/p99 in ms, outcomes, first error.
httpx clients cost about as much CPU per request as the server's plain route, which on
two cores made the peer a measure of the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from typing import Callable

_OUTCOME = re.compile(rb'"outcome":\s*"([A-Z_]+)"')
EVALUATE = ("mutation($input: EvaluateDeployInput!) { evaluateDeploy(input: $input) "
            "{ id outcome reasons evaluatedAtPosition } }")
SERVICES = ("payments", "search")
CHANGES = ("feature", "rollback")


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def builder(target: str, token: str, tag: str) -> Callable[[int, int], bytes]:
    """(client, i) -> the request's bytes; every gate request has its own pipeline run."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if target == "ping":
        ping = _request("GET", "/bench-ping", {})
        return lambda n, i: ping

    def gate_input(n: int, i: int) -> dict:
        return {"service": SERVICES[i % 2], "changeType": CHANGES[(i // 2) % 2], "version": f"v{i}",
                "pipelineRunId": f"bench-{tag}-{n}-{i}"}

    if target == "graphql":
        def graphql(n: int, i: int) -> bytes:
            d = gate_input(n, i)
            d["changeType"] = d["changeType"].upper()
            return _request("POST", "/graphql", auth, json.dumps({"query": EVALUATE, "variables": {"input": d}}).encode())
        return graphql
    if target == "json":
        return lambda n, i: _request("POST", "/gate/evaluate", auth, json.dumps(gate_input(n, i)).encode())
    raise ValueError(target)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    return status, await reader.readexactly(length)


async def run(port: int, target: str, token: str, clients: int, seconds: float, tag: str) -> dict:
    build = builder(target, token, tag)
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    failed = 0
    first_error: str | None = None
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + seconds

    async def client(n: int) -> None:
        nonlocal failed, first_error
        reader, writer = conns[n]
        i = 0
        while time.perf_counter() < deadline:
            request = build(n, i)
            t0 = time.perf_counter()
            writer.write(request)
            status, body = await _read_response(reader)
            elapsed = time.perf_counter() - t0
            i += 1
            if status != 200 or b'"errors"' in body or b'"error"' in body:
                failed += 1
                first_error = first_error or f"HTTP {status}: {body[:300]!r}"
                continue
            latencies.append(elapsed)
            if target != "ping":
                m = _OUTCOME.search(body)
                key = m.group(1).decode() if m else "?"
                outcomes[key] = outcomes.get(key, 0) + 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    for _, writer in conns:
        writer.close()
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"ok": len(latencies), "failed": failed, "elapsed": elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "outcomes": outcomes, "first_error": first_error}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", choices=("ping", "graphql", "json"), required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tag", default="x")
    args = parser.parse_args(argv)
    work = run(args.port, args.target, args.token, args.clients, args.seconds, args.tag)
    try:
        import uvloop  # uvicorn[standard] brings it

        result = uvloop.run(work)
    except ImportError:  # pragma: no cover
        result = asyncio.run(work)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
