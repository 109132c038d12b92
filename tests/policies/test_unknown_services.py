"""A service no journey depends on (a typo of a frozen one, or a service nobody mapped)
is not waved through: the installation's policy decides (by default REQUIRE_APPROVAL by
sre), the decision names the known services close to it, and it replays like any other."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from policies.loader import POLICY_DIR
from policies.language import parse_policy
from service import gate
from tests.policies.support import (
    CI,
    LEADERSHIP,
    SRE,
    active_objective,
    assert_every_decision_replays,
    assert_rebuild_equals_live,
    deploy,
    observe,
)

FROZEN = "svc-f"


async def _frozen(container) -> None:
    await active_objective(container, services=(FROZEN,))
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 61, 0, 1000)  # 1,000 bad of 61,000 x 0.001 allowed: exhausted
    assert (await deploy(container, "feature", "run-frozen", service=FROZEN)).outcome == "DENY"


async def test_a_typo_of_a_frozen_service_needs_approval_and_names_the_service_meant(container):
    await _frozen(container)
    d = await deploy(container, "feature", "run-typo", service="svc-ff")
    assert d.outcome == "REQUIRE_APPROVAL" and not d.may_deploy and d.recorded
    assert d.reasons[0].startswith("no objective covers this service")
    assert "did you mean svc-f?" in d.reasons[0]
    assert d.suggestions == (FROZEN,)
    assert d.approver_roles == ("sre",) and d.rule_ids == ("unknown_services",)
    assert d.policy_versions == ("default@0",)  # the bundled text decided it
    # Recorded as it was answered, and replayed to the same answer.
    assert await gate.deploy_decision(container, "run-typo") == d
    assert await assert_every_decision_replays(container) == 2
    # An sre may let it through, like any REQUIRE_APPROVAL.
    approved = await gate.approve_deploy(container, "sam", SRE, "run-typo", "new service, looked at it")
    assert approved.may_deploy
    # A name nothing resembles: no suggestion, same answer.
    far = await deploy(container, "feature", "run-far", service="quantum-billing")
    assert far.outcome == "REQUIRE_APPROVAL" and far.suggestions == ()
    assert "did you mean" not in far.reasons[0]
    await assert_rebuild_equals_live(container)


async def test_the_installation_policy_says_what_happens_to_unknown_services(container):
    await _frozen(container)
    bundled = (POLICY_DIR / "default.yaml").read_text()
    assert "unknown_services:\n  outcome: require_approval" in bundled
    denying = bundled.replace("outcome: require_approval\n  role: sre", "outcome: deny")
    adopted = await gate.adopt_policy(container, "vp", LEADERSHIP, denying)
    assert adopted.version == 1
    d = await deploy(container, "feature", "run-deny", service="svc-ff")
    assert d.outcome == "DENY" and d.policy_versions == ("default@1",) and d.approver_roles == ()
    allowing = bundled.replace("outcome: require_approval\n  role: sre", "outcome: allow")
    await gate.adopt_policy(container, "vp", LEADERSHIP, allowing)
    d = await deploy(container, "feature", "run-allow", service="svc-ff")
    assert d.outcome == "ALLOW" and d.policy_versions == ("default@2",) and d.suggestions == (FROZEN,)
    # Each earlier decision replays on the policy in force at its own position.
    assert await assert_every_decision_replays(container) == 3
    # Mapping the service makes it known: the journey's objectives judge it from then on.
    from domain import journey as j
    from tests.budgets.support import do

    await do(container, "sre", j.MapDependency("checkout", "svc-ff", "service", False))
    known = await deploy(container, "feature", "run-known", service="svc-ff")
    assert known.outcome == "ALLOW" and known.suggestions == () and known.rule_ids == ()
    assert await assert_every_decision_replays(container) == 4


async def test_a_preview_of_an_unknown_service_says_the_same(container):
    await active_objective(container, services=(FROZEN,))
    preview = await gate.deploy_preview(container, "pipeline", CI, "svc-g", "feature", "v1")
    assert preview.outcome == "REQUIRE_APPROVAL" and preview.suggestions == (FROZEN,) and not preview.recorded


def test_the_policy_language_reads_unknown_services():
    base = {"id": "p", "rules": [{"id": "r", "when": {"budget_remaining_at_most": 0}, "actions": [{"type": "freeze"}]}]}
    assert parse_policy(base).unknown_services is None  # not said: require_approval by sre applies
    assert parse_policy(base).unknown_services_rule.outcome == "require_approval"
    assert "unknown_services" not in parse_policy(base).to_dict()  # canonical text of older documents kept
    said = parse_policy({**base, "unknown_services": {"outcome": "require_approval", "role": "leadership"}})
    assert said.unknown_services.role == "leadership" and parse_policy(said.to_dict()) == said
    for bad, field in (({"outcome": "maybe"}, "unknown_services.outcome"),
                       ({"outcome": "deny", "role": "sre"}, "unknown_services.role"),
                       ({"outcome": "require_approval", "role": "ci"}, "unknown_services.role"),
                       ({"outcome": "allow", "why": "x"}, "unknown_services.why")):
        with pytest.raises(InvalidInput) as caught:
            parse_policy({**base, "unknown_services": bad})
        assert caught.value.details["field"] == field


async def test_a_decision_recorded_before_unknown_services_were_judged_replays_as_it_was(container):
    """A DeployEvaluated of schema 2 (no suggestions) allowed any unknown service: its
    replay judges as the gate did then, so the auditor's answer still matches."""
    from domain.commands import iso
    from domain.events import NewEvent
    from tests.policies.support import head

    await active_objective(container, services=(FROZEN,))
    at = container.store.clock()
    data = {"pipeline_run_id": "run-old", "service": "svc-ff", "change_type": "feature", "version": "v1",
            "outcome": "ALLOW", "reasons": ["no active objective's journey depends critically on svc-ff; "
                                            "nothing restricts its deploys"],
            "rule_ids": [], "objectives": [], "freezes": [], "exceptions": [], "policy_versions": [],
            "approver_roles": [], "evaluated_at_position": await head(container), "at": iso(at)}
    async with container.store.transaction(["deploy-run-old"]) as tx:
        tx.append("deploy-run-old", [NewEvent("DeployEvaluated", data, 2)], {"actor": "pipeline", "role": "ci"})
    await container.projections.rebuild(["deploy_decisions"])
    old = await gate.deploy_decision(container, "run-old")
    assert old.outcome == "ALLOW" and old.suggestions is None
    replay = await gate.replay_deploy_decision(container, "run-old")
    assert replay.matches, replay.differences
    # The same request today: not waved through.
    assert (await deploy(container, "feature", "run-new", service="svc-ff")).outcome == "REQUIRE_APPROVAL"
