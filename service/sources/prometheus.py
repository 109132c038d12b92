"""The Prometheus source adapter: instant and range queries over its HTTP API, and
per-minute good/total counts for an SLI definition.

- `query(expr, at)`: `/api/v1/query`, the series of an instant vector (or a scalar).
- `query_range(expr, start, end, step)`: `/api/v1/query_range` cut into chunks of at
  most `max_points` (default 10,000) points per series, under Prometheus's limit of
  11,000; `on_progress(done, total)` is called after each chunk.
- `minute_counts(queries, start, end)`: the counter expressions' values at every
  minute boundary in [start, end], turned into counts (`service.sources.counters`);
  a minute in which a series dropped (a reset) is recounted from that series' raw
  samples, so what it counted before the restart is kept.
- `minute_counts_many(queries, start, end)`: the same for many definitions, their
  selectors sent together (a collection cycle's cost is per query, not per series).
- `validate(expr)`, `validate_definition(defn)`: Prometheus's own parser, at definition time;
  `series_exist(selector, start, end)`: whether a selector matches anything (the series API).

Headers come from environment variables named by the data source, read when the
adapter is built and never stored. Every failure is a `SourceError` subclass.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import ssl
from collections.abc import Iterator, Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any, Callable, Sequence
from urllib.parse import quote_plus

import httpx
import orjson

from domain.data_source import DataSource
from domain.promql import Selector, parse_counters, quote
from domain.sli_definition import SERIES_SINGLE, CountQueries, LatencySLI, SLIDefinition, bucket_exists_query, count_queries

from .counters import (MINUTE, MinuteCounts, Slice, combine, combine_columns, drops, increase, minute_deltas, steady_deltas,
                       steady_slice, stitched_sums, whole_chunk, whole_values)
from .errors import (
    SeveralSeries,
    SourceError,
    SourceBadData,
    SourceFailed,
    SourceMisconfigured,
    SourceRejected,
    SourceUnreachable,
)

MAX_POINTS = 11_000  # Prometheus refuses a range query with more points per series
PART_LABEL = "slogov_part"  # tags each selector's series in a union query (removed from the result)
LOOKBACK = 300  # Prometheus's default lookback delta: a boundary value is at most this old
DEFAULT_CHUNK_POINTS = 10_000

Labels = tuple[tuple[str, str], ...]
Values = Mapping[int, float]  # a series' value at each time it has one
Progress = Callable[[int, int], None]


def unix_seconds(at: datetime | int | float) -> float:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("a time with a zone is required")
        return at.timestamp()
    return float(at)


def headers_from_env(source: DataSource, environ: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for header, var in source.headers_from_env:
        value = environ.get(var)
        if value is None:
            raise SourceMisconfigured(f"data source {source.name!r}: header {header} needs the environment variable {var}, which is not set")
        out[header] = value
    return out


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default verification (certifi, SSL_CERT_FILE/SSL_CERT_DIR), built once: a
    context per client cost ~0.1 s (loading the CA bundle), once per collection round."""
    return httpx.create_ssl_context()


