"""`collectionState(objectiveId)` and `Objective.collection`: what the collector did for an
objective (its source, the last minute collected, stale or not and why, the fault in force,
the gaps, the horizon), read over GraphQL after real collector rounds against a fake
Prometheus transport (tests/prometheus/ runs the collector against a real one)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from domain import objective as od
from domain import sources
from service.collection.baseline import last_complete_minute
from service.collection.collector import Collector
from service.envelope import Envelope
from tests.budgets.support import agree, journey, objective
from tests.sources.fake_prometheus import FakePrometheus

SRE = frozenset({"sre"})
RATIO = {"kind": "ratio", "source": "prom", "good": 'req_total{code="200"}', "total": "req_total"}
FIELDS = """objectiveId source collected notCollectedReason collectedUntil stale staleReason staleAfterMinutes
  fault { reason message since } lastFault { reason message } recoveredAt gapCount gaps { start end reason }
  horizonMinutes delaySeconds intervalSeconds version"""


async def _state(api, oid: str = "o") -> dict:
    return (await api.ok(f'{{ collectionState(objectiveId: "{oid}") {{ {FIELDS} }} }}', role="auditor"))["collectionState"]


async def test_collection_state_shows_source_minutes_faults_staleness_and_gaps(api):
    container = api.container
    await journey(container)
    await objective(container, "o", target=None, days=1)
    state = await _state(api)
    assert (state["source"], state["collected"], state["stale"], state["version"]) == (None, False, False, 0)
    assert "no SLI definition" in state["notCollectedReason"]
    assert (state["horizonMinutes"], state["delaySeconds"]) == (container.settings.collect_horizon_minutes,
                                                               container.settings.collect_delay_seconds)

    await container.bus.execute(Envelope(sources.DefineDataSource("prom", "prometheus", "http://prom.example"), "s", SRE))
    await container.bus.execute(Envelope(od.DefineSli("o", RATIO), "s", SRE))
    await agree(container, "o", "p1", 0.999)
    prom = FakePrometheus()
    collector = Collector(container, source_options={"transport": httpx.MockTransport(prom)})
    now = container.store.clock().replace(second=0, microsecond=0)
    try:
        # A first round ten hours ago collects its last complete minute; the next, an hour
        # ago, is behind by more than the horizon: the older minutes become a gap.
        await collector.run_once(now=now - timedelta(hours=10))
        report = await collector.run_once(now=now - timedelta(hours=1))
        assert "o" in report.gaps and report.minutes_recorded == container.settings.collect_horizon_minutes
        state = await _state(api)
        end = last_complete_minute(now - timedelta(hours=1), timedelta(seconds=container.settings.collect_delay_seconds))
        assert (state["source"], state["collected"], state["notCollectedReason"]) == ("prom", True, None)
        assert datetime.fromisoformat(state["collectedUntil"]) == end
        # An hour without data is past the 15-minute freshness limit: stale, no fault recorded.
        assert (state["stale"], state["staleReason"], state["staleAfterMinutes"]) == (True, "NO_DATA", 15.0)
        assert state["fault"] is None and state["gapCount"] == 1
        [gap] = state["gaps"]
        horizon = timedelta(minutes=container.settings.collect_horizon_minutes)
        assert datetime.fromisoformat(gap["end"]) == end - horizon and "horizon" in gap["reason"]

        prom.failing = True
        report = await collector.run_once(now=now)
        assert report.faults == {"o": "failed"}
        state = await _state(api)
        assert (state["stale"], state["staleReason"]) == (True, "FAILED")
        assert state["fault"]["reason"] == "FAILED" and "tsdb closed" in state["fault"]["message"]
        assert state["lastFault"] == {"reason": "FAILED", "message": state["fault"]["message"]}

        prom.failing = False
        await collector.run_once(now=now)
        state = await _state(api)
        assert (state["stale"], state["staleReason"], state["fault"]) == (False, None, None)
        assert state["lastFault"]["reason"] == "FAILED" and state["recoveredAt"] is not None
    finally:
        await collector.stop()

    # The same, nested in the objective; null for an unknown objective.
    nested = await api.ok('{ objective(id: "o") { collection { source stale gapCount } } }', role="auditor")
    assert nested["objective"]["collection"] == {"source": "prom", "stale": False, "gapCount": 1}
    assert await _state(api, "nope") is None

    # A retired objective: no longer collected, and it says why.
    await container.bus.execute(Envelope(od.RetireObjective("o", "replaced"), "s", SRE))
    assert "retired" in (await _state(api))["notCollectedReason"]
