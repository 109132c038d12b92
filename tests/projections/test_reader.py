"""The bulk log reader: the same events as the store's own reads, page by page, with
upcasting; stopping early leaves the connection usable; `fold_log` folds every stream
to what its decider's evolve gives stream by stream."""

from __future__ import annotations

import dataclasses

from contextlib import aclosing

from sqlalchemy import select, text

from domain import journey as j
from eventstore.reader import JsonObject, decode_rows, fold_log, read_log
from eventstore.tables import events as events_table
from service.aggregates import AGGREGATES, aggregate_for, fold
from tests.budgets.support import agree, do, journey


async def _history(container) -> None:
    for jid in ("checkout", "search", "rag"):
        await journey(container, jid, critical=(f"{jid}-api",))
    await do(container, "product", j.DocumentJourneyScope(
        "checkout", ("cart",), ("returns",), "cart", "confirmation", "confirmed", ("product", "sre")))
    from domain import objective as o
    await do(container, "sre", o.DraftObjective("checkout-availability", "checkout", "SLO", o.SLI("availability"),
                                                o.Window("rolling", 30), o.Budgeting("occurrences")))
    await agree(container, "checkout-availability", "p1", 0.999)


async def _portable(container, after: int = 0, until: int | None = None) -> list:
    return [e async for chunk in container.store.iter_all(after, until=until) for e in chunk]


async def test_read_log_gives_the_stores_events_in_pages_within_bounds(container):
    await _history(container)
    head, _ = await container.store.head()
    assert head > 15
    everything = await _portable(container)
    pages = [chunk async for chunk in read_log(container.store, page=4)]
    assert [len(p) for p in pages[:-1]] == [4] * (len(pages) - 1) and 1 <= len(pages[-1]) <= 4
    assert [e for p in pages for e in p] == everything
    # Bounds: after is exclusive, until inclusive.
    window = [e async for chunk in read_log(container.store, after=3, until=head - 2, page=5) for e in chunk]
    assert window == await _portable(container, 3, head - 2)
    assert [e.position for e in window] == list(range(4, head - 1))
    assert [e async for chunk in read_log(container.store, after=head) for e in chunk] == []
    # Without the chain hash (a fold's read): the same events, the hash left out where it is not read.
    unhashed = [e async for chunk in read_log(container.store, page=6, hashes=False) for e in chunk]
    assert [dataclasses.replace(e, hash="") for e in unhashed] == [dataclasses.replace(e, hash="") for e in everything]
    if container.engines.dialect == "postgresql":
        assert {e.hash for e in unhashed} == {""}
    # In chunks: each page handed over in lists of at most `chunk`, the same events in order.
    chunks = [c async for c in read_log(container.store, page=7, chunk=3)]
    assert [e for c in chunks for e in c] == everything
    assert max(len(c) for c in chunks) == 3 and len(chunks) >= len(everything) // 3
    unhashed_chunks = [c async for c in read_log(container.store, after=2, until=head - 1, hashes=False, chunk=2)]
    assert [dataclasses.replace(e, hash="") for c in unhashed_chunks for e in c] == [
        dataclasses.replace(e, hash="") for e in everything[2:head - 1]]


async def test_lazy_metadata_is_the_same_metadata_decoded_when_read(container):
    await _history(container)
    everything = await _portable(container)
    lazy = [e async for chunk in read_log(container.store, page=5, lazy_metadata=True, chunk=2) for e in chunk]
    assert lazy == everything
    if container.engines.dialect == "postgresql":
        assert all(isinstance(e.metadata, JsonObject) for e in lazy)
    for e, want in zip(lazy, everything):
        assert dict(e.metadata) == want.metadata and e.metadata.get("actor") == want.metadata.get("actor")


def test_a_json_object_reads_as_the_dict_it_decodes_to():
    o = JsonObject(b'{"actor":"sre-person","command_id":"c1","n":[1,2]}')
    assert o == {"actor": "sre-person", "command_id": "c1", "n": [1, 2]} == o and o != {"actor": "x"}
    assert o["command_id"] == "c1" and o.get("missing", 7) == 7 and "n" in o and "m" not in o
    assert list(o) == ["actor", "command_id", "n"] and len(o) == 3 and o == JsonObject('{"n":[1,2],"command_id":"c1","actor":"sre-person"}')
    assert repr(o) == repr({"actor": "sre-person", "command_id": "c1", "n": [1, 2]})


async def test_read_log_upcasts_exactly_the_types_with_an_upcaster(container):
    await _history(container)
    container.store.upcasters.register(
        "JourneyPrioritized", 1, lambda data: {**data, "rationale": data["rationale"].upper()}
    )
    events = [e async for chunk in read_log(container.store, page=7) for e in chunk]
    assert events == await _portable(container)
    prioritized = [e for e in events if e.type == "JourneyPrioritized"]
    assert prioritized and all(e.schema_version == 2 and e.data["rationale"] == "REVENUE" for e in prioritized)
    others = [e for e in events if e.type != "JourneyPrioritized"]
    assert all(e.schema_version == 1 for e in others)