class PrometheusSource:
    def __init__(self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None, max_concurrency: int = 8) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.url, headers=dict(headers or {}), timeout=timeout, transport=transport,
                                         verify=_tls())
        self._limit = asyncio.Semaphore(max_concurrency)

    @classmethod
    def from_source(cls, source: DataSource, environ: Mapping[str, str] | None = None, **kwargs: Any) -> "PrometheusSource":
        if source.kind != "prometheus":
            raise SourceMisconfigured(f"data source {source.name!r} is of kind {source.kind!r}, not prometheus")
        return cls(source.url, headers=headers_from_env(source, os.environ if environ is None else environ), **kwargs)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "PrometheusSource":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # --- the HTTP API ---------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str], expect: type = dict) -> Any:
        return self._data(await self._post(path, params), path, expect)

    async def _post(self, path: str, params: dict[str, str]) -> httpx.Response:
        async with self._limit:
            try:
                return await self._client.post(path, content=_form(params), headers=_FORM)
            except httpx.HTTPError as exc:
                raise SourceUnreachable(f"Prometheus at {self.url} did not answer: {type(exc).__name__}: {exc}".rstrip(": ")) from None

    def _data(self, response: httpx.Response, path: str, expect: type = dict) -> Any:
        """The `data` of Prometheus's success document, or the error it answered."""
        try:
            body = orjson.loads(response.content)
        except ValueError:
            body = None
        if response.status_code >= 400:
            error_type = body.get("errorType") if isinstance(body, dict) else None
            detail = body.get("error") if isinstance(body, dict) else response.text[:300]
            kind = SourceRejected if response.status_code < 500 else SourceFailed
            raise kind(f"Prometheus answered {response.status_code}: {detail}", status=response.status_code, error_type=error_type)
        if not isinstance(body, dict) or body.get("status") != "success" or not isinstance(body.get("data"), expect):
            raise SourceBadData(f"Prometheus at {self.url} answered {path} with something other than a success document")
        return body["data"]

    async def query(self, expr: str, at: datetime | int | float) -> list[tuple[Labels, float]]:
        """The instant query's series as (labels, value); a scalar is one series without labels."""
        data = await self._get("/api/v1/query", {"query": expr, "time": _fmt(unix_seconds(at))})
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar":
            return [((), _value(result))]
        if kind != "vector" or not isinstance(result, list):
            raise SourceBadData(f"expected an instant vector for {expr!r}, got {kind!r}")
        return [(_labels(item), _value(item.get("value"))) for item in result]

    async def series_exist(self, selector: str, start: datetime | int | float, end: datetime | int | float) -> bool:
        """Whether any series matches `selector` between start and end: the series API,
        which reads the index, not the samples (cheap over a long lookback)."""
        found = await self._get("/api/v1/series", {"match[]": selector, "start": _fmt(unix_seconds(start)),
                                                   "end": _fmt(unix_seconds(end))}, expect=list)
        return bool(found)

    async def validate(self, expr: str, at: datetime | int | float) -> None:
        """Raise `SourceRejected` with Prometheus's parse error when it refuses `expr`."""
        await self._get("/api/v1/query", {"query": expr, "time": _fmt(unix_seconds(at))})

    async def validate_definition(self, defn: SLIDefinition, at: datetime | int | float) -> None:
        """Every query of the definition parses in Prometheus; a latency SLI's bucket exists.

        Run at definition time, before anything is appended: a `SourceRejected` carries
        Prometheus's own message; a histogram without the `le` bucket is `SourceBadData`
        (an `le` must be written exactly as the histogram labels it: "0.3", not "0.30")."""
        queries = count_queries(defn)
        for expr in (queries.good, queries.bad, queries.total):
            if expr is not None:
                await self.validate(expr, at)
        if isinstance(defn, LatencySLI):
            found = await self.query(bucket_exists_query(defn), at)
            if not found:
                raise SourceBadData(f"no series {queries.good} at {at}: the histogram has no bucket le={defn.le!r} there")

    async def query_range(self, expr: str, start: int, end: int, step: int = MINUTE, *,
                          max_points: int = DEFAULT_CHUNK_POINTS, on_progress: Progress | None = None) -> dict[Labels, Values]:
        """Values of every series at start, start+step, ..., end (inclusive), in chunks: each
        series a read-only mapping of time -> value."""
        if not 1 <= max_points <= MAX_POINTS:
            raise ValueError(f"max_points must be in 1..{MAX_POINTS}")
        if step <= 0 or end < start:
            raise ValueError("need step > 0 and end >= start")
        chunks = []
        t = start
        while t <= end:
            last = min(end, t + (max_points - 1) * step)
            chunks.append((t, last))
            t = last + step
        out: dict[Labels, _Series] = {}
        done = 0

        async def one(k: int, a: int, z: int) -> None:
            nonlocal done
            path = "/api/v1/query_range"
            response = await self._post(path, {"query": expr, "start": str(a), "end": str(z), "step": str(step)})
            with _collector_paused():  # the chunk's document is parsed, read and dropped in here
                read(k, a, z, self._data(response, path))
            done += 1
            if on_progress is not None:
                on_progress(done, len(chunks))

        def read(k: int, a: int, z: int, data: Any) -> None:
            if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
                raise SourceBadData(f"expected a range vector for {expr!r}, got {data.get('resultType')!r}")
            boundaries = range(a, z + step, step)
            grid = tuple(boundaries) if step == MINUTE else None
            for item in data["result"]:
                labels = _labels(item)
                series = out.get(labels)
                if series is None:
                    series = out[labels] = _Series(len(chunks), (start, end))
                pairs = item.get("values") or ()
                if not isinstance(pairs, list):
                    raise SourceBadData(f"a series whose values are not a list: {dict(labels)}")
                try:  # the hot loop of a baseline: column by column, in C
                    # Strict: every pair as long as the others, so two columns means two each.
                    times, texts = zip(*pairs, strict=True) if pairs else ((), ())
                    # Each chunk is counted as it lands, while the others are on their way: what
                    # is left when the last one lands is joining the pieces (`_steady_columns`).
                    # Whole numbers (counters nearly always) parse as integers, which are cheaper
                    # to read and to check; a float of either is the same float.
                    if times == grid:
                        whole, piece = whole_chunk(texts)
                        if whole is not None:
                            # A value at every boundary, each whole: checked and counted in
                            # integers; values by time only if the fallback asks (`as_dict`).
                            series.add(k, boundaries, whole, piece)
                            continue
                    whole = whole_values(texts)
                    times, samples = list(map(int, times)), list(map(float, texts if whole is None else whole))
                except (TypeError, ValueError):
                    for pair in pairs:
                        _point(pair)  # names the sample that is wrong
                    raise
                series.add(k, times, samples, steady_slice(times, samples, a, z, whole) if step == MINUTE else None)

        await _all(one(k, a, z) for k, (a, z) in enumerate(chunks))
        return out

    # --- counts ---------------------------------------------------------------

    async def minute_counts(self, queries: CountQueries, start: datetime | int, end: datetime | int, *,
                            max_points: int = DEFAULT_CHUNK_POINTS, on_progress: Progress | None = None) -> MinuteCounts:
        """Good/total for every minute in [start, end) (minute-aligned), from the definition's counters."""
        a, z = _minutes(start, end)
        part_expr = queries.good if queries.good is not None else queries.bad
        per_query = [0, 0]

        def progress(i: int) -> Progress | None:
            if on_progress is None:
                return None

            def report(done: int, total: int) -> None:
                per_query[i] = done
                on_progress(sum(per_query), 2 * total)

            return report

        part, total = await asyncio.gather(
            self._union(_selectors(part_expr), a, z, max_points, progress(0)),
            self._union(_selectors(queries.total), a, z, max_points, progress(1)),
        )
        return await self._counts(queries, _merged(part), _merged(total), a, z)

    async def minute_counts_many(self, many: Sequence[CountQueries], start: datetime | int, end: datetime | int, *,
                                 batch: int = 100) -> list[MinuteCounts | SourceError]:
        """`minute_counts` for many definitions with few queries: the selectors of up to
        `batch` definitions go in one `or` query per side, and each definition takes the
        series its own selectors match. One definition's fault (several series where it
        expects one, bad data) is its entry in the result; a source fault raises."""
        a, z = _minutes(start, end)
        out: list[MinuteCounts | SourceError] = []
        for i in range(0, len(many), batch):
            group = many[i:i + batch]
            parts, totals, selectors = _grouped(group)
            index = {s: k for k, s in enumerate(selectors)}
            per_selector = await self._union(selectors, a, z, DEFAULT_CHUNK_POINTS, None)
            for q, ps, ts in zip(group, parts, totals):
                part, total = _merged(per_selector[index[s]] for s in ps), _merged(per_selector[index[s]] for s in ts)
                try:
                    counts = _steady_counts(q, part, total, a, z)
                    out.append(counts if counts is not None else await self._refined_counts(q, part, total, a, z))
                except (SeveralSeries, SourceBadData) as exc:
                    out.append(exc)
        return out

    async def _union(self, selectors: Sequence[Selector], a: int, z: int, max_points: int,
                     on_progress: Progress | None) -> list[dict[Labels, Values]]:
        """Each selector's series, from one range query: every selector's series tagged
        with its index, so that PromQL's `or` (which drops a right-hand series whose
        labels but the name equal a left-hand one's) keeps them all."""
        if len(selectors) == 1:
            return [await self.query_range(selectors[0].promql(), a, z, MINUTE, max_points=max_points, on_progress=on_progress)]
        result = await self.query_range(union_expr(selectors), a, z, MINUTE, max_points=max_points, on_progress=on_progress)
        out: list[dict[Labels, Values]] = [{} for _ in selectors]
        for labels, values in result.items():
            k, own = _untagged(labels)
            if k is None or k >= len(selectors):
                raise SourceBadData(f"a series without the {PART_LABEL} label slogov set: {dict(labels)}")
            out[k][own] = values
        return out

    async def _counts(self, queries: CountQueries, part: dict[Labels, Values],
                      total: dict[Labels, Values], a: int, z: int) -> MinuteCounts:
        steady = _steady_counts(queries, part, total, a, z)
        return steady if steady is not None else await self._refined_counts(queries, part, total, a, z)

    async def _refined_counts(self, queries: CountQueries, part: dict[Labels, Values],
                              total: dict[Labels, Values], a: int, z: int) -> MinuteCounts:
        """The counts when a series is not steady: each side's deltas, resets refined."""
        # One after the other: without a counter reset neither awaits anything, and a task
        # each would cost more than the counting (a collection round counts thousands).
        part_deltas = await self._deltas(part, a, z)
        total_deltas = await self._deltas(total, a, z)
        if queries.good is not None:
            return combine(part_deltas, None, total_deltas, a, z)
        return combine(None, part_deltas, total_deltas, a, z)

    async def _deltas(self, result: dict[Labels, Values], start: int, end: int) -> dict[int, int | None]:
        """Per-minute counts of a range result, minutes with a reset refined from raw samples."""
        series = list(map(_values_by_time, result.values()))
        steady = steady_deltas(series, start, end)
        if steady is not None:  # no series dropped anywhere: nothing to refine
            return steady
        exact: dict[tuple[int, int], float | None] = {}

        async def refine(i: int, labels: Labels, b: int) -> None:
            # Raw samples from one lookback before the minute to its end: the last one at
            # or before b is the one the boundary value came from.
            selector = "{" + ",".join(f"{k}={quote(v)}" for k, v in labels) + "}"
            data = await self._get("/api/v1/query", {"query": f"{selector}[{LOOKBACK + MINUTE}s]", "time": str(b + MINUTE)})
            result = data.get("result")
            if data.get("resultType") != "matrix" or not isinstance(result, list) or len(result) != 1:
                raise SourceBadData(f"raw samples of {selector} around {b}: expected one series")
            exact[(i, b)] = increase((_point_raw(p) for p in result[0].get("values") or ()), b, b + MINUTE)

        resets = [(i, labels, b) for i, (labels, values) in enumerate(zip(result, series)) for b in drops(values, start, end)]
        if resets:
            await _all(refine(i, labels, b) for i, labels, b in resets)
        return minute_deltas(series, start, end, exact)


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# What urllib's quote_plus keeps as it is; a space is "+", any other ASCII byte %XX.
_QUOTE = [chr(i) if chr(i).isalnum() or chr(i) in "_.-~" else "+" if i == 32 else f"%{i:02X}" for i in range(128)]


