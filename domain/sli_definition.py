"""SLI definitions: what an objective measures, as queries against a data source.

Two kinds, each naming the data source it is read from:

  ratio    good/total or bad/total, each a counter expression: counter selectors
           joined by `or` (`domain.promql.parse_counters` says why nothing else);
           {"kind": "ratio", "source": "prom", "good": "...", "total": "..."}
           (or "bad" instead of "good")
  latency  a threshold over a Prometheus histogram: good = the `le` bucket's counter,
           total = `_count`; {"kind": "latency", "source": "prom",
           "histogram": "http_request_duration_seconds{job=\\"api\\"}", "le": "0.3"}

`series` says what several series mean: "sum" (default: every series is a part, e.g.
one per instance; each is differenced on its own, resets handled, then summed) or
"single" (the expression must yield one series; several is an error, not a sum).

`slice` (timeslice objectives only): {"minutes": 5, "good_ratio": 0.95}, a slice is
good when good/total over it is at least `good_ratio`.

The query builder gives, from a definition, the counter expressions whose per-minute
deltas are the good and total counts (`count_queries`), and the PromQL of the error
ratio over a window (`error_ratio`) that generated recording rules use.
Pure: standard library and `domain.promql` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from domain.commands import require_id
from domain.errors import InvalidInput
from domain.promql import Matcher, Selector, counters_promql, parse_counters

RATIO = "ratio"
LATENCY = "latency"
SERIES_SUM = "sum"
SERIES_SINGLE = "single"
MAX_EXPRESSION_LENGTH = 2000
MAX_SLICE_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class SliceRule:
    minutes: int
    good_ratio: float

    def to_dict(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "good_ratio": self.good_ratio}


@dataclass(frozen=True, slots=True)
class RatioSLI:
    source: str
    total: tuple[Selector, ...]
    good: tuple[Selector, ...] | None = None  # exactly one of good / bad
    bad: tuple[Selector, ...] | None = None
    series: str = SERIES_SUM
    slice: SliceRule | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": RATIO, "source": self.source}
        if self.good is not None:
            out["good"] = counters_promql(self.good)
        else:
            out["bad"] = counters_promql(self.bad)
        out["total"] = counters_promql(self.total)
        return _common(out, self)


@dataclass(frozen=True, slots=True)
class LatencySLI:
    source: str
    histogram: Selector  # the histogram's base name and matchers, without `le`
    le: str  # the bucket's `le` label, as the histogram writes it ("0.3", "+Inf")
    series: str = SERIES_SUM
    slice: SliceRule | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": LATENCY, "source": self.source, "histogram": self.histogram.promql(), "le": self.le}
        return _common(out, self)

    @property
    def threshold_seconds(self) -> float:
        return float(self.le)


SLIDefinition = RatioSLI | LatencySLI


@dataclass(frozen=True, slots=True)
class CountQueries:
    """Counter expressions whose per-minute deltas are the counts.

    Exactly one of `good` / `bad` is set; with `bad`, good = total - bad per minute."""

    total: str
    good: str | None
    bad: str | None
    series: str


def _common(out: dict[str, Any], defn: SLIDefinition) -> dict[str, Any]:
    out["series"] = defn.series
    if defn.slice is not None:
        out["slice"] = defn.slice.to_dict()
    return out


# --- parsing -------------------------------------------------------------------


def parse_definition(data: Any, field: str = "sli") -> SLIDefinition:
    """The definition from its plain form (command input or event data), or InvalidInput."""
    if isinstance(data, (RatioSLI, LatencySLI)):
        return data
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{field} must be an object with a kind ('ratio' or 'latency')", field=field)
    kind = data.get("kind")
    allowed = {
        RATIO: {"kind", "source", "good", "bad", "total", "series", "slice"},
        LATENCY: {"kind", "source", "histogram", "le", "series", "slice"},
    }
    if kind not in allowed:
        raise InvalidInput(f"{field}.kind must be 'ratio' or 'latency', got {kind!r}", field=f"{field}.kind")
    unknown = sorted(set(data) - allowed[kind])
    if unknown:
        raise InvalidInput(f"{field}.{unknown[0]}: not a field of a {kind} SLI", field=f"{field}.{unknown[0]}")
    source = require_id(data.get("source"), f"{field}.source")
    series = data.get("series", SERIES_SUM)
    if series not in (SERIES_SUM, SERIES_SINGLE):
        raise InvalidInput(f"{field}.series must be 'sum' or 'single', got {series!r}", field=f"{field}.series")
    slice_rule = _slice_rule(data.get("slice"), f"{field}.slice")
    if kind == RATIO:
        has_good, has_bad = data.get("good") is not None, data.get("bad") is not None
        if has_good == has_bad:
            raise InvalidInput(f"{field}: give exactly one of 'good' and 'bad' (with 'total')", field=f"{field}.good")
        return RatioSLI(
            source=source,
            total=_counters(data.get("total"), f"{field}.total"),
            good=_counters(data["good"], f"{field}.good") if has_good else None,
            bad=_counters(data["bad"], f"{field}.bad") if has_bad else None,
            series=series,
            slice=slice_rule,
        )
    histogram = _counters(data.get("histogram"), f"{field}.histogram")
    if len(histogram) != 1 or histogram[0].metric is None:
        raise InvalidInput(f"{field}.histogram: one histogram's base name with optional matchers, like http_request_duration_seconds{{job=\"api\"}}", field=f"{field}.histogram")
    sel = histogram[0]
    for suffix in ("_bucket", "_count", "_sum"):
        if sel.metric.endswith(suffix):
            raise InvalidInput(f"{field}.histogram: give the base name without {suffix!r}", field=f"{field}.histogram")
    if any(m.label in ("le", "__name__") for m in sel.matchers):
        raise InvalidInput(f"{field}.histogram: 'le' and '__name__' are set by slogov, not matched", field=f"{field}.histogram")
    return LatencySLI(source=source, histogram=sel, le=_le(data.get("le"), f"{field}.le"), series=series, slice=slice_rule)


def _counters(value: Any, field: str) -> tuple[Selector, ...]:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field}: a counter selector is required", field=field)
    if len(value) > MAX_EXPRESSION_LENGTH:
        raise InvalidInput(f"{field}: at most {MAX_EXPRESSION_LENGTH} characters", field=field)
    return parse_counters(value, field)


def _le(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInput(f"{field}: the bucket's upper bound, like \"0.3\" (seconds)", field=field)
    text = value if isinstance(value, str) else repr(float(value))
    try:
        bound = float(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a number", field=field) from None
    if not bound > 0 or math.isnan(bound):
        raise InvalidInput(f"{field}: a bucket bound above zero, got {text!r}", field=field)
    return text


def _slice_rule(value: Any, field: str) -> SliceRule | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"minutes", "good_ratio"}:
        raise InvalidInput(f"{field} must be {{\"minutes\": N, \"good_ratio\": r}}", field=field)
    minutes, ratio = value["minutes"], value["good_ratio"]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_SLICE_MINUTES:
        raise InvalidInput(f"{field}.minutes: whole minutes in 1..{MAX_SLICE_MINUTES}, got {minutes!r}", field=f"{field}.minutes")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        raise InvalidInput(f"{field}.good_ratio: a ratio in (0, 1], got {ratio!r}", field=f"{field}.good_ratio")
    return SliceRule(minutes, float(ratio))


# --- the query builder -----------------------------------------------------------


def count_queries(defn: SLIDefinition) -> CountQueries:
    if isinstance(defn, RatioSLI):
        return CountQueries(
            total=counters_promql(defn.total),
            good=counters_promql(defn.good) if defn.good is not None else None,
            bad=counters_promql(defn.bad) if defn.bad is not None else None,
            series=defn.series,
        )
    return CountQueries(total=_count_selector(defn).promql(), good=_bucket_selector(defn).promql(), bad=None, series=defn.series)


def _bucket_selector(defn: LatencySLI) -> Selector:
    return Selector(defn.histogram.metric + "_bucket", defn.histogram.matchers + (Matcher("le", "=", defn.le),))


def _count_selector(defn: LatencySLI) -> Selector:
    return Selector(defn.histogram.metric + "_count", defn.histogram.matchers)


def _sum_rate(selectors: tuple[Selector, ...], window: str) -> str:
    if len(selectors) == 1:
        return f"sum(rate({selectors[0].promql()}[{window}]))"
    # `rate(a) or rate(b)` would drop b's series whose labels equal a's (rate drops the
    # name), so each part is summed on its own; an absent part counts as zero.
    return "(" + " + ".join(f"(sum(rate({s.promql()}[{window}])) or vector(0))" for s in selectors) + ")"


def error_ratio(defn: SLIDefinition, window: str) -> str:
    """PromQL for the share of bad events over `window` (a Prometheus duration)."""
    if isinstance(defn, LatencySLI):
        good, total = _sum_rate((_bucket_selector(defn),), window), _sum_rate((_count_selector(defn),), window)
        return f"({total} - {good}) / {total}"
    total = _sum_rate(defn.total, window)
    if defn.bad is not None:
        return f"{_sum_rate(defn.bad, window)} / {total}"
    return f"({total} - {_sum_rate(defn.good, window)}) / {total}"


def bucket_exists_query(defn: LatencySLI) -> str:
    """PromQL that is non-empty when the histogram has the definition's `le` bucket."""
    return f"count({_bucket_selector(defn).promql()})"

