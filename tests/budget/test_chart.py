"""The chartable ledger: remaining over time, each debit attributed to its interval."""

import pytest

from domain.budget import Exclusion, Ledger

from .helpers import minute, per_minute


def test_occurrence_chart_points_and_debits():
    # 99% over a day. Minutes of 100 requests: 0 bad, 1 bad, 0 bad, 2 bad (excluded later: no).
    #   point 1: total 100, allowed 1, bad 0            -> remaining 1,      debit 0
    #   point 2: total 200, allowed 2, bad 1            -> remaining 1/2,    debit 1/2
    #   point 3: total 300, allowed 3, bad 1            -> remaining 2/3,    debit 0
    #   point 4: total 400, allowed 4, bad 3            -> remaining 1/4,    debit 2/4
    L = Ledger(0.99, {"kind": "rolling", "days": 1})
    for iv in per_minute(0, [(100, 100), (99, 100), (100, 100), (98, 100)]):
        L.record(iv)
    pts = L.chart()
    assert [p.at for p in pts] == [minute(1), minute(2), minute(3), minute(4)]
    assert [p.bad for p in pts] == [0, 1, 0, 2]
    assert [p.remaining for p in pts] == pytest.approx([1.0, 0.5, 2 / 3, 0.25])
    assert [p.debit for p in pts] == pytest.approx([0, 0.5, 0, 0.5])
    # each point equals the status read at that moment
    assert [L.status(p.at).remaining for p in pts] == [p.remaining for p in pts]
    # a slice of the chart
    assert [p.at for p in L.chart(since=minute(2), until=minute(3))] == [minute(2), minute(3)]
    assert pts[1].to_dict()["start"] == minute(1).isoformat()

    # an excluded interval carries no debit
    L.exclude(Exclusion("x", minute(3), minute(4)))
    last = L.chart()[-1]
    assert last.excluded and last.debit == 0.0 and last.remaining == pytest.approx(1 - 1 / 3)


def test_timeslice_chart_debits_bad_slices_when_judged():
    # 5-minute slices, 99%: a day has 288 slices, allowed 2.88. Per-minute data; slice [0,5)
    # is bad (a 0-good minute), slice [5,10) good. The bad slice is debited at minute 5,
    # when it is first judged, to the interval ending then.
    L = Ledger(0.99, {"kind": "rolling", "days": 1}, {"method": "timeslices", "slice_minutes": 5, "slice_threshold": 0.9})
    for iv in per_minute(0, [(0, 10)] + [(10, 10)] * 9):
        L.record(iv)
    pts = L.chart()
    assert [p.debit for p in pts] == pytest.approx([0, 0, 0, 0, 1 / 2.88, 0, 0, 0, 0, 0])
    assert pts[3].remaining == 1.0 and pts[4].remaining == pytest.approx(1 - 1 / 2.88)
    assert [L.status(p.at).remaining for p in pts] == [p.remaining for p in pts]


def test_span_budget_counts_events_for_occurrences():
    # 99.9%: 0.14% errors in every minute of an hour spends 140% of the hour's event budget;
    # one excluded minute counts as neither good nor bad.
    L = Ledger(0.999, {"kind": "rolling", "days": 30})
    for iv in per_minute(0, [(9_986, 10_000)] * 60 + [(0, 10_000)]):
        L.record(iv)
    L.exclude(Exclusion("x", minute(60), minute(61)))
    span = L.span_budget(minute(0), minute(61))
    assert span.method == "occurrences"
    assert span.attainment == pytest.approx(0.9986) and span.consumed == pytest.approx(1.4)
    assert L.span_budget(minute(0), minute(30)).consumed == pytest.approx(1.4)  # the first half alone
    assert L.span_budget(minute(100), minute(200)) == type(span)("occurrences", None, None)  # no data


def test_span_budget_counts_slices_for_timeslices():
    # The same minutes against 1-minute slices good at 99%: no slice is bad, nothing is spent,
    # as the window's own budget says. A 0-good minute is one bad slice of the 61 judged.
    L = Ledger(0.999, {"kind": "rolling", "days": 30},
               {"method": "timeslices", "slice_minutes": 1, "slice_threshold": 0.99})
    for iv in per_minute(0, [(9_986, 10_000)] * 60):
        L.record(iv)
    span = L.span_budget(minute(0), minute(60))
    assert (span.method, span.attainment, span.consumed) == ("timeslices", 1.0, 0.0)
    assert L.status(minute(60)).remaining == 1.0
    L.record(per_minute(60, [(0, 10_000)])[0])
    span = L.span_budget(minute(0), minute(1000))  # the allowance runs to the last data, not the span's end
    assert span.attainment == pytest.approx(60 / 61) and span.consumed == pytest.approx(1 / (0.001 * 61))
