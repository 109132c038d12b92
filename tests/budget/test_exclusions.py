"""Exclusions: out-of-scope causes count as neither good nor bad; restoring brings the debit back."""

import pytest

from domain.budget import BudgetInputError, Exclusion, Interval, IntervalConflict, Ledger, classify_exclusion, classify_restore

from .helpers import minute, per_minute


def outage_ledger():
    # 99% over 1 day; 100 clean minutes of 1,000 requests, then a 10-minute outage
    # (another team's) with 500 bad per minute, then 10 clean minutes.
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    for iv in per_minute(0, [(1000, 1000)] * 100 + [(500, 1000)] * 10 + [(1000, 1000)] * 10):
        L.record(iv)
    return L, minute(120)


def test_excluding_an_outage_restores_the_budget_and_restoring_it_takes_it_back():
    L, at = outage_ledger()
    # before: total 120,000, bad 5,000, allowed 1,200 -> remaining 1 - 5000/1200 = -19/6
    before = L.status(at)
    assert (before.total, before.bad) == (120_000, 5_000)
    assert before.remaining == pytest.approx(1 - 5000 / 1200) and before.exhausted

    outage = Exclusion("inc-42", minute(100), minute(110), reason="upstream provider outage")
    assert classify_exclusion(L, outage) == "new"
    assert L.exclude(outage) == "new"
    assert L.exclude(outage) == "duplicate"
    # excluded intervals are neither good nor bad: total 110,000, bad 0 -> remaining 1.0
    during = L.status(at)
    assert (during.total, during.bad, during.remaining) == (110_000, 0, 1.0)
    assert not during.exhausted
    assert L.exclusions == (outage,)

    assert classify_restore(L, "inc-42") == "restored"
    assert L.restore("inc-42") == "restored"
    assert L.restore("inc-42") == "duplicate"
    after = L.status(at)
    assert (after.total, after.bad, after.remaining) == (before.total, before.bad, before.remaining)
    assert L.exclusions == () and L.restored_exclusions == (outage,)


def test_partial_overlap_rule_is_by_interval_start():
    # Rule: an interval is excluded when its START lies in [exclusion.start, exclusion.end).
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    L.record(Interval(minute(0), minute(2), 0, 10))  # starts before the range, ends inside: counted
    L.record(Interval(minute(2), minute(4), 0, 20))  # starts inside: excluded
    L.record(Interval(minute(4), minute(6), 0, 40))  # starts inside, ends after it: excluded
    L.record(Interval(minute(6), minute(8), 0, 80))  # starts after it: counted
    L.exclude(Exclusion("maint", minute(1), minute(5)))
    st = L.status(minute(8))
    assert (st.total, st.bad) == (90, 90)
    assert [p.excluded for p in L.chart()] == [False, True, True, False]
    # the range is half-open: an interval starting exactly at its end is counted
    L.restore("maint")
    L.exclude(Exclusion("maint-2", minute(0), minute(6)))
    assert L.status(minute(8)).total == 80


def test_data_arriving_after_the_exclusion_is_excluded_too():
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    L.exclude(Exclusion("load-test", minute(0), minute(10)))
    L.record(Interval(minute(1), minute(2), 0, 100))
    assert L.status(minute(2)).total == 0
    assert L.is_excluded(Interval(minute(1), minute(2), 0, 100))


def test_overlapping_exclusions_need_every_cover_restored():
    L, at = outage_ledger()
    L.exclude(Exclusion("a", minute(100), minute(105)))
    L.exclude(Exclusion("b", minute(103), minute(110)))
    assert L.status(at).bad == 0
    L.restore("a")
    assert L.status(at).bad == 3 * 500  # minutes 100..102 no longer covered
    L.restore("b")
    assert L.status(at).bad == 5000


def test_exclusion_id_rules():
    L, _ = outage_ledger()
    L.exclude(Exclusion("x", minute(0), minute(1)))
    with pytest.raises(IntervalConflict) as e:
        L.exclude(Exclusion("x", minute(0), minute(2)))
    assert e.value.kind == "exclusion" and e.value.field == "exclusion_id"
    L.restore("x")
    with pytest.raises(IntervalConflict):
        L.exclude(Exclusion("x", minute(0), minute(1)))  # a restored id is not reused
    with pytest.raises(BudgetInputError) as e:
        L.restore("nope")
    assert e.value.field == "exclusion_id"
    with pytest.raises(BudgetInputError) as e:
        Exclusion("y", minute(1), minute(1))
    assert e.value.field == "end"
    with pytest.raises(BudgetInputError) as e:
        Exclusion("", minute(0), minute(1))
    assert e.value.field == "exclusion_id"
    x = Exclusion("z", minute(0), minute(1), reason="planned maintenance")
    assert Exclusion.from_dict(x.to_dict()) == x


def test_an_exclusion_before_any_data_is_kept_in_the_read_models_document():
    """The summary row's doc holds the exclusions of a ledger with no interval yet (it
    once held them only when the ledger had data), so a ledger reloaded from it has them."""
    from datetime import datetime, timezone

    from domain.budget.decider import BudgetState, evolve
    from domain.events import RecordedEvent

    def event(version: int, type_: str, data: dict) -> RecordedEvent:
        return RecordedEvent(version, f"e{version}", "budget-o", version, type_, 1, data, {}, datetime.now(timezone.utc), "")

    configured = {"objective_id": "o", "target": 0.99, "window": {"kind": "rolling", "days": 1}, "budgeting": {"method": "occurrences"}}
    excluded = {"objective_id": "o", "id": "x1", "start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T01:00:00+00:00",
                "reason": "maintenance", "approver": "sre-person"}
    state = evolve(evolve(None, event(1, "BudgetConfigured", configured)), event(2, "IntervalExcluded", excluded))
    assert len(state.ledger) == 0 and state.ledger.exclusions
    reloaded = BudgetState.from_doc(state.to_doc(), [])
    assert reloaded.ledger.exclusions == state.ledger.exclusions
