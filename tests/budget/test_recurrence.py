"""Recurring exclusions: RRULE expansion (checked against python-dateutil as an oracle),
wall-clock occurrences across DST, and intervals clipped to a data-time range."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings, strategies as st

from domain.budget.errors import BudgetInputError
from domain.budget.instants import US_PER_DAY, to_us
from domain.budget.recurrence import Expansion, RecurringExclusion, exclusion_intervals, occurrences, parse_rrule

UTC = timezone.utc
WEEKLY_SUNDAY_2AM = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def maintenance(rule: str = WEEKLY_SUNDAY_2AM, zone: str = "Europe/Berlin", hours: int = 2) -> RecurringExclusion:
    return RecurringExclusion(parse_rrule(rule), datetime(2026, 1, 4, 2), zone, timedelta(hours=hours))


def test_weekly_maintenance_stays_at_two_local_across_both_dst_changes() -> None:
    got = exclusion_intervals(maintenance(), utc(2026, 3, 20), utc(2026, 4, 6))
    assert got == [
        (utc(2026, 3, 22, 1), utc(2026, 3, 22, 3)),  # CET: 02:00 local = 01:00 UTC
        # 2026-03-29 02:00 does not exist in Berlin: the instant after the gap, 03:00 CEST;
        # the two hours of wall time it excludes are 01:00-03:00 UTC as before.
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 3)),
        (utc(2026, 4, 5, 0), utc(2026, 4, 5, 2)),  # CEST: 02:00 local = 00:00 UTC
    ]
    autumn = exclusion_intervals(maintenance(), utc(2026, 10, 24), utc(2026, 11, 2))
    assert autumn == [(utc(2026, 10, 25, 0), utc(2026, 10, 25, 2)),  # 02:00 CEST, the first of the two
                      (utc(2026, 11, 1, 1), utc(2026, 11, 1, 3))]


def test_intervals_are_clipped_to_the_range_and_merged_when_they_touch() -> None:
    clipped = exclusion_intervals(maintenance(), utc(2026, 1, 11, 2), utc(2026, 1, 11, 2, 30))
    assert clipped == [(utc(2026, 1, 11, 2), utc(2026, 1, 11, 2, 30))]
    # hourly occurrences lasting an hour touch: one merged interval
    hourly = RecurringExclusion(parse_rrule("FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0"), datetime(2026, 1, 1), "UTC",
                                timedelta(hours=1))
    assert exclusion_intervals(hourly, utc(2026, 1, 2), utc(2026, 1, 3)) == [(utc(2026, 1, 2, 1), utc(2026, 1, 2, 4))]
    assert exclusion_intervals(maintenance(), utc(2026, 1, 5), utc(2026, 1, 5)) == []


def test_count_is_counted_from_the_start_not_from_the_range() -> None:
    three = maintenance("FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    assert [s for s, _ in exclusion_intervals(three, utc(2025, 1, 1), utc(2027, 1, 1))] == [
        utc(2026, 1, 4, 1), utc(2026, 1, 11, 1), utc(2026, 1, 18, 1)]
    assert exclusion_intervals(three, utc(2026, 1, 19), utc(2027, 1, 1)) == []


def test_until_in_utc_and_in_local_time() -> None:
    local = maintenance("FREQ=WEEKLY;BYDAY=SU;UNTIL=20260111T020000")
    zulu = maintenance("FREQ=WEEKLY;BYDAY=SU;UNTIL=20260111T005959Z")
    assert len(exclusion_intervals(local, utc(2026, 1, 1), utc(2026, 2, 1))) == 2
    assert len(exclusion_intervals(zulu, utc(2026, 1, 1), utc(2026, 2, 1))) == 1


def test_last_friday_of_the_month_in_a_leap_february() -> None:
    rule = parse_rrule("FREQ=MONTHLY;BYDAY=-1FR")
    got = list(islice(occurrences(rule, datetime(2028, 1, 1, 22)), 3))
    assert got == [datetime(2028, 1, 28, 22), datetime(2028, 2, 25, 22), datetime(2028, 3, 31, 22)]
    leap_day = list(islice(occurrences(parse_rrule("FREQ=MONTHLY;BYMONTHDAY=-1"), datetime(2028, 1, 5)), 2))
    assert leap_day == [datetime(2028, 1, 31), datetime(2028, 2, 29)]


@pytest.mark.parametrize("rule, message", [
    ("FREQ=YEARLY", "FREQ"), ("FREQ=WEEKLY;BYSETPOS=1", "BYSETPOS is not supported"),
    ("FREQ=WEEKLY;BYDAY=XX", "MO..SU"), ("FREQ=WEEKLY;BYDAY=1SU", "ordinal"),
    ("FREQ=DAILY;COUNT=2;UNTIL=20260101", "exclude each other"), ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
    ("FREQ=DAILY;BYHOUR=24", "BYHOUR"), ("FREQ=DAILY;WKST=SU", "WKST"), ("", "RRULE"),
    ("FREQ=DAILY;FREQ=WEEKLY", "twice"), ("FREQ=DAILY;UNTIL=2026-01-01", "UNTIL"),
    ("FREQ=WEEKLY;BYMONTHDAY=1", "WEEKLY"), ("FREQ=MONTHLY;BYMONTHDAY=0", "not be 0"),
])
def test_rules_outside_the_subset_are_refused_by_name(rule: str, message: str) -> None:
    with pytest.raises(BudgetInputError, match=message):
        parse_rrule(rule)


def test_rrule_prefix_and_lower_case_are_accepted() -> None:
    assert parse_rrule("RRULE:freq=weekly;byday=su") == parse_rrule("FREQ=WEEKLY;BYDAY=SU")


DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn, bounded: bool = True) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        if freq == "MONTHLY" and draw(st.booleans()):
            days = [f"{draw(st.sampled_from([-2, -1, 1, 2, 3, 5]))}{d}" for d in days]
        parts.append("BYDAY=" + ",".join(days))
    if freq != "WEEKLY" and draw(st.booleans()):
        month_days = draw(st.lists(st.integers(-31, 31).filter(bool), min_size=1, max_size=3, unique=True))
        parts.append("BYMONTHDAY=" + ",".join(map(str, month_days)))
    if draw(st.booleans()):
        parts.append("BYHOUR=" + ",".join(map(str, draw(st.lists(st.integers(0, 23), min_size=1, max_size=2, unique=True)))))
    if draw(st.booleans()):
        parts.append("BYMINUTE=" + ",".join(map(str, draw(st.lists(st.integers(0, 59), min_size=1, max_size=2, unique=True)))))
    if not bounded:
        pass
    elif draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 30))}")
    elif draw(st.booleans()):
        parts.append(f"UNTIL={draw(st.sampled_from(['20260301', '20260615T120000', '20280301T000000']))}")
    return ";".join(parts)


@settings(max_examples=100, deadline=None)
@given(rules(), st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda d: d.replace(microsecond=0)))
def test_expansion_matches_dateutil(rule: str, start: datetime) -> None:
    ours = list(islice(occurrences(parse_rrule(rule), start), 60))
    theirs = list(islice(rrulestr(rule, dtstart=start), 60))
    assert ours == theirs


@settings(max_examples=80, deadline=None)
@given(rule=st.one_of(rules(), rules(bounded=False), rules(bounded=False)), start=st.datetimes(datetime(2024, 1, 1), datetime(2026, 12, 31)).map(lambda d: d.replace(microsecond=0)),
       zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
       offset_days=st.integers(-10, 3000), hours=st.integers(1, 60))
def test_an_expansion_started_near_the_range_equals_one_from_the_rule_start(rule, start, zone, offset_days, hours) -> None:
    """The expansion skips whole periods to start near the first range asked about; what it
    finds there is what an expansion from the rule's start finds, and asking about an
    earlier range afterwards starts it again from there."""
    exclusion = RecurringExclusion(parse_rrule(rule), start, zone, timedelta(hours=hours))
    lo = to_us(datetime.combine(start.date(), datetime.min.time(), UTC)) + offset_days * US_PER_DAY
    hi = lo + 40 * US_PER_DAY
    from_start = Expansion(exclusion)
    from_start.covers(to_us(datetime(2000, 1, 1, tzinfo=UTC)))  # before the start: expands from it
    near = Expansion(exclusion)
    assert near.spans(lo, hi) == from_start.spans(lo, hi)
    earlier = lo - 500 * US_PER_DAY
    assert near.spans(earlier, earlier + 40 * US_PER_DAY) == from_start.spans(earlier, earlier + 40 * US_PER_DAY)
    assert [near.covers(t) for t in range(lo, hi, 3_600_000_000 * 7)] == [
        from_start.covers(t) for t in range(lo, hi, 3_600_000_000 * 7)]
