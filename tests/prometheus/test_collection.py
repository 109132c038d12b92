"""Baseline and collection against the real Prometheus over history the test wrote, on
both databases: the budget holds exactly the counts written (counter deltas, resets
handled), Prometheus's own increase agrees, a resend appends nothing, a collector that
was down catches up to its horizon and records a gap, a killed one resumes from the log,
and a faulty source is a recorded fault, never a count."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from domain import collection
from domain.baseline_analysis import analyse, outcome_for
from domain.budget import Interval
from domain.budget.decider import RecordObservations
from domain.data_source import DataSource
from domain.sli_definition import parse_definition
from service import budget_queries as bq
from service.collection.baseline import measure_baseline
from service.collection.catalog import StaticCatalog, Target
from service.collection.collector import Collector
from service.envelope import Envelope
from service.sources.prometheus import PrometheusSource
from tests.budgets.support import journey, objective

from .conftest import NAN_MINUTE, RESET_MINUTE, START
from .harness import free_port

SRE = frozenset({"sre"})
RATIO = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}


def at(minute: int) -> datetime:
    return datetime.fromtimestamp(START + 60 * minute, timezone.utc)


def target(oid: str, url: str, **sli) -> Target:
    return Target(oid, parse_definition({**RATIO, **sli}), DataSource("prom", "prometheus", url))


async def recorded(container, oid: str) -> dict[datetime, tuple[int, int]]:
    state = await bq.budget_state(container, oid)
    return {} if state is None else {iv.start: (iv.good, iv.total) for iv in state.ledger.intervals()}


def written(history, first: int, last: int) -> dict[datetime, tuple[int, int]]:
    return {at(m): (history.good[m], history.total[m]) for m in range(first, last)}


async def test_a_baseline_backfills_the_written_counts_once_and_records_its_analysis(container, prometheus, history):
    await journey(container)
    await objective(container, "o", target=None, days=28)
    catalog = StaticCatalog([target("o", prometheus.url)])
    end = RESET_MINUTE + 720  # a day across instance b's counter reset (and a second before it)
    progress = []
    first = await measure_baseline(container, "sre-person", SRE, "o", 1, until=at(end), catalog=catalog,
                                   candidates=(0.97,), on_progress=lambda *p: progress.append(p))
    want = written(history, end - 1440, end)
    assert await recorded(container, "o") == want
    assert first.minutes_recorded == len(want) == first.minutes_with_data
    assert progress[-1] == ("analyse", 1, 1) and ("record", 1, 1) in progress
    [event] = [e for e in await container.store.read_stream("budget-o") if e.type == "ObservationsRecorded"]
    assert event.data["backfill"] is True and event.schema_version == 3

    # The baseline the objective shows is the analysis of what was written.
    state = (await container.store.read_stream("objective-o"))[-1]
    assert state.type == "BaselineRecorded" and state.data["analysis"] is not None
    from service.collection.baseline import objective_state

    obj = await objective_state(container, "o")
    expected = analyse(want, window={"kind": "rolling", "days": 28}, budgeting={"method": "occurrences"},
                       candidates=(0.97, 0.99, 0.995, 0.999, 0.9995), period=(at(end - 1440), at(end)))
    assert obj.baseline.analysis == expected and (obj.baseline.good, obj.baseline.total) == (expected.period.good, expected.period.total)
    assert outcome_for(obj.baseline.analysis, 0.97).exhausted_at_end is False
    assert outcome_for(obj.baseline.analysis, 0.999).exhausted_at_end is True  # "breached immediately"

    # Prometheus's own sum(increase) over the same day, aligned: no extrapolation.
    async with PrometheusSource(prometheus.url) as source:
        [(_, total)] = await source.query("sum(increase(http_requests_total[1d]))", START + 60 * end)
    assert math.isclose(total, expected.period.total, rel_tol=1e-12)

    # Measured again over two days: only the new day is appended; the same again: nothing.
    again = await measure_baseline(container, "sre-person", SRE, "o", 2, until=at(end), catalog=catalog)
    assert again.minutes_recorded == 1440
    assert await recorded(container, "o") == written(history, end - 2 * 1440, end)
    assert (await measure_baseline(container, "sre-person", SRE, "o", 2, until=at(end), catalog=catalog)).minutes_recorded == 0


async def test_collection_catches_up_records_gaps_and_resumes_from_the_log(container, prometheus, history):
    await journey(container)
    await objective(container, "c", days=1)
    catalog = StaticCatalog([target("c", prometheus.url)])
    # The last complete minute ends one minute (collect_delay_seconds) before `now`.
    first = Collector(container, catalog=catalog)
    r = await first.run_once(now=at(RESET_MINUTE - 49))
    assert r.minutes_recorded == 1 and await recorded(container, "c") == written(history, RESET_MINUTE - 51, RESET_MINUTE - 50)
    await first.stop()  # killed: its lock session ends with it
    # Down for 100 minutes across the reset, then a new process: it resumes where the log says.
    second = Collector(container, catalog=catalog)
    r = await second.run_once(now=at(RESET_MINUTE + 51))
    assert r.minutes_recorded == 100 and not r.gaps
    assert await recorded(container, "c") == written(history, RESET_MINUTE - 51, RESET_MINUTE + 50)
    # A resent round appends nothing.
    head = (await container.store.head())[0]
    assert (await second.run_once(now=at(RESET_MINUTE + 51))).minutes_recorded == 0
    assert (await container.store.head())[0] == head
    # Down longer than the horizon: a gap, then the horizon's minutes.
    await second.stop()
    container.settings = replace(container.settings, collect_horizon_minutes=60)
    third = Collector(container, catalog=catalog)
    r = await third.run_once(now=at(RESET_MINUTE + 501))
    assert r.gaps == {"c": (at(RESET_MINUTE + 50), at(RESET_MINUTE + 440))} and r.minutes_recorded == 60
    await third.stop()
    fourth = Collector(container, catalog=catalog)  # killed after the gap: the gap is the resume point
    assert (await fourth.run_once(now=at(RESET_MINUTE + 502))).minutes_recorded == 1
    await fourth.stop()
    want = {**written(history, RESET_MINUTE - 51, RESET_MINUTE + 50), **written(history, RESET_MINUTE + 440, RESET_MINUTE + 501)}
    assert await recorded(container, "c") == want
    [gap] = [e for e in await container.store.read_stream("collection-c") if e.type == "CollectionGapRecorded"]
    assert gap.data["start"] == at(RESET_MINUTE + 50).isoformat() and gap.data["end"] == at(RESET_MINUTE + 440).isoformat()


async def test_faulty_sources_are_recorded_faults_never_counts(container, prometheus):
    await journey(container)
    for oid in ("down", "none", "twice", "nan"):
        await objective(container, oid, days=1)
    catalog = StaticCatalog([
        target("down", f"http://127.0.0.1:{free_port()}"),
        target("none", prometheus.url, good="absent_total", total="absent_total"),
        target("twice", prometheus.url, good="http_requests_total", total="http_requests_total", series="single"),
        target("nan", prometheus.url, good="flaky_total", total="flaky_total"),
    ])
    collector = Collector(container, catalog=catalog)
    r = await collector.run_once(now=at(NAN_MINUTE + 3))
    assert r.faults == {"down": "unreachable", "none": "no_series", "twice": "several_series"}
    # NaN at one boundary: the two minutes it bounds have no count, the others do.
    nan = await recorded(container, "nan")
    assert at(NAN_MINUTE - 1) not in nan and nan == {at(NAN_MINUTE + 1): (5, 5)}
    for oid, reason in r.faults.items():
        state = (await container.store.read_stream(collection.stream_id(oid)))
        assert [(e.type, e.data["reason"]) for e in state] == [("SourceFaulted", reason)]
        assert await recorded(container, oid) == {}
        s = await bq.budget_of(container, oid)
        assert s is None or s.total == 0
    # The same faults next round: nothing new is recorded for them.
    before = {oid: len(await container.store.read_stream(collection.stream_id(oid))) for oid in r.faults}
    await collector.run_once(now=at(NAN_MINUTE + 4))
    await collector.stop()
    assert {oid: len(await container.store.read_stream(collection.stream_id(oid))) for oid in r.faults} == before


@pytest.mark.pg_only
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_collectors_on_postgresql_collect_once(settings, prometheus, history):
    from service.bootstrap import build

    first, second = build(settings, auto_migrate=False), build(settings, auto_migrate=False)
    for c in (first, second):
        await c.startup()
    try:
        await journey(first)
        await objective(first, "c", days=1)
        catalog = StaticCatalog([target("c", prometheus.url)])
        a, b = Collector(first, catalog=catalog), Collector(second, catalog=catalog)
        # Behind by 30 minutes: both start a round at once; one holds the lock, the other skips.
        await first.bus.execute(Envelope(RecordObservations("c", (Interval(at(99), at(100), history.good[99], history.total[99]),)),
                                         "sre-person", SRE))
        ra, rb = await asyncio.gather(a.run_once(now=at(131)), b.run_once(now=at(131)))
        assert sorted([ra.skipped, rb.skipped]) == [False, True]
        assert ra.minutes_recorded + rb.minutes_recorded == 30
        assert await recorded(first, "c") == written(history, 99, 130)
        await a.stop()  # the holder goes away: the other takes over at its next round
        await b.stop()
        rb = await b.run_once(now=at(132))
        assert not rb.skipped and rb.minutes_recorded == 1
    finally:
        await a.stop()
        await b.stop()
        for c in (first, second):
            await c.shutdown()


@pytest.mark.pg_only
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_collect_once_beside_a_running_collector_says_it_did_nothing(container, settings):
    from typer.testing import CliRunner

    from api.cli import app

    holder = Collector(container, catalog=StaticCatalog([]))  # e.g. a `serve --collect`
    assert not (await holder.run_once()).skipped  # it holds the lock now
    try:
        result = await asyncio.to_thread(CliRunner().invoke, app, ["collect", "--once", "--database-url", settings.database_url])
    finally:
        await holder.stop()
    assert result.exit_code == 0, result.output
    assert "holds the collector's lock" in result.stderr and "this round did nothing" in result.stderr
    assert "waiting" not in result.stderr  # --once does not wait
