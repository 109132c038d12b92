"""A source answering 5xx or 4xx, through the collector and the baseline (a fake
transport stands in for what a real Prometheus will not do on demand): a recorded fault
or a clear error, nothing counted, nothing else appended, no crash."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone
from typing import Awaitable, Callable

import httpx
import pytest

from domain.data_source import DataSource
from domain.errors import InvalidInput, Unavailable
from domain.sli_definition import parse_definition
from service.collection import collector as collector_module
from service.collection.baseline import measure_baseline
from service.collection.catalog import StaticCatalog, Target
from service.collection.collector import Collector
from tests.budgets.support import journey, objective
from tests.sources.fake_prometheus import FakePrometheus

RATIO = {"kind": "ratio", "source": "p", "good": 'req_total{code="200"}', "total": "req_total"}
ANSWERS = {
    "five.example": (503, {"status": "error", "errorType": "timeout", "error": "query timed out"}),
    "four.example": (400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}),
}
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def transport() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(*ANSWERS[request.url.host][:1], json=ANSWERS[request.url.host][1]))


def target(oid: str, host: str) -> Target:
    return Target(oid, parse_definition(RATIO), DataSource(host, "prometheus", f"http://{host}"))


def one_series_each(container, ids: list[str], handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> Collector:
    """A collector over the objectives `ids`, each with its own series (`o="<id>"`) on one
    source whose answers `handler` gives."""
    prom = DataSource("prom", "prometheus", "http://prom.example")
    definitions = {oid: parse_definition({**RATIO, "good": f'req_total{{code="200",o="{oid}"}}',
                                          "total": f'req_total{{o="{oid}"}}'}) for oid in ids}
    return Collector(container, catalog=StaticCatalog([Target(oid, definitions[oid], prom) for oid in ids]),
                     source_options={"transport": httpx.MockTransport(handler)})


def asked_objective(request: httpx.Request) -> str:
    """The objective whose series a request of `one_series_each` asks for (one a batch)."""
    return re.search(r'o%3D%22(\w)%22', request.content.decode()).group(1)


async def test_a_failing_source_is_a_recorded_fault_and_a_freshness_probe(container):
    await journey(container)
    await objective(container, "a", days=1)
    await objective(container, "b", days=1)
    collector = Collector(container, catalog=StaticCatalog([target("a", "five.example"), target("b", "four.example")]),
                          source_options={"transport": transport()})
    report = await collector.run_once(now=NOW)
    await collector.stop()
    assert report.faults == {"a": "failed", "b": "rejected"} and report.minutes_recorded == 0
    for oid, words in (("a", "query timed out"), ("b", "parse error")):
        [fault] = await container.store.read_stream(f"collection-{oid}")
        assert fault.type == "SourceFaulted" and words in fault.data["message"]
        assert [e.type for e in await container.store.read_stream(f"budget-{oid}")][:1] in ([], ["BudgetConfigured"])


@pytest.mark.parametrize("host,error,code", [("five.example", Unavailable, "UNAVAILABLE"), ("four.example", InvalidInput, "BAD_USER_INPUT")])
async def test_a_baseline_from_a_failing_source_is_a_clear_error_and_appends_nothing(container, host, error, code):
    await journey(container)
    await objective(container, "o", target=None)
    head = (await container.store.head())[0]
    with pytest.raises(error) as caught:
        await measure_baseline(container, "sre-person", frozenset({"sre"}), "o", 1, until=NOW,
                               catalog=StaticCatalog([target("o", host)]), source_options={"transport": transport()})
    assert caught.value.code == code and host in caught.value.message
    assert (await container.store.head())[0] == head


async def test_a_refusal_in_a_recorded_group_costs_only_its_own_objective(container):
    """The minutes of a round go to the bus as groups (one transaction each); one refused
    command (here: its objective retired after the catalog was read) sends the group's
    commands one by one, so the others are recorded and the refused one is a fault."""
    from domain import objective as od
    from service.envelope import Envelope
    from tests.sources.fake_prometheus import FakePrometheus

    await journey(container)
    for oid in ("a", "b", "c"):
        await objective(container, oid, days=1)
    await container.bus.execute(Envelope(od.RetireObjective("b", "merged"), "s", frozenset({"sre"})))
    prom = DataSource("prom", "prometheus", "http://prom.example")
    collector = Collector(container, catalog=StaticCatalog([Target(oid, parse_definition(RATIO), prom) for oid in "abc"]),
                          source_options={"transport": httpx.MockTransport(FakePrometheus())})
    try:
        report = await collector.run_once(now=NOW)
    finally:
        await collector.stop()
    assert report.faults == {"b": "bad_data"} and report.minutes_recorded == 2
    for oid in ("a", "c"):
        [recorded] = [e for e in await container.store.read_stream(f"budget-{oid}") if e.type == "ObservationsRecorded"]
        assert [(r["good"], r["total"]) for r in recorded.data["runs"]] == [([9], [10])]
    assert not [e for e in await container.store.read_stream("budget-b") if e.type == "ObservationsRecorded"]


async def test_targets_come_from_the_log_and_need_a_definition_and_a_live_source(container):
    from domain import objective as od
    from domain import sources
    from domain.errors import Conflict
    from service.envelope import Envelope

    sre = frozenset({"sre"})
    await journey(container)
    await objective(container, "o", target=None)
    with pytest.raises(Conflict, match="no SLI definition"):
        await measure_baseline(container, "sre-person", sre, "o", 1, until=NOW)
    await container.bus.execute(Envelope(sources.DefineDataSource("p", "prometheus", "http://five.example"), "s", sre))
    await container.bus.execute(Envelope(od.DefineSli("o", {**RATIO, "source": "p"}), "s", sre))
    [found] = await container.catalog.targets()
    assert (found.objective_id, found.source.url) == ("o", "http://five.example")
    # The catalog parses a definition once per version of the objective: a change shows.
    await container.bus.execute(Envelope(od.DefineSli("o", {**RATIO, "source": "p", "total": "all_total"}), "s", sre))
    [found] = await container.catalog.targets()
    assert [s.promql() for s in found.definition.total] == ["all_total"]
    # A source an objective still names cannot be retired (the collector would drop it quietly).
    head = (await container.store.head())[0]
    with pytest.raises(Conflict, match="still named by the SLI definition of objective") as refused:
        await container.bus.execute(Envelope(sources.RetireDataSource("p", "moved"), "s", sre))
    assert refused.value.details["objective_ids"] == ["o"] and (await container.store.head())[0] == head
    await container.bus.execute(Envelope(od.RetireObjective("o", "replaced"), "s", sre))
    await container.bus.execute(Envelope(sources.RetireDataSource("p", "moved"), "s", sre))
    assert await container.catalog.targets() == []
    with pytest.raises(Conflict, match="not defined"):
        await container.catalog.target("o")


async def test_the_server_collects_on_its_own_schedule_without_blocking(settings):
    """`serve --collect`: the collector's rounds run as a background task of the server."""
    import asyncio
    from dataclasses import replace

    from service.bootstrap import build

    container = build(replace(settings, collect=True, collect_interval_seconds=0.05), auto_migrate=False)
    await container.startup()
    try:
        await journey(container)
        container.start_schedules()
        for _ in range(200):  # nothing here calls a round; the loop stays free for commands
            await objective(container, f"o{_}", target=None)
            if container.collector.rounds >= 2:
                break
            await asyncio.sleep(0.02)
        assert container.collector.rounds >= 2
    finally:
        await container.shutdown()
    assert container.collector._task is None


