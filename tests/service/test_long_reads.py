"""Long reads (the chain check, the leadership report, a decision's replay) run one at a
time in a server process: a second waits for the first, and beyond the waiting room the
next is told to retry. Meanwhile the server answers everything else."""

from __future__ import annotations

import asyncio

import pytest

from domain.errors import Unavailable
from service import audit, gate
from service.reports import leadership_report
from tests.policies.support import active_objective, deploy, observe


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_a_long_read_waits_while_another_runs(container):
    await active_objective(container)
    await observe(container, 0, 30, 1000, 1000)
    await deploy(container, "feature", "run-1")
    reads = container.long_reads
    async with reads.slot("held by the test"):
        waiting = [
            asyncio.create_task(audit.integrity(container)),
            asyncio.create_task(leadership_report(container, "2026-Q4")),
            asyncio.create_task(gate.replay_deploy_decision(container, "run-1")),
        ]
        await _until(lambda: reads.waiting == 3)
        # None of them started, and the rest of the service still answers.
        assert not any(task.done() for task in waiting)
        assert (await deploy(container, "feature", "run-2")).recorded
        assert reads.running == "held by the test"
    report, quarter, replay = await asyncio.gather(*waiting)
    # The chain check began after the slot was free: it saw the decision recorded meanwhile.
    assert report.ok and report.events_checked == (await container.store.head())[0]
    assert quarter.quarter == "2026-Q4" and replay.matches
    assert reads.waiting == 0 and reads.running is None


async def test_beyond_the_waiting_room_a_long_read_is_told_to_retry(container):
    reads = container.long_reads
    reads.max_waiting = 1
    async with reads.slot("held by the test"):
        first = asyncio.create_task(audit.integrity(container))
        await _until(lambda: reads.waiting == 1)
        with pytest.raises(Unavailable) as refused:
            await audit.integrity(container)
        assert refused.value.code == "UNAVAILABLE" and "send the request again" in refused.value.message
    assert (await first).ok


from tests.graphql import conftest as graphql  # noqa: E402

api = graphql.api  # the HTTP fixture, found by pytest under this name


async def test_over_http_a_second_chain_check_waits_and_health_is_answered(api):
    reads = api.container.long_reads
    async with reads.slot("held by the test"):
        query = asyncio.create_task(api.post("{ auditIntegrity { ok } }", role="auditor"))
        await _until(lambda: reads.waiting == 1)
        assert (await api.client.get("/healthz")).status_code == 200
        assert not query.done()
    assert (await query)["data"]["auditIntegrity"]["ok"]