def _form(params: Mapping[str, str]) -> bytes:
    """The form body httpx would send for `data=params` (urllib's urlencode), without its
    per-character Python loop: a round's queries are long (100 selectors each)."""
    return "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in params.items()).encode("ascii")


@functools.lru_cache(maxsize=512)
def _quoted(value: str) -> str:
    # Remembered: a collection round sends the same long query texts every minute
    # (`union_expr` keeps them), and translating one of 100 selectors took ~0.5 ms.
    return value.translate(_QUOTE) if value.isascii() else quote_plus(value)


def _minutes(start: datetime | int, end: datetime | int) -> tuple[int, int]:
    a, z = int(unix_seconds(start)), int(unix_seconds(end))
    if a % MINUTE or z % MINUTE or z <= a:
        raise ValueError("start and end must be whole minutes, start before end")
    return a, z


@functools.lru_cache(maxsize=8192)
def _selectors(expr: str) -> tuple[Selector, ...]:
    """The counter selectors of a definition's expression (parsed once: a collection round
    asks for the same expressions every minute)."""
    return parse_counters(expr, "query")


def _distinct(groups: Sequence[tuple[Selector, ...]]) -> tuple[Selector, ...]:
    return tuple(dict.fromkeys(s for group in groups for s in group))


def _grouped(many: Sequence[CountQueries]) -> tuple[list[tuple[Selector, ...]], list[tuple[Selector, ...]], tuple[Selector, ...]]:
    parts = [_selectors(q.good if q.good is not None else q.bad) for q in many]
    totals = [_selectors(q.total) for q in many]
    return parts, totals, _distinct(parts + totals)


