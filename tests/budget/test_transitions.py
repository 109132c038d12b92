"""Transitions derived by comparing statuses: exhausted/recovered, alerts, staleness."""

from datetime import timedelta

import pytest

from domain.budget import Interval, Ledger, Transition, transitions

from .helpers import T0, minute, per_minute

HOUR = timedelta(hours=1)


def test_recovery_as_bad_data_leaves_the_rolling_window():
    # 99% over a rolling day. Day 0: 24 hourly intervals of 1,000 requests; hours 0 and 1
    # have 200 bad each. Allowed = 0.01 x 24,000 = 240.
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    for h in range(24):
        bad = 200 if h < 2 else 0
        L.record(Interval(T0 + h * HOUR, T0 + (h + 1) * HOUR, 1000 - bad, 1000))
    day1 = T0 + 24 * HOUR
    s0 = L.status(day1)
    # 400 bad / 240 allowed -> remaining 1 - 5/3 = -2/3: exhausted
    assert s0.remaining == pytest.approx(-2 / 3) and s0.exhausted

    # Hour 24 (clean) arrives: the window [01:00, 25:00) has dropped hour 0.
    # 200 bad / 240 -> remaining 1/6: recovered
    L.record(Interval(day1, day1 + HOUR, 1000, 1000))
    s1 = L.status(day1 + HOUR)
    assert s1.remaining == pytest.approx(1 / 6) and not s1.exhausted
    kinds = [t.kind for t in transitions(s0, s1)]
    assert kinds[0] == "budget_recovered"

    # Hour 25: hour 1 leaves too -> remaining 1.0
    L.record(Interval(day1 + HOUR, day1 + 2 * HOUR, 1000, 1000))
    s2 = L.status(day1 + 2 * HOUR)
    assert s2.remaining == 1.0
    assert [t.kind for t in transitions(s1, s2)] == []

    # and the other way: a new bad hour exhausts it again
    L.record(Interval(day1 + 2 * HOUR, day1 + 3 * HOUR, 700, 1000))
    s3 = L.status(day1 + 3 * HOUR)
    (t, *_) = transitions(s2, s3)
    assert t.kind == "budget_exhausted"
    assert t.detail["remaining"] == s3.remaining and t.detail["at"] == s3.at.isoformat()

    # the chart shows the remaining climbing back as hours 0 and 1 leave the window
    remaining = [p.remaining for p in L.chart()]
    assert remaining[23] == pytest.approx(-2 / 3)
    assert remaining[24] == pytest.approx(1 / 6) and remaining[25] == 1.0


def test_alert_raised_and_cleared_in_a_deterministic_order():
    L = Ledger(0.999, {"kind": "rolling", "days": 30})
    quiet = L.status(minute(0))
    for iv in per_minute(0, [(10_000 - 144, 10_000)] * 60):
        L.record(iv)
    burning = L.status(minute(60))
    ts = transitions(quiet, burning)
    # fresh data (no staleness before), budget: 8,640 bad vs 600 allowed -> exhausted
    assert [t.kind for t in ts] == [
        "budget_exhausted",
        "burn_rate_alert_raised",
        "burn_rate_alert_raised",
        "burn_rate_alert_raised",
    ]
    assert [(t.detail["severity"], t.detail["long_window"], t.detail["short_window"]) for t in ts[1:]] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "3d", "6h"),
    ]
    assert ts[1].detail == {
        "at": minute(60).isoformat(), "severity": "page", "long_window": "1h", "short_window": "5m",
        "long_rate": 14.4, "short_rate": 14.4, "threshold": 14.4,
    }
    assert transitions(burning, burning) == []

    # the incident stops: five clean minutes clear the 1h/5m page (5m rate 0). The 6h/30m
    # page stays: 30m = 25 bad minutes x 144 / 300,000 = 1.2% -> 12 >= 6, and
    # 6h = 8,640 / 650,000 -> 13.29 >= 6; the ticket stays too.
    for iv in per_minute(60, [(10_000, 10_000)] * 5):
        L.record(iv)
    calmer = L.status(minute(65))
    ts = transitions(burning, calmer)
    assert [(t.kind, t.detail["severity"], t.detail["long_window"]) for t in ts] == [
        ("burn_rate_alert_cleared", "page", "1h"),
    ]
    assert calmer.burn_rates["30m"] == pytest.approx(12.0)
    assert ts[0].detail["short_rate"] == 0.0


def test_staleness_by_event_time():
    L = Ledger(0.99, {"kind": "rolling", "days": 1}, stale_after=timedelta(minutes=10))
    # never any data: not stale (nothing to be stale about; last_observation_end is None)
    assert not L.status(minute(100)).stale
    L.record(Interval(minute(0), minute(1), 1, 1))
    fresh = L.status(minute(11))  # the last interval ended exactly 10 minutes before: fresh
    assert not fresh.stale and fresh.last_observation_end == minute(1)
    stale = L.status(minute(11) + timedelta(seconds=1))
    assert stale.stale
    (t,) = transitions(fresh, stale)
    assert t == Transition("observations_stale", {
        "at": stale.at.isoformat(), "last_observation_end": minute(1).isoformat(), "stale_after_seconds": 600.0,
    })
    L.record(Interval(minute(20), minute(21), 1, 1))
    again = L.status(minute(21))
    assert [t.kind for t in transitions(stale, again)] == ["observations_fresh"]
    # the threshold can be given per read
    assert L.status(minute(40), stale_after=timedelta(minutes=30)).stale is False


def test_transitions_from_nothing():
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    L.record(Interval(minute(0), minute(1), 0, 10))
    kinds = [t.kind for t in transitions(None, L.status(minute(1)))]
    assert kinds[0] == "budget_exhausted"
    assert set(kinds[1:]) == {"burn_rate_alert_raised"}
