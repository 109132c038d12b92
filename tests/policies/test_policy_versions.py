"""One story for policy versions (README, "Policies"): a fresh installation has "default"
at version 0, its bundled text; adopting records 1, 2, ...; an agreement pins only a
version that exists; a decision cites the version whose rules it applied, the freeze's
own version included."""

from __future__ import annotations

import pytest

from domain import objective as o
from domain.errors import NotFound
from policies.loader import POLICY_DIR
from service import gate
from tests.budgets.support import do
from tests.policies.support import (
    LEADERSHIP,
    OID,
    active_objective,
    assert_every_decision_replays,
    deploy,
    head,
    observe,
)

# A different text for "default": no freeze rule at all, only postmortems.
NO_FREEZE = """id: default
rules:
  - id: postmortem-only
    when: {incident_budget_share_over: 0.5}
    actions: [{type: require_postmortem}]
"""


def _pin(version: int) -> o.FormalizeAgreement:
    return o.FormalizeAgreement(OID, "default", version, "pm", "sre-lead", ("sre-oncall",), "two engineers")


async def test_what_may_be_pinned_and_what_a_decision_cites(container):
    with pytest.raises(NotFound):  # version 1 does not exist on a fresh installation
        await active_objective(container, policy_version=1)
    before = await head(container)
    with pytest.raises(NotFound) as caught:
        await do(container, "sre", _pin(1))
    assert caught.value.details["field"] == "policy_version" and await head(container) == before
    await do(container, "sre", _pin(0))  # the bundled text: exists from the first start

    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)  # exhausted: the bundled rule freezes payments
    denied = await deploy(container, "feature", "run-1")
    assert denied.outcome == "DENY" and denied.policy_versions == ("default@0",)
    freeze = (await gate.policy_actions(container, OID)).freezes[0]
    assert (freeze.policy_id, freeze.policy_version) == ("default", 0)

    # A different version 1 is adopted: the objective still stands under version 0's rules.
    adopted = await gate.adopt_policy(container, "vp", LEADERSHIP, NO_FREEZE)
    assert adopted.version == 1
    assert (await deploy(container, "feature", "run-2")).policy_versions == ("default@0",)
    with pytest.raises(NotFound):
        await do(container, "sre", _pin(2))

    # Re-pinned to version 1 (which has no freeze rule): the freeze version 0 started still
    # denies until the next budget reading lifts it, and the decision cites both versions.
    await do(container, "sre", _pin(1))
    both = await deploy(container, "feature", "run-3")
    assert both.outcome == "DENY" and both.policy_versions == ("default@0", "default@1")
    assert any("rule freeze-when-exhausted" in r for r in both.reasons)
    await observe(container, 70, 71, 1000, 1000)
    lifted = await deploy(container, "feature", "run-4")
    assert lifted.outcome == "ALLOW" and lifted.policy_versions == ("default@1",)
    assert await assert_every_decision_replays(container) == 4


async def test_the_bundled_text_is_what_version_0_applies(container):
    await active_objective(container)  # pins default@0
    await gate.adopt_policy(container, "vp", LEADERSHIP, NO_FREEZE)  # version 1: no freeze rule
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)
    d = await deploy(container, "feature", "run-1")
    assert d.outcome == "DENY" and d.rule_ids == ("freeze-when-exhausted",) and d.policy_versions == ("default@0",)
    assert (POLICY_DIR / "default.yaml").read_text().count("freeze-when-exhausted") == 1
    assert await assert_every_decision_replays(container) == 1