async def test_groups_are_appended_as_their_batches_arrive_in_the_targets_order(container, monkeypatch):
    """Each RECORD_GROUP objectives' minutes go to the bus once their batches are in (the
    first group while later queries are still out), yet the log holds them in the
    targets' order, whatever order the answers came in."""
    monkeypatch.setattr(collector_module, "BATCH", 1)
    monkeypatch.setattr(collector_module, "RECORD_GROUP", 2)
    ids = ["a", "b", "c", "d", "e"]
    await journey(container)
    for oid in ids:
        await objective(container, oid, days=1)
    fake, answered = FakePrometheus(), []
    late = {"e": 0.0, "d": 0.02, "c": 0.04, "b": 0.06, "a": 0.08}  # the last target's answer comes first

    async def handler(request: httpx.Request) -> httpx.Response:
        oid = asked_objective(request)
        await asyncio.sleep(late[oid])
        answered.append(oid)
        return fake(request)

    collector = one_series_each(container, ids, handler)
    try:
        report = await collector.run_once(now=NOW)
    finally:
        await collector.stop()
    assert report.minutes_recorded == 5 and not report.faults and answered == ids[::-1]
    positions = []
    for oid in ids:
        [recorded] = [e for e in await container.store.read_stream(f"budget-{oid}") if e.type == "ObservationsRecorded"]
        positions.append(recorded.position)
    assert positions == sorted(positions)


