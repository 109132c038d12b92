"""The walk's shortcuts agree with the full status they stand in for.

* `Ledger.judge_at_us` gives the flags (exhausted, firing tiers, stale) and remaining
  budget `status_at_us` reports, at any instant, for every window and budgeting method,
  with exclusions; `Ledger.figures_at_us` gives exactly the status's budget figures,
  alerts (rates too) and staleness.
* `Ledger.steady(points, flags)` is only ever True when judging each point would find
  those flags at every one of them (a wrong "steady" would drop a transition from a batch).
* `walk` over a batch's points finds the transitions that judging one point at a time
  (each request alone) finds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.budget import Exclusion, Interval, Ledger
from domain.budget.instants import to_us
from domain.budget.transitions import DerivedFlags, transitions
from domain.budget.walk import walk
from tests.budget.helpers import minute

windows = st.sampled_from([{"kind": "rolling", "days": 1}, {"kind": "rolling", "days": 30},
                           {"kind": "calendar_month"}])
budgetings = st.sampled_from([{"method": "occurrences"},
                              {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.9}])
# (total, bad percent) per run of minutes: idle, healthy, trickle, outage
kinds = st.sampled_from([(0, 0), (1000, 0), (1000, 1), (1000, 3), (1000, 100), (100, 40)])
runs = st.lists(st.tuples(kinds, st.integers(1, 40), st.integers(0, 30)), min_size=1, max_size=6)
settings_ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(target, window, budgeting, runs_, exclusion) -> tuple[Ledger, list[int]]:
    ledger = Ledger(target, window, budgeting)
    m, ends = 0, []
    for (total, pct), count, gap in runs_:
        m += gap
        for _ in range(count):
            bad = total * pct // 100
            ledger.record(Interval(minute(m), minute(m + 1), total - bad, total))
            ends.append(to_us(minute(m + 1)))
            m += 1
    if exclusion is not None:
        s, n = exclusion
        ledger.exclude(Exclusion("x", minute(s), minute(s + n), "maintenance"))
    return ledger, ends


def flags_of(ledger: Ledger, at_us: int) -> tuple:
    s = ledger.status_at_us(at_us)
    return s.exhausted, frozenset(a.key for a in s.alerts), s.stale


@settings_
@given(target=st.sampled_from([0.9, 0.99, 0.999]), window=windows, budgeting=budgetings, runs_=runs,
       exclusion=st.none() | st.tuples(st.integers(0, 100), st.integers(1, 30)), data=st.data())
def test_judgement_and_steadiness_agree_with_the_status(target, window, budgeting, runs_, exclusion, data):
    ledger, ends = build(target, window, budgeting, runs_, exclusion)
    probes = data.draw(st.lists(st.sampled_from(ends) | st.integers(ends[0] - 10**9, ends[-1] + 3 * 10**9),
                                min_size=1, max_size=5))
    for at in probes:
        j = ledger.judge_at_us(at)
        s = ledger.status_at_us(at)
        assert (j.exhausted, frozenset(t.key for t in j.alerts), j.stale) == flags_of(ledger, at)
        assert j.remaining == s.remaining
        f = ledger.figures_at_us(at)
        assert (f.good, f.total, f.sli, f.allowed_bad, f.consumed, f.remaining, f.exhausted, f.alerts, f.stale) == (
            s.good, s.total, s.sli, s.allowed_bad, s.consumed, s.remaining, s.exhausted, s.alerts, s.stale)
    # A stretch of the ledger's own ends, as a batch would bring them.
    i = data.draw(st.integers(0, len(ends) - 1))
    points = ends[i:i + data.draw(st.integers(1, 60))]
    claimed = data.draw(st.sampled_from(["first", "none", "exhausted"]))
    if claimed == "first":
        exhausted, keys, stale = flags_of(ledger, points[0])
    else:
        exhausted, keys, stale = claimed == "exhausted", frozenset(), False
    if ledger.steady(points, exhausted, keys, stale):
        assert all(flags_of(ledger, p) == (exhausted, keys, stale) for p in points)


@settings_
@given(target=st.sampled_from([0.99, 0.999]), window=windows, budgeting=budgetings, runs_=runs)
def test_a_walk_finds_what_each_point_alone_finds(target, window, budgeting, runs_):
    ledger, ends = build(target, window, budgeting, runs_, None)
    one_by_one, flags = [], DerivedFlags(False, (), False)
    for p in ends:
        s = ledger.status_at_us(p)
        one_by_one.extend(transitions(flags, s))
        flags = DerivedFlags(s.exhausted, s.alerts, s.stale)
    walked = [t for step in walk(ledger, DerivedFlags(False, (), False), ends) for t in step.transitions]
    assert walked == one_by_one
    assert all(t.detail["at"] for t in walked)


def test_a_healthy_batch_is_proved_steady_and_a_crossing_inside_it_is_not():
    """The shortcut must apply to the common case (or the walk costs a judgement per
    minute), and never across a crossing anywhere in the batch: an alert, or an
    exhaustion (tiers left out, so only the budget can flip)."""
    healthy = [((10_000, 0), 1440, 0), ((10_000, 0), 60, 0)]
    ledger, ends = build(0.999, {"kind": "rolling", "days": 30}, {"method": "occurrences"}, healthy, None)
    ledger.record(Interval(minute(1500), minute(1501), 9_995, 10_000))
    batch = ends[1440:] + [to_us(minute(1501))]
    assert ledger.steady(batch, False, frozenset(), False)
    assert not ledger.steady(batch, True, frozenset(), False)
    ledger.record(Interval(minute(1501), minute(1502), 0, 10_000))  # pages at its end
    assert not ledger.steady(batch + [to_us(minute(1502))], False, frozenset(), False)

    quiet = Ledger(0.999, {"kind": "rolling", "days": 30}, {"method": "occurrences"}, tiers=[])
    for m in range(1500):
        quiet.record(Interval(minute(m), minute(m + 1), 10_000, 10_000))
    batch = [to_us(minute(m + 1)) for m in range(1440, 1500)]
    assert quiet.steady(batch, False, frozenset(), False)
    for m in (1500, 1501):  # 20,000 bad of 15,020,000: past the 15,020 allowed
        quiet.record(Interval(minute(m), minute(m + 1), 0, 10_000))
    batch += [to_us(minute(1501)), to_us(minute(1502))]
    assert quiet.judge_at_us(batch[-1]).exhausted and not quiet.judge_at_us(batch[0]).exhausted
    assert not quiet.steady(batch, False, frozenset(), False)
    assert not quiet.steady(batch, True, frozenset(), False)


@settings_
@given(target=st.sampled_from([0.99, 0.999]), window=windows, budgeting=budgetings, runs_=runs, data=st.data())
def test_the_flags_alerts_in_any_order_name_the_same_tiers(target, window, budgeting, runs_, data):
    """The walk compares the firing tiers' keys in order first (alerts are raised in tier
    order): flags holding the alerts in another order, or other ones, must still give the
    transitions a comparison as sets gives, at one instant (the figures) as at several."""
    ledger, ends = build(target, window, budgeting, runs_, None)
    at = data.draw(st.sampled_from(ends))
    s = ledger.status_at_us(at)
    other = ledger.status_at_us(data.draw(st.sampled_from(ends)))
    held = data.draw(st.permutations(data.draw(st.sampled_from([s.alerts, other.alerts]))))
    flip = data.draw(st.sampled_from([None, "exhausted", "stale"]))
    flags = DerivedFlags(s.exhausted != (flip == "exhausted"), tuple(held), s.stale != (flip == "stale"))
    same = (s.exhausted, frozenset(a.key for a in s.alerts), s.stale) == (
        flags.exhausted, frozenset(a.key for a in flags.alerts), flags.stale)
    expected = [] if same else transitions(flags, s)
    assert [t for step in walk(ledger, flags, [at]) for t in step.transitions] == expected
    assert [t for step in walk(ledger, flags, [at, at]) for t in step.transitions] == expected


def test_all_three_tiers_firing_held_in_reverse_order_flip_nothing():
    ledger, ends = build(0.999, {"kind": "rolling", "days": 30}, {"method": "occurrences"}, [((1000, 100), 400, 0)], None)
    s = ledger.status_at_us(ends[-1])
    assert len(s.alerts) == 3
    flags = DerivedFlags(s.exhausted, tuple(reversed(s.alerts)), s.stale)
    assert walk(ledger, flags, ends[-1:]) == [] and walk(ledger, flags, ends[-3:]) == []
    raised = walk(ledger, DerivedFlags(s.exhausted, tuple(reversed(s.alerts[1:])), s.stale), ends[-1:])
    assert [t.kind for step in raised for t in step.transitions] == ["burn_rate_alert_raised"]
