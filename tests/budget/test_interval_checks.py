"""`Interval` checks the usual interval (UTC datetimes, int counts) by a shorter path
than any other; it must accept, convert and refuse as the general checks do. The same
instants in another zone take the general path."""

from __future__ import annotations

from datetime import timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.budget import BudgetInputError, Interval
from domain.budget.instants import from_us

ELSEWHERE = timezone(timedelta(hours=1))
DAY_US = 86_400_000_000


def outcome(start, end, good, total) -> tuple:
    try:
        iv = Interval(start, end, good, total)
    except BudgetInputError as error:
        return ("refused", error.field, str(error))
    assert iv.start.tzinfo is timezone.utc and iv.end.tzinfo is timezone.utc
    return ("accepted", iv.start, iv.end, iv.good, iv.total, iv.start_us, iv.end_us, type(iv.good), type(iv.total))


@settings(max_examples=300, deadline=None)
@given(start_us=st.integers(1_700_000_000_000_000, 1_800_000_000_000_000),
       length_us=st.sampled_from([-60_000_000, 0, 1, 60_000_000, DAY_US, DAY_US + 1]) | st.integers(-DAY_US, 2 * DAY_US),
       good=st.integers(-2, 12), total=st.integers(-2, 12) | st.sampled_from([10**15]))
def test_the_usual_interval_is_checked_as_any_other(start_us, length_us, good, total):
    start, end = from_us(start_us), from_us(start_us + length_us)
    assert outcome(start, end, good, total) == outcome(start.astimezone(ELSEWHERE), end.astimezone(ELSEWHERE), good, total)
