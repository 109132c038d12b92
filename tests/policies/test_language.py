"""The policy language: the bundled default, and clear refusals naming the field."""

from __future__ import annotations

import copy

import pytest

from domain.errors import InvalidInput
from policies.language import FREEZE, Policy, parse_policy
from policies.loader import default_policy, load_dir, parse_yaml

GOOD = {
    "id": "strict",
    "name": "Strict",
    "rules": [
        {"id": "approve-low", "when": {"budget_remaining_at_most": 0.25},
         "actions": [{"type": "require_approval", "role": "sre"}], "exempt": ["rollback"]},
        {"id": "page", "when": {"burn_rate_alert": "page"}, "actions": [{"type": "freeze"}]},
    ],
}


def test_default_yaml_loads_as_the_workbook_policy():
    policy = default_policy()
    assert isinstance(policy, Policy) and policy.id == "default"
    freeze = policy.rule("freeze-when-exhausted")
    assert freeze.condition.kind == "budget_remaining_at_most" and freeze.condition.value == 0.0
    assert freeze.has(FREEZE) and set(freeze.exempt) == {"reliability_fix", "security_fix", "rollback"}
    pm = policy.rule("postmortem-large-incident")
    assert pm.condition.kind == "incident_budget_share_over" and pm.condition.value == 0.2
    esc = policy.rule("escalate-repeated-exhaustion")
    assert esc.condition.value == 2 and esc.action("escalate").role == "leadership"
    assert load_dir()["default"] == policy
    assert parse_policy(policy.to_dict()) == policy  # the canonical document round-trips


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d.pop("id"), "id"),
        (lambda d: d.update(rules=[]), "rules"),
        (lambda d: d["rules"][0].update(when={"budget_remaining_at_most": 1.5}), "rules[0].when.budget_remaining_at_most"),
        (lambda d: d["rules"][0].update(when={"moon_phase": "full"}), "rules[0].when.moon_phase"),
        (lambda d: d["rules"][0].update(when={"burn_rate_alert": "page", "budget_remaining_at_most": 0}), "rules[0].when"),
        (lambda d: d["rules"][0].update(actions=[{"type": "pray"}]), "rules[0].actions[0].type"),
        (lambda d: d["rules"][0].update(actions=[]), "rules[0].actions"),
        (lambda d: d["rules"][0].update(exempt=["hotfix"]), "rules[0].exempt[0]"),
        (lambda d: d["rules"][1].update(id="approve-low"), "rules[1].id"),
        (lambda d: d["rules"][0].update(actions=[{"type": "escalate", "level": "vp"}]), "rules[0].actions[0].role"),
        (lambda d: d["rules"][0].update(colour="red"), "rules[0].colour"),
        # a freeze lasts while its condition holds: an episode condition cannot carry one
        (lambda d: d["rules"][1].update(when={"exhaustions_in_quarter_at_least": 2}), "rules[1].actions[0].type"),
        (lambda d: d["rules"][1].update(when={"incident_budget_share_over": 0}), "rules[1].when.incident_budget_share_over"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(mutate, field):
    doc = copy.deepcopy(GOOD)
    mutate(doc)
    with pytest.raises(InvalidInput) as err:
        parse_policy(doc)
    assert err.value.code == "BAD_USER_INPUT"
    assert err.value.details["field"] == field
    assert field.split(".")[-1].split("[")[0] in err.value.message


def test_yaml_text_is_parsed_and_bad_yaml_refused():
    assert parse_yaml("id: p\nrules:\n  - id: r\n    when: {burn_rate_alert: page}\n    actions: [{type: freeze}]\n").id == "p"
    with pytest.raises(InvalidInput) as err:
        parse_yaml("id: [unclosed")
    assert err.value.code == "BAD_USER_INPUT"
    with pytest.raises(InvalidInput):
        parse_yaml("- just a list")
