"""The adapter's reading of range chunks against the per-boundary oracle: however the range
is cut, whatever the series hold (resets inside a chunk or across a junction, gaps, NaN,
half events, whole values written as floats), the counts are the oracle's; and the
column readers it uses on the way (`whole_values`, `whole_chunk`, `ColumnCounts`)
answer as their plain forms do."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.sli_definition import count_queries, parse_definition
from service.sources.counters import EXACT_WHOLE, ColumnCounts, increase, steady_slice, whole_chunk, whole_slice, whole_values
from service.sources.errors import SourceBadData
from service.sources.prometheus import LOOKBACK, MINUTE, PrometheusSource

from .counters_oracle import reference_combine, reference_drops, reference_minute_deltas

QUERIES = count_queries(parse_definition({"kind": "ratio", "source": "p", "good": "g_total", "total": "t_total"}))


def text(value: float, as_float: bool) -> str:
    """A sample as Prometheus writes it (a whole value without a point), or as a float."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15 and not as_float:
        return str(int(value))
    return repr(value)


class Fake:
    """Range queries answered at the boundaries each series has a value at (a series with
    none in a chunk is left out of it, as Prometheus does); raw-sample queries answered
    with the boundary samples themselves within the lookback."""

    def __init__(self, sides: dict[str, list[dict[int, str]]]) -> None:
        self.sides = sides

    def selector(self, name: str, i: int) -> str:
        return '{__name__="' + name + '",s="' + str(i) + '"}'

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if request.url.path.endswith("/query_range"):
            start, end, step = int(form["start"]), int(form["end"]), int(form["step"])
            result = []
            for i, values in enumerate(self.sides[form["query"]]):
                points = [[t, values[t]] for t in range(start, end + 1, step) if t in values]
                if points:
                    result.append({"metric": {"__name__": form["query"], "s": str(i)}, "values": points})
            return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})
        selector, at = re.fullmatch(r"(\{.*\})\[(\d+)s\]", form["query"]), int(form["time"])
        for name, series in self.sides.items():
            for i, values in enumerate(series):
                if self.selector(name, i) == selector.group(1):
                    window = int(selector.group(2))
                    points = [[t, v] for t, v in sorted(values.items()) if at - window < t <= at]
                    return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
                        {"metric": {"__name__": name, "s": str(i)}, "values": points}]}})
        raise AssertionError(f"unexpected query {form}")

    def expected(self, name: str, start: int, end: int) -> dict[int, int | None]:
        """The oracle: boundary differences, each dropped minute counted from the raw
        samples the fake serves for it."""
        series = [{t: float(v) for t, v in values.items()} for values in self.sides[name]]
        exact = {}
        for i, values in enumerate(series):
            for b in reference_drops(values, start, end):
                raw = [(t, v) for t, v in sorted(values.items()) if b + MINUTE - (LOOKBACK + MINUTE) < t <= b + MINUTE]
                exact[(i, b)] = increase(raw, b, b + MINUTE)
        return reference_minute_deltas(series, start, end, exact)


@st.composite
def counter(draw, n: int) -> dict[int, str]:
    """A counter's texts at n + 1 boundaries: mostly rising by whole numbers; sometimes a
    gap, a reset (inside a chunk or across a junction, wherever the cuts fall), NaN, an
    infinity, half an event, or whole values written as floats."""
    kind = draw(st.sampled_from(["healthy", "restarting", "chaotic"]))
    as_float = draw(st.integers(0, 5)) == 0
    value, out = draw(st.sampled_from([0.0, 7.0, 1e15])), {}
    restarts = draw(st.sets(st.integers(1, n), min_size=1)) if kind == "restarting" else set()
    for k in range(n + 1):
        if k in restarts:  # steady but for restarts: every chunk whole, a drop inside one or across a junction
            value = draw(st.sampled_from([0.0, 3.0])) if value > 3 else value - 1
        elif kind != "chaotic":
            value += draw(st.sampled_from([0.0, 1.0, 60.0]))
        else:
            step = draw(st.sampled_from([0.0, 1.0, 5.0, 100.0, 0.5, -3.0, float("nan"), float("inf")]))
            value = 2.0 if step == -3.0 else value + step
            if draw(st.integers(0, 9)) == 0:
                continue  # no sample at this boundary
        out[60 * k] = text(value, as_float)
    return out


def outcome(counts_or_error):
    if isinstance(counts_or_error, Exception):
        return type(counts_or_error), str(counts_or_error)
    c = counts_or_error
    starts, good, total = c.columns()
    return c.start, c.end, dict(c.counts), c.missing, list(zip(starts, zip(good, total))) == sorted(c.counts.items())


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 14), st.integers(1, 2), st.integers(1, 2), st.integers(1, 16))
async def test_counts_however_chunked_are_the_oracles(data, n, goods, totals, max_points):
    fake = Fake({"g_total": [data.draw(counter(n)) for _ in range(goods)],
                 "t_total": [data.draw(counter(n)) for _ in range(totals)]})
    start, end = 0, 60 * n
    try:
        expected = reference_combine(fake.expected("g_total", start, end), None, fake.expected("t_total", start, end), start, end)
    except SourceBadData as error:
        expected = error
    async with PrometheusSource("http://prom.example", transport=httpx.MockTransport(fake)) as source:
        try:
            got = await source.minute_counts(QUERIES, start, end, max_points=max_points)
        except SourceBadData as error:
            got = error
    assert outcome(got) == outcome(expected)


