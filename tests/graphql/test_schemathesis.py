"""Schemathesis against /graphql: generated queries and mutations for every field of the
schema, sent in process to the real app on a fresh database with an admin token. No
answer may be an internal error (HTTP 500, or an error coded INTERNAL_SERVER_ERROR):
every input the schema lets through is either served or refused with a code.

Bounded and deterministic: a fixed number of examples per operation (valid ones, and a
few that break the schema), generated once with hypothesis derandomized (the same cases
every run), over the demo data; about half a minute per database.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode

from api.schema import build_schema
from service.config import Settings
from service.demo import load_demo

EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 2}


def _schema() -> Any:
    introspection = build_schema(Settings(database_url="sqlite+aiosqlite://")).introspect()
    return schemathesis.graphql.from_dict(introspection)


@cache
def generated_queries() -> list[tuple[str, str]]:
    """(operation, query text) for every operation, the same list every run (hypothesis
    derandomized: its seed comes from the generating function, not the clock)."""
    schema = _schema()
    out: list[tuple[str, str]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, count in EXAMPLES_PER_OPERATION.items():
            strategy = schema.get_case_strategy(operation, generation_mode=mode)

            @settings(max_examples=count, derandomize=True, database=None, deadline=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def collect(case: Any) -> None:
                out.append((operation.label, case.body))

            collect()
    return out


async def test_no_generated_request_is_an_internal_error(api):
    await load_demo(api.container)  # journeys, objectives, budgets and policies for reads to walk
    failures = []
    for label, query in generated_queries():
        response = await api.client.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {api.tokens['admin']}"})
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or ()}
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes:
            failures.append(f"{label}: HTTP {response.status_code}\n{query}")
    assert not failures, f"{len(failures)} internal error(s):\n\n" + "\n\n".join(failures[:20])
