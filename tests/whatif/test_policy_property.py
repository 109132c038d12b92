"""The policy what-if's honesty, over generated histories (through the real container,
on SQLite and PostgreSQL): with the policy that was in force, every recorded deploy
decision is judged exactly as it was recorded; with the same rules under another text
(so the candidate governs the objective and derives its actions again, by the live
reactor's walk) the same freezes, escalations and postmortems start at the same data
times, and every decision gets the same answer for the same reasons."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.budget import decider
from policies.language import CHANGE_TYPES
from service import gate
from service.policy_whatif import policy_whatif_of
from service.whatif import target_whatif_of
from tests.budgets.support import T0, do
from tests.budgets.test_batching import (
    NOW, adopt_one_day, build_history, fixed_clock, governed_objective, segments, send,
)

_ids = itertools.count()
CI = frozenset({"ci"})
OWN_TIERS = ({"severity": "page", "long_window": "30m", "short_window": "5m", "threshold": 5.0},
             {"severity": "ticket", "long_window": "2h", "short_window": "10m", "threshold": 1.0})
OTHER_TIERS = [{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 2.0},
               {"severity": "ticket", "long_window": "6h", "short_window": "30m", "threshold": 0.5}]
ALERTS = ("BurnRateAlertRaised", "BurnRateAlertCleared")


def _started(actions) -> list[tuple]:
    return [(a.objective_id, a.type, a.action_id, a.rule_id, a.at, a.reason) for a in actions]


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(segs=segments, data=st.data())
async def test_the_policy_in_force_reproduces_every_recorded_decision(container, segs, data):
    history = build_history(segs)
    cuts = data.draw(st.lists(st.integers(1, max(1, len(history) - 1)), max_size=4), label="cuts")
    deploys = data.draw(st.lists(st.tuples(st.integers(0, len(history)), st.sampled_from(CHANGE_TYPES)),
                                 min_size=1, max_size=6), label="deploys")
    fixed_clock(container)
    await adopt_one_day(container)
    prefix = f"pp{next(_ids)}-"
    oid = await governed_objective(container, prefix, target=0.99, days=1, policy_id="one-day")
    own = data.draw(st.booleans(), label="own tiers")  # the objective's own tiers: its policy's do not apply
    if own:
        await do(container, "sre", decider.ConfigureAlerts(oid, OWN_TIERS, None))
    bounds = sorted({0, len(history), *cuts, *(i for i, _ in deploys)})
    for a, b in zip(bounds, bounds[1:] + [None]):
        for n, (i, change) in enumerate(deploys):
            if i == a:
                await gate.evaluate_deploy(container, "pipeline", CI, f"{prefix}svc", change, "v1", f"{prefix}run{n}")
        if b is not None and b > a:
            await send(container, oid, history[a:b], [])
    head = await container.store.head()
    start, end = T0, NOW + timedelta(days=1)
    recorded = await gate.deploy_decision_ids(container)

    in_force = (await gate.policy(container, "one-day")).current.doc()
    same = (await policy_whatif_of(container, in_force, start, end)).outcome
    assert same.affected == () and same.what_if == ()
    assert sorted(j.recorded.pipeline_run_id for j in same.judged) == sorted(recorded)
    assert [j.differences for j in same.judged] == [()] * len(recorded)

    # The same rules in another text: governed, so every action is derived again by the walk.
    renamed = (await policy_whatif_of(container, {**in_force, "name": "the same rules, renamed"}, start, end)).outcome
    assert oid in renamed.affected and renamed.tiers_differ == ()
    assert _started(renamed.what_if) == _started(renamed.actual)
    for j in renamed.judged:
        r, w = j.recorded, j.what_if
        assert (w.outcome, w.reasons, w.rule_ids, w.objectives, w.freezes, w.approver_roles) == (
            r.outcome, r.reasons, r.rule_ids, r.objectives, r.freezes, r.approver_roles), j.differences
        assert w.policy_versions == tuple(v.replace("one-day@1", "one-day@2") for v in r.policy_versions)
    assert renamed.alerts == ()  # the tiers in force: the recorded alerts stand

    # The same rules with other alert tiers: the budget stream read as recorded under them.
    other = (await policy_whatif_of(container, {**in_force, "alert_tiers": OTHER_TIERS}, start, end)).outcome
    assert oid in other.tiers_differ
    [alerts] = [a for a in other.alerts if a.objective_id == oid]
    if own:
        # The objective's own tiers stay in force: every alert derived again is the recorded
        # one, and so is everything the walk and the gate did with them.
        assert alerts.what_if == alerts.actual
        mine = lambda actions: [a for a in _started(actions) if a[0] == oid]  # noqa: E731
        assert mine(other.what_if) == mine(renamed.what_if)
        ours = lambda out: [(j.what_if.outcome, j.what_if.reasons, j.what_if.freezes)  # noqa: E731
                            for j in out.judged if j.recorded.pipeline_run_id.startswith(prefix)]
        assert ours(other) == ours(renamed)
    else:
        # The candidate's tiers: the alerts the target what-if finds with them.
        target = await target_whatif_of(container, oid, start, end, tiers=OTHER_TIERS)
        assert alerts.what_if == target.whatif.of(*ALERTS)
        assert alerts.actual == target.actual.of(*ALERTS)
    assert await container.store.head() == head
