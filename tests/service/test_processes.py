"""Two writer processes on one PostgreSQL: the advisory lock keeps one order."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from eventstore.verify import verify_chain
from service.bootstrap import build

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.pg_only
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_processes_write_while_a_reader_tails_and_nothing_is_missed(settings):
    clients, per_client = 8, 40
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.service.writer_process", settings.database_url, name,
            str(clients), str(per_client), cwd=ROOT, env=env,
        )
        for name in ("alpha", "beta")
    ]
    reader = build(settings, auto_migrate=False)
    seen: list[int] = []
    try:
        last = 0

        async def drain() -> None:
            nonlocal last
            for event in await reader.store.read_all(after=last, limit=200):
                assert event.position == last + 1, f"saw {event.position} right after {last}"
                last = event.position
                seen.append(last)

        while any(p.returncode is None for p in procs):
            await drain()
            await asyncio.sleep(0.002)
        await drain()
        await drain()
        assert [p.returncode for p in procs] == [0, 0]
        total = 2 * clients * per_client
        assert seen == list(range(1, total + 1))
        streams = {e.stream_id.split("-")[1] for e in await reader.store.read_all(limit=total)}
        assert streams == {"alpha", "beta"}
        report = await verify_chain(reader.engines)
        assert report.ok and report.events_checked == total
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
        await reader.shutdown()
