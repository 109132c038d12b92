"""A measured baseline's analysis as GraphQL types (the seed's phase 4): attainment per
day and week, the worst windows, and how each candidate target's budget would have
fared over the period, so the negotiation shows a proposal beside its history."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import baseline_analysis as ba


@strawberry.type(description="Counts over one stretch of a baseline's period.")
class BaselinePeriod:
    start: datetime
    end: datetime
    good: int
    total: int
    attainment: float | None = strawberry.field(description="good / total; null without traffic.")


@strawberry.type(description="How one candidate target's error budget would have fared over the baseline's "
                             "period: the real ledger, with the objective's window and budgeting, read hourly.")
class CandidateOutcome:
    target: float
    judged: int = strawberry.field(description="Moments the budget was read (hourly, and at the period's end).")
    exhausted: int = strawberry.field(description="Of those, how many found it exhausted.")
    exhausted_share: float
    exhaustions: int = strawberry.field(description="Times it went from not exhausted to exhausted.")
    first_exhausted_at: datetime | None
    min_remaining: float | None = strawberry.field(description="The lowest remaining share of the budget seen.")
    exhausted_at_end: bool = strawberry.field(
        description="Exhausted at the period's end: a target that would be breached as soon as it is agreed.")


@strawberry.type(description="A baseline measured from the data source's per-minute history.")
class BaselineAnalysis:
    minutes_with_data: int
    days: list[BaselinePeriod] = strawberry.field(description="Per UTC day (the first and last may be partial).")
    weeks: list[BaselinePeriod] = strawberry.field(description="Per week from Monday 00:00 UTC.")
    worst_hours: list[BaselinePeriod]
    worst_days: list[BaselinePeriod]
    candidates: list[CandidateOutcome]


def from_period(p: ba.Period) -> BaselinePeriod:
    return BaselinePeriod(start=p.start, end=p.end, good=p.good, total=p.total, attainment=p.attainment)


def from_outcome(c: ba.CandidateOutcome) -> CandidateOutcome:
    return CandidateOutcome(
        target=c.target, judged=c.judged, exhausted=c.exhausted, exhausted_share=c.exhausted_share,
        exhaustions=c.exhaustions, first_exhausted_at=c.first_exhausted_at, min_remaining=c.min_remaining,
        exhausted_at_end=c.exhausted_at_end,
    )


def from_analysis(a: ba.BaselineAnalysis) -> BaselineAnalysis:
    return BaselineAnalysis(
        minutes_with_data=a.minutes_with_data,
        days=[from_period(p) for p in a.days],
        weeks=[from_period(p) for p in a.weeks],
        worst_hours=[from_period(p) for p in a.worst_hours],
        worst_days=[from_period(p) for p in a.worst_days],
        candidates=[from_outcome(c) for c in a.candidates],
    )
