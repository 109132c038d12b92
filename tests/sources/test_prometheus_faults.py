"""Faults a real Prometheus will not produce on demand (5xx, garbage, wrong shapes),
and the headers taken from the environment: a fake transport stands in."""

from __future__ import annotations

import httpx
import pytest

from domain.data_source import parse_source
from domain.sli_definition import count_queries, parse_definition
from service.sources.errors import SourceBadData, SourceFailed, SourceMisconfigured, SourceRejected
from service.sources.prometheus import PrometheusSource

QUERIES = count_queries(parse_definition({"kind": "ratio", "source": "p", "good": "g_total", "total": "t_total"}))
SOURCE = parse_source({"name": "p", "kind": "prometheus", "url": "http://prom.example:9090/",
                       "headers_from_env": {"Authorization": "PROM_AUTH", "X-Scope-OrgID": "PROM_TENANT"}})


def answering(status: int, body, seen: list | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(body, (dict, list)):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body)
    return httpx.MockTransport(handler)


def matrix(*series):
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[t, str(v)] for t, v in values]} for labels, values in series]}}


async def test_headers_come_from_the_environment_and_are_sent():
    seen: list[httpx.Request] = []
    env = {"PROM_AUTH": "Bearer s3cret", "PROM_TENANT": "team-a"}
    source = PrometheusSource.from_source(SOURCE, env, transport=answering(200, matrix(), seen))
    async with source:
        await source.query_range("g_total", 0, 600)
    assert seen[0].headers["authorization"] == "Bearer s3cret" and seen[0].headers["x-scope-orgid"] == "team-a"
    assert str(seen[0].url) == "http://prom.example:9090/api/v1/query_range"
    assert "s3cret" not in repr(SOURCE.to_dict())


def test_an_unset_header_variable_is_misconfigured():
    with pytest.raises(SourceMisconfigured, match="PROM_TENANT"):
        PrometheusSource.from_source(SOURCE, {"PROM_AUTH": "x"})


@pytest.mark.parametrize("status,body,error,text", [
    (503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}, SourceFailed, "query timed out"),
    (502, "<html>bad gateway</html>", SourceFailed, "bad gateway"),
    (401, "unauthorized", SourceRejected, "401: unauthorized"),
    (422, {"status": "error", "errorType": "execution", "error": "many-to-many matching not allowed"}, SourceRejected, "many-to-many"),
    (200, "not json", SourceBadData, "other than a success"),
    (200, {"status": "success", "data": {"resultType": "vector", "result": []}}, SourceBadData, "expected a range vector"),
    (200, matrix(({"__name__": "g_total"}, [[60, "x"]])), SourceBadData, "not \\[time"),
])
async def test_failures_are_typed_with_prometheus_message(status, body, error, text):
    async with PrometheusSource("http://prom.example", transport=answering(status, body)) as source:
        with pytest.raises(error, match=text) as raised:
            await source.minute_counts(QUERIES, 0, 600)
    if status >= 400:
        assert raised.value.status == status


async def test_good_above_total_is_bad_data_not_a_count():
    def handler(request: httpx.Request) -> httpx.Response:
        query = dict(httpx.QueryParams(request.content.decode()))["query"]
        step = 10 if query == "g_total" else 5
        return httpx.Response(200, json=matrix(({"__name__": query}, [[t, t // 60 * step] for t in range(0, 601, 60)])))
    async with PrometheusSource("http://prom.example", transport=httpx.MockTransport(handler)) as source:
        with pytest.raises(SourceBadData, match="good count 10 exceeds the total 5"):
            await source.minute_counts(QUERIES, 0, 600)


async def test_minute_counts_refuse_unaligned_times():
    async with PrometheusSource("http://prom.example", transport=answering(200, matrix())) as source:
        with pytest.raises(ValueError, match="whole minutes"):
            await source.minute_counts(QUERIES, 30, 600)