@functools.lru_cache(maxsize=512)  # 512 batches: a round of 25,600 objectives
def _union_text(selectors: tuple[Selector, ...]) -> str:
    return " or ".join(f'label_replace({s.promql()}, "{PART_LABEL}", "{k}", "", "")' for k, s in enumerate(selectors))


def union_expr(selectors: Sequence[Selector]) -> str:
    """One query for several selectors' series, each tagged with its index (PromQL's `or`
    alone drops a right-hand series whose labels but the name equal a left-hand one's).
    The text of a batch is remembered: a collection round asks the same batches every minute."""
    return _union_text(tuple(selectors))


def batch_query(many: Sequence[CountQueries]) -> str:
    """The range query `minute_counts_many` sends for one batch of definitions (benches
    send it raw, as the floor the adapter is measured against)."""
    selectors = _grouped(many)[2]
    return selectors[0].promql() if len(selectors) == 1 else union_expr(selectors)


@functools.lru_cache(maxsize=65536)
def _untagged(labels: Labels) -> tuple[int | None, Labels]:
    """A union's series labels as the index slogov tagged them with (None: no index) and
    the series' own labels. Remembered: a collection round reads the same series every
    minute, and taking them apart cost more than the rest of the union's reading."""
    tag = dict(labels).get(PART_LABEL)
    return (int(tag) if tag is not None and tag.isdigit() else None), tuple(kv for kv in labels if kv[0] != PART_LABEL)


