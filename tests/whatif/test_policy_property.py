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

from policies.language import CHANGE_TYPES
from service import gate
from service.policy_whatif import policy_whatif_of
from tests.budgets.support import T0
from tests.budgets.test_batching import (
    NOW, adopt_one_day, build_history, fixed_clock, governed_objective, segments, send,
)

_ids = itertools.count()
CI = frozenset({"ci"})


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
    assert await container.store.head() == head
