"""Recurring exclusions in the ledger: the UTC minutes a wall-clock window excludes across
both DST changes, the exclusion applied before or after the data alike, ended from a data
time on, kept by snapshots and copies; and the limits a recorded rule must keep."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.budget import BudgetInputError, Interval, IntervalConflict, Ledger
from domain.budget.instants import to_us
from domain.budget.recurrence import Recurring, recurring_exclusion

UTC = timezone.utc
SUNDAY_2AM = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sunday_nights(days: list[datetime]) -> list[Interval]:
    """Per-minute data from Saturday 20:00 to Sunday 12:00 UTC around each Sunday."""
    out = []
    for day in days:
        at = day - timedelta(hours=4)
        while at < day + timedelta(hours=12):
            out.append(Interval(at, at + timedelta(minutes=1), 0, 10))
            at += timedelta(minutes=1)
    return out


def excluded_minutes(ledger: Ledger) -> set[datetime]:
    return {p.start for p in ledger.chart() if p.excluded}


def minutes_between(a: datetime, b: datetime) -> set[datetime]:
    return {a + timedelta(minutes=i) for i in range((b - a) // timedelta(minutes=1))}


# (zone, the Sundays around both changes of 2026, the UTC ranges 02:00-04:00 local excludes)
DST_CASES = [
    ("Europe/Berlin",
     [utc(2026, 3, 22), utc(2026, 3, 29), utc(2026, 4, 5), utc(2026, 10, 18), utc(2026, 10, 25), utc(2026, 11, 1)],
     [(utc(2026, 3, 22, 1), utc(2026, 3, 22, 3)),    # CET, UTC+1
      # 02:00 does not exist on 29 March: RFC 5545 reads it with the offset before the gap
      # (03:00 CEST = 01:00 UTC), and two hours elapse from there
      (utc(2026, 3, 29, 1), utc(2026, 3, 29, 3)),
      (utc(2026, 4, 5, 0), utc(2026, 4, 5, 2)),      # CEST, UTC+2
      (utc(2026, 10, 18, 0), utc(2026, 10, 18, 2)),
      # 02:00 happens twice on 25 October: the first one (CEST) counts
      (utc(2026, 10, 25, 0), utc(2026, 10, 25, 2)),
      (utc(2026, 11, 1, 1), utc(2026, 11, 1, 3))]),   # CET again
    ("America/New_York",
     [utc(2026, 3, 1), utc(2026, 3, 8), utc(2026, 3, 15), utc(2026, 10, 25), utc(2026, 11, 1), utc(2026, 11, 8)],
     [(utc(2026, 3, 1, 7), utc(2026, 3, 1, 9)),      # EST, UTC-5
      (utc(2026, 3, 8, 7), utc(2026, 3, 8, 9)),      # in the gap: read as EST, i.e. 03:00 EDT
      (utc(2026, 3, 15, 6), utc(2026, 3, 15, 8)),    # EDT, UTC-4
      (utc(2026, 10, 25, 6), utc(2026, 10, 25, 8)),
      (utc(2026, 11, 1, 7), utc(2026, 11, 1, 9)),    # 02:00 EST: the repeated hour is 01:00
      (utc(2026, 11, 8, 7), utc(2026, 11, 8, 9))]),
]


@pytest.mark.parametrize(("zone", "sundays", "expected"), DST_CASES, ids=[c[0] for c in DST_CASES])
def test_a_weekly_two_to_four_window_excludes_the_right_utc_minutes_across_both_dst_changes(zone, sundays, expected):
    window = Recurring.new("maintenance", SUNDAY_2AM, "2026-01-04T02:00", zone, "2h", "weekly maintenance")
    data = sunday_nights(sundays)
    before = Ledger(0.99, {"kind": "rolling", "days": 28})  # excluded first, the data after
    before.exclude_recurring(window)
    before.record_batch(data)
    after = Ledger(0.99, {"kind": "rolling", "days": 28})  # the data first
    after.record_batch(data)
    after.exclude_recurring(window)
    want = set().union(*(minutes_between(a, b) for a, b in expected))
    assert len(want) == 6 * 120
    assert excluded_minutes(before) == excluded_minutes(after) == want
    # excluded minutes count as neither good nor bad
    span = (data[0].start, data[-1].end)
    assert before.counted(*span) == after.counted(*span) == (0, 10 * (len(data) - len(want)))
    # a snapshot, its columns loaded as an as-of read loads them, a copy and another config agree
    again = Ledger.from_dict(after.to_dict())
    columns = Ledger.from_dict({**after.to_dict(), "intervals": []})
    columns.load_columns(*(list(c) for c in after.columns()))
    other = after.with_config(0.999, {"kind": "rolling", "days": 28})
    for ledger in (again, columns, after.copy(), other):
        assert excluded_minutes(ledger) == want


def test_ending_stops_it_from_a_data_time_on_and_later_data_follows_the_end() -> None:
    window = Recurring.new("m", "FREQ=DAILY;BYHOUR=3;BYMINUTE=0", "2026-01-01T03:00", "UTC", "1h", "nightly")
    data = [Interval(utc(2026, 1, d, 3, m), utc(2026, 1, d, 3, m + 1), 0, 1) for d in (1, 2, 3, 4) for m in (0, 30)]
    ledger = Ledger(0.99, {"kind": "rolling", "days": 28})
    ledger.record_batch(data[:6])
    ledger.exclude_recurring(window)
    assert excluded_minutes(ledger) == {iv.start for iv in data[:6]}
    ledger.end_recurring("m", to_us(utc(2026, 1, 2, 3, 30)))
    ledger.record_batch(data[6:])  # after the end: not excluded
    assert excluded_minutes(ledger) == {utc(2026, 1, 1, 3, 0), utc(2026, 1, 1, 3, 30), utc(2026, 1, 2, 3, 0)}
    assert ledger.recurring_exclusions[0].ended_from == utc(2026, 1, 2, 3, 30)
    assert excluded_minutes(Ledger.from_dict(ledger.to_dict())) == excluded_minutes(ledger)
    # the same end again is a no-op; another end, a second definition under the id, or
    # the id again after its end are refused
    assert ledger.end_recurring("m", to_us(utc(2026, 1, 2, 3, 30))) == "duplicate"
    with pytest.raises(IntervalConflict):
        ledger.end_recurring("m", to_us(utc(2026, 1, 3)))
    with pytest.raises(IntervalConflict):
        ledger.exclude_recurring(window)
    with pytest.raises(BudgetInputError):
        ledger.end_recurring("nope", to_us(utc(2026, 1, 3)))


def test_the_same_definition_again_is_a_duplicate_and_another_under_its_id_a_conflict() -> None:
    ledger = Ledger(0.99, {"kind": "rolling", "days": 28})
    first = Recurring.new("m", "rrule:freq=weekly;byday=su", "2026-01-04T02:00", "UTC", "2h", "a")
    assert ledger.exclude_recurring(first) == "new"
    same = Recurring.new("m", "FREQ=WEEKLY;BYDAY=SU", "2026-01-04T02:00:00", "UTC", "120m", "another reason")
    assert ledger.exclude_recurring(same) == "duplicate"
    with pytest.raises(IntervalConflict):
        ledger.exclude_recurring(Recurring.new("m", "FREQ=WEEKLY;BYDAY=SA", "2026-01-04T02:00", "UTC", "2h", "a"))


def test_next_occurrences_follow_the_local_clock_and_stop_at_the_end() -> None:
    window = Recurring.new("m", SUNDAY_2AM, "2026-01-04T02:00", "Europe/Berlin", "2h")
    got = window.next_occurrences(to_us(utc(2026, 3, 23)), 2)
    assert got == [(to_us(utc(2026, 3, 29, 1)), to_us(utc(2026, 3, 29, 3))),
                   (to_us(utc(2026, 4, 5, 0)), to_us(utc(2026, 4, 5, 2)))]
    assert window.ended(to_us(utc(2026, 4, 1))).next_occurrences(to_us(utc(2026, 3, 23)), 5) == got[:1]


@pytest.mark.parametrize(("rrule", "start", "zone", "duration", "field"), [
    ("FREQ=MINUTELY", "2026-01-01T00:00", "UTC", "1h", "rrule"),
    ("FREQ=SECONDLY", "2026-01-01T00:00", "UTC", "1h", "rrule"),
    ("FREQ=HOURLY", "2026-01-01T00:00", "UTC", "1h", "rrule"),
    ("FREQ=DAILY;BYHOUR=0,1,2,3,4;BYMINUTE=0,10,20,30,40", "2026-01-01T00:00", "UTC", "1m", "rrule"),  # 25 a day
    ("FREQ=DAILY;UNTIL=20250101", "2026-01-01T00:00", "UTC", "1h", "rrule"),  # no occurrence at all
    ("FREQ=DAILY;COUNT=10001", "2026-01-01T00:00", "UTC", "1h", "rrule"),  # counted from the start every time
    ("FREQ=WEEKLY;BYDAY=XX", "2026-01-01T00:00", "UTC", "1h", "rrule"),
    ("FREQ=DAILY;BYHOUR=１", "2026-01-01T00:00", "UTC", "1h", "rrule"),  # ASCII digits only
    ("FREQ=DAILY;BYHOUR=1_0", "2026-01-01T00:00", "UTC", "1h", "rrule"),
    ("FREQ=DAILY;BYHOUR=" + ",".join(["1"] * 300), "2026-01-01T00:00", "UTC", "1h", "rrule"),  # 500 characters at most
    ("FREQ=DAILY", "2026-01-01T00:00", "A" * 5000, "1h", "zone"),
    ("FREQ=DAILY", "2026-01-01T00:00+01:00", "UTC", "1h", "start"),
    ("FREQ=DAILY", "yesterday", "UTC", "1h", "start"),
    ("FREQ=DAILY", "2026-01-01T00:00", "Mars/Olympus", "1h", "zone"),
    ("FREQ=DAILY", "2026-01-01T00:00", "UTC", "0m", "duration"),
    ("FREQ=DAILY", "2026-01-01T00:00", "UTC", "30s", "duration"),
    ("FREQ=DAILY", "2026-01-01T00:00", "UTC", "32d", "duration"),
    ("FREQ=DAILY", "2026-01-01T00:00", "UTC", "two hours", "duration"),
])
def test_a_bad_rule_zone_start_or_duration_is_refused_naming_the_field(rrule, start, zone, duration, field) -> None:
    with pytest.raises(BudgetInputError) as refused:
        recurring_exclusion(rrule, start, zone, duration)
    assert refused.value.field == field


def test_twenty_four_times_a_day_is_the_densest_rule_taken() -> None:
    rule = "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=5"
    assert recurring_exclusion(rule, "2026-01-01T00:00", "UTC", "10m").duration == timedelta(minutes=10)


def test_a_recorded_exclusion_is_read_back_whatever_the_limits_are_now(monkeypatch) -> None:
    """The limits guard new commands; a replay reads what the log holds even if they were
    tightened since (here: 24 occurrences a day, then 1)."""
    from domain.budget import recurrence

    recorded = Recurring.new("m", "FREQ=DAILY;BYHOUR=1,2", "2026-01-01T00:00", "UTC", "10m").to_dict()
    monkeypatch.setattr(recurrence, "MAX_TIMES_PER_DAY", 1)
    with pytest.raises(BudgetInputError):
        Recurring.new("m", "FREQ=DAILY;BYHOUR=1,2", "2026-01-01T00:00", "UTC", "10m")
    assert Recurring.from_dict(recorded).to_dict() == recorded
