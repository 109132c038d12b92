"""The Prometheus adapter against a real Prometheus over history the test wrote."""

from __future__ import annotations

import math

import httpx
import pytest

from domain.sli_definition import count_queries, parse_definition
from service.sources.errors import SeveralSeries, SourceBadData, SourceRejected, SourceUnreachable
from service.sources.prometheus import MAX_POINTS, PrometheusSource

from .conftest import GAP, LATENCY_MINUTES, NAN_MINUTE, RESET_MINUTE, RESTARTS, START
from .harness import free_port

RATIO = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}


def queries(**overrides):
    return count_queries(parse_definition({**RATIO, **overrides}))


async def test_counts_are_exactly_the_counters_deltas_over_eight_days_in_chunks(prometheus, history):
    progress = []
    async with PrometheusSource(prometheus.url) as source:
        # The reset is real: instance b's counter drops at the minute after RESET_MINUTE.
        b = 'http_requests_total{code="200",instance="b"}'
        before = (await source.query(b, START + 60 * RESET_MINUTE))[0][1]
        after = (await source.query(b, START + 60 * (RESET_MINUTE + 1)))[0][1]
        assert after < before

        end = START + 60 * history.minutes
        counts = await source.minute_counts(queries(), START, end, on_progress=lambda d, t: progress.append((d, t)))

    assert counts.missing == ()
    assert [counts.counts[START + 60 * m] for m in range(history.minutes)] == list(zip(history.good, history.total))
    # 11,521 boundaries: two chunks per query, both queries reported.
    assert progress[-1] == (4, 4) and sorted(progress) == [(1, 4), (2, 4), (3, 4), (4, 4)]


async def test_one_range_query_over_the_history_would_be_refused(prometheus, history):
    async with httpx.AsyncClient() as client:
        r = await client.get(f"{prometheus.url}/api/v1/query_range", params={
            "query": "http_requests_total", "start": START, "end": START + 60 * history.minutes, "step": 60})
    assert r.status_code == 400 and "11,000 points" in r.json()["error"]
    async with PrometheusSource(prometheus.url) as source:
        with pytest.raises(ValueError):
            await source.query_range("http_requests_total", START, START + 60, max_points=MAX_POINTS + 1)


async def test_bad_over_total_gives_the_same_counts(prometheus, history):
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(
            queries(good=None, bad='http_requests_total{code=~"5.."}'), START, START + 60 * 4000)
    assert [counts.counts[START + 60 * m] for m in range(4000)] == list(zip(history.good, history.total))[:4000]


@pytest.mark.parametrize("minutes,end_minute", [(60, 120), (60, RESET_MINUTE + 30), (1440, RESET_MINUTE + 600), (180, 7000)])
async def test_counts_agree_with_prometheus_increase_on_aligned_windows(prometheus, minutes, end_minute):
    """Samples sit on the window's both edges, so `increase` extrapolates nothing:
    the sums must be equal, across the counter reset too."""
    end = START + 60 * end_minute
    start = end - 60 * minutes
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(queries(), start, end)
        [(_, inc_total)] = await source.query(f"sum(increase(http_requests_total[{minutes}m]))", end)
        [(_, inc_good)] = await source.query(f'sum(increase(http_requests_total{{code!~"5.."}}[{minutes}m]))', end)
    assert counts.missing == ()
    assert math.isclose(sum(t for _, t in counts.counts.values()), inc_total, rel_tol=1e-12)
    assert math.isclose(sum(g for g, _ in counts.counts.values()), inc_good, rel_tol=1e-12)


async def test_counts_agree_with_increase_up_to_its_documented_extrapolation(prometheus):
    """A 1h window ending 30 s after a minute boundary holds the 60 samples from 59 min
    before its end: Prometheus's `increase` takes their delta (our counts for those 59
    minutes) and extrapolates it to the whole hour, x 3600/3540, since both edges lie
    within 1.1 sample intervals of a sample."""
    end_boundary = START + 60 * 5000
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(queries(), end_boundary - 59 * 60, end_boundary)
        [(_, inc_total)] = await source.query("sum(increase(http_requests_total[1h]))", end_boundary + 30)
    ours = sum(t for _, t in counts.counts.values())
    assert math.isclose(inc_total, ours * 3600 / 3540, rel_tol=1e-12)
    assert inc_total != ours


