"""The harness's other mode: Prometheus scraping an in-test exporter, live.

Prometheus hands new targets to its scrapers on a 5-second tick, so the first test
to use the session's `scraped` server (conftest) waits ~6 s for it."""

from __future__ import annotations

import asyncio
import math
import time

from service.sources.prometheus import PrometheusSource


async def wait_for(source: PrometheusSource, expr: str, want: float, seconds: float = 20) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = await source.query(expr, time.time())
        if result and result[0][1] == want:
            return result[0][1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{expr} never became {want}: last {result}")


async def test_prometheus_scrapes_what_the_exporter_serves(scraped):
    exporter, server = scraped
    async with PrometheusSource(server.url) as source:
        await wait_for(source, 'up{job="exporter"}', 1)
        await wait_for(source, 'jobs_total{queue="mail"}', 5)
        await asyncio.sleep(1.5)  # so that a whole-second step point falls on each value
        exporter.text = "# TYPE jobs counter\njobs_total{queue=\"mail\"} 12\n"
        await wait_for(source, 'jobs_total{queue="mail"}', 12)
        await asyncio.sleep(1.5)
        now = math.ceil(time.time())
        series = await source.query_range('jobs_total{queue="mail"}', now - 30, now, step=1)
    [(labels, values)] = series.items()
    assert dict(labels) == {"__name__": "jobs_total", "instance": exporter.address, "job": "exporter", "queue": "mail"}
    assert set(values.values()) == {5.0, 12.0}, values
    assert exporter.scrapes >= 2
