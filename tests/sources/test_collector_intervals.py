"""The collector's intervals from a source's counts: taken from the counts' columns, they
are the intervals of the counted minutes one by one, in time order (missing minutes left out)."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.budget import Interval
from service.collection.collector import _intervals
from service.sources.counters import combine, combine_columns

START = 1_767_571_200


def minute_by_minute(counts):
    """The intervals as first written: each counted minute, sorted."""
    utc = lambda s: datetime.fromtimestamp(s, timezone.utc)  # noqa: E731
    return tuple(Interval(utc(b), utc(b + 60), g, total) for b, (g, total) in sorted(counts.counts.items()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 5)), st.integers(5, 9)), min_size=1, max_size=6),
       st.booleans(), st.integers(0, 3))
def test_intervals_from_the_columns_are_the_counted_minutes_in_order(pairs, as_columns, offset):
    start = START + 60 * offset
    end = start + 60 * len(pairs)
    minutes = range(start, end, 60)
    if as_columns and None not in (p for p, _ in pairs):
        counts = combine_columns([p for p, _ in pairs], None, [t for _, t in pairs], start, end)
    else:  # a minute without a good count is missing
        counts = combine({b: p for b, (p, _) in zip(minutes, pairs) if p is not None}, None,
                         {b: t for b, (_, t) in zip(minutes, pairs)}, start, end)
    assert _intervals(counts) == minute_by_minute(counts)