async def test_a_restart_inside_a_minute_keeps_what_was_counted_before_it(prometheus, history):
    """Samples every 15 s; the process restarts mid-minute twice and once on a boundary.
    The boundary values alone would lose the increments before a mid-minute restart;
    the refined minutes equal what was written, and Prometheus's increase agrees."""
    q = queries(good="restarts_total", total="restarts_total")
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(q, START, START + 60 * 600)
        boundary_only = {}
        for (_, values) in (await source.query_range("restarts_total", START, START + 60 * 600)).items():
            boundary_only = {m: values[START + 60 * (m + 1)] for m in RESTARTS["inside"]}
        for m in RESTARTS["inside"] + RESTARTS["after"]:
            [(_, inc)] = await source.query("increase(restarts_total[1m])", START + 60 * (m + 1))
            assert math.isclose(inc, history.restarts[m], rel_tol=1e-12)
    assert counts.missing == ()
    assert [counts.counts[START + 60 * m] for m in range(600)] == [(r, r) for r in history.restarts]
    assert all(boundary_only[m] < history.restarts[m] for m in RESTARTS["inside"])


@pytest.mark.parametrize("max_points", [7, 97])
async def test_counts_cut_into_small_chunks_are_the_same(prometheus, history, max_points):
    """Restarts inside a chunk and across a junction, NaN, a gap: however the range is
    cut, each chunk read on its own and joined gives the counts of one chunk."""
    end = START + 60 * 600
    async with PrometheusSource(prometheus.url) as source:
        for name in ("restarts_total", "flaky_total", "gappy_total"):
            q = queries(good=name, total=name)
            assert await source.minute_counts(q, START, end, max_points=max_points) == await source.minute_counts(q, START, end)
        restarts = await source.minute_counts(queries(good="restarts_total", total="restarts_total"), START, end, max_points=max_points)
    assert [restarts.counts[START + 60 * m] for m in range(600)] == [(r, r) for r in history.restarts]


async def test_a_single_series_sli_reads_its_series_and_refuses_several(prometheus, history):
    single = {"good": "checkout_good_total", "total": "checkout_all_total", "series": "single"}
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(queries(**single), START, START + 60 * 1000)
        assert [counts.counts[START + 60 * m] for m in range(1000)] == list(zip(history.single_good, history.single_total))[:1000]

        with pytest.raises(SeveralSeries, match="gave 2 series"):
            await source.minute_counts(queries(good="twice_total", total="twice_total", series="single"), START, START + 600)
        summed = await source.minute_counts(queries(good="twice_total", total="twice_total"), START, START + 600)
    assert set(summed.counts.values()) == {(2, 2)}


