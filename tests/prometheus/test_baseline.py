"""A baseline from a real Prometheus's history: counts pulled in chunks, analysed by
the budget ledger, equal to the analysis of what the test wrote."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.baseline_analysis import analyse
from domain.sli_definition import count_queries, parse_definition
from service.sources.prometheus import PrometheusSource

from .conftest import START


async def test_a_baseline_from_prometheus_is_the_baseline_of_what_was_written(prometheus, history):
    defn = parse_definition({"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"})
    progress = []
    async with PrometheusSource(prometheus.url) as source:
        counts = await source.minute_counts(count_queries(defn), START, START + 60 * history.minutes,
                                            on_progress=lambda done, total: progress.append(done / total))
    pulled = {datetime.fromtimestamp(t, timezone.utc): c for t, c in counts.counts.items()}
    written = {datetime.fromtimestamp(START + 60 * m, timezone.utc): (history.good[m], history.total[m]) for m in range(history.minutes)}
    window = {"kind": "rolling", "days": 28}
    ours = analyse(pulled, window=window, candidates=(0.97, 0.98, 0.99))
    assert ours == analyse(written, window=window, candidates=(0.97, 0.98, 0.99))
    assert len(ours.days) == 8 and len(ours.weeks) == 2 and progress[-1] == 1.0
    assert ours.period.end - ours.period.start == timedelta(days=8)
    # About 1.5% of requests fail: 97% and 98% would have held, 99% is breached.
    assert [c.exhausted_at_end for c in ours.candidates] == [False, False, True]
