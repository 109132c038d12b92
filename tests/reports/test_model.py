"""build_report: the pure assembly of the leadership report, on hand-made inputs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain import objective
from domain.budget import ChartPoint, SpanBudget
from domain.errors import InvalidInput
from domain.freeze_exception import ExceptionState
from domain.gate import DeployState
from domain.journey import MapDependency, PrioritizeJourney
from domain.policy_actions import ActionsState, Escalation, Freeze
from service.reports import ReportInputs, build_report, downsample
from tests.domain.support import (
    AVAILABILITY, OCCURRENCES, ROLLING_28, World, agree, drafted_objective, formalize, prioritized_journey, propose,
)

UTC = timezone.utc
Q_START = datetime(2025, 1, 1, tzinfo=UTC)
Q_END = datetime(2025, 4, 1, tzinfo=UTC)


def at(day: int, hour: int = 0) -> datetime:
    return Q_START + timedelta(days=day, hours=hour)


def world() -> World:
    """checkout (tier 1): an ACTIVE objective agreed in the quarter after 2 days, and an
    informational one; search (tier 2): an ACTIVE objective agreed long before (overdue)."""
    w = World(now=datetime(2024, 6, 1, tzinfo=UTC))
    prioritized_journey(w, "search", name="Search", tier=2)
    w.run(PrioritizeJourney("search", 2, 2, "most sessions start here"), actor="lee", roles={"leadership"})
    drafted_objective(w, "search-availability", "search")
    propose(w, "search-availability")
    agree(w, objective_id="search-availability")
    formalize(w, "search-availability")
    w.now = at(10)
    drafted_objective(w, "checkout-availability", "checkout")
    w.run(MapDependency("checkout", "checkout-api", "service", True), roles={"sre"})
    propose(w)
    w.now = at(12)
    agree(w)
    formalize(w)
    drafted_objective(w, "checkout-latency", "checkout")
    return w


def freeze(fid: str, start: datetime, end: datetime | None) -> Freeze:
    return Freeze(fid, "checkout-availability", "exhausted", "default", 1, "checkout", ("checkout-api",), (),
                  "budget exhausted", start.isoformat(), active=end is None,
                  lifted_at=None if end is None else end.isoformat())


def decision(run: str, outcome: str, when: datetime, objectives=("checkout-availability",)) -> DeployState:
    return DeployState(run, "checkout-api", "feature", "v1", outcome, (), (), tuple(objectives), (), (), (), 1,
                       when.isoformat(), "ci", 1)


def point(end: datetime, good: int, total: int, remaining: float, excluded: bool = False) -> ChartPoint:
    return ChartPoint(end, end - timedelta(minutes=5), end, good, total, total - good, excluded, 0.0, remaining,
                      remaining <= 0)


@pytest.fixture
def inputs() -> ReportInputs:
    w = world()
    states = [w.objective(o) for o in ("checkout-availability", "checkout-latency", "search-availability")]
    actions = ActionsState(
        "checkout-availability",
        freezes=(
            freeze("f0", at(-5), at(2)),  # started last quarter: 2 days count
            freeze("f1", at(20), at(23)),  # 3 days
            freeze("f2", at(22), at(24)),  # overlaps f1: 1 more day for the journey
            freeze("f3", at(85), None),  # still active: until as_of
        ),
        escalations=(
            Escalation("e1", "r", "leadership", "leadership", "repeated exhaustion", at(30).isoformat()),
            Escalation("e0", "r", "leadership", "leadership", "last quarter", at(-3).isoformat()),
        ),
    )
    return ReportInputs(
        journeys=[w.journey("checkout"), w.journey("search")],
        objectives=states,
        actions={"checkout-availability": actions},
        exceptions=[
            ExceptionState("x1", "checkout-api", None, at(31).isoformat(), "launch", "lee", at(21).isoformat(), 1),
            ExceptionState("x2", "checkout-api", None, at(2).isoformat(), "old", "lee", at(-10).isoformat(), 1),
            ExceptionState("x3", "elsewhere", None, at(31).isoformat(), "other", "lee", at(21).isoformat(), 1),
        ],
        decisions=[
            decision("r1", "ALLOW", at(1)), decision("r2", "DENY", at(21)), decision("r3", "DENY", at(22)),
            decision("r4", "REQUIRE_APPROVAL", at(23)), decision("r5", "ALLOW", at(-1)),
            decision("r6", "ALLOW", at(40), objectives=()),
        ],
        exhaustions=[("checkout-availability", at(20)), ("checkout-availability", at(-20)),
                     ("search-availability", at(50))],
        charts={
            "checkout-availability": [
                point(at(0), 1000, 1000, 0.9),  # ends at the quarter's start: last quarter's
                point(at(1), 999, 1000, 0.5),
                point(at(2), 998, 1000, 0.2),
                point(at(3), 0, 1000, 0.1, excluded=True),
            ],
        },
        quarter_budgets={"checkout-availability": SpanBudget("occurrences", 0.9985, 1.5)},
    )


def test_the_report_groups_journeys_by_tier_with_their_objectives(inputs):
    report = build_report("2025-Q1", at(86), inputs)
    assert (report.quarter, report.start, report.end, report.as_of) == ("2025-Q1", Q_START, Q_END, at(86))
    assert [(s.tier, [j.journey_id for j in s.journeys]) for s in report.tiers] == [(1, ["checkout"]), (2, ["search"])]
    checkout = report.tiers[0].journeys[0]
    assert [o.objective_id for o in checkout.objectives] == ["checkout-availability", "checkout-latency"]


def test_objective_numbers(inputs):
    report = build_report("2025-Q1", at(86), inputs)
    o = report.tiers[0].journeys[0].objectives[0]
    assert o.target == 0.999 and not o.informational and o.policy == "default-policy v1"
    # The quarter's budget is the ledger's (Ledger.span_budget); the budget left is the last point's.
    assert (o.attainment, o.budget_spent, o.budget_remaining) == (0.9985, 1.5, 0.1)
    assert o.exhaustions == 1 and o.escalations == 1
    assert o.days_under_freeze == pytest.approx(2 + 4 + 1)  # f0 2, f1+f2 union 4, f3 until as_of 1
    assert o.agreements == 1 and o.median_days_to_agreement == pytest.approx(2, abs=0.01)
    assert o.chart == ((at(1), 0.5), (at(2), 0.2), (at(3), 0.1))
    latency = report.tiers[0].journeys[0].objectives[1]
    assert latency.informational and latency.target is None and latency.attainment is None
    assert not latency.review_overdue and latency.next_review_due is None


def test_journey_numbers_and_totals(inputs):
    report = build_report("2025-Q1", at(86), inputs)
    checkout, search = report.tiers[0].journeys[0], report.tiers[1].journeys[0]
    assert checkout.exhaustions == 1 and checkout.escalations == 1 and checkout.days_under_freeze == pytest.approx(7)
    assert checkout.exceptions_granted == 1  # x1: in the quarter and for a critical dependency
    assert (checkout.deploys_allowed, checkout.deploys_denied, checkout.deploys_require_approval) == (1, 2, 1)
    assert checkout.informational_objectives == 1 and checkout.overdue_reviews == 0
    # search was agreed in June 2024 and never reviewed: overdue
    assert search.overdue_reviews == 1 and search.objectives[0].review_overdue
    assert search.exhaustions == 1 and search.median_days_to_agreement is None
    t = report.totals
    assert (t.journeys, t.objectives, t.exhaustions, t.escalations, t.overdue_reviews) == (2, 3, 2, 1, 1)
    assert (t.deploys_allowed, t.deploys_denied, t.deploys_require_approval) == (2, 2, 1)  # r6 judged nothing
    assert t.informational_objectives == 1 and t.exceptions_granted == 2


def test_a_review_clears_overdue_and_sets_the_due_date(inputs):
    state = inputs.objectives[2]
    reviewed = objective.evolve(state, _reviewed_event(state, at(60)))
    report = build_report("2025-Q1", at(86), ReportInputs(journeys=inputs.journeys, objectives=[reviewed]))
    line = report.tiers[1].journeys[0].objectives[0]
    assert not line.review_overdue and line.last_review.quarter == "2024-Q4"
    assert line.next_review_due == datetime(2025, 6, 2, tzinfo=UTC)  # one quarter after the review


def _reviewed_event(state, when):
    from domain.events import RecordedEvent

    return RecordedEvent(
        position=999, event_id="e", stream_id=objective.stream_id(state.id), stream_version=state.version + 1,
        type="ObjectiveReviewed", schema_version=1,
        data={"objective_id": state.id, "quarter": "2024-Q4", "outcome": "maintain", "findings": "fine",
              "attendees": ["pat"], "next_review_on": None, "target": 0.999, "proposal_id": None,
              "proposed_target": None},
        metadata={"actor": "pat", "role": "product"}, recorded_at=when,
    )


def test_as_of_is_the_quarter_end_for_a_past_quarter(inputs):
    report = build_report("2025-Q1", datetime(2026, 1, 1, tzinfo=UTC), inputs)
    assert report.as_of == Q_END
    o = report.tiers[0].journeys[0].objectives[0]
    assert o.days_under_freeze == pytest.approx(2 + 4 + (90 - 85))  # f3 clipped at the quarter's end


def test_things_outside_the_quarter_are_left_out(inputs):
    report = build_report("2024-Q3", datetime(2026, 1, 1, tzinfo=UTC), inputs)
    # checkout's objectives were drafted in 2025: not in 2024-Q3
    assert [j.journey_id for s in report.tiers for j in s.journeys] == ["search"]
    assert report.totals.exhaustions == 0 and report.totals.deploys_allowed == 0


def test_a_bad_quarter_is_refused(inputs):
    with pytest.raises(InvalidInput):
        build_report("2025-Q9", at(1), inputs)


def test_downsample_keeps_at_most_200_points_with_the_extremes():
    points = [(at(0) + timedelta(minutes=5 * k), 1 - (k % 97) / 100) for k in range(5000)]
    points[2500] = (points[2500][0], -0.5)  # one dip
    out = downsample(points)
    assert 2 < len(out) <= 200
    assert out[0] == points[0] and out[-1] == points[-1]
    assert (points[2500][0], -0.5) in out
    assert [p[0] for p in out] == sorted(p[0] for p in out)
    assert downsample(points[:10]) == tuple(points[:10])


def test_a_component_objective_is_marked_with_the_service_it_measures(inputs):
    from service.reports import render

    w = world()
    w.run(objective.DraftObjective("checkout-api-availability", "checkout", "Checkout API availability",
                                   AVAILABILITY, ROLLING_28, OCCURRENCES, service="checkout-api"),
          actor="sam", roles={"sre"})
    component = w.objective("checkout-api-availability")
    report = build_report("2025-Q1", at(86), ReportInputs(**{**inputs.__dict__, "objectives": [*inputs.objectives, component]}))
    lines = {o.objective_id: o for o in report.tiers[0].journeys[0].objectives}
    assert lines["checkout-api-availability"].service == "checkout-api"
    assert lines["checkout-availability"].service is None
    assert "Checkout API availability (component: checkout-api)" in render(report, "markdown")
    assert "component: checkout-api" in render(report, "html")
