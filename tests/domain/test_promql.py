"""The small PromQL check: what it accepts, and the clear error for each fault."""

from __future__ import annotations

import pytest

from domain import promql
from domain.errors import InvalidInput


@pytest.mark.parametrize("expr", [
    'sum by (job) (rate(http_requests_total{code=~"5..",job!="x"}[5m]))',
    "histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[5m:1m])))",
    "a and (b) or on(job) c",
    "x offset 1h30m > 1e3",
    "rate(x[5m] @ end())",
    '{__name__="up", job=~".+"}',
    "sum(rate(x[5m])) without (instance)",
    "label_replace(up, 'a', \"$1\", `b`, '(.*)')",
])
def test_accepts_promql(expr):
    promql.check(expr, "q")


@pytest.mark.parametrize("expr,message", [
    ("sum(rate(x[5m])", "column 4: '(' is never closed"),
    ("rate(x[5m]))", "column 12: unexpected ')'"),
    ("sum(x})", "column 6: '}' closes the '(' at column 4"),
    ('x{a="b"', "column 2: '{' is never closed"),
    ("frobnicate(x)", "column 1: unknown function 'frobnicate'"),
    ("x[5q]", "column 3: '5' is not a duration"),
    ("x[1m1h]", "units must go from largest to smallest"),
    ("x[0s]", "must be longer than zero"),
    ("x[]", "a range needs a duration"),
    ("x{a~\"b\"}", "column 4: unexpected character '~'"),
    ("x{a=b}", "must be matched against a quoted string"),
    ('x{1a="b"}', "expected a label name"),
    ('x{a=~"("}', "invalid regular expression"),
    ('{a=~".*"}', "needs a matcher that does not match the empty string"),
    ("   ", "a PromQL expression is required"),
])
def test_refuses_with_column_and_reason(expr, message):
    with pytest.raises(InvalidInput, match="q: .*") as err:
        promql.check(expr, "q")
    assert message in err.value.message and err.value.details["field"] == "q"


def test_counters_are_selectors_joined_by_or():
    sels = promql.parse_counters('a_total{code!~"5..", job="api"} or b_total', "good")
    assert [s.promql() for s in sels] == ['a_total{code!~"5..",job="api"}', "b_total"]
    assert promql.counters_promql(sels) == 'a_total{code!~"5..",job="api"} or b_total'


@pytest.mark.parametrize("expr,message", [
    ("sum(a_total)", "expected a counter selector, got 'sum'"),
    ("rate(a_total[5m])", "got 'rate'"),
    ("a_total[5m]", "without a range"),
    ("a_total + b_total", "unexpected '+'"),
    ("a_total and b_total", "unexpected 'and'"),
    ("a_total or", "expected a counter selector, got 'the end'"),
])
def test_anything_else_is_refused_as_a_counter(expr, message):
    with pytest.raises(InvalidInput, match="good: ") as err:
        promql.parse_counters(expr, "good")
    assert message in err.value.message


def test_quoting_round_trips_escapes():
    [sel] = promql.parse_counters(r'a{path="say \"hi\"\\"}', "q")
    assert sel.matchers[0].value == 'say "hi"\\'
    assert promql.parse_counters(sel.promql(), "q") == (sel,)


def test_durations():
    assert promql.duration_ms("1h30m", "w") == 5_400_000
    assert promql.duration_text(5_400_000) == "1h30m"
    assert promql.duration_text(259_200_000) == "3d"



def test_a_selector_remembers_its_hash_and_is_rebuilt_when_unpickled():
    import pickle
    import subprocess
    import sys

    from domain.promql import Matcher, Selector

    a, b = promql.parse_counters('a_total{code!~"5.."}', "q")[0], Selector("a_total", (Matcher("code", "!~", "5.."),))
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    # Another process hashes texts with another seed: an unpickled selector must hash as its own do.
    probe = ("import pickle, sys; from domain.promql import Matcher, Selector; "
             "a = pickle.loads(sys.stdin.buffer.read()); print(hash(a) == hash(Selector('a_total', (Matcher('code', '!~', '5..'),))))")
    out = subprocess.run([sys.executable, "-c", probe], input=pickle.dumps(a), capture_output=True, check=True)
    assert out.stdout.strip() == b"True"
