"""A policy carries the burn-rate alert tiers its objectives use unless an objective
configures its own: the default policy states the workbook's, Sloth's google-30d and
Pyrra's tiers are expressible, and a long window longer than the objective's window is
refused with BAD_USER_INPUT."""

from __future__ import annotations

import pytest

from domain import objective as o
from domain.budget.burn import DEFAULT_TIERS
from domain.budget.decider import ConfigureAlerts, RecordObservations
from domain.errors import InvalidInput
from policies.language import parse_policy
from policies.loader import default_policy
from service import budget_queries as bq
from service import gate
from tests.budgets.support import agree, do, journey, minutes
from tests.policies.support import LEADERSHIP

RULES = [{"id": "r", "when": {"budget_remaining_at_most": 0}, "actions": [{"type": "freeze"}]}]

# Sloth's `google-30d` (the workbook's four tiers for a 30-day objective) ...
SLOTH_GOOGLE_30D = [
    {"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 14.4},
    {"severity": "page", "long_window": "6h", "short_window": "30m", "threshold": 6},
    {"severity": "ticket", "long_window": "1d", "short_window": "2h", "threshold": 3},
    {"severity": "ticket", "long_window": "3d", "short_window": "6h", "threshold": 1},
]
# ... and Pyrra's for a four-week objective (critical -> page, warning -> ticket).
PYRRA_28D = [
    {"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 14},
    {"severity": "page", "long_window": "6h", "short_window": "30m", "threshold": 6},
    {"severity": "ticket", "long_window": "1d", "short_window": "2h", "threshold": 3},
    {"severity": "ticket", "long_window": "4d", "short_window": "6h", "threshold": 1},
]


def test_the_default_policy_states_the_workbook_tiers():
    assert default_policy().alert_tiers == DEFAULT_TIERS
    for tiers in (SLOTH_GOOGLE_30D, PYRRA_28D):
        policy = parse_policy({"id": "p", "rules": RULES, "alert_tiers": tiers})
        assert [t.to_dict() for t in policy.alert_tiers] == [{**t, "threshold": float(t["threshold"])} for t in tiers]
        assert parse_policy(policy.to_dict()) == policy
    assert "alert_tiers" not in parse_policy({"id": "p", "rules": RULES}).to_dict()


@pytest.mark.parametrize("tiers, field", [
    ([], "alert_tiers"),
    ([{"severity": "critical", "long_window": "1h", "short_window": "5m", "threshold": 14}], "alert_tiers[0].severity"),
    ([{"severity": "page", "long_window": "5m", "short_window": "1h", "threshold": 14}],
     "alert_tiers[0].short_window"),
    ([{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 0}], "alert_tiers[0].threshold"),
    ([{"severity": "page", "long_window": "1h", "short_window": "5m"}], "alert_tiers[0].threshold"),
    ([{"severity": "page", "long_window": "1x", "short_window": "5m", "threshold": 1}], "alert_tiers[0].long_window"),
    ([{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 1, "for": "2m"}],
     "alert_tiers[0].for"),
    ([SLOTH_GOOGLE_30D[0], SLOTH_GOOGLE_30D[0]], "alert_tiers"),
])
def test_bad_tiers_in_a_policy_are_refused(tiers, field):
    with pytest.raises(InvalidInput) as caught:
        parse_policy({"id": "p", "rules": RULES, "alert_tiers": tiers})
    assert caught.value.details["field"] == field


async def _agreed(container, oid: str, days: int) -> None:
    await do(container, "sre", o.DraftObjective(oid, "checkout", f"SLO {oid}", o.SLI("availability"),
                                                o.Window("rolling", days), o.Budgeting("occurrences")))
    await agree(container, oid, "p1", 0.999)


def _pin(oid: str, policy_id: str, version: int) -> o.FormalizeAgreement:
    return o.FormalizeAgreement(oid, policy_id, version, "pm", "sre-lead", ("sre-oncall",), "two engineers")


async def test_objectives_use_their_policy_tiers_unless_they_configure_their_own(container):
    await journey(container, "checkout", critical=("payments",))
    await gate.adopt_policy(container, "vp", LEADERSHIP, {"id": "pyrra", "rules": RULES, "alert_tiers": PYRRA_28D})
    await _agreed(container, "o", 28)
    await do(container, "sre", _pin("o", "pyrra", 1))
    agreement = (await container.store.read_stream("objective-o"))[-1].data
    assert agreement["alert_tiers"][3]["long_window"] == "4d"

    # 1,000 bad of 30 minutes x 1,000: a burn of 33 over 1h, 5m, 6h, 30m, 1d, 2h and 4d.
    await do(container, "sre", RecordObservations("o", minutes(0, 30, 966, 1000)))
    raised = sorted((e.data["long_window"], e.data["threshold"])
                    for e in await container.store.read_stream("budget-o") if e.type == "BurnRateAlertRaised")
    assert raised == [("1d", 3.0), ("1h", 14.0), ("4d", 1.0), ("6h", 6.0)]  # Pyrra's, not the workbook's
    s = await bq.budget_of(container, "o")
    assert {a.long_window for a in s.alerts} == {"1h", "6h", "1d", "4d"}

    # The objective's own tiers override the policy's ...
    await do(container, "sre", ConfigureAlerts("o", ({"severity": "page", "long_window": "30m",
                                                      "short_window": "5m", "threshold": 2},)))
    assert [a.long_window for a in (await bq.budget_of(container, "o")).alerts] == ["30m"]
    # ... until they are cleared: the policy's again.
    await do(container, "sre", ConfigureAlerts("o", None))
    assert {a.long_window for a in (await bq.budget_of(container, "o")).alerts} == {"1h", "6h", "1d", "4d"}


async def test_a_long_window_longer_than_the_objective_window_is_refused(container):
    await journey(container, "checkout", critical=("payments",))
    await gate.adopt_policy(container, "vp", LEADERSHIP, {"id": "pyrra", "rules": RULES, "alert_tiers": PYRRA_28D})
    await _agreed(container, "short", 3)  # a 3-day window: Pyrra's 4d tier cannot fit
    head = (await container.store.head())[0]
    with pytest.raises(InvalidInput) as caught:
        await do(container, "sre", _pin("short", "pyrra", 1))
    assert caught.value.code == "BAD_USER_INPUT" and caught.value.details["field"] == "alert_tiers[3].long_window"
    assert "longer than the objective's window (3d)" in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        await do(container, "sre", ConfigureAlerts("short", ({"severity": "ticket", "long_window": "7d",
                                                              "short_window": "6h", "threshold": 1},)))
    assert caught.value.details["field"] == "tiers[0].long_window"
    assert (await container.store.head())[0] == head  # nothing appended
    # The default policy's 3d tier fits a 3-day window exactly, and not a 2-day one: the
    # bundled version 0 is checked like any stated tiers.
    await do(container, "sre", _pin("short", "default", 0))
    await _agreed(container, "two", 2)
    with pytest.raises(InvalidInput) as caught:
        await do(container, "sre", _pin("two", "default", 0))
    assert caught.value.details["field"] == "alert_tiers[2].long_window"
