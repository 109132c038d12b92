"""Every numeric input has a range (README, "What inputs may hold"): out of it is
BAD_USER_INPUT naming the field, nothing appended, the same on SQLite and PostgreSQL; at
its edge it is accepted and reads back exactly.

Before: 1e20 good of 1e20 answered INTERNAL_SERVER_ERROR on SQLite yet committed (and the
log failed verification from then on); 2^63, 1e308 or a second 6e18 push overflowed
PostgreSQL's int64; an interval in year 1 or a quarter "9999-Q4" overflowed a datetime.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.budget.observations import MAX_EVENTS_PER_SECOND
from eventstore.verify import verify_chain

from .conftest import journey_input
from .test_budgets import agreed_objective, aligned_now, budget, obs, record, refuse

DAY = timedelta(days=1)
MOST_PER_DAY = 86_400 * MAX_EVENTS_PER_SECOND  # 8.64e12
MOST_PER_MINUTE = 60 * MAX_EVENTS_PER_SECOND


def _observe(good, total, length=timedelta(minutes=1), start=None):
    def build(t):
        return {"observations": [obs("o1", start or t - 2 * DAY, good, total, length)]}
    return build


def _correct(good, total):
    def build(t):
        return {**obs("o1", t - 3 * DAY, good, total, timedelta(minutes=1)), "reason": "recount"}
    return build


def _plain(value):
    return lambda t: value


# (case id, mutation, input builder, the field named)
CASES = [
    ("count beyond 64 bits", "recordObservations", _observe(1e20, 1e20), "observations[0].total"),
    ("count of 2^63", "recordObservations", _observe(2**63, 2**63, DAY), "observations[0].total"),
    ("count of 1e308", "recordObservations", _observe(0, 1e308), "observations[0].total"),
    ("6e18 in a day", "recordObservations", _observe(6e18, 6e18, DAY), "observations[0].total"),
    ("one over a minute's most", "recordObservations", _observe(0, MOST_PER_MINUTE + 1), "observations[0].total"),
    ("one over a day's most", "recordObservations", _observe(0, MOST_PER_DAY + 1, DAY), "observations[0].total"),
    ("negative count", "recordObservations", _observe(-1, 5), "observations[0].good"),
    ("fractional count", "recordObservations", _observe(0.5, 5), "observations[0].good"),
    ("good above total", "recordObservations", _observe(6, 5), "observations[0].good"),
    ("interval longer than a day", "recordObservations", _observe(0, 5, DAY + timedelta(microseconds=1)),
     "observations[0].end"),
    ("correction beyond the most", "correctObservation", _correct(0, 1e20), "interval.total"),
    ("target of 1", "proposeTarget", _plain({"objectiveId": "o1", "proposalId": "p9", "target": 1.0,
                                             "rationale": "r"}), "target"),
    ("target of 0", "proposeTarget", _plain({"objectiveId": "o1", "proposalId": "p9", "target": 0.0,
                                             "rationale": "r"}), "target"),
    ("staleness beyond a week", "configureBudgetAlerts", _plain({"objectiveId": "o1", "staleAfterMinutes": 10_081}),
     "stale_after_minutes"),
    ("threshold of 0", "configureBudgetAlerts", _plain({"objectiveId": "o1", "tiers": [
        {"severity": "PAGE", "longWindow": "1h", "shortWindow": "5m", "threshold": 0.0}]}), "tiers.threshold"),
    ("tier 4", "proposeJourney", _plain(journey_input("j9", tier=4)), "tier"),
    ("negative support volume", "proposeJourney", _plain(journey_input("j9", supportVolume=-1)), "support_volume"),
    ("negative expected version", "proposeJourney", _plain({**journey_input("j9"), "expectedVersion": -1}),
     "expectedVersion"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_out_of_range_is_bad_user_input_naming_the_field(api, case):
    _, mutation, build, field = case
    await agreed_objective(api, "o1", "j1", 0.999)
    t = aligned_now()
    await record(api, [obs("o1", t - 3 * DAY, 5, 5, timedelta(minutes=1))])
    code, error = await refuse(api, mutation, build(t), role="admin")
    assert (code, error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error


# (case id, query, where the message says the value was) -- refused by the scalar or GraphQL's Int
COERCION_CASES = [
    ("before 1970", 'mutation { recordObservations(input: {observations: [{objectiveId: "o1", '
                    'start: "1969-12-31T23:59:00Z", end: "1970-01-01T00:00:00Z", good: 1, total: 1}]}) { __typename } }',
     "it must lie from 1970-01-01T00:00:00Z up to 9999-01-01T00:00:00Z"),
    ("year 9999", '{ objective(id: "o1") { budget(at: "9999-06-01T00:00:00Z") { remaining } } }',
     "it must lie from 1970-01-01T00:00:00Z up to 9999-01-01T00:00:00Z"),
    ("an offset past year 9999", 'mutation { grantFreezeException(input: {service: "s", reason: "r", '
                                 'expiresAt: "9998-12-31T23:59:59-12:00"}) { __typename } }',
     "it must lie from 1970-01-01T00:00:00Z"),
    ("a quarter in year 0", '{ leadershipReport(quarter: "0000-Q1") { quarter } }',
     "quarter must lie from 1970-Q1 to 9998-Q4 (got '0000-Q1')"),
    ("a review for 9999-Q4", 'mutation { recordReview(input: {objectiveId: "o1", quarter: "9999-Q4", outcome: MAINTAIN, '
                             'findings: "f", attendees: ["a"]}) { __typename } }',
     "quarter must lie from 1970-Q1 to 9998-Q4 (got '9999-Q4')"),
    ("a 33-bit Int", 'mutation { proposeJourney(input: {journeyId: "j9", name: "n", description: "d", steps: ["a"], '
                     'startsAt: "a", endsAt: "b", successCriteria: "c", owner: "o", tier: 4294967296}) { __typename } }',
     "Int cannot represent non 32-bit signed integer value: 4294967296"),
]


@pytest.mark.parametrize("case", COERCION_CASES, ids=[c[0] for c in COERCION_CASES])
async def test_times_quarters_and_ints_out_of_range_are_bad_user_input(api, case):
    _, query, message = case
    await agreed_objective(api, "o1", "j1", 0.999)
    before = await api.head()
    body = await api.post(query, role="admin")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"] * len(body["errors"]), body
    assert message in body["errors"][0]["message"]
    assert await api.head() == before


async def test_the_edges_are_accepted_read_back_exactly_and_verify(api):
    """A day at the most an interval may count, beside a minute at its most, and a second
    day: the window's sums are exact (below 2^53) in the budget and the chain verifies."""
    await agreed_objective(api, "o1", "j1", 0.999)
    t = aligned_now() - 3 * DAY
    await record(api, [obs("o1", t, MOST_PER_DAY - 1, MOST_PER_DAY, DAY),
                       obs("o1", t + DAY, MOST_PER_MINUTE, MOST_PER_MINUTE, timedelta(minutes=1))])
    await record(api, [obs("o1", t + DAY + timedelta(minutes=1), 0, MOST_PER_DAY - 60 * MAX_EVENTS_PER_SECOND,
                           DAY - timedelta(minutes=1))])
    read = await budget(api, "o1")
    assert read["total"] == 2 * MOST_PER_DAY and read["good"] == MOST_PER_DAY - 1 + MOST_PER_MINUTE
    assert read["bad"] == read["total"] - read["good"]
    assert (await verify_chain(api.container.engines)).ok
    await api.container.projections.rebuild(["budgets"])
    assert await budget(api, "o1") == read
