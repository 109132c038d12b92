"""Two `slogov serve` processes on one PostgreSQL, written to concurrently over
GraphQL while a reader tails the log: one gap-free order, nothing missed, the
chain verifies, and both servers read what either wrote."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from api.auth import create_token
from eventstore.verify import verify_chain
from service.bootstrap import build
from tests.graphql.conftest import journey_input

ROOT = Path(__file__).resolve().parents[2]
PROPOSE = "mutation($input: ProposeJourneyInput!) { proposeJourney(input: $input) { events { position } } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_ready(url: str, proc) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if proc.returncode is not None:
                raise AssertionError(f"server exited with {proc.returncode}")
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


@pytest.mark.pg_only
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_server_processes_keep_one_order_and_a_tailing_reader_misses_nothing(settings):
    reader = build(settings, auto_migrate=False)
    _, token = await create_token(reader.engines.write, "load", ["product"], datetime.now(timezone.utc))
    ports = [free_port(), free_port()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_DATABASE_URL": settings.database_url}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "api.cli", "serve", "--port", str(port), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    clients, per_client = 12, 15
    seen: list[int] = []
    writing = True
    try:
        await asyncio.gather(*(wait_ready(u, p) for u, p in zip(urls, procs)))

        async def tail() -> None:
            last = 0
            while True:
                still_writing = writing
                chunk = await reader.store.read_all(after=last, limit=100)
                for event in chunk:
                    assert event.position == last + 1, f"saw {event.position} right after {last}"
                    last = event.position
                    seen.append(last)
                if not still_writing and not chunk:
                    return
                await asyncio.sleep(0.001)

        async def client(n: int) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=urls[n % 2], headers=headers, timeout=30) as http:
                for i in range(per_client):
                    body = (await http.post("/graphql", json={
                        "query": PROPOSE, "variables": {"input": journey_input(f"c{n}-{i}")}})).json()
                    assert not body.get("errors"), body

        tailer = asyncio.create_task(tail())
        await asyncio.gather(*(client(n) for n in range(clients)))
        writing = False
        await asyncio.wait_for(tailer, 60)

        total = clients * per_client
        assert seen == list(range(1, total + 1))
        report = await verify_chain(reader.engines)
        assert report.ok and report.events_checked == total
        # Each server reads what the other wrote (shared read models, no local state).
        for url in urls:
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
                body = (await http.post("/graphql", json={"query": "{ journeys(first: 1) { totalCount } }"})).json()
                assert body["data"]["journeys"]["totalCount"] == total
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
        await reader.shutdown()
