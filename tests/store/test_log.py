"""The log's invariants at the store level, on both databases."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text

from domain.errors import Conflict
from domain.events import NewEvent
from eventstore.codec import GENESIS_HASH
from eventstore.engine import create_engines
from eventstore.store import EventStore
from eventstore.tables import events
from eventstore.upcasting import Upcasters
from eventstore.verify import verify_chain


@pytest.fixture
async def store(database_url):
    engines = create_engines(database_url)
    yield EventStore(engines)
    await engines.dispose()


async def append(store: EventStore, stream: str, types: list[str], expected: int | None = None, **data):
    async with store.transaction() as tx:
        await tx.load_versions([stream])
        return tx.append(stream, [NewEvent(t, dict(data)) for t in types], {"actor": "tester"}, expected)


async def test_positions_are_contiguous_and_stream_versions_count_up(store):
    await append(store, "a-1", ["X", "Y"])
    await append(store, "b-1", ["X"])
    await append(store, "a-1", ["Z"], expected=2)
    recorded = await store.read_all()
    assert [e.position for e in recorded] == [1, 2, 3, 4]
    assert [(e.stream_id, e.stream_version) for e in recorded] == [
        ("a-1", 1), ("a-1", 2), ("b-1", 1), ("a-1", 3)
    ]
    assert (await store.head())[0] == 4


async def test_stale_expected_version_is_a_conflict_and_appends_nothing(store):
    await append(store, "a-1", ["X"])
    with pytest.raises(Conflict) as err:
        await append(store, "a-1", ["Y"], expected=0)
    assert err.value.details["actual_version"] == 1
    assert [e.type for e in await store.read_all()] == ["X"]
    assert (await store.head())[0] == 1


async def test_a_failed_transaction_leaves_no_hole_in_positions(store):
    await append(store, "a-1", ["X"])
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.load_versions(["a-1"])
            tx.append("a-1", [NewEvent("Y", {})], {"actor": "t"})
            raise RuntimeError("the command failed after appending")
    await append(store, "a-1", ["Z"])
    assert [(e.position, e.type) for e in await store.read_all()] == [(1, "X"), (2, "Z")]


async def test_hash_chain_links_each_event_to_the_one_before(store):
    await append(store, "a-1", ["X", "Y"], n=1.5e-05, s="é")
    recorded = await store.read_all()
    prev = GENESIS_HASH
    for e in recorded:
        # The documented procedure, with nothing but the standard library.
        record = [prev, e.position, e.event_id, e.stream_id, e.stream_version, e.type,
                  e.schema_version, e.recorded_at.isoformat(timespec="microseconds"),
                  dict(e.data), dict(e.metadata)]
        encoded = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(encoded.encode()).hexdigest() == e.hash
        prev = e.hash
    report = await verify_chain(store.engines)
    assert report.ok and report.events_checked == 2 and report.head_hash == prev


async def test_update_and_delete_on_the_log_are_refused_by_the_database(store):
    await append(store, "a-1", ["X"])
    for sql in ("UPDATE events SET data = '{}'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"):
            async with store.engines.write.begin() as conn:
                await conn.execute(text(sql))
    assert [e.type for e in await store.read_all()] == ["X"]


async def test_verify_finds_an_event_altered_behind_the_applications_back(store, backend):
    await append(store, "a-1", ["X", "Y", "Z"], amount=1)
    async with store.engines.write.begin() as conn:
        # What a database superuser could do: switch the guard off and edit.
        if backend == "postgresql":
            await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            await conn.execute(text("DROP TRIGGER events_no_update"))
        await conn.exec_driver_sql("""UPDATE events SET data = '{"amount":2}' WHERE position = 2""")
    report = await verify_chain(store.engines)
    assert not report.ok
    assert report.first_broken_position == 2
    assert report.events_checked == 1


async def test_upcasters_bring_old_events_to_the_current_shape_on_read(database_url):
    engines = create_engines(database_url)
    try:
        old = EventStore(engines)
        await append(old, "a-1", ["Measured"], millis=250)
        upcasters = Upcasters()
        upcasters.register("Measured", 1, lambda d: {"seconds": d["millis"] / 1000})
        new = EventStore(engines, upcasters)
        [event] = await new.read_all()
        assert (event.schema_version, dict(event.data)) == (2, {"seconds": 0.25})
        assert upcasters.current_version("Measured") == 2
        async with engines.read.connect() as conn:  # the stored row is untouched
            stored = (await conn.execute(select(events.c.data, events.c.schema_version))).one()
        assert (stored.data, stored.schema_version) == ('{"millis":250}', 1)
        assert (await verify_chain(engines)).ok
    finally:
        await engines.dispose()


async def test_recorded_at_never_goes_backwards_even_if_the_clock_does(database_url):
    from datetime import datetime, timezone

    engines = create_engines(database_url)
    times = iter([datetime(2026, 1, 2, tzinfo=timezone.utc), datetime(2026, 1, 1, tzinfo=timezone.utc)])
    store = EventStore(engines, clock=lambda: next(times))
    try:
        await append(store, "a-1", ["X"])
        await append(store, "a-1", ["Y"])
        first, second = await store.read_all()
        assert second.recorded_at >= first.recorded_at == datetime(2026, 1, 2, tzinfo=timezone.utc)
    finally:
        await engines.dispose()


async def test_versions_loaded_with_the_lock_see_the_append_that_held_it(store):
    import asyncio

    await append(store, "a-1", ["X"])
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with store.transaction(["a-1"]) as tx:
            tx.append("a-1", [NewEvent("Y", {})], {"actor": "t"})
            holding.set()
            await release.wait()  # the second transaction asks for the lock meanwhile

    async def second() -> tuple[int, int]:
        await holding.wait()
        async with store.transaction(["a-1", "b-1"]) as tx:
            # Read after the first committed: its event, not the version before it.
            assert (tx.version("a-1"), tx.version("b-1")) == (2, 0)
            tx.append("a-1", [NewEvent("Z", {})], {"actor": "t"}, expected_version=2)
            return tx.position, tx.version("a-1")

    task = asyncio.create_task(second())
    first_task = asyncio.create_task(first())
    await holding.wait()
    await asyncio.sleep(0.2)  # let the second transaction queue on the lock
    release.set()
    await first_task
    assert await task == (3, 3)
    assert [(e.position, e.type) for e in await store.read_all()] == [(1, "X"), (2, "Y"), (3, "Z")]
    assert (await verify_chain(store.engines)).ok
