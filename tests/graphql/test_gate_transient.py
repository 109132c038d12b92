"""A transient database failure under the deploy gate is retried in the service and never
reaches a pipeline as an internal error (PostgreSQL: the failures are real ones).

- a lost connection: every server session of the pool is terminated between decisions;
- a lock timeout: the gate's tables are held by another session while the gate reads,
  with `lock_timeout` set for the database; released after the first retry, the
  decision is answered; held through every retry, the answer is UNAVAILABLE (HTTP 503
  on the JSON route), and nothing is appended.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from tests.graphql.test_gate_json import post, request
from tests.policies.support import active_objective, observe

pytestmark = [pytest.mark.pg_only, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

EVALUATE = """mutation($input: EvaluateDeployInput!) { evaluateDeploy(input: $input) { outcome recorded } }"""


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg", "postgresql")


async def _ready(api) -> None:
    await active_objective(api.container)
    await observe(api.container, 0, 60, 1000, 1000)
    assert (await post(api, request("warm-up"))).status_code == 200  # the pool holds sessions now


async def test_a_lost_connection_is_retried(api, database_url):
    await _ready(api)
    admin = await asyncpg.connect(_dsn(database_url))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert killed >= 1
        response = await post(api, request("after-kill-json"))
        assert response.status_code == 200, response.text
        assert response.json()["evaluateDeploy"]["recorded"]
        await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        body = await api.post(EVALUATE, {"input": request("after-kill-graphql")}, role="ci")
        assert "errors" not in body, body
        assert body["data"]["evaluateDeploy"]["recorded"]
    finally:
        await admin.close()


async def _hold_gate_epoch(database_url: str) -> tuple[asyncio.Task, asyncio.Event]:
    """Another session holds the table every gate read starts with, until the event is set."""
    held, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        holder = await asyncpg.connect(_dsn(database_url))
        try:
            async with holder.transaction():
                await holder.execute("LOCK TABLE rm_gate_epoch IN ACCESS EXCLUSIVE MODE")
                held.set()
                await release.wait()
        finally:
            await holder.close()

    task = asyncio.create_task(hold())
    await held.wait()
    return task, release


async def test_a_lock_timeout_is_retried_and_then_answered_unavailable(api, database_url, caplog):
    await _ready(api)
    admin = await asyncpg.connect(_dsn(database_url))
    try:
        await admin.execute(f'ALTER DATABASE "{await admin.fetchval("SELECT current_database()")}" '
                            "SET lock_timeout = '50ms'")
        await api.container.engines.dispose()  # new sessions take the setting
    finally:
        await admin.close()
    await observe(api.container, 60, 61, 1000, 1000)  # the epoch moves: the gate must read its tables again
    caplog.set_level(logging.WARNING, logger="service.retry")

    # Held until the gate has retried once: the decision is answered.
    holder, release = await _hold_gate_epoch(database_url)
    answer = asyncio.create_task(post(api, request("after-lock")))
    while not answer.done() and not any("transient" in r.getMessage() for r in caplog.records):
        await asyncio.sleep(0.005)
    release.set()
    await holder
    response = await answer
    assert response.status_code == 200, response.text
    assert response.json()["evaluateDeploy"]["recorded"]

    # Held through every retry: UNAVAILABLE, nothing appended.
    await observe(api.container, 61, 62, 1000, 1000)
    before = await api.head()
    holder, release = await _hold_gate_epoch(database_url)
    try:
        response = await post(api, request("locked-json"))
        body = await api.post(EVALUATE, {"input": request("locked-graphql")}, role="ci")
    finally:
        release.set()
        await holder
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE", body
    assert "send the request again" in body["errors"][0]["message"]
    assert await api.head() == before
