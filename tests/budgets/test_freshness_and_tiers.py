"""Configurable alert tiers, and ObservationsStale judged by event time (the probe's
recorded server time, kept in the log), with ObservationsFresh when data resumes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.budget import Interval
from domain.budget.decider import CheckFreshness, ConfigureAlerts, RecordObservations
from domain.errors import InvalidInput
from service import budget_queries as bq
from tests.budgets.support import do, journey, objective, minutes


async def test_stale_then_fresh(container, now):
    await journey(container)
    await objective(container, "o", days=1)
    await do(container, "sre", ConfigureAlerts("o", None, 10))
    base = now.replace(second=0, microsecond=0) - timedelta(minutes=40)
    ivs = tuple(Interval(base + timedelta(minutes=i), base + timedelta(minutes=i + 1), 100, 100) for i in range(10))
    r = await do(container, "sre", RecordObservations("o", ivs))
    assert "ObservationsStale" not in [e.type for e in r.events]  # judged at the data's own time

    probe = await do(container, "sre", CheckFreshness("o"))
    assert [e.type for e in probe.events] == ["FreshnessChecked", "ObservationsStale"]
    s = await bq.budget_of(container, "o")
    assert s.stale and s.stale_after == timedelta(minutes=10)
    assert (await do(container, "sre", CheckFreshness("o"))).events == ()  # nothing new to say

    late = (Interval(now - timedelta(minutes=2), now - timedelta(minutes=1), 100, 100),)
    back = await do(container, "sre", RecordObservations("o", late))
    assert [e.type for e in back.events] == ["ObservationsRecorded", "ObservationsFresh"]
    assert not (await bq.budget_of(container, "o")).stale


async def test_custom_tiers(container):
    await journey(container)
    await objective(container, "o", days=1)
    with pytest.raises(InvalidInput):
        await do(container, "sre", ConfigureAlerts("o", ({"severity": "page", "long_window": "5m", "short_window": "1h", "threshold": 2},)))
    await do(container, "sre", ConfigureAlerts("o", ({"severity": "page", "long_window": "30m", "short_window": "5m", "threshold": 2},)))
    r = await do(container, "sre", RecordObservations("o", minutes(0, 30, 997, 1000)))  # burn 3 over 30m and 5m
    raised = [e for e in r.events if e.type == "BurnRateAlertRaised"]
    assert len(raised) == 1
    s = await bq.budget_of(container, "o")
    assert [(a.long_window, a.short_window, a.threshold) for a in s.alerts] == [("30m", "5m", 2.0)]
