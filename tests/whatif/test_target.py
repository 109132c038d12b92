"""Target what-if over the recorded history, through the real container (bus, reactors,
inline projections), on SQLite and PostgreSQL.

The honesty property: judged again with the configuration that was in force -- the
recorded one, or a candidate equal to it -- a generated history derives exactly the
transitions the live reactor recorded (type, data, order), over the whole history and
over any period of it; and asking appends nothing.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import objective as o
from domain.budget import decider
from domain.budget.whatif import Candidate, target_whatif
from domain.errors import InvalidInput, NotFound
from service.whatif import target_whatif_of
from tests.budgets.support import T0, agree, do, minute
from tests.budgets.test_batching import adopt_one_day, build_history, fixed_clock, governed_objective, segments, send

_ids = itertools.count()
END = T0 + timedelta(days=30)
ONE_DAY_TIERS = ({"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 14.4},  # adopt_one_day
                 {"severity": "page", "long_window": "6h", "short_window": "30m", "threshold": 6},
                 {"severity": "ticket", "long_window": "1d", "short_window": "2h", "threshold": 1})
CUSTOM_TIERS = ({"severity": "page", "long_window": "30m", "short_window": "5m", "threshold": 5.0},
                {"severity": "ticket", "long_window": "2h", "short_window": "10m", "threshold": 1.0})

# Between the data: an exclusion (and its restore), a correction, a freshness probe, new
# tiers, a renegotiated target -- each after the given number of the history's intervals.
extras = st.lists(st.tuples(st.integers(0, 60), st.sampled_from(
    ["exclude", "restore", "correct", "fresh", "tiers", "retarget"])), max_size=4)


async def _apply(container, oid: str, kind: str, history, done: int, n: int) -> None:
    last = history[done - 1][1] if done else 0
    if kind == "exclude":
        await do(container, "leadership", decider.ExcludeInterval(oid, f"x{n}", minute(max(0, last - 10)), minute(last + 5),
                                                                 "maintenance"))
    elif kind == "restore" and n > 0:
        try:
            await do(container, "sre", decider.RestoreInterval(oid, f"x{n - 1}", "was not maintenance"))
        except NotFound:
            pass
    elif kind == "correct" and done:
        s, e, g, t = history[done - 1]
        await do(container, "sre", decider.CorrectObservation(
            oid, {"start": minute(s).isoformat(), "end": minute(e).isoformat(), "good": max(0, g - t // 2), "total": t},
            "the exporter lost errors"))
    elif kind == "fresh" and done:
        container.store.clock = lambda: minute(last + 30)
        await do(container, "sre", decider.CheckFreshness(oid))
        fixed_clock(container)
    elif kind == "tiers":
        await do(container, "sre", decider.ConfigureAlerts(oid, CUSTOM_TIERS, 20))
    elif kind == "retarget":
        await agree(container, oid, f"retarget{n}", 0.995)


async def _record(container, oid: str, history, cuts, extra) -> None:
    """The history in requests cut at `cuts`, with the extras between them."""
    at = sorted({min(i, len(history)) for i, _ in extra} | set(cuts) | {0, len(history)})
    extra_at = {}
    for i, kind in extra:
        extra_at.setdefault(min(i, len(history)), []).append(kind)
    n = 0
    for a, b in zip(at, at[1:] + [None]):
        for kind in extra_at.get(a, ()):
            await _apply(container, oid, kind, history, a, n)
            n += 1
        if b is not None and b > a:
            await send(container, oid, history[a:b], [])


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(segs=segments, extra=extras, data=st.data())
async def test_the_configuration_in_force_reproduces_the_recorded_transitions(container, segs, extra, data):
    history = build_history(segs)
    cuts = data.draw(st.lists(st.integers(1, max(1, len(history) - 1)), max_size=6), label="cuts")
    budgeting = data.draw(st.sampled_from([o.Budgeting("occurrences"), o.Budgeting("timeslices", 5, 0.95)]))
    own_tiers = data.draw(st.booleans(), label="own tiers")  # else the policy's
    fixed_clock(container)
    await adopt_one_day(container)
    prefix = f"w{next(_ids)}-"
    oid = await governed_objective(container, prefix, target=0.99, days=1, budgeting=budgeting, policy_id="one-day")
    if own_tiers:
        await do(container, "sre", decider.ConfigureAlerts(oid, CUSTOM_TIERS, 20))
    await _record(container, oid, history, cuts, extra)
    head = await container.store.head()

    whole = await target_whatif_of(container, oid, T0, END)
    assert whole.actual.transitions == whole.recorded
    assert whole.whatif.transitions == whole.recorded  # an empty candidate changes nothing
    assert whole.freezes == whole.recorded_freezes  # nor the policy's freezes
    if not any(kind in ("tiers", "retarget") for _, kind in extra):
        # Never changed: the candidate that names the target (and tiers) in force is the record.
        same = await target_whatif_of(container, oid, T0, END, target=0.99)
        assert same.whatif.transitions == whole.recorded
    if own_tiers or not any(kind == "tiers" for _, kind in extra):
        # The tiers in force throughout (the objective's own, else its policy's), given as a
        # candidate: every alert raised and cleared, and every other transition, as recorded.
        in_force = CUSTOM_TIERS if own_tiers else ONE_DAY_TIERS
        same = await target_whatif_of(container, oid, T0, END, tiers=in_force)
        assert same.whatif.transitions == whole.recorded
        assert same.freezes == whole.recorded_freezes
    # Any period of it: the recorded transitions stamped inside it.
    end_minute = history[-1][1] if history else 1
    a = data.draw(st.integers(0, end_minute), label="from")
    b = data.draw(st.integers(a + 1, end_minute + 1), label="to")
    part = await target_whatif_of(container, oid, minute(a), minute(b))
    assert part.actual.transitions == part.recorded
    assert part.recorded == tuple(m for m in whole.recorded if minute(a) <= datetime.fromisoformat(m.at) < minute(b))
    # Asking appends nothing.
    assert await container.store.head() == head


async def test_a_stricter_target_finds_the_exhaustion_that_did_not_happen(container):
    """99% over one day held through an hour at 0.5% errors; 99.9% would have been spent
    15 minutes into it, and not recovered before the day rolled past it."""
    fixed_clock(container)
    await adopt_one_day(container)
    oid = await governed_objective(container, "s-", target=0.99, days=1, policy_id="one-day")
    history = [(m, m + 1, 995 if 60 <= m < 120 else 1000, 1000) for m in range(0, 240)]
    await send(container, oid, history, [i for i in range(1, len(history)) if i % 60 == 0])
    result = await target_whatif_of(container, oid, T0, T0 + timedelta(hours=4), target=0.999)
    assert result.recorded == () and result.actual.transitions == ()
    kinds = [m.type for m in result.whatif.transitions]
    assert "BudgetExhausted" in kinds and "BudgetRecovered" not in kinds
    exhausted = result.whatif.of("BudgetExhausted")[0]
    # After k bad minutes (5 bad of 1,000 each) behind 60 clean ones: bad 5k against
    # 0.001 x 1,000 x (60 + k) allowed; spent (remaining <= 0) at 5k >= 60 + k, k = 15.
    assert exhausted.at == minute(75).isoformat()
    assert result.whatif.attainment == result.actual.attainment == pytest.approx(1 - 300 / 240_000)
    assert result.actual.budget_spent == pytest.approx((300 / 240_000) / 0.01)
    assert result.whatif.budget_spent == pytest.approx((300 / 240_000) / 0.001)
    assert result.whatif.status.exhausted and not result.actual.status.exhausted


async def test_the_period_figures_are_the_leadership_reports(container):
    from service.reports.fetch import leadership_report

    fixed_clock(container)
    await adopt_one_day(container)
    oid = await governed_objective(container, "r-", target=0.99, days=1, policy_id="one-day")
    history = [(m, m + 1, 900 if m % 50 == 7 else 1000, 1000) for m in range(0, 600)]
    await send(container, oid, history, [300])
    await do(container, "leadership", decider.ExcludeInterval(oid, "x", minute(100), minute(200), "maintenance"))
    result = await target_whatif_of(container, oid, T0, T0 + timedelta(days=90))
    report = await leadership_report(container, "2025-Q1", now=T0 + timedelta(days=10))
    line = next(ob for t in report.tiers for j in t.journeys for ob in j.objectives if ob.objective_id == oid)
    assert result.actual.attainment == line.attainment
    assert result.actual.budget_spent == line.budget_spent


async def test_bad_input_is_refused_and_appends_nothing(container):
    fixed_clock(container)
    await adopt_one_day(container)
    oid = await governed_objective(container, "e-", target=0.99, days=1, policy_id="one-day")
    head = await container.store.head()
    with pytest.raises(NotFound):
        await target_whatif_of(container, "nobody", T0, END)
    for kwargs in ({"target": 99.95}, {"target": 1.0}, {"window": {"kind": "weekly"}},
                   {"budgeting": {"method": "timeslices"}}, {"tiers": []}):
        with pytest.raises(InvalidInput):
            await target_whatif_of(container, oid, T0, END, **kwargs)
    with pytest.raises(InvalidInput):
        await target_whatif_of(container, oid, END, T0)
    with pytest.raises(InvalidInput):
        await target_whatif_of(container, oid, T0.replace(tzinfo=None), END)
    assert await container.store.head() == head


def test_the_core_is_pure_over_events_it_is_handed():
    """No events: nothing happened and nothing would have."""
    outcome = target_whatif([], Candidate(target=0.9), T0, END)
    assert outcome.transitions == () and outcome.status is None and outcome.attainment is None


async def test_the_freeze_a_stricter_target_starts_denies_a_recorded_deploy(container):
    """At 99% an hour at 0.5% errors spends nothing a policy acts on, and a deploy of the
    journey's service 30 minutes into it was allowed. A draft proposal of 99.9% would have
    been exhausted 15 minutes in: the policy's freeze, and that deploy denied. As recorded
    (no candidate) the deploy is judged again to what the gate said."""
    from domain import objective as obj_domain
    from service import gate

    fixed_clock(container)
    await adopt_one_day(container)
    oid = await governed_objective(container, "d-", target=0.99, days=1, policy_id="one-day")
    await do(container, "sre", obj_domain.ProposeTarget(oid, "stricter", 0.999, "the checkout promise"))
    history = [(m, m + 1, 995 if 60 <= m < 120 else 1000, 1000) for m in range(0, 240)]
    await send(container, oid, history[:90], [60])
    container.store.clock = lambda: minute(90) + timedelta(seconds=5)
    allowed = await gate.evaluate_deploy(container, "ci", frozenset({"ci"}), "d-svc", "feature", "v2", "run-1")
    fixed_clock(container)
    await send(container, oid, history[90:], [30, 90])
    assert allowed.outcome == "ALLOW"

    recorded = await target_whatif_of(container, oid, T0, T0 + timedelta(hours=4))
    assert [(d.pipeline_run_id, d.recorded, d.whatif) for d in recorded.deploys] == [("run-1", "ALLOW", "ALLOW")]
    assert recorded.freezes == recorded.recorded_freezes == ()

    result = await target_whatif_of(container, oid, T0, T0 + timedelta(hours=4), proposal_id="stricter")
    assert result.candidate.target == 0.999 and result.proposal_id == "stricter"
    [freeze] = result.freezes
    assert freeze["started_at"] == minute(75).isoformat() and freeze["services"] == ("d-svc",)
    [denied] = result.denied
    assert denied.pipeline_run_id == "run-1" and denied.recorded == "ALLOW" and denied.whatif == "DENY"
    assert any("frozen" in r for r in denied.reasons)
    with pytest.raises(NotFound):
        await target_whatif_of(container, oid, T0, END, proposal_id="nobody")
    with pytest.raises(InvalidInput):
        await target_whatif_of(container, oid, T0, END, proposal_id="stricter", target=0.9)


async def test_candidate_tiers_raise_the_alerts_they_would_have_raised(container):
    """An hour at 0.5% errors burns 99% at 0.5: the recorded (policy) tiers never page. A
    candidate page at 0.31 over 1h/5m fires once the hour's bad minutes reach 38 of 60
    (38 x 5 / 60,000 / 0.01 = 0.317; 37 gives 0.308), at minute 98 of the data, and clears
    when the 5-minute rate falls under it after the errors stop."""
    fixed_clock(container)
    await adopt_one_day(container)
    oid = await governed_objective(container, "t-", target=0.99, days=1, policy_id="one-day")
    history = [(m, m + 1, 995 if 60 <= m < 120 else 1000, 1000) for m in range(0, 240)]
    await send(container, oid, history, [i for i in range(1, len(history)) if i % 60 == 0])
    tiers = [{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 0.31}]
    result = await target_whatif_of(container, oid, T0, T0 + timedelta(hours=4), tiers=tiers)
    assert result.recorded == () and result.actual.transitions == ()
    raised, cleared = result.whatif.of("BurnRateAlertRaised"), result.whatif.of("BurnRateAlertCleared")
    assert [(m.at, m.data["severity"], m.data["long_window"]) for m in raised] == [(minute(98).isoformat(), "page", "1h")]
    assert len(cleared) == 1 and minute(120) < datetime.fromisoformat(cleared[0].at) <= minute(125)
    assert result.candidate.tiers == tuple({**t, "threshold": float(t["threshold"])} for t in tiers)
    # A tier the objective's window cannot hold is refused as the agreement refuses it.
    with pytest.raises(InvalidInput) as refused:
        await target_whatif_of(container, oid, T0, END, tiers=[{**tiers[0], "long_window": "3d", "short_window": "6h"}])
    assert refused.value.details["field"] == "tiers[0].long_window"
