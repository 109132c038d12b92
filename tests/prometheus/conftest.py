"""One real Prometheus per test session, over history this module writes.

The history (`HISTORY`) is per-minute counters with known increments, starting at a
fixed data time long before the wall clock, long enough (8 days of minutes) that one
`query_range` at a one-minute step would exceed Prometheus's 11,000-point limit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from .harness import Counter, Exporter, PrometheusServer, create_blocks, cumulative, openmetrics

START = 1_767_571_200  # 2026-01-05T00:00:00Z, a Monday
MINUTES = 8 * 24 * 60
RESET_MINUTE = 3_000  # instance b restarts just after this minute's boundary sample
NAN_MINUTE = 200  # flaky_total holds NaN at this boundary
GAP = (400, 420)  # gappy_total has no samples at boundaries 401..419
LATENCY_MINUTES = 2 * 24 * 60
RESTARTS = {"inside": (100, 250), "after": (300,)}  # restarts_total, sampled every 15 s


@dataclass(frozen=True)
class History:
    start: int
    minutes: int
    good: list[int]  # per-minute good of the ratio SLI (both instances)
    total: list[int]
    single_good: list[int]
    single_total: list[int]
    fast: list[int]  # per-minute requests under 0.3 s (latency histogram, first LATENCY_MINUTES)
    requests: list[int]
    restarts: list[int]  # per-minute increments of restarts_total (600 minutes)


def _increments(rng: random.Random, n: int, low: int, high: int) -> list[int]:
    return [rng.randint(low, high) for _ in range(n)]


def build_history() -> tuple[History, list[Counter]]:
    rng = random.Random(13)
    series: list[Counter] = []
    good = [0] * MINUTES
    total = [0] * MINUTES
    for instance in ("a", "b"):
        ok = _increments(rng, MINUTES, 50, 150)
        err = _increments(rng, MINUTES, 0, 3)
        resets = (RESET_MINUTE,) if instance == "b" else ()
        series.append(Counter("http_requests", {"code": "200", "instance": instance}, cumulative(START, ok, reset_after=resets)))
        series.append(Counter("http_requests", {"code": "500", "instance": instance}, cumulative(START, err, reset_after=resets)))
        for m in range(MINUTES):
            good[m] += ok[m]
            total[m] += ok[m] + err[m]
    single_ok = _increments(rng, MINUTES, 0, 20)
    single_total = [g + rng.randint(0, 2) for g in single_ok]
    series.append(Counter("checkout_good", {}, cumulative(START, single_ok)))
    series.append(Counter("checkout_all", {}, cumulative(START, single_total)))
    flaky = cumulative(START, [5] * 600)
    flaky[NAN_MINUTE] = (flaky[NAN_MINUTE][0], float("nan"))
    series.append(Counter("flaky", {}, flaky))
    gappy = [s for k, s in enumerate(cumulative(START, [7] * 600)) if not GAP[0] < k < GAP[1]]
    series.append(Counter("gappy", {}, gappy))
    fast = _increments(rng, LATENCY_MINUTES, 0, 40)
    requests = [f + rng.randint(0, 5) for f in fast]
    for suffix, labels, incs in (
        ("_bucket", {"le": "0.3"}, fast),
        ("_bucket", {"le": "+Inf"}, requests),
        ("_count", {}, requests),
    ):
        series.append(Counter("lat_seconds", {"job": "api", **labels}, cumulative(START, incs), suffix=suffix, family_type="histogram"))
    restarts = _increments(rng, 600, 8, 80)
    series.append(Counter("restarts", {}, cumulative(
        START, restarts, reset_inside=RESTARTS["inside"], reset_after=RESTARTS["after"], per_minute=4)))
    # Two instances of a counter for the "single" refusal.
    for instance in ("a", "b"):
        series.append(Counter("twice", {"instance": instance}, cumulative(START, [1] * 60)))
    return History(START, MINUTES, good, total, single_ok, single_total, fast, requests, restarts), series


@pytest.fixture(scope="session")
def history() -> History:
    return build_history()[0]


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory) -> PrometheusServer:
    _, series = build_history()
    data = tmp_path_factory.mktemp("prometheus") / "data"
    create_blocks(openmetrics(series), data)
    with PrometheusServer(data) as server:
        yield server


@pytest.fixture(scope="session")
def scraped(tmp_path_factory):
    """A Prometheus scraping an in-test exporter live (data at the wall clock's time), with
    `jobs_total{queue="mail"}` served from the start."""
    with Exporter() as exporter:
        exporter.text = "# TYPE jobs counter\njobs_total{queue=\"mail\"} 5\n"
        data = tmp_path_factory.mktemp("scraped") / "data"
        with PrometheusServer(data, scrape_targets=[exporter.address], scrape_interval="200ms") as server:
            yield exporter, server
