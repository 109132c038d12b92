"""Policy what-if over the recorded history, through the real container, on SQLite and
PostgreSQL: a burn-out under the bundled default policy (a freeze, a denied feature
deploy), judged again with candidates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidInput
from service.policy_whatif import policy_whatif_of, summary, to_dict
from tests.policies.support import OID, head, minute
from tests.whatif.support import APPROVAL_ONLY, DEFAULT_TEXT, burn_out

async def test_a_candidate_that_requires_approval_instead_of_freezing(container):
    clock = await burn_out(container)
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
    clock = await burn_out(container)
    result = await policy_whatif_of(container, DEFAULT_TEXT, minute(0), clock.now)
    out = result.outcome
    assert len(out.judged) == 4 and out.affected == () and out.changed == ()
    assert all(j.differences == () for j in out.judged)
    # Refusals: a document that is no policy, a period backwards.
    with pytest.raises(InvalidInput) as err:
        await policy_whatif_of(container, "id: x\nrules: [", minute(0), clock.now)
    assert err.value.code == "BAD_USER_INPUT"
    with pytest.raises(InvalidInput):
        await policy_whatif_of(container, DEFAULT_TEXT, clock.now, minute(0))
