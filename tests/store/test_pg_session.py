"""PostgreSQL: the append transaction runs on the driver's own transaction, on a pooled
connection SQLAlchemy holds in autocommit mode (eventstore/store.py `_pg_transaction`)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from domain.events import NewEvent
from eventstore.engine import create_engines
from eventstore.store import EventStore

pytestmark = [pytest.mark.pg_only, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]


@pytest.fixture
async def store(database_url):
    engines = create_engines(database_url)
    yield EventStore(engines)
    await engines.dispose()


async def test_projection_statements_through_sqlalchemy_commit_and_roll_back_with_the_events(store):
    async with store.transaction(["a-1"]) as tx:
        tx.append("a-1", [NewEvent("X", {})], {"actor": "t"})
        await tx.conn.execute(text("INSERT INTO checkpoints (projection, position) VALUES ('test-kept', 1)"))
    with pytest.raises(RuntimeError):
        async with store.transaction(["a-1"]) as tx:
            tx.append("a-1", [NewEvent("X", {})], {"actor": "t"})
            await tx.conn.execute(text("INSERT INTO checkpoints (projection, position) VALUES ('test-gone', 2)"))
            raise RuntimeError("the batch fails before its flush")
    async with store.engines.read.connect() as conn:
        names = set((await conn.execute(text("SELECT projection FROM checkpoints WHERE projection LIKE 'test-%'")))
                    .scalars())
    assert names == {"test-kept"}
    assert (await store.head())[0] == 1


async def test_a_session_that_died_in_a_transaction_is_not_handed_out_again(store):
    async with store.transaction() as tx:
        pid = (await tx.conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    handed_out: list[int] = []
    # The driver's error, not any exception: an assertion failing in here must not pass.
    with pytest.raises(asyncpg.InterfaceError, match="connection"):
        async with store.transaction(["a-1"]) as tx:
            handed_out.append((await tx.conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            async with store.engines.read.connect() as other:  # a second session ends ours
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": handed_out[0]})
            tx.append("a-1", [NewEvent("X", {})], {"actor": "t"})
    assert handed_out == [pid]  # the pool gave the same session back: the one that then died
    # Every later transaction works: the dead session went back to no pool.
    for _ in range(3):
        async with store.transaction(["a-1"]) as tx:
            tx.append("a-1", [NewEvent("X", {})], {"actor": "t"})
    assert (await store.head())[0] == 3
