"""The policy reactor's early exit: `settled` may only say "nothing to do" when `react`
would indeed return nothing (property test over facts, latches and incidents)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.policy_actions import LEVEL_KEY, ActionsState, Incident
from policies.evaluate import ObjectiveFacts
from policies.loader import default_policy, parse_yaml
from policies.reactions import BudgetFacts, react, settled

LEVELS = parse_yaml("""
id: levels
name: every level rule kind
rules:
  - id: freeze-low
    when: {budget_remaining_at_most: 0.25}
    actions: [{type: freeze}]
  - id: escalate-page
    when: {burn_rate_alert: page}
    actions: [{type: escalate, level: director, role: leadership}]
  - id: postmortem-ticket
    when: {burn_rate_alert: ticket}
    actions: [{type: require_postmortem}]
  - id: large-incident
    when: {incident_budget_share_over: 0.05}
    actions: [{type: require_postmortem}]
""")
POLICIES = (default_policy(), LEVELS)
RULE_IDS = sorted({r.id for p in POLICIES for r in p.rules})
AT = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


@st.composite
def cases(draw):
    policy = draw(st.sampled_from(POLICIES))
    exhausted = draw(st.booleans())
    remaining = draw(st.none() | st.floats(-1.0, 1.0))
    severities = tuple(sorted(draw(st.sets(st.sampled_from(("page", "ticket"))))))
    latches = draw(st.dictionaries(st.sampled_from(RULE_IDS), st.sampled_from((LEVEL_KEY, "incident-1", "2026Q4"))))
    incidents = draw(st.sampled_from(((), (Incident("incident-1", "2026-11-30T11:00:00+00:00", "2026-11-30T11:00:00+00:00"),),
                                      (Incident("incident-1", "2026-11-30T10:00:00+00:00", "2026-11-30T10:00:00+00:00",
                                                "2026-11-30T11:00:00+00:00", 0.01),))))
    actions = draw(st.none() | st.just(ActionsState("o", incidents=incidents, latches=latches)))
    share = draw(st.floats(0.0, 1.0))
    return policy, exhausted, remaining, severities, actions, share


@settings(max_examples=100, deadline=None)
@given(cases())
def test_settled_means_react_returns_nothing(case):
    policy, exhausted, remaining, severities, actions, share = case
    objective = ObjectiveFacts("o", "j", policy.id, 1, exhausted, remaining, severities)
    facts = BudgetFacts("o", "j", ("payments",), AT, exhausted, remaining, severities,
                        timedelta(hours=1) if "page" in severities else None)
    if settled(policy, objective, actions):
        assert react(policy, 1, facts, actions, lambda start: share) == []


def test_a_crossed_condition_or_an_open_incident_is_not_settled():
    policy = default_policy()
    fresh = ObjectiveFacts("o", "j", policy.id, 1, False, 0.5, ())
    assert settled(policy, fresh, None)
    assert not settled(policy, ObjectiveFacts("o", "j", policy.id, 1, True, 0.0, ()), None)  # freeze due
    latched = ActionsState("o", latches={"freeze-when-exhausted": LEVEL_KEY})
    assert not settled(policy, fresh, latched)  # lift due
    assert not settled(policy, ObjectiveFacts("o", "j", policy.id, 1, False, 0.5, ("page",)), None)  # incident opens
    open_ = ActionsState("o", incidents=(Incident("incident-1", "2026-11-30T11:00:00+00:00", "2026-11-30T11:00:00+00:00"),))
    assert not settled(policy, fresh, open_)  # the open incident closes
