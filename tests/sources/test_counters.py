"""Per-minute counts from counter values at minute boundaries (pure)."""

from __future__ import annotations

from service.sources.counters import combine, minute_deltas

NAN = float("nan")


def test_a_drop_is_a_reset_counted_from_zero():
    assert minute_deltas([{0: 10, 60: 15, 120: 4, 180: 9}], 0, 180) == {0: 5, 60: 4, 120: 5}


def test_series_are_differenced_on_their_own_then_summed():
    a = {0: 100, 60: 110, 120: 3}  # resets in the second minute
    b = {0: 5, 60: 6, 120: 8}
    assert minute_deltas([a, b], 0, 120) == {0: 11, 60: 5}


def test_a_series_covers_only_minutes_with_both_boundaries():
    appearing = {60: 40, 120: 45}
    steady = {0: 1, 60: 2, 120: 3}
    assert minute_deltas([appearing, steady], 0, 120) == {0: 1, 60: 6}
    assert minute_deltas([appearing], 0, 120) == {0: None, 60: 5}


def test_nan_or_a_fractional_delta_makes_the_minute_missing_for_all_series():
    assert minute_deltas([{0: 1, 60: NAN, 120: 3, 180: 4}, {0: 0, 60: 1, 120: 2, 180: 3}], 0, 180) == {0: None, 60: None, 120: 2}
    assert minute_deltas([{0: 1, 60: 1.5, 120: 3}], 0, 120) == {0: None, 60: None}


def test_combine_needs_both_sides_and_turns_bad_into_good():
    total = {0: 10, 60: None, 120: 7}
    counts = combine(None, {0: 1, 60: 0, 120: None}, total, 0, 180)
    assert counts.counts == {0: (9, 10)} and counts.missing == (60, 120)


def test_increase_over_raw_samples_counts_each_rise_and_restarts_from_zero():
    from service.sources.counters import drops, increase

    samples = [(-10, 50), (0, 100), (15, 110), (30, 120), (45, 4), (60, 9), (75, 30)]
    assert increase(samples, 0, 60) == 10 + 10 + 4 + 5
    assert increase(samples, -10, 15) == 50 + 10
    assert increase(samples[3:], 0, 60) is None  # no sample at or before the start
    assert increase([(0, 1), (30, NAN), (60, 3)], 0, 60) is None
    assert drops({0: 100, 60: 9, 120: 30}, 0, 120) == [0]
    # The refinement replaces the boundary difference (9) for that series and minute.
    assert minute_deltas([{0: 100, 60: 9, 120: 30}], 0, 120, {(0, 0): 29.0}) == {0: 29, 60: 21}
    assert minute_deltas([{0: 100, 60: 9}], 0, 60, {(0, 0): None}) == {0: None}


# ---- the column-wise fast paths against the per-boundary oracle ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from service.sources.counters import drops  # noqa: E402

from .counters_oracle import reference_combine, reference_drops, reference_minute_deltas  # noqa: E402

steps = st.one_of(st.sampled_from([0.0, 1.0, 5.0, 100.0, 0.5]), st.sampled_from([-3.0, float("nan"), float("inf")]))


@st.composite
def counter(draw, n: int) -> dict[int, float]:
    """A counter's values at n + 1 boundaries: mostly rising by whole numbers; sometimes a
    gap, a reset, a NaN, an infinity or half an event."""
    healthy = draw(st.booleans())
    value, out = draw(st.sampled_from([0.0, 7.0, 1e15])), {}
    for k in range(n + 1):
        if healthy:
            value += draw(st.sampled_from([0.0, 1.0, 60.0]))
        else:
            step = draw(steps)
            value = 2.0 if step == -3.0 else value + step
            if draw(st.integers(0, 9)) == 0:
                continue  # no sample at this boundary
        out[60 * k] = value
    return out


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 12), st.integers(0, 3))
def test_the_fast_paths_give_what_the_per_boundary_loops_give(data, n, how_many):
    series = [data.draw(counter(n)) for _ in range(how_many)]
    start, end = 0, 60 * n
    for values in series:
        assert drops(values, start, end) == reference_drops(values, start, end)
    ours = minute_deltas(series, start, end)
    assert ours == reference_minute_deltas(series, start, end)
    other = minute_deltas([data.draw(counter(n))], start, end)
    for good, part_bad, total in ((ours, None, other), (None, ours, other), (other, None, ours)):
        try:
            expected = reference_combine(good, part_bad, total, start, end)
        except Exception as error:  # noqa: BLE001 - the same refusal either way
            expected = (type(error), str(error))
        try:
            got = combine(good, part_bad, total, start, end)
        except Exception as error:  # noqa: BLE001
            got = (type(error), str(error))
        assert got == expected


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(1, 12), st.integers(1, 3))
def test_steady_deltas_answer_only_when_nothing_dropped_and_then_as_the_loop_does(data, n, how_many):
    from service.sources.counters import steady_deltas

    series = [data.draw(counter(n)) for _ in range(how_many)]
    steady = steady_deltas(series, 0, 60 * n)
    if steady is not None:
        assert not any(reference_drops(values, 0, 60 * n) for values in series)
        assert steady == reference_minute_deltas(series, 0, 60 * n)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(1, 12), st.integers(1, 3))