async def test_latency_counts_from_the_histogram_bucket_and_count(prometheus, history):
    defn = parse_definition({"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="api"}', "le": "0.3"})
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(count_queries(defn), START, START + 60 * LATENCY_MINUTES)
    assert counts.missing == ()
    assert [counts.counts[START + 60 * m] for m in range(LATENCY_MINUTES)] == list(zip(history.fast, history.requests))


async def test_nan_and_absent_minutes_are_missing_never_counted(prometheus):
    async with PrometheusSource(prometheus.url) as source:
        nan = await source.minute_counts(queries(good="flaky_total", total="flaky_total"), START, START + 60 * 600)
        gap = await source.minute_counts(queries(good="gappy_total", total="gappy_total"), START, START + 60 * 600)
        beyond = await source.minute_counts(queries(good="flaky_total", total="flaky_total"), START + 60 * 590, START + 60 * 700)
    # NaN at boundary NAN_MINUTE: the minutes on both sides of it have no count.
    assert nan.missing == (START + 60 * (NAN_MINUTE - 1), START + 60 * NAN_MINUTE)
    assert set(nan.counts.values()) == {(5, 5)}
    # No samples at boundaries 401..419: past Prometheus's 5-minute lookback the
    # boundaries are absent and their minutes missing; the lookback repeats the last
    # value for 5 minutes (zero counts), as for any series that stops without a
    # staleness marker.
    gap_minutes = [START + 60 * m for m in range(GAP[0] + 5, GAP[1])]
    assert set(gap_minutes) <= set(gap.missing) and len(gap.missing) == len(gap_minutes)
    assert all(gap.counts[START + 60 * m] == (7, 7) for m in range(600) if m < GAP[0] or m >= GAP[1])
    # After the series ends: missing (beyond the lookback), not zero.
    assert beyond.missing[-1] == START + 60 * 699 and START + 60 * 650 in beyond.missing


async def test_a_query_prometheus_refuses_is_a_typed_error_with_its_message(prometheus):
    async with PrometheusSource(prometheus.url) as source:
        with pytest.raises(SourceRejected, match="unclosed left parenthesis") as err:
            await source.validate("sum(rate(http_requests_total[5m])", START)
        assert err.value.status == 400 and err.value.error_type == "bad_data"
        with pytest.raises(SourceRejected, match="unknown function"):
            await source.validate("frobnicate(http_requests_total)", START)
        await source.validate("sum(rate(http_requests_total[5m]))", START)


async def test_selectors_joined_by_or_count_every_series_they_select(prometheus, history):
    """flaky_total and restarts_total have the same labels but the name: PromQL's own
    `or` would drop restarts_total's series; a count takes the union."""
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(queries(good="flaky_total", total="flaky_total or restarts_total"), START, START + 60 * 150)
        [(_, promql_or)] = await source.query("flaky_total or restarts_total", START + 60 * 150)
    assert promql_or == 5 * 150  # PromQL's `or` keeps flaky_total alone
    assert [counts.counts[START + 60 * m] for m in range(150)] == [(5, 5 + history.restarts[m]) for m in range(150)]


async def test_many_definitions_in_few_queries_give_each_its_own_counts(prometheus, history):
    """A collection cycle's shape: the selectors of several definitions sent together,
    each definition taking the series its selectors match -- the same counts as one by one."""
    many = [
        queries(),
        queries(good=None, bad='http_requests_total{code=~"5.."}'),
        queries(good="checkout_good_total", total="checkout_all_total", series="single"),
        queries(good="twice_total", total="twice_total", series="single"),
        queries(good="flaky_total", total="flaky_total"),
        count_queries(parse_definition({"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="api"}', "le": "0.3"})),
        queries(good="restarts_total", total="restarts_total"),
    ]
    start, end = START, START + 60 * 240
    sent = []
    async with PrometheusSource(prometheus.url) as source:
        original = source.query_range

        async def counting(expr, *args, **kwargs):
            sent.append(expr)
            return await original(expr, *args, **kwargs)

        source.query_range = counting
        together = await source.minute_counts_many(many, start, end, batch=4)
        one_by_one = []
        for q in many:
            try:
                one_by_one.append(await source.minute_counts(q, start, end))
            except SeveralSeries as exc:
                one_by_one.append(exc)
    assert len(sent) == 2 + 2 * len(many)  # one query per batch of four, then two per definition
    assert isinstance(together[3], SeveralSeries) and isinstance(one_by_one[3], SeveralSeries)
    assert [c for i, c in enumerate(together) if i != 3] == [c for i, c in enumerate(one_by_one) if i != 3]
    # flaky's NaN and restarts' mid-minute restart are in range, handled as one by one.
    assert together[4].missing == (START + 60 * (NAN_MINUTE - 1), START + 60 * NAN_MINUTE)
    assert together[6].counts[START + 60 * RESTARTS["inside"][0]] == (history.restarts[RESTARTS["inside"][0]],) * 2


async def test_definitions_are_checked_by_the_source_itself(prometheus):
    latency = {"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="api"}', "le": "0.3"}
    async with PrometheusSource(prometheus.url) as source:
        await source.validate_definition(parse_definition(RATIO), START + 3600)
        await source.validate_definition(parse_definition(latency), START + 3600)
        with pytest.raises(SourceBadData, match="no bucket le='0.30'"):
            await source.validate_definition(parse_definition({**latency, "le": "0.30"}), START + 3600)
        with pytest.raises(SourceBadData, match="no bucket"):
            await source.validate_definition(parse_definition({**latency, "histogram": 'lat_seconds{job="web"}'}), START + 3600)
        # Lookahead is Python's, not RE2's: the small check lets it by, Prometheus does not.
        lookahead = parse_definition({**RATIO, "good": 'http_requests_total{code=~"(?=2)..."}'})
        with pytest.raises(SourceRejected, match="invalid regular expression|error parsing regexp"):
            await source.validate_definition(lookahead, START + 3600)


async def test_an_unreachable_source_is_a_typed_error():
    async with PrometheusSource(f"http://127.0.0.1:{free_port()}", timeout=2) as source:
        with pytest.raises(SourceUnreachable, match="did not answer"):
            await source.minute_counts(queries(), START, START + 600)
