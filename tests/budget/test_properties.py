"""Property tests: the incrementally maintained ledger equals a naive recomputation.

The model below is written independently of the ledger: it keeps a plain dict of
intervals and a dict of exclusions, and recomputes every figure with a loop over all
intervals, in exact fractions, using datetime arithmetic (no prefix sums, no bisection,
no shared helpers). The rules it encodes are the documented ones:

* an interval counts in a window [ws, we) read at `at` when ws <= start < we and end <= at;
* it is excluded when its start lies in an active exclusion [s, e);
* timeslices: each non-excluded interval that has ended by `at` spreads its counts over the
  epoch-aligned slices it overlaps, in proportion to the overlap; a slice starting in the
  window and ended by `at` with total > 0 is bad when good/total < threshold; allowance
  (1 - target) x window length / slice length;
* burn rate over w: same membership with the window [at - w, at);
* stale: the last end among intervals ended by `at` is more than 15 minutes before `at`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.budget import BudgetInputError, Exclusion, Interval, IntervalConflict, Ledger
from domain.budget.calendar import CalendarWindow, parse_duration
from domain.budget.instants import to_us
from domain.budget.recurrence import Recurring, exclusion_intervals

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# two days either side of midnight Sep 30 -> Oct 1: a month and a quarter boundary
BASE = datetime(2024, 9, 29, 12, 0, tzinfo=UTC)
SPAN_MIN = 3 * 24 * 60
MONTH_BOUNDARY = datetime(2024, 10, 1, tzinfo=UTC)
PROBE = BASE + timedelta(days=2)
BURN = {"5m": timedelta(minutes=5), "30m": timedelta(minutes=30), "1h": timedelta(hours=1), "2h": timedelta(hours=2),
        "6h": timedelta(hours=6), "1d": timedelta(days=1), "3d": timedelta(days=3)}
TIERS = [("page", "1h", "5m", Fraction(144, 10)), ("page", "6h", "30m", Fraction(6)), ("ticket", "3d", "6h", Fraction(1))]


def dec(x: float) -> Fraction:
    return Fraction(str(x))


class Model:
    def __init__(self, target, window, budgeting):
        self.target, self.window, self.budgeting = target, window, budgeting
        self.data: dict[tuple[datetime, datetime], tuple[int, int]] = {}
        self.active: dict[str, tuple[datetime, datetime]] = {}
        self.restored: set[str] = set()
        # recurring: id -> (definition key, its occurrences over the test's span, ended from)
        self.recurring: dict[str, tuple[tuple, list, datetime | None]] = {}

    # -- decisions
    def _clash(self, s, e):
        return [k for k in self.data if k != (s, e) and k[0] < e and s < k[1]]

    def record(self, iv):
        k = (iv.start, iv.end)
        if k in self.data:
            return "duplicate" if self.data[k] == (iv.good, iv.total) else "conflict"
        if self._clash(*k):
            return "overlap"
        self.data[k] = (iv.good, iv.total)
        return "new"

    def correct(self, iv):
        k = (iv.start, iv.end)
        if k in self.data:
            if self.data[k] == (iv.good, iv.total):
                return "duplicate"
            self.data[k] = (iv.good, iv.total)
            return "correction"
        return "overlap" if self._clash(*k) else "missing"

    def exclude(self, xid, s, e):
        if xid in self.active:
            return "duplicate" if self.active[xid] == (s, e) else "exclusion"
        if xid in self.restored:
            return "exclusion"
        self.active[xid] = (s, e)
        return "new"

    def exclude_recurring(self, item: Recurring):
        key = (item.rrule, item.start, item.zone, item.duration)
        current = self.recurring.get(item.id)
        if current is not None:
            return "duplicate" if current[0] == key and current[2] is None else "exclusion"
        # the occurrences, from the expansion that is checked against dateutil (test_recurrence)
        self.recurring[item.id] = (key, exclusion_intervals(item.definition, BASE - timedelta(days=3),
                                                            BASE + timedelta(days=9)), None)
        return "new"

    def end_recurring(self, xid, at):
        current = self.recurring.get(xid)
        if current is None:
            return "unknown"
        if current[2] is None:
            self.recurring[xid] = (current[0], current[1], at)
            return "restored"
        return "duplicate" if current[2] == at else "exclusion"

    def excluded(self, s):
        return any(xs <= s < xe for xs, xe in self.active.values()) or any(
            (end is None or s < end) and any(b <= s < e for b, e in spans) for _, spans, end in self.recurring.values())

    def restore(self, xid):
        if xid in self.active:
            del self.active[xid]
            self.restored.add(xid)
            return "restored"
        return "duplicate" if xid in self.restored else "unknown"

    # -- figures
    def bounds(self, at):
        if self.window["kind"] == "rolling" and "duration" in self.window:
            return at - parse_duration(self.window["duration"]).to_timedelta(), at
        if self.window["kind"] == "rolling":
            return at - timedelta(days=self.window["days"]), at
        if self.window["kind"] == "calendar":  # calendar.py's periods (tested against the stdlib there)
            w = self.window
            return CalendarWindow(parse_duration(w["duration"]), datetime.fromisoformat(w["start"]),
                                  w["time_zone"]).containing(at)
        y, m = at.year, at.month
        if self.window["kind"] == "calendar_quarter":
            m = 1 + 3 * ((m - 1) // 3)
            n = 3
        else:
            n = 1
        start = datetime(y, m, 1, tzinfo=UTC)
        ey, em = (y + 1, m + n - 12) if m + n > 12 else (y, m + n)
        return start, datetime(ey, em, 1, tzinfo=UTC)

    def counted(self, at):
        for (s, e), (g, t) in sorted(self.data.items()):
            if e <= at and not self.excluded(s):
                yield s, e, g, t

    def status(self, at, bounds=None):
        ws, we = bounds or self.bounds(at)
        good = total = 0
        for s, e, g, t in self.counted(at):
            if ws <= s < we:
                good += g
                total += t
        err = 1 - dec(self.target)
        out = {"good": good, "total": total, "bad": total - good}
        if self.budgeting["method"] == "occurrences":
            if total == 0:
                remaining = Fraction(1)
            else:
                remaining = 1 - Fraction(total - good) / (err * total)
        else:
            L = timedelta(minutes=self.budgeting["slice_minutes"])
            ratio = self.budgeting["method"] == "ratio_timeslices"  # a slice spends 1 - good/total
            thr = None if ratio else dec(self.budgeting["slice_threshold"])
            slices: dict[int, list[Fraction]] = {}
            for s, e, g, t in self.counted(at):
                k = (s - EPOCH) // L
                while EPOCH + k * L < e:
                    lo, hi = max(s, EPOCH + k * L), min(e, EPOCH + (k + 1) * L)
                    share = Fraction((hi - lo) // timedelta(microseconds=1), (e - s) // timedelta(microseconds=1))
                    acc = slices.setdefault(k, [Fraction(0), Fraction(0)])
                    acc[0] += g * share
                    acc[1] += t * share
                    k += 1
            bad_slices = good_slices = 0
            for k, (g, t) in slices.items():
                slice_start = EPOCH + k * L
                if ws <= slice_start < we and slice_start + L <= at and t > 0:
                    if ratio:
                        bad_slices += 1 - g / t
                        good_slices += g / t
                    elif g / t < thr:
                        bad_slices += 1
                    else:
                        good_slices += 1
            allowed = err * Fraction((we - ws) // timedelta(microseconds=1), L // timedelta(microseconds=1))
            remaining = 1 - bad_slices / allowed
            out.update(bad_slices=bad_slices, good_slices=good_slices)
        out["remaining"] = remaining
        out["exhausted"] = remaining <= 0
        rates = {}
        for label, w in BURN.items():
            g = t = 0
            for s, e, gg, tt in self.counted(at):
                if at - w <= s:
                    g += gg
                    t += tt
            rates[label] = None if t == 0 else Fraction(t - g, t) / err
        out["burn_rates"] = rates
        out["alerts"] = [
            (sev, lw, sw) for sev, lw, sw, th in TIERS
            if rates[lw] is not None and rates[sw] is not None and rates[lw] >= th and rates[sw] >= th
        ]
        ends = [e for (s, e) in self.data if e <= at]
        last = max(ends) if ends else None
        out["last"] = last
        out["stale"] = last is not None and last < at - timedelta(minutes=15)
        return out


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, float(b), rel_tol=1e-12, abs_tol=1e-12)


def check(ledger: Ledger, model: Model, at: datetime):
    got = ledger.status(at)
    want = model.status(at)
    assert (got.good, got.total, got.bad) == (want["good"], want["total"], want["bad"])
    assert close(got.remaining, want["remaining"]), (got.remaining, float(want["remaining"]))
    assert got.exhausted == want["exhausted"]
    if "bad_slices" in want:
        assert close(got.bad_slices, want["bad_slices"]) and close(got.good_slices, want["good_slices"])
    for label, rate in want["burn_rates"].items():
        assert close(got.burn_rates[label], rate), label
    assert [a.key[:3] for a in got.alerts] == want["alerts"]
    assert got.last_observation_end == want["last"]
    assert got.stale == want["stale"]


# -- strategies -----------------------------------------------------------------------------

windows = st.sampled_from([
    {"kind": "rolling", "days": 1}, {"kind": "rolling", "days": 2},
    {"kind": "calendar_month"}, {"kind": "calendar_quarter"}, {"kind": "rolling", "duration": "36h"},
    {"kind": "calendar", "duration": "1d", "start": "2024-09-30T06:30:00", "time_zone": "Europe/Berlin"},
])
budgetings = st.one_of(
    st.just({"method": "occurrences"}),
    st.builds(
        lambda m, th: {"method": "timeslices", "slice_minutes": m, "slice_threshold": th},
        st.sampled_from([1, 5, 7, 60]), st.sampled_from([0.5, 0.9, 0.95, 1.0]),
    ),
    st.builds(lambda m: {"method": "ratio_timeslices", "slice_minutes": m}, st.sampled_from([1, 5, 60])),
)
targets = st.sampled_from([0.9, 0.95, 0.99, 0.999])


@st.composite
def intervals(draw, near=None):
    where = draw(st.sampled_from(["near", "boundary", "anywhere", "anywhere"]))
    if where == "near" and near is not None:
        start = near + timedelta(seconds=30 * draw(st.integers(-6, 6)))
    elif where == "boundary":  # just before the month/quarter boundary, often straddling it
        start = MONTH_BOUNDARY - timedelta(seconds=30 * draw(st.integers(1, 240)))
    else:
        start = BASE + timedelta(seconds=30 * draw(st.integers(0, SPAN_MIN * 2)))
    length = timedelta(seconds=30 * draw(st.sampled_from([1, 2, 3, 4, 10, 120, 240, 2880])))
    total = draw(st.integers(0, 40))
    good = draw(st.integers(0, total))
    return Interval(start, start + length, good, total)


@st.composite
def exclusions(draw, recorded=()):
    xid = draw(st.sampled_from(["x0", "x1", "x2", "x3"]))
    if recorded and draw(st.booleans()):
        # around recorded data, so that exclusions hit intervals and overlap each other
        start = draw(st.sampled_from(recorded)).start + timedelta(seconds=30 * draw(st.integers(-10, 10)))
    else:
        start = BASE + timedelta(minutes=draw(st.integers(0, SPAN_MIN)))
    return Exclusion(xid, start, start + timedelta(minutes=draw(st.sampled_from([1, 5, 30, 240, 1500]))))


# Recurring exclusions whose occurrences fall among the drawn data: daily in Berlin, twice a
# week in New York, every six hours (with a second time each) in UTC.
RECURRING = [
    ("FREQ=DAILY;BYHOUR=13;BYMINUTE=0", "2024-09-01T00:00", "Europe/Berlin", "2h"),
    ("FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=1,7", "2024-09-02T00:30", "America/New_York", "45m"),
    ("FREQ=DAILY;BYHOUR=0,6,12,18;BYMINUTE=0,30", "2024-09-28T00:00", "UTC", "10m"),
]


@st.composite
def recurring(draw):
    rule, start, zone, duration = draw(st.sampled_from(RECURRING))
    return Recurring.new(draw(st.sampled_from(["r0", "r1"])), rule, start, zone, duration, "maintenance")


def apply(ledger: Ledger, model: Model, op: str, arg):
    try:
        if op == "recur":
            got = ledger.exclude_recurring(arg)
        elif op == "end_recur":
            got = ledger.end_recurring(arg[0], to_us(arg[1]))
        elif op == "record":
            got = ledger.record(arg)
        elif op == "correct":
            got = ledger.correct(arg)
        elif op == "exclude":
            got = ledger.exclude(arg)
        else:
            got = ledger.restore(arg)
    except IntervalConflict as e:
        got = e.kind
    except BudgetInputError:
        got = "unknown"
    if op == "recur":
        want = model.exclude_recurring(arg)
    elif op == "end_recur":
        want = model.end_recurring(*arg)
    elif op == "exclude":
        want = model.exclude(arg.id, arg.start, arg.end)
    elif op == "restore":
        want = model.restore(arg)
    else:
        want = getattr(model, op)(arg)
    assert got == want, (op, arg)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), target=targets, window=windows, budgeting=budgetings)
def test_incremental_ledger_matches_naive_recomputation(data, target, window, budgeting):
    ledger = Ledger(target, window, budgeting)
    model = Model(target, window, budgeting)
    n_ops = data.draw(st.integers(1, 30), label="n_ops")
    for step in range(n_ops):
        op = data.draw(st.sampled_from(["record", "record", "record", "record", "resend", "correct", "exclude", "restore",
                                        "recur", "end_recur"]))
        recorded = ledger.intervals()
        if op == "resend" and recorded:
            old = data.draw(st.sampled_from(recorded))
            if data.draw(st.booleans()):
                apply(ledger, model, "record", old)
            else:
                total = data.draw(st.integers(0, 40))
                apply(ledger, model, "correct", Interval(old.start, old.end, data.draw(st.integers(0, total)), total))
        elif op in ("record", "resend"):
            near = recorded[-1].end if recorded else None
            apply(ledger, model, "record", data.draw(intervals(near)))
        elif op == "correct":
            apply(ledger, model, "correct", data.draw(intervals()))
        elif op == "exclude":
            apply(ledger, model, "exclude", data.draw(exclusions(recorded)))
        elif op == "recur":
            apply(ledger, model, "recur", data.draw(recurring()))
        elif op == "end_recur":
            at = BASE + timedelta(seconds=30 * data.draw(st.integers(-100, SPAN_MIN * 2)))
            apply(ledger, model, "end_recur", (data.draw(st.sampled_from(["r0", "r1"])), at))
        else:
            apply(ledger, model, "restore", data.draw(st.sampled_from(["x0", "x1", "x2", "x3"])))
        # the same moment read after every update: a status remembered across a change would show
        check(ledger, model, PROBE)
        # read between updates now and then, so lazily rebuilt sums are exercised mid-sequence
        if data.draw(st.booleans()):
            at = BASE + timedelta(seconds=30 * data.draw(st.integers(0, SPAN_MIN * 3)))
            check(ledger, model, at)

    ats = [BASE + timedelta(seconds=30 * data.draw(st.integers(0, SPAN_MIN * 3))) for _ in range(4)]
    ats += [iv.end for iv in ledger.intervals()[-3:]]
    ats += [datetime(2024, 10, 1, tzinfo=UTC), datetime(2024, 10, 1, 0, 5, tzinfo=UTC)]
    for at in ats:
        check(ledger, model, at)

    # a snapshot and a copy read the same
    restored = Ledger.from_dict(ledger.to_dict())
    copy = ledger.copy()
    for at in ats[:3]:
        assert restored.status(at) == ledger.status(at) == copy.status(at)

    # every chart point equals the naive status over the point's window: for rolling windows
    # the window ending at the point, for calendar ones the period holding the interval's start
    for point in ledger.chart():
        bounds = None if window["kind"] == "rolling" else model.bounds(point.start)
        want = model.status(point.at, bounds)
        assert close(point.remaining, want["remaining"])
        assert point.exhausted == want["exhausted"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_recording_rows_from_the_log_equals_recording_intervals(data):
    """`record_rows` (evolve's path: microseconds, no Interval objects) leaves the same
    ledger as `record_batch`, and refuses what it refuses, changing nothing."""
    by_batch = Ledger(0.999, {"kind": "rolling", "days": 2})
    by_rows = Ledger(0.999, {"kind": "rolling", "days": 2})
    for _ in range(data.draw(st.integers(1, 6))):
        batch = data.draw(st.lists(intervals(), min_size=1, max_size=6))
        if data.draw(st.booleans()):
            batch = sorted(batch, key=lambda iv: iv.start)
        rows = [(iv.start_us, iv.end_us, iv.good, iv.total) for iv in batch]
        try:
            by_batch.record_batch(batch)
            want = None
        except (BudgetInputError, IntervalConflict) as error:
            want = type(error)
        try:
            by_rows.record_rows(rows)
            got = None
        except (BudgetInputError, IntervalConflict) as error:
            got = type(error)
        assert got == want
        assert by_rows.to_dict() == by_batch.to_dict()
        assert by_rows.status(PROBE) == by_batch.status(PROBE)