def test_chunks_counted_as_they_arrive_give_what_the_whole_grid_gives(data, n, how_many):
    """The adapter's slices (each chunk of boundaries worked out on its own, then joined)
    answer exactly when `steady_deltas` over the whole grid does, and the same."""
    from service.sources.counters import steady_deltas, steady_slice, stitched_sums

    series = [data.draw(counter(n)) for _ in range(how_many)]
    cuts = sorted(data.draw(st.sets(st.integers(1, n), max_size=n)))
    chunks = list(zip([0] + [60 * c for c in cuts], [60 * (c - 1) for c in cuts] + [60 * n]))
    sliced = []
    for values in series:
        pieces = []
        for a, z in chunks:
            times = [t for t in sorted(values) if a <= t <= z]  # what Prometheus answers for the chunk
            pieces.append(steady_slice(times, [values[t] for t in times], a, z))
        sliced.append(pieces)
    expected = steady_deltas(series, 0, 60 * n)
    sums = stitched_sums(sliced)
    got = None if sums is None else dict(zip(range(0, 60 * n, 60), map(int, sums)))
    assert got == expected
    if sums is not None:  # the same floats, summed in the same order
        assert list(map(type, sums)) == [float] * n


def test_a_reset_or_half_an_event_across_a_junction_is_no_steady_answer():
    from service.sources.counters import steady_slice, stitched_sums

    for second in ([2.0, 3.0], [10.5, 11.5]):  # dropped from 10, or half an event
        pieces = [steady_slice([0, 60], [9.0, 10.0], 0, 60), steady_slice([120, 180], second, 120, 180)]
        assert None not in pieces and stitched_sums([pieces]) is None
    pieces = [steady_slice([0, 60], [9.0, 10.0], 0, 60), steady_slice([120, 180], [12.0, 12.0], 120, 180)]
    assert stitched_sums([pieces]) == [1.0, 2.0, 0.0]
    assert steady_slice([0, 120], [1.0, 2.0], 0, 120) is None  # a boundary without a value


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=8), st.booleans())
def test_combine_on_columns_is_combine_on_their_dicts(pairs, as_good):
    """The same counts or the same refusal, and the columns the baseline reads are the counts'."""
    from service.sources.counters import combine_columns

    part, total = [p for p, _ in pairs], [t for _, t in pairs]
    start, end = 0, 60 * len(pairs)
    minutes = range(start, end, 60)
    good, bad = (part, None) if as_good else (None, part)

    def outcome(fn, *columns):
        try:
            got = fn(*columns, start, end)
        except Exception as error:  # noqa: BLE001 - the same refusal either way
            return type(error), str(error)
        starts, good_column, total_column = got.columns()
        assert list(zip(starts, zip(good_column, total_column))) == sorted(got.counts.items())
        return got

    as_dicts = [None if c is None else dict(zip(minutes, c)) for c in (good, bad, total)]
    assert outcome(combine_columns, good, bad, total) == outcome(combine, *as_dicts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(-2**53, 2**53), st.sampled_from([0, 1, 2**52 - 1, 2**52, -(2**52)])), max_size=12),
       st.lists(st.sampled_from(["0.0", "1.5", "NaN", "+Inf", "1e3", "-0"]), max_size=2), st.randoms())
def test_whole_samples_checked_in_integers_give_the_float_paths_slice(numbers, odd, rnd):
    """`whole_values` reads a chunk's texts as integers only when each float of them is
    exact (so are their differences); `steady_slice` on them answers as on the floats."""
    from service.sources.counters import steady_slice, whole_values

    texts = [str(n) for n in numbers] + odd
    rnd.shuffle(texts)
    whole = whole_values(texts)
    floats = list(map(float, texts))
    if whole is not None:
        assert list(map(float, whole)) == floats and all(abs(w) < 2**52 for w in whole)
        times = list(range(0, 60 * len(texts), 60))
        if texts:
            assert steady_slice(times, floats, 0, times[-1], whole) == steady_slice(times, floats, 0, times[-1])
    else:
        assert odd and set(odd) - {"-0"} or any(abs(n) >= 2**52 for n in numbers)
    rising = sorted(n for n in numbers if abs(n) < 2**52)
    if rising:
        texts = list(map(str, rising))
        whole, floats, times = whole_values(texts), list(map(float, texts)), list(range(0, 60 * len(texts), 60))
        got = steady_slice(times, floats, 0, times[-1], whole)
        assert whole is not None and got == steady_slice(times, floats, 0, times[-1])
        assert got is not None and [type(d) for d in got.deltas] == [float] * (len(texts) - 1)
    assert whole_values([1, 2]) is None  # numbers where texts are expected: the float path decides
