"""Approving a REQUIRE_APPROVAL decision and revoking a freeze exception, on SQLite and
PostgreSQL: who may, every refusal (with nothing appended), and replay unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain import gate as gate_domain
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyViolation
from domain.events import Context, RecordedEvent
from domain.upcasters import UPCASTERS
from service import gate
from tests.policies.support import (
    CI, LEADERSHIP, SERVICE, SRE, Clock, active_objective, assert_every_decision_replays,
    assert_rebuild_equals_live, deploy, head, observe,
)

# Needs approval by sre below half the budget, by leadership below a quarter;
# frozen when exhausted (so a DENY can be had too).
CAREFUL = {"id": "careful", "rules": [
    {"id": "half", "when": {"budget_remaining_at_most": 0.5},
     "actions": [{"type": "require_approval", "role": "sre"}]},
    {"id": "quarter", "when": {"budget_remaining_at_most": 0.25},
     "actions": [{"type": "require_approval", "role": "leadership"}]},
    {"id": "frozen", "when": {"budget_remaining_at_most": 0.0}, "actions": [{"type": "freeze"}],
     "exempt": ["rollback"]},
]}


async def _careful_objective(container) -> None:
    await gate.adopt_policy(container, "sre-1", SRE, CAREFUL)
    await active_objective(container, policy_id="careful", policy_version=1)
    await observe(container, 0, 10, 1000, 1000)


async def _refused(container, error: type, call) -> Exception:
    before = await head(container)
    with pytest.raises(error) as caught:
        await call
    assert await head(container) == before  # nothing appended
    return caught.value


async def test_a_required_approval_is_given_once_by_a_role_its_rule_names(container):
    await _careful_objective(container)
    await observe(container, 10, 11, 994, 1000)  # remaining ~0.45: needs sre
    d = await deploy(container, "feature", "run-c")
    assert d.outcome == "REQUIRE_APPROVAL" and d.approver_roles == ("sre",) and d.approval is None
    assert not d.may_deploy

    # ci, auditor, admin and leadership are not named by the rule: FORBIDDEN.
    for roles in (CI, frozenset({"auditor"}), frozenset({"admin"}), LEADERSHIP):
        err = await _refused(container, Forbidden, gate.approve_deploy(container, "x", roles, "run-c", "ok"))
        assert err.code == "FORBIDDEN"
    err = await _refused(container, InvalidInput, gate.approve_deploy(container, "sre-1", SRE, "run-c", " "))
    assert err.details["field"] == "reason"
    err = await _refused(container, NotFound, gate.approve_deploy(container, "sre-1", SRE, "run-never", "ok"))
    assert err.code == "NOT_FOUND"

    approved = await gate.approve_deploy(container, "sre-1", SRE, "run-c", "canary looked fine")
    assert approved.outcome == "REQUIRE_APPROVAL" and approved.may_deploy
    assert (approved.approval.by, approved.approval.role, approved.approval.reason) == ("sre-1", "sre", "canary looked fine")
    event = (await container.store.read_stream("deploy-run-c"))[-1]
    assert event.type == "DeployApproved" and event.metadata["actor"] == "sre-1" and event.metadata["reason"] == "canary looked fine"
    assert approved.approval.at.isoformat() == datetime.fromisoformat(event.data["at"]).isoformat()

    err = await _refused(container, Conflict, gate.approve_deploy(container, "sre-2", SRE, "run-c", "again"))
    assert "already approved by sre-1" in err.message

    # The gate asked again for the same run: the first answer, now approved; nothing appended.
    before = await head(container)
    again = await deploy(container, "feature", "run-c")
    assert again.replayed and again.outcome == "REQUIRE_APPROVAL" and again.may_deploy
    assert again.approval == approved.approval and await head(container) == before
    shown = await gate.deploy_decision(container, "run-c")
    assert shown.approval == approved.approval and shown.position == d.position

    # The recorded decision never changes: it replays to REQUIRE_APPROVAL, approver roles included.
    replay = await gate.replay_deploy_decision(container, "run-c")
    assert replay.matches and replay.replayed.outcome == "REQUIRE_APPROVAL" and replay.replayed.approver_roles == ("sre",)
    assert await assert_every_decision_replays(container) == 1
    await assert_rebuild_equals_live(container)


async def test_approval_needs_every_role_listed_only_once_and_never_for_allow_or_deny(container):
    await _careful_objective(container)
    allowed = await deploy(container, "feature", "run-ok")
    assert allowed.outcome == "ALLOW" and allowed.approver_roles == ()
    err = await _refused(container, Conflict, gate.approve_deploy(container, "sre-1", SRE, "run-ok", "ok"))
    assert "nothing to approve" in err.message

    await observe(container, 10, 11, 992, 1000)  # remaining ~0.27 -> then below a quarter
    await observe(container, 11, 12, 997, 1000)
    d = await deploy(container, "feature", "run-q")
    assert d.outcome == "REQUIRE_APPROVAL" and d.approver_roles == ("leadership", "sre")
    # Either named role may approve; a role the rules do not name may not.
    await _refused(container, Forbidden, gate.approve_deploy(container, "e", frozenset({"engineering"}), "run-q", "ok"))
    approved = await gate.approve_deploy(container, "vp", LEADERSHIP, "run-q", "launch day")
    assert approved.approval.role == "leadership"

    await observe(container, 12, 20, 0, 1000)  # exhausted: frozen
    denied = await deploy(container, "feature", "run-no")
    assert denied.outcome == "DENY"
    err = await _refused(container, PolicyViolation, gate.approve_deploy(container, "vp", LEADERSHIP, "run-no", "please"))
    assert err.code == "POLICY_VIOLATION"
    assert await assert_every_decision_replays(container) == 3
    await assert_rebuild_equals_live(container)


async def test_a_revoked_exception_lets_nothing_through_and_earlier_decisions_still_replay(container):
    clock = Clock()
    container.store.clock = clock
    await active_objective(container)
    await observe(container, 0, 60, 1000, 1000)
    await observe(container, 60, 70, 0, 1000)  # exhausted: frozen
    await gate.grant_freeze_exception(container, "vp", LEADERSHIP, SERVICE, clock.now + timedelta(hours=2),
                                      "launch", exception_id="launch-1")
    through = await deploy(container, "feature", "run-1")
    assert through.outcome == "ALLOW" and through.exceptions == ("launch-1",)

    for roles in (CI, SRE, frozenset({"admin"})):  # leadership only, not even admin
        await _refused(container, Forbidden, gate.revoke_freeze_exception(container, "x", roles, "launch-1", "no"))
    await _refused(container, NotFound, gate.revoke_freeze_exception(container, "vp", LEADERSHIP, "launch-9", "no"))
    await _refused(container, InvalidInput, gate.revoke_freeze_exception(container, "vp", LEADERSHIP, "launch-1", ""))

    clock.advance(timedelta(minutes=1))
    result = await gate.revoke_freeze_exception(container, "vp", LEADERSHIP, "launch-1", "launch slipped")
    assert [e.type for e in result.events] == ["FreezeExceptionRevoked"]
    await _refused(container, Conflict, gate.revoke_freeze_exception(container, "vp", LEADERSHIP, "launch-1", "again"))

    denied = await deploy(container, "feature", "run-2")
    assert denied.outcome == "DENY" and denied.exceptions == ()
    preview = await gate.deploy_preview(container, "dev", CI, SERVICE, "feature", "v1")
    assert preview.outcome == "DENY"
    # run-1 was judged before the revocation's position: it still replays to ALLOW through launch-1.
    replay = await gate.replay_deploy_decision(container, "run-1")
    assert replay.matches and replay.replayed.exceptions == ("launch-1",)
    assert await assert_every_decision_replays(container) == 2
    await assert_rebuild_equals_live(container)


def test_a_decision_recorded_before_approver_roles_cannot_be_approved():
    upcast = next(step for type_, version, step in UPCASTERS if (type_, version) == ("DeployEvaluated", 1))
    v1 = {"pipeline_run_id": "r", "service": "s", "change_type": "feature", "version": "v", "outcome": "REQUIRE_APPROVAL",
          "reasons": ["x"], "rule_ids": ["half"], "objectives": ["o"], "freezes": [], "exceptions": [],
          "policy_versions": ["careful@1"], "evaluated_at_position": 3, "at": "2026-01-01T00:00:00+00:00"}
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    event = RecordedEvent(1, "e", "deploy-r", 1, "DeployEvaluated", 2, upcast(v1), {"actor": "ci"}, now)
    state = gate_domain.evolve(None, event)
    assert state.approver_roles is None
    with pytest.raises(PolicyViolation):
        gate_domain.decide(gate_domain.ApproveDeploy("r", "ok"), state, Context(now, "sre-1", SRE))
