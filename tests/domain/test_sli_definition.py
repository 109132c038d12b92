"""SLI definitions: parsing, the canonical form, and the queries built from them."""

from __future__ import annotations

import pytest

from domain.data_source import parse_source
from domain.errors import InvalidInput
from domain.sli_definition import bucket_exists_query, count_queries, error_ratio, parse_definition

RATIO = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}
LATENCY = {"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="api"}', "le": "0.3",
           "slice": {"minutes": 5, "good_ratio": 0.95}}


def test_round_trips_through_its_plain_form():
    for data in (RATIO, LATENCY, {**RATIO, "good": None, "bad": 'x_total{code=~"5.."}', "series": "single"}):
        defn = parse_definition(data)
        assert parse_definition(defn.to_dict()) == defn
    assert parse_definition(LATENCY).to_dict() == {**LATENCY, "series": "sum"}


def test_count_queries():
    q = count_queries(parse_definition(RATIO))
    assert (q.good, q.bad, q.total, q.series) == ('http_requests_total{code!~"5.."}', None, "http_requests_total", "sum")
    q = count_queries(parse_definition(LATENCY))
    assert (q.good, q.total) == ('lat_seconds_bucket{job="api",le="0.3"}', 'lat_seconds_count{job="api"}')
    assert bucket_exists_query(parse_definition(LATENCY)) == 'count(lat_seconds_bucket{job="api",le="0.3"})'


def test_error_ratio_promql():
    assert error_ratio(parse_definition(RATIO), "5m") == (
        '(sum(rate(http_requests_total[5m])) - sum(rate(http_requests_total{code!~"5.."}[5m]))) / sum(rate(http_requests_total[5m]))')
    bad = parse_definition({**RATIO, "good": None, "bad": "e_total or f_total"})
    assert error_ratio(bad, "1h") == (
        "((sum(rate(e_total[1h])) or vector(0)) + (sum(rate(f_total[1h])) or vector(0))) / sum(rate(http_requests_total[1h]))")


@pytest.mark.parametrize("data,field,message", [
    ({**RATIO, "kind": "quality"}, "sli.kind", "must be 'ratio' or 'latency'"),
    ({**RATIO, "bad": "x_total"}, "sli.good", "exactly one of 'good' and 'bad'"),
    ({**RATIO, "good": None}, "sli.good", "exactly one of"),
    ({**RATIO, "total": "sum(x_total)"}, "sli.total", "got 'sum'"),
    ({**RATIO, "total": "x_total{a=}"}, "sli.total", "quoted string"),
    ({**RATIO, "series": "avg"}, "sli.series", "'sum' or 'single'"),
    ({**RATIO, "source": "no spaces"}, "sli.source", ""),
    ({**RATIO, "le": "0.3"}, "sli.le", "not a field of a ratio SLI"),
    ({**LATENCY, "histogram": "lat_seconds_bucket"}, "sli.histogram", "without '_bucket'"),
    ({**LATENCY, "histogram": 'lat_seconds{le="0.3"}'}, "sli.histogram", "set by slogov"),
    ({**LATENCY, "histogram": "a or b"}, "sli.histogram", "one histogram"),
    ({**LATENCY, "le": "fast"}, "sli.le", "not a number"),
    ({**LATENCY, "le": "-1"}, "sli.le", "above zero"),
    ({**LATENCY, "slice": {"minutes": 0, "good_ratio": 0.9}}, "sli.slice.minutes", "1..1440"),
    ({**LATENCY, "slice": {"minutes": 5, "good_ratio": 1.5}}, "sli.slice.good_ratio", "(0, 1]"),
])
def test_refusals_name_the_field(data, field, message):
    with pytest.raises(InvalidInput) as err:
        parse_definition({k: v for k, v in data.items() if v is not None})
    assert err.value.details["field"] == field and message in err.value.message


@pytest.mark.parametrize("url,message", [
    ("https://user:pw@prom.example", "no credentials"),
    ("https://prom.example/?token=abc", "no credentials"),
    ("ftp://prom.example", "http(s) URL"),
    ("http://", "http(s) URL"),
    ("http://prom.example:99999", "http(s) URL"),
    ("http://prom example", "http(s) URL"),
])
def test_a_source_never_stores_a_secret(url, message):
    with pytest.raises(InvalidInput, match="source.url"):
        parse_source({"name": "p", "kind": "prometheus", "url": url})


def test_source_headers_name_environment_variables_not_values():
    with pytest.raises(InvalidInput, match="the name of an environment variable"):
        parse_source({"name": "p", "kind": "prometheus", "url": "http://p", "headers_from_env": {"Authorization": "Bearer abc"}})
    src = parse_source({"name": "p", "kind": "prometheus", "url": "http://p:9090/", "headers_from_env": {"X-B": "B", "X-A": "A"}})
    assert src.url == "http://p:9090" and src.headers_from_env == (("X-A", "A"), ("X-B", "B"))
    with pytest.raises(InvalidInput, match="source.kind"):
        parse_source({"name": "p", "kind": "graphite", "url": "http://p"})