async def test_a_reset_inside_a_chunk_of_whole_values_is_refined_from_the_raw_samples():
    """The chunk is whole and on its boundaries (read in integers, no values by time kept),
    but it drops: the fallback builds the values by time and recounts that minute."""
    good = {60 * k: str(v) for k, v in enumerate([10, 20, 30, 4, 14, 24])}
    fake = Fake({"g_total": [good], "t_total": [dict(good)]})
    async with PrometheusSource("http://prom.example", transport=httpx.MockTransport(fake)) as source:
        counts = await source.minute_counts(QUERIES, 0, 300, max_points=4)
        series = await source.query_range("g_total", 0, 300, max_points=4)
    assert dict(counts.counts) == {0: (10, 10), 60: (10, 10), 120: (4, 4), 180: (10, 10), 240: (10, 10)}
    [values] = series.values()
    assert dict(values) == {t: float(v) for t, v in good.items()} and values[180] == 4.0 and values.get(999) is None


@pytest.mark.parametrize("values,message", [
    ([[0, "1"], [60, "2", "3"], [120, "4"], [180, "5"]], "not \\[time"),  # a pair of three among pairs
    ([[0, "1"], [60], [120, "4"], [180, "5"]], "not \\[time"),
    ([[0, "1"], [60, "true"], [120, "4"], [180, "5"]], "not \\[time"),
    ([[0, "1"], [60, "1,2"], [120, "4"], [180, "5"]], "not \\[time"),
    ([[0, "1"], [60, None], [120, "4"], [180, "5"]], "not \\[time"),
    ({"0": "1"}, "not a list"),
])
async def test_malformed_samples_are_bad_data_naming_them(values, message):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"__name__": "g_total"}, "values": values}]}})
    async with PrometheusSource("http://prom.example", transport=httpx.MockTransport(handler)) as source:
        with pytest.raises(SourceBadData, match=message):
            await source.minute_counts(QUERIES, 0, 180)


async def test_texts_int_reads_but_json_does_not_are_read_as_before():
    """' 5', '+5', '007': whole for `int`, not JSON integers: the general path reads them."""
    good = {0: " 5", 60: "+6", 120: "007", 180: "1_0"}
    fake = Fake({"g_total": [good], "t_total": [dict(good)]})
    async with PrometheusSource("http://prom.example", transport=httpx.MockTransport(fake)) as source:
        counts = await source.minute_counts(QUERIES, 0, 180)
    assert dict(counts.counts) == {0: (1, 1), 60: (1, 1), 120: (3, 3)}


def plain_whole_values(texts):
    """`whole_values` as first written: `int` of each text, within the exact range."""
    if set(map(type, texts)) - {str}:
        return None
    try:
        whole = list(map(int, texts))
    except ValueError:
        return None
    return whole if not whole or (-EXACT_WHOLE < min(whole) and max(whole) < EXACT_WHOLE) else None


texts_strategy = st.lists(st.one_of(
    st.integers(-2**64, 2**64).map(str),
    st.sampled_from(["0", "-0", "1", "2", "10", str(2**52 - 1), str(2**52), str(-(2**52) + 1), "1.5", "1e3", "NaN", "+Inf",
                     "true", "null", "", " 5", "+5", "007", "1_0", "1,2", "[1]", "1]", "[", "-", "--1", "٣", "1\n"]),
    st.text(alphabet="0123456789-,[] ", max_size=4)), max_size=10)


@settings(max_examples=500, deadline=None)
@given(texts_strategy)
def test_whole_values_is_int_of_each_text_within_the_exact_range(texts):
    assert whole_values(texts) == plain_whole_values(texts)


@settings(max_examples=500, deadline=None)
@given(st.one_of(texts_strategy, st.lists(st.integers(-2**53, 2**53), min_size=1, max_size=10).map(lambda xs: list(map(str, sorted(xs))))))
def test_whole_chunk_is_whole_values_and_the_float_paths_slice(texts):
    whole, piece = whole_chunk(texts)
    assert whole == whole_values(texts)
    if whole is None:
        assert piece is None
        return
    assert piece == whole_slice(whole)
    if whole:
        floats = list(map(float, texts))
        times = list(range(0, 60 * len(texts), 60))
        assert piece == steady_slice(times, floats, 0, times[-1])  # the same numbers, as integers
        assert piece is None or all(type(x) is int for x in (piece.first, piece.last, *piece.deltas))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=6), st.integers(-3, 3))
def test_column_counts_read_as_the_dict_of_them(pairs, start_minute):
    start = 60 * start_minute
    counts = ColumnCounts(start, [g for g, _ in pairs], [t for _, t in pairs])
    plain = {start + 60 * i: p for i, p in enumerate(pairs)}
    assert counts == plain and plain == counts and dict(counts) == plain and len(counts) == len(plain)
    assert list(counts) == list(plain) and list(counts.items()) == list(plain.items()) and bool(counts) == bool(plain)
    for key in (start - 60, start, start + 30, start + 60, float(start + 60), start + 60 * len(pairs), "x", None):
        assert counts.get(key) == plain.get(key) and (key in counts) == (key in plain)
    assert repr(counts) == repr(plain)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), st.one_of(st.text(max_size=4), st.integers(-2, 2), st.floats(allow_nan=False),
                                                      st.booleans(), st.none()), max_size=5))
def test_a_series_labels_are_its_pairs_as_strings_sorted(metric):
    """Read as they are when every value is a string (what Prometheus sends), each through
    `str` otherwise: the same labels either way."""
    from service.sources.prometheus import _labels

    assert _labels({"metric": metric}) == tuple(sorted(zip(map(str, metric), map(str, metric.values()))))
