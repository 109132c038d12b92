"""Policy what-if over the recorded history, through the real container, on SQLite and
PostgreSQL: a burn-out under the bundled default policy (a freeze, a denied feature
deploy), judged again with candidates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidInput
from policies.loader import POLICY_DIR
from service.policy_whatif import policy_whatif_of, summary, to_dict
from tests.policies.support import Clock, OID, active_objective, deploy, head, minute, observe

DEFAULT_TEXT = (POLICY_DIR / "default.yaml").read_text()
APPROVAL_ONLY = """
id: default
name: approval instead of a freeze
alert_tiers:
  - {severity: page, long_window: 1h, short_window: 5m, threshold: 14.4}
  - {severity: page, long_window: 6h, short_window: 30m, threshold: 6}
  - {severity: ticket, long_window: 3d, short_window: 6h, threshold: 1}
rules:
  - id: approve-when-exhausted
    when: {budget_remaining_at_most: 0.0}
    actions: [{type: require_approval, role: leadership}]
    exempt: [rollback]
"""


async def _burn_out(container) -> Clock:
    clock = Clock()
    clock.now = minute(90)  # decisions in the data's own hours: one period holds both
    container.store.clock = clock
    await active_objective(container)  # the bundled default, version 0
    await observe(container, 0, 60, 1000, 1000)
    assert (await deploy(container, "feature", "run-0")).outcome == "ALLOW"
    await observe(container, 60, 70, 0, 1000)  # exhausted: a freeze
    assert (await deploy(container, "feature", "run-1")).outcome == "DENY"
    assert (await deploy(container, "rollback", "run-2")).outcome == "ALLOW"
    await observe(container, 70, 80, 1_000_000, 1_000_000)  # recovered: lifted
    assert (await deploy(container, "feature", "run-3")).outcome == "ALLOW"
    clock.advance(timedelta(minutes=1))
    return clock


async def test_a_candidate_that_requires_approval_instead_of_freezing(container):
    clock = await _burn_out(container)
    before = await head(container)
    start, end = minute(0), clock.now
    result = await policy_whatif_of(container, APPROVAL_ONLY, start, end)
    out = result.outcome
    assert result.position == before and result.candidate_version == 1  # "default" was never adopted
    assert [j.recorded.pipeline_run_id for j in out.judged] == ["run-0", "run-1", "run-2", "run-3"]
    (changed,) = out.changed
    assert changed.recorded.pipeline_run_id == "run-1"
    assert (changed.recorded.outcome, changed.what_if.outcome) == ("DENY", "REQUIRE_APPROVAL")
    assert changed.what_if.rule_ids == ("approve-when-exhausted",)
    assert changed.what_if.policy_versions == ("default@1",) and changed.what_if.approver_roles == ("leadership",)
    assert any("needs approval by leadership" in r for r in changed.what_if.reasons)
    # The freeze (and the postmortem the large incident required) would not have started.
    assert [a.type for a in out.actual] == ["FreezeStarted", "PostmortemRequired"]
    assert out.what_if == () and out.only_actual == out.actual
    assert out.affected == (OID,) and out.tiers_differ == ()
    s = summary(result)
    assert s["changed"] == 1 and s["freezes"] == {"actual": 1, "what_if": 0}
    assert to_dict(result)["changed"][0]["what_if"]["outcome"] == "REQUIRE_APPROVAL"
    # The decisions outside the period are not judged; asking appended nothing.
    later = await policy_whatif_of(container, APPROVAL_ONLY, end, end + timedelta(days=1))
    assert later.outcome.judged == ()
    assert await head(container) == before


async def test_the_policy_in_force_reproduces_every_decision(container):
    clock = await _burn_out(container)
    result = await policy_whatif_of(container, DEFAULT_TEXT, minute(0), clock.now)
    out = result.outcome
    assert len(out.judged) == 4 and out.affected == () and out.changed == ()
    assert all(j.differences == () for j in out.judged)


async def test_a_bad_document_or_period_is_refused(container):
    clock = Clock()
    with pytest.raises(InvalidInput) as err:
        await policy_whatif_of(container, "id: x\nrules: [", clock.now - timedelta(days=1), clock.now)
    assert err.value.code == "BAD_USER_INPUT"
    with pytest.raises(InvalidInput):
        await policy_whatif_of(container, DEFAULT_TEXT, clock.now, clock.now - timedelta(days=1))
