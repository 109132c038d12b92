"""An SLI definition checked against its data source before `DefineSli` is sent.

The domain checks what it can without I/O (the expressions parse, the kind fits the
objective, the source exists); here Prometheus itself is asked, at definition time:
- every query parses in Prometheus (`/api/v1/query`); a refusal is BAD_USER_INPUT
  naming the field, with Prometheus's own message;
- every selector of `total` (a latency SLI: its `_count`, and its `le` bucket) matches
  series in the day before the check (the series API: the index, not the samples). A
  total over nothing is a typo or missing instrumentation, and would measure nothing.
  `good` or `bad` may match nothing yet (no errors so far is a fine state);
- a source that does not answer, answers 5xx, refuses the request itself (401, 403,
  404: its URL or headers are wrong) or lacks a header's environment variable on this
  server is UNAVAILABLE: nothing is recorded, and the same request can be sent again
  once the source answers. A definition is never recorded unchecked through the API.

Nothing here appends; the caller sends `DefineSli(checked=True)` after it returns.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Mapping, TypeVar

import orjson
from sqlalchemy import select

from domain import sources
from domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from domain.objective.measurement import FIELD
from domain.sli_definition import LatencySLI, RatioSLI, SLIDefinition, count_queries, parse_definition
from projections.tables import data_sources
from service.sources.errors import SourceError, SourceRejected
from service.sources.prometheus import PrometheusSource

LOOKBACK = timedelta(days=1)  # how far back a total's series must show up
TIMEOUT = 10.0  # seconds per request to the source: a definition is interactive
_QUERY_REFUSED = (400, 422)  # Prometheus's answers to a query it cannot parse or run

T = TypeVar("T")


async def load_source(container: Any, name: str) -> sources.SourceState:
    """The named data source from the read model: NOT_FOUND, or CONFLICT when retired."""
    async with container.read_engine.connect() as conn:
        doc = (await conn.execute(select(data_sources.c.doc).where(data_sources.c.id == name))).scalar()
    state = None if doc is None else sources.from_dict(orjson.loads(doc))
    if state is None:
        raise NotFound(f"data source {name} does not exist: define it first", field=f"{FIELD}.source", name=name)
    if state.retired:
        raise Conflict(f"data source {name} is retired", field=f"{FIELD}.source", name=name)
    return state


async def check_definition(container: Any, definition: Mapping[str, Any], *, at: datetime | None = None,
                           environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT) -> SLIDefinition:
    """Parse `definition` and have its source accept it (see the module); the parsed definition."""
    parsed = parse_definition(definition, FIELD)
    state = await load_source(container, parsed.source)
    at = at or datetime.now(timezone.utc)
    try:
        adapter = PrometheusSource.from_source(state.source(), environ, timeout=timeout)
    except SourceError as error:
        raise _unavailable(state.name, error) from None
    async with adapter:
        for field, expr in _queries(parsed):
            await _asked(state.name, field, adapter.validate(expr, at))
        for field, selector in _must_match(parsed):
            if not await _asked(state.name, field, adapter.series_exist(selector, at - LOOKBACK, at)):
                raise InvalidInput(
                    f"{FIELD}.{field}: no series match {selector} in data source {state.name} in the "
                    f"{LOOKBACK.days} day before {at.isoformat()}: check the metric name and labels "
                    "(a total over nothing measures nothing)",
                    field=f"{FIELD}.{field}",
                )
    return parsed


def _queries(defn: SLIDefinition) -> list[tuple[str, str]]:
    q = count_queries(defn)
    if isinstance(defn, LatencySLI):
        return [("histogram", q.total), ("le", q.good)]
    return [(name, expr) for name, expr in (("good", q.good), ("bad", q.bad), ("total", q.total)) if expr]


def _must_match(defn: SLIDefinition) -> list[tuple[str, str]]:
    if isinstance(defn, RatioSLI):
        return [("total", s.promql()) for s in defn.total]
    q = count_queries(defn)
    return [("histogram", q.total), ("le", q.good)]


async def _asked(name: str, field: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except SourceRejected as error:
        if error.status in _QUERY_REFUSED:
            raise InvalidInput(
                f"{FIELD}.{field}: data source {name} refused the query: {error.message}", field=f"{FIELD}.{field}"
            ) from None
        raise _unavailable(name, error) from None
    except SourceError as error:
        raise _unavailable(name, error) from None


def _unavailable(name: str, error: SourceError) -> Unavailable:
    return Unavailable(
        f"data source {name} could not check the SLI definition ({error.reason}): {error.message}. "
        "Nothing was recorded; send it again once the source answers",
        source=name, reason=error.reason,
    )
