"""Budgets end to end through the bus, on SQLite and PostgreSQL: the workbook's worked
numbers, derived transitions with causation ids, adjustments, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.budget import BudgetInputError, Interval
from domain.budget.decider import CorrectObservation, ExcludeInterval, RecordObservations, RestoreInterval
from domain.objective import ProposeTarget, RetireObjective
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from service import budget_queries as bq
from tests.budgets.support import SRE, agree, do, journey, minute, minutes, objective

OID = "checkout-availability"
DAY = 1440
MONTH = 30 * DAY


async def head(container) -> int:
    return (await container.store.head())[0]


async def test_worked_numbers_alert_exclusion_resend_conflict_correction(container):
    await journey(container)
    await objective(container, OID)

    # 30 days of per-minute data, 10,000 requests a minute, all good but the last hour.
    r1 = await do(container, "sre", RecordObservations(OID, minutes(0, MONTH - 60, 10_000, 10_000)))
    assert [e.type for e in r1.events] == ["BudgetConfigured", "ObservationsRecorded"]
    s = await bq.budget_of(container, OID)
    assert s.total == (MONTH - 60) * 10_000 and s.bad == 0 and s.remaining == 1.0 and s.alerts == ()

    # The last hour fails 1.44% of requests: burn rate 14.4 over 1h and 5m -> page.
    r2 = await do(container, "sre", RecordObservations(OID, minutes(MONTH - 60, MONTH, 10_000 - 144, 10_000)))
    assert [e.type for e in r2.events] == ["ObservationsRecorded", "BurnRateAlertRaised"]
    events = {e.position: e for e in await container.store.read_stream(f"budget-{OID}")}
    observed, raised = events[r2.events[0].position], events[r2.events[1].position]
    assert raised.metadata["causation_id"] == observed.event_id
    assert raised.data["severity"] == "page" and raised.data["long_window"] == "1h" and raised.data["short_window"] == "5m"
    assert raised.data["long_rate"] == 14.4 and raised.data["threshold"] == 14.4

    s = await bq.budget_of(container, OID)
    assert s.at == minute(MONTH)
    assert s.total == 432_000_000 and s.allowed_bad == 432_000.0
    assert s.bad == 8_640 and s.consumed == 0.02 and s.remaining == 0.98 and not s.exhausted
    assert s.burn_rates["1h"] == 14.4 and s.burn_rates["5m"] == 14.4 and s.burn_rates["6h"] == 2.4
    assert [a.severity for a in s.alerts] == ["page"]
    summary = await bq.budget_summary(container, OID)
    assert summary["remaining"] == 0.98 and summary["alert_severity"] == "page" and summary["intervals"] == MONTH

    chart = await bq.ledger_chart(container, OID, since=minute(MONTH - 2))
    assert [p.end for p in chart] == [minute(MONTH - 2), minute(MONTH - 1), minute(MONTH)]
    assert chart[-1].bad == 144 and chart[-1].debit == pytest.approx(144 / 432_000) and chart[-1].remaining == 0.98

    # Resending an identical batch appends nothing.
    before = await head(container)
    again = await do(container, "sre", RecordObservations(OID, minutes(MONTH - 60, MONTH, 10_000 - 144, 10_000)))
    assert again.events == () and await head(container) == before

    # A different count for a recorded minute is a conflict; nothing appended.
    with pytest.raises(Conflict):
        await do(container, "sre", RecordObservations(OID, (Interval(minute(MONTH - 1), minute(MONTH), 10_000, 10_000),)))
    with pytest.raises(Conflict):  # an overlap too
        await do(container, "sre", RecordObservations(OID, (Interval(minute(5) + timedelta(seconds=30), minute(6), 1, 1),)))
    assert await head(container) == before

    # Excluding the incident hour (another team's outage) restores the budget and clears the page.
    ex = await do(container, "leadership", ExcludeInterval(OID, "dns-outage", minute(MONTH - 60), minute(MONTH), "provider DNS outage"))
    assert [e.type for e in ex.events] == ["IntervalExcluded", "BurnRateAlertCleared"]
    stream = {e.position: e for e in await container.store.read_stream(f"budget-{OID}")}
    assert stream[ex.events[1].position].metadata["causation_id"] == stream[ex.events[0].position].event_id
    assert stream[ex.events[0].position].data["approver"] == "leadership-person"
    s = await bq.budget_of(container, OID)
    assert s.remaining == 1.0 and s.bad == 0 and s.alerts == ()
    active, restored = await bq.budget_exclusions(container, OID)
    assert [x.id for x in active] == ["dns-outage"] and restored == ()

    back = await do(container, "sre", RestoreInterval(OID, "dns-outage", "it was ours after all"))
    assert [e.type for e in back.events] == ["IntervalRestored", "BurnRateAlertRaised"]
    assert (await bq.budget_of(container, OID)).bad == 8_640

    # ... unless sent as an explicit correction, which is its own event.
    fixed = await do(container, "sre", CorrectObservation(OID, Interval(minute(MONTH - 1), minute(MONTH), 10_000, 10_000), "double counted"))
    assert [e.type for e in fixed.events] == ["ObservationCorrected", "BurnRateAlertCleared"]
    s = await bq.budget_of(container, OID)
    assert s.bad == 8_640 - 144 and s.burn_rates["5m"] == pytest.approx(14.4 * 4 / 5)

async def test_exhaustion_and_recovery_as_bad_minutes_leave_the_window(container):
    await journey(container)
    await objective(container, "daily", days=1)  # 99.9% over a rolling day
    # Two dead minutes: 20,000 bad against an allowance of 0.001 x 1440 x 10,000 = 14,400.
    await do(container, "sre", RecordObservations("daily", minutes(0, 2, 0, 10_000)))
    r = await do(container, "sre", RecordObservations("daily", minutes(2, DAY, 10_000, 10_000)))
    assert "BudgetExhausted" not in [e.type for e in r.events]  # exhausted already, with the dead minutes
    s = await bq.budget_of(container, "daily")
    assert s.exhausted and s.allowed_bad == 14_400 and s.bad == 20_000
    budget_events = [e.type for e in await container.store.read_stream("budget-daily")]
    assert budget_events.count("BudgetExhausted") == 1

    # One more minute: the first dead minute leaves the rolling day; 10,000 < 14,400 bad.
    r = await do(container, "sre", RecordObservations("daily", minutes(DAY, DAY + 1, 10_000, 10_000)))
    assert [e.type for e in r.events][:2] == ["ObservationsRecorded", "BudgetRecovered"]
    stream = {e.position: e for e in await container.store.read_stream("budget-daily")}
    assert stream[r.events[1].position].metadata["causation_id"] == stream[r.events[0].position].event_id
    s = await bq.budget_of(container, "daily")
    assert not s.exhausted and s.bad == 10_000 and s.remaining == pytest.approx(1 - 10_000 / 14_400)
    assert (await bq.budget_summary(container, "daily"))["exhausted"] is False
    # As of an earlier moment, the budget read shows what was known then.
    assert (await bq.budget_of(container, "daily", at=minute(DAY))).exhausted


async def test_refusals_append_nothing(container, now):
    await journey(container)
    await objective(container, OID)
    before = await head(container)
    future = Interval(now + timedelta(minutes=5), now + timedelta(minutes=6), 1, 1)
    with pytest.raises(InvalidInput):
        await do(container, "sre", RecordObservations(OID, (future,)))
    with pytest.raises(NotFound):
        await do(container, "sre", RecordObservations("no-such-objective", minutes(0, 1, 1, 1)))
    with pytest.raises(Forbidden):
        await do(container, "product", RecordObservations(OID, minutes(0, 1, 1, 1)))
    with pytest.raises(Forbidden):
        await do(container, "engineering", ExcludeInterval(OID, "x", minute(0), minute(1), "load test"))
    with pytest.raises(BudgetInputError):
        Interval(minute(0), minute(1), 5, 3)  # good > total never becomes a command
    with pytest.raises(InvalidInput) as caught:
        await bq.record_observations(container, "sre-person", SRE, [
            {"objective_id": OID, "start": minute(0), "end": minute(1), "good": 5, "total": 3}])
    assert caught.value.details["field"].endswith("good")
    with pytest.raises(InvalidInput):
        await bq.record_observations(container, "sre-person", SRE, [
            {"objective_id": OID, "start": minute(0), "end": minute(1), "good": -1, "total": 3}])
    with pytest.raises(NotFound):
        await do(container, "sre", RestoreInterval(OID, "never-made", "oops"))
    assert await head(container) == before


async def test_batch_for_many_objectives_is_all_or_nothing(container, now):
    await journey(container)
    await objective(container, "a")
    await objective(container, "b", target=None)  # draft: data accepted as baseline, no budget yet
    before = await head(container)
    rows = [{"objective_id": oid, "start": minute(i), "end": minute(i + 1), "good": 9, "total": 10}
            for oid in ("a", "b") for i in range(3)]
    bad_rows = rows + [{"objective_id": "a", "start": now + timedelta(hours=1), "end": now + timedelta(hours=2), "good": 1, "total": 1}]
    with pytest.raises(InvalidInput):
        await bq.record_observations(container, "sre-person", SRE, bad_rows)
    with pytest.raises(NotFound):
        await bq.record_observations(container, "sre-person", SRE, rows + [{**rows[0], "objective_id": "zz"}])
    with pytest.raises(Conflict):
        await bq.record_observations(container, "sre-person", SRE, rows + [{**rows[0], "good": 1}])
    assert await head(container) == before

    results = await bq.record_observations(container, "sre-person", SRE, rows)
    assert [r.stream_id for r in results] == ["budget-a", "budget-b"]
    assert (await bq.budget_of(container, "a")).total == 30
    assert await bq.budget_of(container, "b") is None  # no agreed target yet
    assert (await bq.budget_summary(container, "b"))["intervals"] == 3
    # Agreeing a target later: the next command on the stream brings it into force.
    await agree(container, "b", "p1", 0.99)
    more = await bq.record_observations(container, "sre-person", SRE, [
        {"objective_id": "b", "start": minute(3), "end": minute(4), "good": 10, "total": 10}])
    assert [e.type for e in more[0].events][:2] == ["BudgetConfigured", "ObservationsRecorded"]
    s = await bq.budget_of(container, "b")
    assert s.total == 40 and s.bad == 3 and s.target == 0.99
    # Resending the whole batch is a no-op.
    again = await bq.record_observations(container, "sre-person", SRE, rows)
    assert all(r.events == () for r in again)


async def test_a_group_refused_by_one_ledger_appends_nothing_beside_other_commands(container):
    """The refusal comes from the bus deciding against the log (a conflict with what b's
    ledger holds), not from a check before it; a command batched with the group lands."""
    import asyncio

    from service.envelope import Envelope

    await journey(container)
    await objective(container, "a")
    await objective(container, "b")
    await bq.record_observations(container, "sre-person", SRE, [
        {"objective_id": "b", "start": minute(0), "end": minute(1), "good": 9, "total": 10}])
    before = await head(container)
    group = [Envelope(RecordObservations("a", minutes(0, 3, 10, 10)), "sre-person", SRE),
             Envelope(RecordObservations("b", minutes(0, 1, 1, 10)), "sre-person", SRE)]
    alone = Envelope(RecordObservations("a", minutes(5, 6, 10, 10)), "sre-person", SRE)
    outcomes = await asyncio.gather(container.bus.execute_all(group), container.bus.execute(alone),
                                    return_exceptions=True)
    assert isinstance(outcomes[0], Conflict)
    assert [e.type for e in outcomes[1].events] == ["BudgetConfigured", "ObservationsRecorded"]
    assert await head(container) == before + 2
    assert (await bq.budget_of(container, "a")).total == 10  # only the lone minute
    with pytest.raises(ValueError):  # two commands on one stream cannot be decided up front
        await container.bus.execute_all([group[0], group[0]])


async def test_journey_composite_and_feasibility(container):
    await journey(container, "checkout", critical=("payments", "orders-db"))
    await journey(container, "platform")
    # component objectives: one in checkout itself, one in another journey (a shared service)
    await objective(container, "payments", journey_id="checkout", target=0.999, service="payments")
    await objective(container, "orders-db-availability", journey_id="platform", target=0.9995, service="orders-db")
    await objective(container, "checkout-e2e", journey_id="checkout", target=None)
    await do(container, "sre", ProposeTarget(
        "checkout-e2e", "p1", 0.999, "as good as payments"))

    f = await bq.feasibility(container, "checkout", 0.999)
    assert not f.feasible and f.ceiling == pytest.approx(0.9985005) and f.complete
    assert f.dependency_targets == {"payments": 0.999, "orders-db-availability": 0.9995}
    assert (await bq.feasibility(container, "checkout", 0.9985)).feasible

    await do(container, "sre", RecordObservations("payments", minutes(0, 10, 999, 1000)))
    await do(container, "sre", RecordObservations("orders-db-availability", minutes(0, 10, 1000, 1000)))
    c = await bq.journey_composite(container, "checkout")
    assert c.attainment == pytest.approx(0.999) and c.ceiling == pytest.approx(0.9985005)
    assert [(t.objective_id, t.proposal_id, t.feasible) for t in c.journey_targets] == [("checkout-e2e", "p1", False)]
    assert not c.feasible
    flag = await bq.objective_feasibility(container, "checkout-e2e")
    assert flag.feasible is False and flag.target == 0.999
    # a component objective is a dependency, not a journey target: no flag of its own
    assert await bq.objective_feasibility(container, "payments") is None
    assert [d.objective_id for d in c.dependencies] == ["payments", "orders-db-availability"]

    # retired, a component no longer measures its service
    await do(container, "sre", RetireObjective("orders-db-availability", "replaced"))
    c = await bq.journey_composite(container, "checkout")
    assert c.unmeasured == ("orders-db",) and not c.complete and c.ceiling == pytest.approx(0.999)


async def test_a_reactor_refusing_after_part_of_a_group_was_appended_undoes_the_group(container):
    """Phase two of a group (append, fold, react) can still fail: a reactor refusing
    objective b's event, after a's events were appended, rolls the whole group back."""
    from service.bus import CommandBus
    from service.envelope import Envelope

    await journey(container)
    await objective(container, "a")
    await objective(container, "b")

    async def refuse_b(event, view):
        if event.stream_id == "budget-b":
            raise Conflict("b is refused by a reactor")
        return []

    bus = CommandBus(container.store, container.projections, reactors=[refuse_b])
    try:
        before = await head(container)
        group = [Envelope(RecordObservations(oid, minutes(0, 3, 10, 10)), "sre-person", SRE) for oid in ("a", "b")]
        with pytest.raises(Conflict, match="refused by a reactor"):
            await bus.execute_all(group)
        assert await head(container) == before
        assert await bq.budget_summary(container, "a") is None
        # The same bus goes on working: a group it accepts lands whole.
        results = await bus.execute_all([group[0]])
        assert [e.type for e in results[0].events] == ["BudgetConfigured", "ObservationsRecorded"]
    finally:
        await bus.stop()
