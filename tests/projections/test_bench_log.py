"""The replay benchmark's log (bench/replay.py) is a valid slogov log: the chain
verifies, every stream folds, the clones are distinct worlds with the template's
outcome, recorded deploy decisions replay to the same answer, and the log stays
appendable (stream versions and the head agree with the rows)."""

from __future__ import annotations

import pytest

from bench.replay import TOKEN, log_rows, template_world, write_log
from eventstore.reader import fold_log
from eventstore.verify import verify_chain
from service.aggregates import AGGREGATES
from service.gate import deploy_decision_ids
from domain import journey as j
from tests.budgets.support import do
from tests.policies.support import assert_every_decision_replays


@pytest.fixture(scope="module")
def template():
    import asyncio

    return asyncio.run(template_world(minutes=12, deploys=3))


async def test_the_cloned_log_verifies_folds_and_replays(container, template):
    per_world = sum(TOKEN in e.stream_id for e in template)
    shared = len(template) - per_world
    total = shared + 2 * per_world + per_world // 2  # two whole clones and half of a third
    rows, versions = log_rows(template, total)
    await write_log(container.engines, rows, versions)

    report = await verify_chain(container.engines)
    assert report.ok and report.events_checked == total

    states, count = await fold_log(container.store, {c: a.evolve for c, a in AGGREGATES.items()})
    assert count == total
    for clone in ("000000", "000001"):
        objective = states[f"objective-o{clone}-avail"]
        assert objective.status == "ACTIVE" and objective.journey_id == f"j{clone}"
        assert states[f"budget-o{clone}-avail"].exhausted
        assert states[f"actions-o{clone}-avail"].active_freezes
    assert len([s for s in states if s.startswith("journey-")]) == 3

    # Each decision recorded the position it was judged at; the clones' are shifted with them.
    assert len(await deploy_decision_ids(container)) == 0  # read models are empty until a rebuild
    await container.projections.rebuild()
    runs = await deploy_decision_ids(container)
    assert {r[:9] for r in runs} >= {"run000000", "run000001"}
    assert await assert_every_decision_replays(container) == len(runs) > 0

    # With its read models rebuilt, the log goes on: the next command lands at the next
    # position and stream version.
    result = await do(container, "sre", j.MapDependency("j000001", "svc000001-cache", "database", False))
    journey_events = await container.store.read_stream("journey-j000001")
    assert [e.position for e in result.events] == [total + 1]
    assert result.events[0].stream_version == len(journey_events) == journey_events[-2].stream_version + 1
    assert (await verify_chain(container.engines)).ok
