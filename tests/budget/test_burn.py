"""Burn rates and the workbook's multiwindow, multi-burn-rate alerts."""

from datetime import timedelta

import pytest

from domain.budget import (
    DEFAULT_TIERS,
    Alert,
    AlertTier,
    BudgetInputError,
    Exclusion,
    Ledger,
    active_alerts,
    burn_rate,
    burn_rate_of,
    parse_tiers,
)

from .helpers import minute, per_minute

PAGE_1H_5M = ("page", "1h", "5m", 14.4)
PAGE_6H_30M = ("page", "6h", "30m", 6.0)
TICKET_3D_6H = ("ticket", "3d", "6h", 1.0)


def keys(alerts):
    return [a.key for a in alerts]


def test_burn_rate_formula():
    # (bad/total)/(1 - target): 1.44% errors against 99.9% -> 0.0144/0.001 = 14.4 exactly
    assert burn_rate_of(144, 10_000, 0.999) == 14.4
    assert burn_rate_of(0, 10, 0.999) == 0.0
    assert burn_rate_of(0, 0, 0.999) is None
    # 2% against 99% -> 2.0
    assert burn_rate_of(2, 100, 0.99) == 2.0


def incident_ledger(bad_per_minute, minutes=60, healthy_before=0):
    """99.9%; `healthy_before` clean minutes then `minutes` minutes of 10,000 requests."""
    L = Ledger(0.999, {"kind": "rolling", "days": 30})
    for iv in per_minute(0, [(10_000, 10_000)] * healthy_before):
        L.record(iv)
    counts = [(10_000 - b, 10_000) for b in bad_per_minute]
    for iv in per_minute(healthy_before, counts):
        L.record(iv)
    return L, minute(healthy_before + len(counts))


def test_fast_burn_pages_when_both_1h_and_5m_reach_14_4():
    # 5h of clean traffic, then one hour at 1.44% errors (144 of 10,000 every minute):
    #   1h : 60*144 / 600,000 = 1.44% -> 14.4      5m : 5*144 / 50,000 = 1.44% -> 14.4  => page
    #   6h : 8,640 / 3,600,000 = 0.24% -> 2.4 (< 6: the slower page stays quiet)
    #   3d : same data as 6h -> 2.4 >= 1 and 6h 2.4 >= 1                              => ticket
    L, at = incident_ledger([144] * 60, healthy_before=300)
    assert burn_rate(L, at, "1h") == 14.4
    assert burn_rate(L, at, "5m") == 14.4
    assert L.burn_rate(at, timedelta(hours=6)) == pytest.approx(2.4)
    alerts = active_alerts(L, at)
    assert keys(alerts) == [PAGE_1H_5M, TICKET_3D_6H]
    assert alerts[0] == Alert("page", "1h", "5m", 14.4, 14.4, 14.4)
    st = L.status(at)
    assert st.burn_rates == {"5m": 14.4, "30m": 14.4, "1h": 14.4, "2h": pytest.approx(7.2), "6h": pytest.approx(2.4),
                             "1d": pytest.approx(2.4), "3d": pytest.approx(2.4)}


def test_no_page_once_the_incident_has_stopped():
    # The same 8,640 bad requests in the hour (50 min x 157 + 5 min x 158 = 8,640 -> 1h rate
    # still exactly 14.4) but the last 5 minutes are clean: 5m rate 0 -> no page. That is
    # what the short window is for: the alert resets as soon as the problem stops.
    L, at = incident_ledger([157] * 50 + [158] * 5 + [0] * 5, healthy_before=300)
    assert burn_rate(L, at, "1h") == 14.4
    assert burn_rate(L, at, "5m") == 0.0
    assert PAGE_1H_5M not in keys(active_alerts(L, at))


def test_just_below_threshold_does_not_page():
    # 8,639 bad in the hour -> 14.3983.. < 14.4
    L, at = incident_ledger([144] * 59 + [143], healthy_before=300)
    assert burn_rate(L, at, "1h") < 14.4
    assert PAGE_1H_5M not in keys(active_alerts(L, at))


def test_slow_burn_page_6h_30m():
    # 6 hours at 0.6% errors (60 of 10,000) -> 6.0 over 6h and 30m; 1h also 6 (< 14.4)
    L, at = incident_ledger([60] * 360)
    assert burn_rate(L, at, "6h") == 6.0
    assert keys(active_alerts(L, at)) == [PAGE_6H_30M, TICKET_3D_6H]