def _steady_counts(queries: CountQueries, part: dict[Labels, Values], total: dict[Labels, Values],
                   a: int, z: int) -> MinuteCounts | None:
    """`_counts` when every series is steady (the common case: no await needed, so a
    collection round's thousands of definitions are counted without a coroutine each);
    None when one is not (then `_counts` refines it). Several series where the SLI
    expects one are refused here, before either."""
    part_expr = queries.good if queries.good is not None else queries.bad
    if queries.series == SERIES_SINGLE:
        for expr, result in ((part_expr, part), (queries.total, total)):
            if len(result) > 1:
                shown = ", ".join("{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" for labels in list(result)[:3])
                raise SeveralSeries(f"{expr!r} gave {len(result)} series where the SLI expects one: {shown}")
    part_steady, total_steady = _steady_columns(part, a, z), _steady_columns(total, a, z)
    if part_steady is None or total_steady is None:
        return None
    if queries.good is not None:  # one pass from the chunks to the columns
        return combine_columns(part_steady, None, total_steady, a, z)
    return combine_columns(None, part_steady, total_steady, a, z)


def _steady_columns(result: dict[Labels, Values], start: int, end: int) -> list[int] | None:
    """`steady_deltas(series, start, end)`'s counts as a column, from the slices each chunk
    was worked into as it arrived (no pass over the whole grid); None when a series was not
    chunked over exactly [start, end] or is not steady there (then `_deltas` decides)."""
    series = list(result.values())
    if not series or not all(isinstance(values, _Series) and values.span == (start, end) for values in series):
        return None
    sums = stitched_sums([values.slices for values in series])
    if sums is None:
        return None
    return sums if type(sums[0]) is int else list(map(int, sums))  # whole slices sum in integers already