async def test_decode_rows_gives_what_the_store_decodes(container):
    await _history(container)
    container.store.upcasters.register(
        "JourneyPrioritized", 1, lambda data: {**data, "rationale": data["rationale"].upper()}
    )
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(select(events_table).order_by(events_table.c.position))).all()
    decoded = decode_rows(container.store, rows)
    assert decoded == [container.store.decode(r) for r in rows] == await _portable(container)
    assert any(e.type == "JourneyPrioritized" and e.schema_version == 2 for e in decoded)


async def test_stopping_early_leaves_the_transaction_usable(container):
    await _history(container)
    async with container.engines.write.begin() as conn:
        async with aclosing(read_log(container.store, page=3, conn=conn)) as pages:
            async for chunk in pages:
                assert len(chunk) == 3
                break  # the next page was already requested
        assert (await conn.execute(text("SELECT count(*) FROM events"))).scalar() > 3


async def test_fold_log_folds_every_stream_like_its_decider(container):
    await _history(container)
    evolvers = {category: a.evolve for category, a in AGGREGATES.items()}
    states, count = await fold_log(container.store, evolvers)
    head, _ = await container.store.head()
    assert count == head
    everything = await _portable(container)
    streams = {e.stream_id for e in everything}
    assert set(states) == streams
    for stream in streams:
        own = await container.store.read_stream(stream)
        assert states[stream] == fold(aggregate_for(stream).evolve, None, own), stream
    # Bounded: as the log stood at a position.
    early, count = await fold_log(container.store, evolvers, until=5)
    assert count == 5 and set(early) == {e.stream_id for e in everything[:5]}


async def test_fold_log_hands_every_evolve_the_stores_events_upcast_across_pages(container):
    await _history(container)
    container.store.upcasters.register(
        "JourneyPrioritized", 1, lambda data: {**data, "rationale": data["rationale"].upper()}
    )
    def collect(state, event):
        return (state or []) + [event]

    seen, count = await fold_log(container.store, {category: collect for category in AGGREGATES}, page=3)
    everything = await _portable(container)
    assert count == len(everything)
    by_stream: dict[str, list] = {}
    for e in everything:
        by_stream.setdefault(e.stream_id, []).append(e)
    # The same events as the store's reads (upcast), but for the chain hash, which the fold
    # does not fetch on PostgreSQL.
    strip = lambda events: [(e.position, e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version,
                             e.data, e.metadata, e.recorded_at) for e in events]  # noqa: E731
    assert {s: strip(v) for s, v in seen.items()} == {s: strip(v) for s, v in by_stream.items()}
    assert any(e.type == "JourneyPrioritized" and e.schema_version == 2 and e.data["rationale"] == "REVENUE"
               for events in seen.values() for e in events)


async def test_large_pages_start_small_and_grow(container):
    await _history(container)
    head, _ = await container.store.head()
    import eventstore.reader as reader

    original = reader._FIRST_PAGE
    reader._FIRST_PAGE = 2
    try:
        pages = [len(chunk) async for chunk in read_log(container.store, page=8)]
    finally:
        reader._FIRST_PAGE = original
    assert sum(pages) == head
    if container.engines.dialect == "postgresql":
        assert pages[:2] == [2, 8]  # x4 a page, up to the page size
    assert max(pages) <= 8


async def test_a_row_removed_behind_the_applications_back_does_not_end_the_read(container):
    from tests.audit.support import tamper

    await _history(container)
    head, _ = await container.store.head()
    await tamper(container, "DELETE FROM events WHERE position = 3")
    # Pages are ranges of positions: the range holding the hole comes back one short, and
    # the read goes on from the range's end rather than stopping there.
    positions = [e.position async for chunk in read_log(container.store, page=3) for e in chunk]
    assert positions == [p for p in range(1, head + 1) if p != 3]


def test_a_paused_collector_resumes_and_still_finds_cycles_made_while_paused():
    import gc
    import weakref

    from eventstore.reader import paused_gc

    class Node:
        pass

    assert gc.isenabled()
    frozen = gc.get_freeze_count()  # a container started earlier in this process froze its startup
    with paused_gc():
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        gone = weakref.ref(a)
        del a, b
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # nothing of the fold left out of future collections
    gc.collect()
    assert gone() is None


def test_a_paused_fold_keeps_what_startup_froze_frozen():
    import gc

    from eventstore.reader import paused_gc

    # Containers the collector tracks: frozen, they are in no generation it walks. (The
    # freeze count itself is not compared: another thread of the process may free a frozen
    # object meanwhile, which lowers it.)
    kept = [[i] for i in range(10)]
    already = gc.get_freeze_count()  # a container started earlier in this process froze its startup
    gc.freeze()  # as service.gc_tuning does once per process
    try:
        assert not _tracked_in_generations(kept)
        with paused_gc():
            pass
        assert not _tracked_in_generations(kept), "paused_gc handed frozen objects back to the collector"
        assert gc.get_freeze_count() > 0
    finally:
        if not already:  # leave the process as it was: frozen only if it was before
            gc.unfreeze()


def _tracked_in_generations(objs: list) -> list:
    import gc

    wanted = {id(o) for o in objs}
    return [o for o in gc.get_objects() if id(o) in wanted]