def test_ticket_only_3d_6h():
    # a steady 0.1% error ratio is burn rate 1.0: the budget would last exactly the window
    L, at = incident_ledger([10] * 360)
    assert burn_rate(L, at, "3d") == 1.0
    assert keys(active_alerts(L, at)) == [TICKET_3D_6H]


def test_excluded_intervals_are_left_out_of_burn_rates():
    from domain.budget import Exclusion

    L, at = incident_ledger([144] * 60, healthy_before=300)
    L.exclude(Exclusion("load-test", minute(300), minute(360)))
    assert burn_rate(L, at, "1h") is None  # nothing left in the last hour
    assert active_alerts(L, at) == []


def test_configurable_tiers():
    L, at = incident_ledger([30] * 60)  # 0.3% -> burn 3.0
    tiers = [{"severity": "page", "long_window": "60m", "short_window": "5m", "threshold": 3}]
    (alert,) = active_alerts(L, at, tiers)
    assert alert == Alert("page", "1h", "5m", 3.0, 3.0, 3.0)  # labels canonicalised: 60m -> 1h
    assert active_alerts(L, at, [AlertTier("page", "90m", "10m", 3.5)]) == []
    assert L.status(at, tiers=tiers).burn_rates["1h"] == 3.0


def test_default_tiers_match_the_workbook():
    assert [t.key for t in DEFAULT_TIERS] == [PAGE_1H_5M, PAGE_6H_30M, TICKET_3D_6H]
    assert parse_tiers(None) == DEFAULT_TIERS


@pytest.mark.parametrize(
    "tier, field",
    [
        ({"severity": "page", "long_window": "5m", "short_window": "1h", "threshold": 2}, "tiers.short_window"),
        ({"severity": "page", "long_window": "1 hour", "short_window": "5m", "threshold": 2}, "tiers.long_window"),
        ({"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 0}, "tiers.threshold"),
        ({"severity": "", "long_window": "1h", "short_window": "5m", "threshold": 1}, "tiers.severity"),
        ({"long_window": "1h", "short_window": "5m", "threshold": 1}, "tiers[0].severity"),
    ],
)
def test_bad_tiers(tier, field):
    with pytest.raises(BudgetInputError) as e:
        parse_tiers([tier])
    assert e.value.field == field


# The status path decides thresholds on cross-multiplied integers and reports rates with
# one int division: both must agree with the exact Fraction arithmetic they replace.
from fractions import Fraction  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from domain.budget.burn import burn_rate_exact, burn_rate_float, burn_reaches, exact_threshold  # noqa: E402
from domain.budget.exact import q  # noqa: E402


@given(
    total=st.integers(0, 10**7),
    bad_share=st.fractions(0, 1),
    target=st.sampled_from([0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999]),
    threshold=st.sampled_from([0.5, 1.0, 2.0, 6.0, 10.0, 14.4, 36.0]),
)
def test_integer_burn_arithmetic_equals_fractions(total, bad_share, target, threshold):
    bad = int(bad_share * total)
    allowed = 1 - q(target)
    exact = burn_rate_exact(bad, total, allowed)
    assert burn_rate_float(bad, total, allowed) == (None if exact is None else float(exact))
    assert burn_reaches(bad, total, allowed, exact_threshold(threshold)) == (
        exact is not None and exact >= Fraction(repr(threshold)))


def test_integer_threshold_is_exact_at_the_page_boundary():
    allowed = 1 - q(0.999)
    assert burn_reaches(144, 10_000, allowed, exact_threshold(14.4))  # 1.44% is exactly 14.4
    assert not burn_reaches(143, 10_000, allowed, exact_threshold(14.4))
    assert burn_rate_float(144, 10_000, allowed) == 14.4


def test_status_is_recomputed_after_every_kind_of_change():
    ledger = Ledger(0.999, {"kind": "rolling", "days": 30})
    at = minute(60)
    for iv in per_minute(0, [(10_000, 10_000)] * 60):
        ledger.record(iv)
    assert ledger.status(at).bad == 0
    ledger.correct(type(iv)(iv.start, iv.end, 9_000, 10_000))
    assert ledger.status(at).bad == 1_000
    ledger.exclude(Exclusion("x", iv.start, iv.end, "load test"))
    assert ledger.status(at).bad == 0
    ledger.restore("x")
    assert ledger.status(at).bad == 1_000
    ledger.tiers = parse_tiers([{"severity": "page", "long_window": "1h", "short_window": "5m", "threshold": 1}])
    assert [a.threshold for a in ledger.status(at).alerts] == [1.0]
