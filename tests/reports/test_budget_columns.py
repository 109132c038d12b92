"""The report's budget columns agree with the budget they sit beside (SQLite and PostgreSQL):
a timeslice objective's quarter is spent in slices, as its window's budget is, not in events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain import objective as o
from domain import quarters
from domain.budget import Interval
from domain.budget.decider import RecordObservations
from service.reports import leadership_report
from tests.budgets.support import agree, do, journey

MIN = timedelta(minutes=1)
BUDGETING = {"occurrences": o.Budgeting("occurrences"), "timeslices": o.Budgeting("timeslices", 1, 0.99)}


@pytest.mark.parametrize("method, spent, left", [("occurrences", 1.4, -0.4), ("timeslices", 0.0, 1.0)])
async def test_spent_and_left_agree_for_each_budgeting_method(container, method, spent, left):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    quarter = quarters.quarter_of(now)
    start = max(quarters.bounds(quarter)[0], now - 300 * MIN)  # the report's quarter holds all the data
    await journey(container)
    await do(container, "sre", o.DraftObjective("o1", "checkout", "Checkout succeeds", o.SLI("availability"),
                                                o.Window("rolling", 30), BUDGETING[method], None))
    await agree(container, "o1", "p1", 0.999)
    # 0.14% errors in every minute: 140% of a 99.9% event budget, and no bad 1-minute slice at 99%.
    minutes = int((now - start) / MIN)
    await do(container, "sre", RecordObservations(
        "o1", tuple(Interval(start + i * MIN, start + (i + 1) * MIN, 9_986, 10_000) for i in range(minutes))))
    report = await leadership_report(container, quarter, now=now)
    line = report.tiers[0].journeys[0].objectives[0]
    assert line.budget_spent == pytest.approx(spent) and line.budget_remaining == pytest.approx(left)
    assert line.budget_spent == pytest.approx(1 - line.budget_remaining)  # the window holds the whole quarter's data
