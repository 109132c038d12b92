"""An SLI definition is checked against the live source before anything is appended:
a real Prometheus over the history this directory's conftest wrote."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from domain import sources
from domain.errors import InvalidInput, NotFound, Unavailable
from service.envelope import Envelope
from service.sli_check import check_definition

from service.sources.prometheus import PrometheusSource
from tests.graphql import conftest as graphql
from tests.graphql.conftest import EVENTS, journey_input

from .conftest import START
from .harness import Counter, PrometheusServer, create_blocks, cumulative, free_port, openmetrics

api = graphql.api  # the GraphQL fixture, found by pytest under this name
from .test_scrape import wait_for

AT = START + 2 * 86400  # inside the history (which is far behind the wall clock)
RATIO = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}
SLI = "good bad checked"
LATENCY = {"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="api"}', "le": "0.3"}


def sre(command) -> Envelope:
    return Envelope(command, "sam", frozenset({"sre"}))


async def refused(container, definition, error=InvalidInput, **kwargs):
    with pytest.raises(error) as caught:
        await check_definition(container, definition, **kwargs)
    return caught.value


async def test_definitions_are_checked_against_the_live_source(container, prometheus):
    at = datetime.fromtimestamp(AT, timezone.utc)
    await container.bus.execute(sre(sources.DefineDataSource("prom", "prometheus", prometheus.url)))

    # Accepted: the queries parse in Prometheus and the totals have series.
    assert (await check_definition(container, RATIO, at=at)).source == "prom"
    await check_definition(container, LATENCY, at=at)

    # A metric that does not exist, a regex Prometheus cannot compile (a lookahead: Python's `re`,
    # which our own parser uses, takes it; Prometheus's RE2 does not), a bucket the histogram lacks.
    error = await refused(container, {**RATIO, "total": "http_requestz_total"}, at=at)
    assert error.details["field"] == "definition.total" and "no series match http_requestz_total" in error.message
    error = await refused(container, {**RATIO, "good": 'http_requests_total{code=~"(?!5).."}'}, at=at)
    assert error.details["field"] == "definition.good" and "refused the query" in error.message
    error = await refused(container, {**LATENCY, "le": "0.5"}, at=at)
    assert error.details["field"] == "definition.le"
    # Before Prometheus is asked: our own parser, and the source must exist.
    assert (await refused(container, {**RATIO, "total": "rate(x[5m])"}, at=at)).details["field"] == "definition.total"
    assert (await refused(container, {**RATIO, "source": "other"}, NotFound, at=at)).details["field"] == "definition.source"

    # A source that does not answer: UNAVAILABLE, nothing recorded; so is an unset header variable.
    await container.bus.execute(sre(sources.DefineDataSource("down", "prometheus", f"http://127.0.0.1:{free_port()}")))
    await container.bus.execute(sre(sources.DefineDataSource(
        "locked", "prometheus", prometheus.url, {"Authorization": "SLOGOV_TEST_UNSET_VARIABLE"})))
    head = await container.store.head()
    error = await refused(container, {**RATIO, "source": "down"}, Unavailable, at=at, timeout=2)
    assert error.code == "UNAVAILABLE" and error.details["reason"] == "unreachable"
    error = await refused(container, {**RATIO, "source": "locked"}, Unavailable, at=at, environ={})
    assert error.details["reason"] == "misconfigured"
    assert await container.store.head() == head


# --- through the API, against a live scraped Prometheus (data at the wall clock's time) ---


async def test_define_sli_over_graphql_is_checked_and_agreed_like_a_target(api, scraped):
    _, server = scraped
    async with PrometheusSource(server.url) as source:  # scraped at least once (whatever the value now)
        await wait_for(source, 'count(jobs_total{queue="mail"})', 1)
    await api.ok("mutation($i: DefineDataSourceInput!) { defineDataSource(input: $i) { replayed } }",
                 {"i": {"name": "prom", "url": server.url}})
    await api.mutate("proposeJourney", journey_input("checkout"), role="product")
    await api.mutate("prioritizeJourney", {"journeyId": "checkout", "priority": 1, "tier": 1, "rationale": "r"}, role="product")
    await api.mutate("recordInstrumentationGap", {"journeyId": "checkout", "gapId": "g", "description": "no counter",
                                                  "sliKind": "AVAILABILITY"})
    await api.mutate("draftObjective", {
        "objectiveId": "o1", "journeyId": "checkout", "name": "Mail jobs",
        "sli": {"kind": "AVAILABILITY"}, "window": {"kind": "ROLLING", "days": 28}, "budgeting": {"method": "OCCURRENCES"},
    })
    jobs = {"kind": "RATIO", "source": "prom", "good": 'jobs_total{queue="mail"}', "total": "jobs_total"}

    # Refused by the live source, nothing appended: a metric with no series, a regex RE2 refuses.
    code, error = await api.fail("defineSli", {"objectiveId": "o1", "definition": {**jobs, "total": "jobz_total"}})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "definition.total"
    code, error = await api.fail("defineSli", {"objectiveId": "o1", "definition": {**jobs, "good": 'jobs_total{queue=~"(?!x).*"}'}})
    assert code == "BAD_USER_INPUT" and error["extensions"]["field"] == "definition.good"

    out = await api.ok(f"mutation($i: DefineSliInput!) {{ defineSli(input: $i) {{ objective {{ sliDefinition {{ {SLI} }} }} {EVENTS} }} }}",
                       {"i": {"objectiveId": "o1", "definition": jobs}})
    assert [e["type"] for e in out["defineSli"]["events"]] == ["SliDefined", "InstrumentationGapClosed"]
    assert out["defineSli"]["objective"]["sliDefinition"] == {"good": 'jobs_total{queue="mail"}', "bad": None, "checked": True}

    # Agreed: the change is a proposal, shown beside the agreed definition until endorsed.
    await api.mutate("proposeTarget", {"objectiveId": "o1", "proposalId": "p1", "target": 0.99, "rationale": "r"})
    for party in ("product", "sre", "engineering", "leadership"):
        await api.mutate("endorseProposal", {"objectiveId": "o1", "proposalId": "p1", "party": party.upper()}, role=party)
    change = {"objectiveId": "o1", "proposalId": "s1", "rationale": "count failures", "requiredParties": ["SRE"],
              "definition": {**jobs, "good": None, "bad": 'jobs_total{queue="failed"}'}}
    await api.ok("mutation($i: DefineSliInput!) { defineSli(input: $i) { replayed } }", {"i": change})
    read = f'{{ objective(id: "o1") {{ sliDefinition {{ {SLI} }} openProposal {{ target sliDefinition {{ {SLI} }} }} }} }}'
    objective = (await api.ok(read))["objective"]
    assert objective["sliDefinition"]["good"] and objective["openProposal"]["target"] == 0.99
    assert objective["openProposal"]["sliDefinition"]["bad"] == 'jobs_total{queue="failed"}'
    await api.mutate("endorseProposal", {"objectiveId": "o1", "proposalId": "s1", "party": "SRE"})
    objective = (await api.ok(read))["objective"]
    assert objective["sliDefinition"] == {"good": None, "bad": 'jobs_total{queue="failed"}', "checked": True}
    assert objective["openProposal"] is None


async def test_a_retried_define_sli_is_answered_from_the_record_even_with_the_source_down(api, tmp_path):
    # A Prometheus of our own over a few minutes of history within the last day (the check
    # looks for the total's series there), stopped before the retry.
    start = (int(time.time()) // 3600 - 3) * 3600
    create_blocks(openmetrics([Counter("jobs", {"queue": "mail"}, cumulative(start, [5] * 60))]), tmp_path / "data")
    server = PrometheusServer(tmp_path / "data").start()
    define = f"mutation($i: DefineSliInput!) {{ defineSli(input: $i) {{ replayed objective {{ sliDefinition {{ {SLI} }} }} {EVENTS} }} }}"
    jobs = {"kind": "RATIO", "source": "prom", "good": 'jobs_total{queue="mail"}', "total": "jobs_total"}
    sent = {"objectiveId": "o1", "definition": jobs, "idempotencyKey": "sli-o1"}
    try:
        await api.ok("mutation($i: DefineDataSourceInput!) { defineDataSource(input: $i) { replayed } }",
                     {"i": {"name": "prom", "url": server.url}})
        await api.mutate("proposeJourney", journey_input("checkout"), role="product")
        await api.mutate("prioritizeJourney", {"journeyId": "checkout", "priority": 1, "tier": 1, "rationale": "r"},
                         role="product")
        await api.mutate("draftObjective", {
            "objectiveId": "o1", "journeyId": "checkout", "name": "Mail jobs", "sli": {"kind": "AVAILABILITY"},
            "window": {"kind": "ROLLING", "days": 28}, "budgeting": {"method": "OCCURRENCES"}})
        first = (await api.ok(define, {"i": sent}))["defineSli"]
    finally:
        server.stop()
    assert not first["replayed"] and [e["type"] for e in first["events"]] == ["SliDefined"]

    # The retry: the first answer, from the record; the source is not asked, nothing appended.
    head = await api.head()
    again = (await api.ok(define, {"i": sent}))["defineSli"]
    assert again["replayed"] and again["events"] == first["events"]
    assert again["objective"] == first["objective"]
    assert await api.head() == head
    # The source is down indeed: a new definition cannot be checked ...
    other = {**jobs, "good": 'jobs_total{queue="other"}'}
    code, error = await api.fail("defineSli", {"objectiveId": "o1", "definition": other})
    assert code == "UNAVAILABLE" and error["extensions"]["reason"] == "unreachable"
    # ... and the key sent with another command is a CONFLICT, whatever the source says.
    code, _ = await api.fail("defineSli", {"objectiveId": "o1", "definition": other, "idempotencyKey": "sli-o1"})
    assert code == "CONFLICT"
