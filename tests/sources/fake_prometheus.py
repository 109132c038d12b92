"""A stand-in for Prometheus's range-query API (an httpx transport handler), for the
collector's unit tests: what a real one will not do on demand (tests/prometheus/ uses one)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx


class FakePrometheus:
    """Counters that grow by 9 good and 10 total a minute; `failing` answers 503."""

    def __init__(self) -> None:
        self.failing = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.failing:
            return httpx.Response(503, json={"status": "error", "errorType": "unavailable", "error": "tsdb closed"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        start, end, step = int(form["start"]), int(form["end"]), int(form["step"])
        parts = form["query"].count("label_replace(")
        result = [{"metric": {"__name__": "req_total", "slogov_part": str(k)},
                   "values": [[t, str((t // 60) * (9 if k == 0 else 10))] for t in range(start, end + 1, step)]}
                  for k in range(parts)]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})
