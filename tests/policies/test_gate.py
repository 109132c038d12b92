"""The deploy gate end to end, from budget data to decisions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from policies.loader import POLICY_DIR
from service import gate
from tests.policies.support import (
    CI, LEADERSHIP, OID, SERVICE, SRE, Clock, active_objective, assert_every_decision_replays, assert_rebuild_equals_live,
    deploy, head, observe,
)


async def _events(container, stream_id):
    return await container.store.read_stream(stream_id)


async def test_budget_burns_out_freeze_exception_recovery(container):
    clock = Clock()
    container.store.clock = clock
    adoption = await gate.adopt_policy(container, "vp", LEADERSHIP, (POLICY_DIR / "default.yaml").read_text())
    assert adoption.policy_id == "default" and adoption.version == 1 and adoption.adopted
    await active_objective(container, policy_version=1)

    # A healthy hour: nothing frozen, the gate allows and names the objective it judged.
    await observe(container, 0, 60, 1000, 1000)
    ok = await deploy(container, "feature", "run-0")
    assert ok.outcome == "ALLOW" and ok.objectives == (OID,) and ok.policy_versions == ("default@1",)
    assert ok.recorded and ok.position is not None

    # Ten minutes of total failure: the budget burns out and a page alert fires.
    await observe(container, 60, 70, 0, 1000)
    budget_events = {e.event_id: e for e in await _events(container, f"budget-{OID}")}
    exhausted = next(e for e in budget_events.values() if e.type == "BudgetExhausted")
    actions = await _events(container, f"actions-{OID}")
    started = next(e for e in actions if e.type == "FreezeStarted")
    assert started.metadata["causation_id"] == exhausted.event_id
    assert started.data["services"] == [SERVICE] and started.data["rule_id"] == "freeze-when-exhausted"
    assert started.data["at"] == exhausted.data["at"]  # event time, not the wall clock
    state = await gate.policy_actions(container, OID)
    assert [f.freeze_id for f in state.active_freezes] == ["freeze-1"]

    denied = await deploy(container, "feature", "run-1")
    assert denied.outcome == "DENY"
    assert denied.rule_ids == ("freeze-when-exhausted",) and denied.freezes == (f"{OID}/freeze-1",)
    assert denied.objectives == (OID,) and denied.policy_versions == ("default@1",)
    assert denied.evaluated_at_position <= await head(container)
    assert any("frozen" in r for r in denied.reasons)
    assert (await deploy(container, "config", "run-1b")).outcome == "DENY"
    assert (await deploy(container, "reliability_fix", "run-2")).outcome == "ALLOW"
    assert (await deploy(container, "rollback", "run-3")).outcome == "ALLOW"
    assert (await deploy(container, "security_fix", "run-3b")).outcome == "ALLOW"

    # The same pipeline run again: the first answer, nothing appended.
    before = await head(container)
    again = await deploy(container, "feature", "run-1")
    assert again.outcome == "DENY" and again.replayed and again.position == denied.position
    assert again.reasons == denied.reasons and await head(container) == before

    # A preview answers the same without recording.
    preview = await gate.deploy_preview(container, "dev", CI, SERVICE, "feature", "v9")
    assert preview.outcome == "DENY" and not preview.recorded and await head(container) == before

    # ci (and even admin) cannot grant exceptions; leadership can, for one service.
    with pytest.raises(Forbidden) as err:
        await gate.grant_freeze_exception(container, "pipeline", CI, SERVICE, clock.now + timedelta(hours=2), "launch")
    assert err.value.code == "FORBIDDEN"
    with pytest.raises(Forbidden):
        await gate.grant_freeze_exception(container, "root", frozenset({"admin"}), SERVICE,
                                          clock.now + timedelta(hours=2), "launch")
    with pytest.raises(InvalidInput):
        await gate.grant_freeze_exception(container, "vp", LEADERSHIP, SERVICE, clock.now - timedelta(minutes=1), "late")
    grant = await gate.grant_freeze_exception(container, "vp", LEADERSHIP, SERVICE, clock.now + timedelta(hours=2),
                                              "contractual launch", exception_id="launch-1")
    assert grant.exception_id == "launch-1"
    with pytest.raises(Conflict):
        await gate.grant_freeze_exception(container, "vp", LEADERSHIP, SERVICE, clock.now + timedelta(hours=2),
                                          "again", exception_id="launch-1")

    through = await deploy(container, "feature", "run-4")
    assert through.outcome == "ALLOW" and through.exceptions == ("launch-1",)
    assert through.freezes == (f"{OID}/freeze-1",) and any("launch-1" in r for r in through.reasons)

    # Past its expiry the exception is ignored.
    clock.advance(timedelta(hours=3))
    expired = await deploy(container, "feature", "run-5")
    assert expired.outcome == "DENY" and expired.exceptions == ()

    # The budget recovers: the freeze is lifted, caused by the BudgetRecovered event.
    await observe(container, 70, 80, 1_000_000, 1_000_000)
    recovered = next(e for e in await _events(container, f"budget-{OID}") if e.type == "BudgetRecovered")
    lifted = next(e for e in await _events(container, f"actions-{OID}") if e.type == "FreezeLifted")
    assert lifted.metadata["causation_id"] == recovered.event_id and lifted.data["freeze_id"] == "freeze-1"
    assert (await gate.policy_actions(container, OID)).active_freezes == ()

    after = await deploy(container, "feature", "run-6")
    assert after.outcome == "ALLOW" and after.freezes == ()

    # A past decision shows as recorded, and every decision replays to the same answer.
    shown = await gate.deploy_decision(container, "run-1")
    assert shown.outcome == "DENY" and shown.evaluated_at_position == denied.evaluated_at_position
    assert shown.at == denied.at and shown.actor == "pipeline"
    assert await gate.deploy_decision(container, "never-ran") is None
    with pytest.raises(NotFound):
        await gate.replay_deploy_decision(container, "never-ran")
    assert await assert_every_decision_replays(container) == 9
    await assert_rebuild_equals_live(container)


async def test_a_large_incident_needs_a_postmortem_and_repeated_exhaustion_escalates(container):
    await active_objective(container)  # "default" never adopted: its bundled text, version 0
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)  # ~25% of the four-week budget in one incident
    state = await gate.policy_actions(container, OID)
    assert [i.incident_id for i in state.incidents] == ["incident-1"]
    assert [p.postmortem_id for p in state.postmortems] == ["postmortem-1"]
    pm = state.postmortems[0]
    assert pm.rule_id == "postmortem-large-incident" and pm.incident_id == "incident-1" and pm.open
    assert state.escalations == ()  # one exhaustion this quarter
    assert (await deploy(container, "feature", "run-a")).policy_versions == ("default@0",)

    await observe(container, 70, 80, 1_000_000, 1_000_000)  # recovered; alerts clear: incident closed
    state = await gate.policy_actions(container, OID)
    assert state.incidents[0].closed_at is not None and state.incidents[0].budget_share > 0.2
    assert state.open_incident is None
    # Both shares, named: of the objective's 30-day budget, and scaled to four weeks.
    incident = state.incidents[0]
    assert incident.budget_share == pytest.approx(incident.budget_share_of_window * 30 / 28, rel=1e-12)
    assert incident.budget_share_of_window < incident.budget_share
    assert "of the four-week budget (" in state.postmortems[0].reason
    assert "of the objective's 30-day window's budget)" in state.postmortems[0].reason

    await observe(container, 80, 90, 0, 1_000_000)  # exhausted again, same quarter
    state = await gate.policy_actions(container, OID)
    assert [e.escalation_id for e in state.escalations] == ["escalation-1"]
    esc = state.escalations[0]
    assert esc.level == "leadership" and esc.role == "leadership" and esc.rule_id == "escalate-repeated-exhaustion"
    raised = next(e for e in await _events(container, f"actions-{OID}") if e.type == "EscalationRaised")
    cause = next(e for e in await _events(container, f"budget-{OID}") if e.event_id == raised.metadata["causation_id"])
    assert cause.type == "BudgetExhausted"
    assert len(state.active_freezes) == 1 and state.freezes[0].active is False

    # People close the loop.
    with pytest.raises(Forbidden):
        await gate.acknowledge_escalation(container, "sre-1", SRE, OID, "escalation-1", "seen")
    with pytest.raises(NotFound):
        await gate.acknowledge_escalation(container, "vp", LEADERSHIP, OID, "escalation-9")
    await gate.acknowledge_escalation(container, "vp", LEADERSHIP, OID, "escalation-1", "staffing reliability work")
    with pytest.raises(Conflict):
        await gate.acknowledge_escalation(container, "vp", LEADERSHIP, OID, "escalation-1")
    with pytest.raises(Forbidden):
        await gate.complete_postmortem(container, "pipeline", CI, OID, "postmortem-1", "done")
    await gate.complete_postmortem(container, "sre-1", SRE, OID, "postmortem-1", "bad config push", "https://wiki/pm-1")
    state = await gate.policy_actions(container, OID)
    assert state.escalations[0].acknowledged_by == "vp" and not state.escalations[0].open
    assert state.postmortems[0].completed_by == "sre-1" and state.postmortems[0].link == "https://wiki/pm-1"
    assert await assert_every_decision_replays(container) == 1
    await assert_rebuild_equals_live(container)


async def test_a_known_service_no_active_objective_depends_on_critically_is_allowed_with_a_reason(container):
    await active_objective(container)
    # A non-critical dependency: known, but nothing judges its deploys.
    from domain import journey as j
    from tests.budgets.support import do

    await do(container, "sre", j.MapDependency("checkout", "cache", "database", False))
    d = await deploy(container, "feature", "run-t", service="cache")
    assert d.outcome == "ALLOW" and d.objectives == () and d.recorded
    assert "no active objective's journey depends critically on cache" in d.reasons[0]
    # Nor an objective not yet formalized (informational): only ACTIVE objectives are judged.
    from tests.budgets.support import journey, objective

    await journey(container, "billing", critical=("ledger-svc",))
    await objective(container, "billing-availability", "billing")
    d = await deploy(container, "feature", "run-u", service="ledger-svc")
    assert d.outcome == "ALLOW" and d.objectives == ()
    assert await assert_every_decision_replays(container) == 2


async def test_the_same_pipeline_run_sent_concurrently_is_judged_once(container):
    import asyncio

    await active_objective(container)
    before = await head(container)
    answers = await asyncio.gather(*(deploy(container, "feature", "run-twice") for _ in range(5)))
    assert len({(a.outcome, a.position, a.at) for a in answers}) == 1
    assert await head(container) == before + 1
    assert sum(not a.replayed for a in answers) <= 1
    assert await assert_every_decision_replays(container) == 1


async def test_gate_inputs_and_roles(container):
    with pytest.raises(InvalidInput) as err:
        await gate.evaluate_deploy(container, "p", CI, SERVICE, "yolo", "v1", "run-x")
    assert err.value.details["field"] == "change_type"
    with pytest.raises(InvalidInput):
        await gate.evaluate_deploy(container, "p", CI, SERVICE, "feature", "v1", "bad id!")
    with pytest.raises(Forbidden):
        await gate.evaluate_deploy(container, "a", frozenset({"auditor"}), SERVICE, "feature", "v1", "run-x")
    # Nothing maps SERVICE here: an unknown service needs approval (test_unknown_services.py).
    assert (await gate.evaluate_deploy(container, "s", SRE, SERVICE, "feature", "v1", "run-x")).recorded


async def test_policies_are_versioned_and_adopted_by_sre_or_leadership(container):
    doc = {"id": "careful", "rules": [{"id": "low", "when": {"budget_remaining_at_most": 0.5},
                                       "actions": [{"type": "require_approval", "role": "sre"}]}]}
    with pytest.raises(Forbidden):
        await gate.adopt_policy(container, "pipeline", CI, doc)
    with pytest.raises(InvalidInput) as err:
        await gate.adopt_policy(container, "sre-1", SRE, {**doc, "rules": [{"id": "x"}]})
    assert err.value.code == "BAD_USER_INPUT" and err.value.details["field"] == "rules[0].when"
    first = await gate.adopt_policy(container, "sre-1", SRE, doc)
    assert first.version == 1 and first.adopted
    same = await gate.adopt_policy(container, "sre-1", SRE, doc)
    assert same.version == 1 and not same.adopted  # the text in force: nothing appended
    doc["rules"][0]["when"] = {"budget_remaining_at_most": 0.25}
    second = await gate.adopt_policy(container, "vp", LEADERSHIP, doc, note="tighter")
    assert second.version == 2
    state = await gate.policy(container, "careful")
    assert [v.version for v in state.versions] == [1, 2]
    assert state.at_version(1).doc()["rules"][0]["when"] == {"budget_remaining_at_most": 0.5}

    # An objective pinned to v1 is judged by v1's rule: remaining 0.4 <= 0.5 needs approval.
    await active_objective(container, policy_id="careful", policy_version=1)
    await observe(container, 0, 10, 1000, 1000)
    await observe(container, 10, 11, 994, 1000)  # 6 bad of 11,000 x 0.001 = 11 allowed: remaining ~0.45
    d = await deploy(container, "feature", "run-c")
    assert d.outcome == "REQUIRE_APPROVAL" and d.rule_ids == ("low",) and d.policy_versions == ("careful@1",)
    assert any("approval by sre" in r for r in d.reasons)
    assert await assert_every_decision_replays(container) == 1
