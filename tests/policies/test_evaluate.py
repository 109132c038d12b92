"""The pure evaluator, rule by rule: freezes and their exemptions, exceptions (service,
one change, expiry), approval rules, the outcome order, and nothing depending."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from policies.evaluate import (
    ALLOW,
    DENY,
    REQUIRE_APPROVAL_OUTCOME,
    DeployRequest,
    ExceptionFacts,
    FreezeFacts,
    GateState,
    ObjectiveFacts,
    evaluate,
)
from policies.language import parse_policy
from policies.loader import default_policy

AT = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
DEFAULT = {"default@1": default_policy()}
APPROVAL = parse_policy({
    "id": "careful",
    "rules": [
        {"id": "low-budget", "when": {"budget_remaining_at_most": 0.25},
         "actions": [{"type": "require_approval", "role": "sre"}], "exempt": ["rollback"]},
        {"id": "paging", "when": {"burn_rate_alert": "page"},
         "actions": [{"type": "require_approval", "role": "leadership"}]},
    ],
})


def obj(oid="o1", policy="default", version=1, exhausted=False, remaining=0.5, alerts=()):
    return ObjectiveFacts(oid, "checkout", policy, version, exhausted, remaining, tuple(alerts))


def freeze(oid="o1", services=("payments",)):
    return FreezeFacts(f"{oid}/freeze-1", oid, "freeze-when-exhausted", "default@1", tuple(services),
                       ("reliability_fix", "security_fix", "rollback"), "Budget exhausted", AT.isoformat())


def exc(eid="e1", service="payments", version=None, expires=AT + timedelta(hours=1)):
    return ExceptionFacts(eid, service, version, expires, "launch", "vp")


def req(change="feature", service="payments", version="v1"):
    return DeployRequest(service, change, version, "run")


def test_nobody_depends_on_the_service_allows_and_says_so():
    d = evaluate(GateState("search", 10), DEFAULT, req(service="search"), AT)
    assert d.outcome == ALLOW and d.objectives == () and d.rule_ids == ()
    assert "no active objective's journey depends critically on search" in d.reasons[0]


def test_healthy_objectives_allow_and_name_them():
    d = evaluate(GateState("payments", 10, (obj(),)), DEFAULT, req(), AT)
    assert d.outcome == ALLOW and d.objectives == ("o1",) and d.policy_versions == ("default@1",)
    assert "no freeze or rule applies" in d.reasons[0]


@pytest.mark.parametrize("change, outcome", [
    ("feature", DENY), ("config", DENY), ("reliability_fix", ALLOW), ("security_fix", ALLOW), ("rollback", ALLOW),
])
def test_a_freeze_denies_all_but_its_exempt_change_types(change, outcome):
    state = GateState("payments", 10, (obj(exhausted=True, remaining=-0.2),), (freeze(),))
    d = evaluate(state, DEFAULT, req(change), AT)
    assert d.outcome == outcome
    assert d.rule_ids == ("freeze-when-exhausted",) and d.freezes == ("o1/freeze-1",)
    if outcome == DENY:
        assert "frozen" in d.reasons[0] and "reliability_fix" in d.reasons[0]
    else:
        assert f"{change} changes are exempt" in d.reasons[0]


def test_an_exception_lets_the_service_through_until_it_expires():
    state = GateState("payments", 10, (obj(exhausted=True),), (freeze(),), (exc(),))
    d = evaluate(state, DEFAULT, req(), AT)
    assert d.outcome == ALLOW and d.exceptions == ("e1",) and "exception e1" in d.reasons[0]
    assert evaluate(state, DEFAULT, req(), AT + timedelta(hours=1)).outcome == DENY  # expired: ignored
    other = GateState("payments", 10, (obj(),), (freeze(),), (exc(service="search"),))
    assert evaluate(other, DEFAULT, req(), AT).outcome == DENY  # another service's exception


def test_an_exception_for_one_change_covers_only_that_version():
    state = GateState("payments", 10, (obj(),), (freeze(),), (exc(version="v2"),))
    assert evaluate(state, DEFAULT, req(version="v2"), AT).outcome == ALLOW
    assert evaluate(state, DEFAULT, req(version="v3"), AT).outcome == DENY


def test_approval_rules_by_level_with_exemptions():
    policies = {"careful@1": APPROVAL}
    low = GateState("payments", 1, (obj(policy="careful", remaining=0.2),))
    d = evaluate(low, policies, req(), AT)
    assert d.outcome == REQUIRE_APPROVAL_OUTCOME and d.rule_ids == ("low-budget",) and d.approver_roles == ("sre",)
    assert evaluate(low, policies, req("rollback"), AT).outcome == ALLOW
    fine = GateState("payments", 1, (obj(policy="careful", remaining=0.3),))
    assert evaluate(fine, policies, req(), AT).outcome == ALLOW
    paging = GateState("payments", 1, (obj(policy="careful", remaining=0.9, alerts=("page",)),))
    d = evaluate(paging, policies, req("rollback"), AT)
    assert d.outcome == REQUIRE_APPROVAL_OUTCOME and d.approver_roles == ("leadership",)


def test_deny_beats_require_approval_and_both_are_reported():
    policies = {"careful@1": APPROVAL, **DEFAULT}
    state = GateState("payments", 1, (obj("a", policy="careful", remaining=0.1), obj("b", exhausted=True)),
                      (freeze("b"),))
    d = evaluate(state, policies, req(), AT)
    assert d.outcome == DENY and d.rule_ids == ("freeze-when-exhausted", "low-budget")
    assert d.objectives == ("a", "b") and d.policy_versions == ("careful@1", "default@1")
    assert len(d.reasons) == 2


def test_an_unknown_policy_is_reported_and_recorded_freezes_still_apply():
    state = GateState("payments", 1, (obj(policy="ghost", version=3),), (freeze(),))
    d = evaluate(state, {}, req(), AT)
    assert d.outcome == DENY and any("ghost@3 is not known" in r for r in d.reasons)


def test_the_evaluator_does_not_depend_on_the_order_of_its_facts():
    objectives = (obj("b", exhausted=True), obj("a", exhausted=True))
    freezes = (freeze("b"), freeze("a"))
    exceptions = (exc("e2"), exc("e1"))
    state = GateState("payments", 1, objectives, freezes, exceptions)
    reordered = GateState("payments", 1, objectives[::-1], freezes[::-1], exceptions[::-1])
    d = evaluate(state, DEFAULT, req(), AT)
    assert evaluate(reordered, DEFAULT, req(), AT) == d
    # Each list in the decision is in a defined order, and the first live exception by id is the one used.
    assert d.outcome == ALLOW and d.objectives == ("a", "b") and d.freezes == ("a/freeze-1", "b/freeze-1")
    assert d.exceptions == ("e1",) and [r.split(" (")[0] for r in d.reasons[:2]] == [
        "payments is frozen by a", "payments is frozen by b"]


def test_a_freeze_of_another_service_does_not_judge_this_one():
    elsewhere = GateState("payments", 1, (obj(),), (freeze(services=("ledger",)),))
    d = evaluate(elsewhere, DEFAULT, req(), AT)
    assert d.outcome == ALLOW and d.freezes == () and d.rule_ids == ()
    alone = evaluate(GateState("payments", 1, (), (freeze(services=("ledger",)),)), DEFAULT, req(), AT)
    assert alone.outcome == ALLOW and alone.freezes == ()
    among = GateState("payments", 1, (obj(),), (freeze(services=("ledger", "payments")),))
    assert evaluate(among, DEFAULT, req(), AT).outcome == DENY
