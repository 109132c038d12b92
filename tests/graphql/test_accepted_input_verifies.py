"""Nothing the API accepts can break the log (SQLite and PostgreSQL).

Property: whatever sequence of commands is sent through GraphQL, with numbers at the edges
of and beyond their documented ranges (counts up to 1e308, 2^63, 2^53 + 1, a count per
interval just over what its length allows, targets and thresholds from 5e-324 to 1e308,
32-bit extremes), every answer is a result or a refusal with a code (never
INTERNAL_SERVER_ERROR), a refusal appends nothing, and afterwards the hash chain verifies
(what `slogov audit verify` runs), the budget reads, and still reads after a rebuild.

Before the ranges: 1e20 good of 1e20 was INTERNAL_SERVER_ERROR and committed on SQLite,
leaving a log that failed verification forever; 2^63 or a second 6e18 push overflowed
PostgreSQL's int64.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.budget.observations import MAX_EVENTS_PER_SECOND
from eventstore.verify import verify_chain

from .test_budgets import RECORD, agreed_objective, aligned_now

SECOND = 1_000_000  # microseconds
LENGTHS = [1, SECOND, 60 * SECOND, 300 * SECOND, 86_400 * SECOND, 86_400 * SECOND + 1]  # the last is too long
BIG = [2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 6e18, 1e20, 1e308]


def counts(length_us: int) -> st.SearchStrategy:
    most = length_us * MAX_EVENTS_PER_SECOND // SECOND
    edges = st.sampled_from([0, 1, most - 1, most, most + 1, *BIG, -1, 0.5])
    return st.tuples(edges, edges)


observation = st.sampled_from(LENGTHS).flatmap(
    lambda n: st.tuples(st.integers(0, 50), st.just(n), counts(n)))
fraction = st.sampled_from([0.0, 5e-324, 1e-300, 0.5, 0.999, 1 - 2**-53, 1.0, 1.5, 1e308, -0.0])
rate = st.sampled_from([5e-324, 1e-300, 1.0, 14.4, 1e308, 0.0, -1.0])
int32 = st.sampled_from([-(2**31), -1, 0, 1, 3, 4, 10_080, 10_081, 2**31 - 1])

command = st.one_of(
    st.tuples(st.just("record"), st.lists(observation, min_size=1, max_size=3)),
    st.tuples(st.just("correct"), observation),
    st.tuples(st.just("propose"), fraction),
    st.tuples(st.just("alerts"), st.tuples(rate, int32)),
    st.tuples(st.just("journey"), st.tuples(int32, int32)),
)
_runs = itertools.count()


def _interval(oid: str, base, item) -> dict:
    minute, length, (good, total) = item
    start = base + timedelta(minutes=minute * 5)
    return {"objectiveId": oid, "start": start.isoformat(), "end": (start + timedelta(microseconds=length)).isoformat(),
            "good": good, "total": total}


def _request(kind: str, arg, oid: str, base, run: int) -> tuple[str, dict]:
    if kind == "record":
        return RECORD, {"input": {"observations": [_interval(oid, base, item) for item in arg]}}
    if kind == "correct":
        return ("mutation($input: CorrectObservationInput!) { correctObservation(input: $input) { version } }",
                {"input": {**_interval(oid, base, arg), "reason": "recount"}})
    if kind == "propose":
        return ("mutation($input: ProposeTargetInput!) { proposeTarget(input: $input) { objective { id } } }",
                {"input": {"objectiveId": oid, "proposalId": f"p-{run}", "target": arg, "rationale": "edge"}})
    if kind == "alerts":
        threshold, minutes = arg
        return ("mutation($input: ConfigureBudgetAlertsInput!) { configureBudgetAlerts(input: $input) { version } }",
                {"input": {"objectiveId": oid, "staleAfterMinutes": minutes, "tiers": [
                    {"severity": "PAGE", "longWindow": "1h", "shortWindow": "5m", "threshold": threshold}]}})
    tier, volume = arg
    return ("mutation($input: ProposeJourneyInput!) { proposeJourney(input: $input) { journey { id } } }",
            {"input": {"journeyId": f"edge-{run}", "name": "Edge", "description": "d", "steps": ["a"],
                       "startsAt": "a", "endsAt": "b", "successCriteria": "c", "owner": "o", "tier": tier,
                       "supportVolume": volume}})


BUDGET = '{ objective(id: "%s") { budget { good total remaining exhausted burnRates { rate } } } }'


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(commands=st.lists(command, min_size=1, max_size=6))
async def test_any_command_the_api_accepts_leaves_a_log_that_verifies(api, commands):
    run = next(_runs)
    oid = f"edge-o{run}"
    await agreed_objective(api, oid, f"edge-j{run}", 0.999)
    base = aligned_now() - timedelta(days=2)
    for n, (kind, arg) in enumerate(commands):
        query, variables = _request(kind, arg, oid, base, run * 100 + n)
        before = await api.head()
        body = await api.post(query, variables, role="admin")
        codes = [e["extensions"]["code"] for e in body.get("errors") or ()]
        assert "INTERNAL_SERVER_ERROR" not in codes, (kind, arg, body)
        if codes:
            assert await api.head() == before, f"a refused {kind} moved the log head: {arg}"
            assert all(e["extensions"].get("field") or e["message"] for e in body["errors"])

    report = await verify_chain(api.container.engines)
    assert report.ok, report
    read = await api.post(BUDGET % oid, role="auditor")
    assert not read.get("errors"), read
    await api.container.projections.rebuild(["budgets"])
    assert await api.post(BUDGET % oid, role="auditor") == read