async def test_the_first_group_is_appended_while_the_last_query_is_still_out(container, monkeypatch):
    monkeypatch.setattr(collector_module, "BATCH", 1)
    monkeypatch.setattr(collector_module, "RECORD_GROUP", 2)
    ids = ["a", "b", "c"]
    await journey(container)
    for oid in ids:
        await objective(container, oid, days=1)
    fake, seen_before_last = FakePrometheus(), []

    async def handler(request: httpx.Request) -> httpx.Response:
        oid = asked_objective(request)
        if oid == "c":  # answers only once the first group (a, b) is in the log, or gives up
            for _ in range(500):
                events = await container.store.read_stream("budget-b")
                if any(e.type == "ObservationsRecorded" for e in events):
                    seen_before_last.append(oid)
                    break
                await asyncio.sleep(0.01)
        return fake(request)

    collector = one_series_each(container, ids, handler)
    try:
        report = await collector.run_once(now=NOW)
    finally:
        await collector.stop()
    assert report.minutes_recorded == 3 and seen_before_last == ["c"]


async def test_the_catalog_remembered_between_rounds_shows_every_change_the_next_round(container):
    """The catalog reads its rows again only when the objectives changed: a new objective,
    a changed definition, a retirement and a changed source each show on the next call,
    and an unchanged log gives the same targets as a fresh catalog reading every row."""
    from domain import objective as od
    from domain import sources
    from service.collection.catalog import LogCatalog
    from service.envelope import Envelope

    sre = frozenset({"sre"})

    async def send(command):
        await container.bus.execute(Envelope(command, "s", sre))

    async def both():
        remembered = await container.catalog.targets()
        assert remembered == await LogCatalog(container.read_engine).targets()  # a fresh one reads every row
        return [(t.objective_id, t.source.url, [s.promql() for s in t.definition.total]) for t in remembered]

    await journey(container)
    await send(sources.DefineDataSource("p", "prometheus", "http://five.example"))
    for oid in ("a", "b"):
        await objective(container, oid, target=None)
    await send(od.DefineSli("a", RATIO))
    assert await both() == [("a", "http://five.example", ["req_total"])]
    assert await both() == [("a", "http://five.example", ["req_total"])]  # nothing changed
    await send(od.DefineSli("b", RATIO))
    assert await both() == [("a", "http://five.example", ["req_total"]), ("b", "http://five.example", ["req_total"])]
    await send(od.DefineSli("a", {**RATIO, "total": "all_total"}))
    assert await both() == [("a", "http://five.example", ["all_total"]), ("b", "http://five.example", ["req_total"])]
    await send(sources.ChangeDataSource("p", "prometheus", "http://four.example"))
    assert await both() == [("a", "http://four.example", ["all_total"]), ("b", "http://four.example", ["req_total"])]
    await objective(container, "c", target=None)
    await send(od.DefineSli("c", RATIO))
    await send(od.RetireObjective("a", "replaced"))
    assert await both() == [("b", "http://four.example", ["req_total"]), ("c", "http://four.example", ["req_total"])]
