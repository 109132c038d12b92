"""PostgreSQL: read-model writes that ride in the append's flush, and reads in autocommit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from domain.events import NewEvent
from eventstore.engine import create_engines
from eventstore.store import EventStore

pytestmark = [pytest.mark.pg_only, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

MARK = "INSERT INTO checkpoints (projection, position) VALUES ($1, $2)"


@pytest.fixture
async def store(database_url):
    engines = create_engines(database_url)
    yield EventStore(engines)
    await engines.dispose()


async def _checkpoints(store: EventStore) -> dict[str, int]:
    async with store.engines.read.connect() as conn:
        rows = await conn.execute(text("SELECT projection, position FROM checkpoints WHERE projection LIKE 'test-%'"))
        return dict(rows.all())


async def test_riders_are_written_with_the_events_each_with_its_own_parameters(store):
    async with store.transaction(["a-1"]) as tx:
        tx.append("a-1", [NewEvent("X", {})], {"actor": "t"})
        tx.ride(MARK, ("test-first", 11))
        tx.ride("UPDATE checkpoints SET position = $2 WHERE projection = $1", ("test-absent", 5))
        tx.ride(MARK, ("test-second", 22))
    assert await _checkpoints(store) == {"test-first": 11, "test-second": 22}
    assert (await store.head())[0] == 1


async def test_a_failing_rider_appends_nothing(store):
    async with store.transaction(["a-1"]) as tx:
        tx.append("a-1", [NewEvent("X", {})], {"actor": "t"})
    head = await store.head()
    with pytest.raises(Exception, match="duplicate key"):
        async with store.transaction(["a-1"]) as tx:
            tx.append("a-1", [NewEvent("Y", {})], {"actor": "t"})
            tx.ride(MARK, ("test-same", 1))
            tx.ride(MARK, ("test-same", 2))
    assert await store.head() == head
    assert [e.type for e in await store.read_all()] == ["X"]
    assert await _checkpoints(store) == {}


async def test_a_rider_is_refused_when_its_arguments_do_not_fit(store):
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match="takes 2 arguments"):
            tx.ride(MARK, ("only-one",))


async def test_reads_run_in_autocommit_each_statement_on_its_own(store):
    # now() is the transaction's start: in a transaction it stays, in autocommit it moves on.
    async def two_nows(conn):
        first = (await conn.execute(text("SELECT now()"))).scalar()
        await asyncio.sleep(0.01)
        return first, (await conn.execute(text("SELECT now()"))).scalar()

    async with store.engines.read.connect() as conn:
        first, second = await two_nows(conn)
    assert second > first
    async with store.engines.write.begin() as conn:
        first, second = await two_nows(conn)
    assert second == first


async def test_the_append_lock_looks_stream_versions_up_by_index_whatever_the_table_size(store):
    # A batch's keys against an unanalyzed `streams` plan as a sequential scan: every append
    # would read the whole table under the lock, more each time (migration 0008).
    keys = [f"bulk-{n}" for n in range(0, 1600, 100)] + ["none"]
    async with store.engines.write.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        await driver.execute("INSERT INTO streams (stream_id, version) SELECT 'bulk-' || g, 1 FROM generate_series(1, 5000) g")
        async with driver.transaction():
            before = await driver.fetchrow(_SCANS)
            rows = await driver.fetch("SELECT * FROM slogov_append_begin($1, $2::text[])", 0x510607, keys)
            after = await driver.fetchrow(_SCANS)
    assert sorted(r["stream_id"] for r in rows[1:]) == sorted(keys[1:-1])
    assert after["seq_scan"] == before["seq_scan"] and after["idx_scan"] > before["idx_scan"]


_SCANS = "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'streams'"