class _Series(Mapping):
    """A series' values by time, from `query_range` over `span`: each chunk's columns as it
    arrived, with its `Slice` (None: not steady there, or not yet arrived) in chunk order.
    The time -> value dict is built on the first read by time: a steady series is counted
    from its slices alone, and only the fallback (`_deltas`: a reset, a gap, NaN) reads it."""

    __slots__ = ("slices", "span", "_columns", "_values")

    def __init__(self, chunks: int, span: tuple[int, int]) -> None:
        self.slices: list[Slice | None] = [None] * chunks
        self.span = span
        self._columns: list[tuple[int, Sequence[int], Sequence[float]]] = []
        self._values: dict[int, float] | None = None

    def add(self, k: int, times: Sequence[int], samples: Sequence[float], piece: Slice | None) -> None:
        """Chunk k's times and values (each a number `float` takes), and its slice."""
        self._columns.append((k, times, samples))
        self.slices[k] = piece
        self._values = None

    def as_dict(self) -> dict[int, float]:
        if self._values is None:
            values: dict[int, float] = {}
            for _, times, samples in sorted(self._columns, key=itemgetter(0)):
                values.update(zip(times, map(float, samples)))
            self._values = values
        return self._values

    def __getitem__(self, at: int) -> float:
        return self.as_dict()[at]

    def get(self, at: int, default: Any = None) -> Any:
        return self.as_dict().get(at, default)

    def __iter__(self):
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())

    def __repr__(self) -> str:
        return f"_Series({self.as_dict()!r})"


def _values_by_time(values: Values) -> Values:
    """A plain dict where there is one to read (the per-boundary loops call `get` a lot)."""
    return values.as_dict() if isinstance(values, _Series) else values


def _merged(results) -> dict[Labels, Values]:
    """The union of several selectors' series: a series two of them select counts once."""
    out: dict[Labels, Values] = {}
    for result in results:
        out.update(result)
    return out


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector held off while a range chunk is parsed and read: its document
    is ~10,000 small lists per series, all acyclic and dropped together once read, and each
    collection they would trigger walks every young object for nothing (~15% of a
    baseline pull's CPU). Reference counting frees them as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _all(coros) -> None:
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _fmt(seconds: float) -> str:
    return repr(seconds) if seconds != int(seconds) else str(int(seconds))


_STR = {str}


def _labels(item: Any) -> Labels:
    metric = item.get("metric") if isinstance(item, dict) else None
    if not isinstance(metric, dict):
        raise SourceBadData("a series without its labels")
    if set(map(type, metric.values())) == _STR:
        # What Prometheus sends (a JSON object's keys are strs): the pairs as they are,
        # without a str() of each, which cost half of a collection round's label reading.
        return tuple(sorted(metric.items()))
    return tuple(sorted(zip(map(str, metric), map(str, metric.values()))))


def _value(pair: Any) -> float:
    return _point(pair)[1]


def _point_raw(pair: Any) -> tuple[float, float]:
    try:
        ts, raw = pair
        return float(ts), float(raw)  # "NaN", "+Inf" and "-Inf" included
    except (TypeError, ValueError):
        raise SourceBadData(f"a sample that is not [time, \"value\"]: {pair!r}") from None


def _point(pair: Any) -> tuple[int, float]:
    ts, value = _point_raw(pair)
    return int(round(ts)), value

