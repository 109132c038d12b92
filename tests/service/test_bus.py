"""The command bus: group commit, per-command checks, idempotency, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from domain import journey
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.events import NewEvent
from eventstore.verify import verify_chain
from service.bootstrap import build

from .support import as_role, propose


async def test_group_commit_takes_concurrent_commands_together_and_judges_each_alone(container):
    batches: list[int] = []
    container.bus._on_batch = batches.append
    envelopes = []
    for i in range(40):
        if i % 10 == 3:
            envelopes.append(as_role(propose(f"j{i}", tier=7)))            # out of range
        elif i % 10 == 5:
            envelopes.append(as_role(propose(f"j{i}"), role="auditor"))     # read-only role
        elif i % 10 == 7:
            envelopes.append(as_role(propose("j0")))                        # already exists
        else:
            envelopes.append(as_role(propose(f"j{i}")))
    outcomes = await asyncio.gather(*(container.bus.execute(e) for e in envelopes), return_exceptions=True)

    assert max(batches) > 1, "concurrent commands should share a transaction"
    kinds = [type(o) for o in outcomes]
    assert kinds.count(InvalidInput) == 4 and kinds.count(Forbidden) == 4 and kinds.count(Conflict) == 4
    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(accepted) == 28
    logged = await container.store.read_all(limit=1000)
    assert [e.position for e in logged] == list(range(1, 29))
    assert sorted(e.stream_id for e in logged) == sorted(o.stream_id for o in accepted)
    assert (await verify_chain(container.engines)).ok


async def test_a_retried_idempotency_key_returns_the_first_result_and_appends_nothing(container):
    first = await container.bus.execute(as_role(propose("checkout"), idempotency_key="k-1"))
    head = await container.store.head()
    again = await container.bus.execute(as_role(propose("checkout"), idempotency_key="k-1"))
    assert again.replayed and not first.replayed
    assert again.events == first.events and again.version == first.version
    assert await container.store.head() == head

    with pytest.raises(Conflict, match="idempotency key"):
        await container.bus.execute(as_role(propose("search"), idempotency_key="k-1"))
    assert await container.store.head() == head


async def test_the_same_key_sent_concurrently_appends_once(container):
    results = await asyncio.gather(
        *(container.bus.execute(as_role(propose("checkout"), idempotency_key="same")) for _ in range(6))
    )
    assert sum(not r.replayed for r in results) == 1
    assert len({r.events for r in results}) == 1
    assert (await container.store.head())[0] == 1


async def test_a_stale_expected_version_is_a_conflict_and_appends_nothing(container):
    await container.bus.execute(as_role(propose("checkout")))
    prioritize = journey.PrioritizeJourney("checkout", 1, 1, "revenue")
    ok = await container.bus.execute(as_role(prioritize, expected_version=1))
    assert ok.version == 2
    head = await container.store.head()
    with pytest.raises(Conflict) as err:
        await container.bus.execute(as_role(prioritize, expected_version=1))
    assert err.value.details["actual_version"] == 2
    assert await container.store.head() == head


async def test_racing_writers_on_one_stream_with_the_same_expected_version_one_wins(container):
    await container.bus.execute(as_role(propose("checkout")))
    racers = [
        as_role(journey.MapDependency("checkout", f"svc-{i}", "service", True), role="sre", expected_version=1)
        for i in range(10)
    ]
    outcomes = await asyncio.gather(*(container.bus.execute(e) for e in racers), return_exceptions=True)
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, Exception))
    assert (await container.store.head())[0] == 2


async def test_every_event_records_its_actor_role_and_correlation(container):
    await container.bus.execute(as_role(propose("checkout"), actor="pat", correlation_id="req-7", reason="Q4 plan"))
    [event] = await container.store.read_all()
    meta = event.metadata
    assert (meta["actor"], meta["role"], meta["correlation_id"], meta["reason"]) == ("pat", "product", "req-7", "Q4 plan")
    assert meta["causation_id"] == meta["command_id"]


async def test_many_writers_on_separate_pools_a_tailing_reader_misses_nothing(settings):
    """Writers on three independent containers (as three processes would be) and
    a reader following the log: every position is seen once, in order, and a
    reader never finds a new event below one it has already seen."""
    writers = [build(settings, auto_migrate=False) for _ in range(3)]
    reader = build(settings, auto_migrate=False)
    per_client, clients = 15, 6
    total = len(writers) * clients * per_client
    seen: list[int] = []
    done = asyncio.Event()

    async def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            chunk = await reader.store.read_all(after=last, limit=50)
            for event in chunk:
                # Contiguity at the moment of reading: nothing below can still appear.
                assert event.position == last + 1, f"saw {event.position} right after {last}"
                last = event.position
                seen.append(last)
            if finished and not chunk:
                return
            await asyncio.sleep(0)

    async def client(container, w: int, c: int) -> None:
        for i in range(per_client):
            await container.bus.execute(as_role(propose(f"w{w}-c{c}-{i}")))

    tailer = asyncio.create_task(tail())
    try:
        await asyncio.gather(*(client(container, w, c) for w, container in enumerate(writers) for c in range(clients)))
        done.set()
        await asyncio.wait_for(tailer, 60)
        assert seen == list(range(1, total + 1))
        report = await verify_chain(reader.engines)
        assert report.ok and report.events_checked == total
    finally:
        tailer.cancel()
        for c in (*writers, reader):
            await c.shutdown()


async def _round_of_two(container) -> None:
    """Two concurrent commands: the bus then expects two callers in the next round."""
    await asyncio.gather(*(container.bus.execute(as_role(propose(f"warm{i}"))) for i in range(2)))


async def test_a_batch_waits_for_the_callers_the_last_round_saw(container):
    batches: list[int] = []
    container.bus._on_batch = batches.append
    container.bus.gather_max = 60.0  # bounded by half the last transaction's time below
    await _round_of_two(container)
    container.bus._last_duration = 60.0  # as if transactions were slow: a long window
    batches.clear()

    async def late() -> None:
        await asyncio.sleep(0.05)  # arrives well after the first command was taken
        await container.bus.execute(as_role(propose("late")))

    await asyncio.gather(container.bus.execute(as_role(propose("early"))), late())
    assert batches == [2], "the second caller of the round should ride in the first one's transaction"
    logged = await container.store.read_all(limit=1000)
    assert sorted(e.stream_id for e in logged[-2:]) == ["journey-early", "journey-late"]


async def test_a_lone_caller_is_never_held_back_by_the_gathering_window(container):
    batches: list[int] = []
    container.bus._on_batch = batches.append
    container.bus.gather_max = 60.0
    for i in range(3):
        container.bus._last_duration = 60.0
        # A wait would take 30 s; the timeout turns it into a failure, not a slow pass.
        await asyncio.wait_for(container.bus.execute(as_role(propose(f"solo{i}"))), 10)
    assert batches == [1, 1, 1]


async def test_the_expected_round_shrinks_when_callers_leave(container):
    container.bus.gather_max = 60.0
    await _round_of_two(container)
    assert container.bus._expected == 2
    container.bus._last_duration = 0.02  # a short window: the missing caller is not waited for long
    await asyncio.wait_for(container.bus.execute(as_role(propose("alone"))), 10)
    assert container.bus._expected == 1


async def test_inline_checkpoints_equal_the_head_after_every_batch(container):
    from sqlalchemy import select

    from eventstore.tables import checkpoints

    for round_ in range(2):
        await asyncio.gather(*(container.bus.execute(as_role(propose(f"cp{round_}-{i}"))) for i in range(5)))
        head, _ = await container.store.head()
        async with container.engines.read.connect() as conn:
            rows = dict((await conn.execute(select(checkpoints.c.projection, checkpoints.c.position))).all())
        assert set(rows) == set(container.projections.names())
        assert set(rows.values()) == {head}, rows


async def test_a_command_refused_after_its_events_were_appended_commits_nothing(container):
    """A reactor (or the log, refusing a derived event) may refuse after the command's own
    events are in the transaction: the answer is that refusal, so nothing of the batch may
    commit. Concurrent commands in the same batch are then judged again, each alone."""
    async def refuse_on_retire(event, view):
        if event.type == "JourneyRetired":
            raise InvalidInput("a reactor refuses this", field="reason")
        return []

    container.bus.reactors.append(refuse_on_retire)
    await container.bus.execute(as_role(propose("checkout")))
    await container.bus.execute(as_role(propose("search")))
    head = await container.store.head()
    outcomes = await asyncio.gather(
        container.bus.execute(as_role(journey.RetireJourney("checkout", "gone"), role="product")),
        container.bus.execute(as_role(propose("payments"))),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], InvalidInput) and outcomes[0].message == "a reactor refuses this"
    assert not isinstance(outcomes[1], Exception)
    logged = await container.store.read_all(after=head[0])
    assert [e.type for e in logged] == ["JourneyProposed"], "the refused command's event was committed"
    assert (await verify_chain(container.engines)).ok


async def test_an_event_the_log_cannot_keep_is_refused_before_anything_is_appended(container):
    """Defence behind the domain's rules: the store refuses data that would not read back as
    itself (an integer beyond 64 bits) or breaks the text rule, and nothing is appended."""
    from eventstore.codec import INT64_MAX

    head = await container.store.head()
    for data, problem in [({"n": INT64_MAX + 1}, "beyond 64-bit integers"),
                          ({"name": "a\x00b"}, r"control character \(U\+0000"),
                          ({"k": ["\ud800"]}, "lone surrogate")]:
        with pytest.raises(InvalidInput, match=problem):
            async with container.store.transaction(["x-1"]) as tx:
                tx.append("x-1", [NewEvent("Probe", {"ok": 1}), NewEvent("Probe", data)], {"actor": "t"})
        assert await container.store.head() == head
    async with container.store.transaction(["x-1"]) as tx:
        tx.append("x-1", [NewEvent("Probe", {"n": INT64_MAX, "text": "tab\tand\nnewline"})], {"actor": "t"})
    assert (await container.store.read_all())[-1].data == {"n": INT64_MAX, "text": "tab\tand\nnewline"}
    assert (await verify_chain(container.engines)).ok


async def test_a_coroutine_reactor_may_answer_with_an_async_iterator(container):
    """A reactor may be a coroutine returning its reactions, as a list or (once it settled it
    has work, without starting a generator otherwise) as an async iterator whose items are
    appended as they come, so each reads the effects of the ones before it."""
    seen = []

    async def shadows(event, view):
        jid = event.data.get("journey_id", "")
        if event.type != "JourneyProposed" or "-" in jid:
            return []

        async def each():
            for suffix in ("a", "b"):
                seen.append(await view.state(journey.stream_id(f"{jid}-a")) is not None)
                yield journey.stream_id(f"{jid}-{suffix}"), [NewEvent("JourneyProposed", {**event.data, "journey_id": f"{jid}-{suffix}"})]
        return each()

    container.bus.reactors.append(shadows)
    result = await container.bus.execute(as_role(propose("checkout")))
    assert [(e.type, e.stream_id) for e in result.events] == [
        ("JourneyProposed", journey.stream_id(s)) for s in ("checkout", "checkout-a", "checkout-b")]
    assert seen == [False, True]
