"""Data sources and SLI definitions through the bus, on both databases: the read models,
the gap closed in the same transaction, the change on an agreed objective as a proposal,
and refusals that append nothing."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select

from domain import journey, objective, sources
from domain.errors import Conflict, DomainError, InvalidInput, NotFound
from projections.tables import data_sources, journeys, objectives
from service.envelope import Envelope

OID = "checkout-availability"
RATIO = {"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}


def run(container, command, role="sre"):
    return container.bus.execute(Envelope(command, f"{role}-person", frozenset({role})))


async def _journey_and_objective(container) -> None:
    await run(container, journey.ProposeJourney(
        "checkout", "Checkout", "buy", ("cart", "pay"), "cart", "done", "order placed", "team", 1), "product")
    await run(container, journey.PrioritizeJourney("checkout", 1, 1, "revenue"), "product")
    await run(container, journey.RecordInstrumentationGap("checkout", "no-5xx", "5xx not counted", "availability"))
    await run(container, journey.RecordInstrumentationGap("checkout", "no-traces", "no trace ids"))
    await run(container, objective.DraftObjective(
        OID, "checkout", "Checkout availability", objective.SLI("availability"), objective.Window("rolling", 28),
        objective.Budgeting("occurrences")))


async def _doc(container, table, key: str) -> dict:
    async with container.read_engine.connect() as conn:
        return orjson.loads((await conn.execute(select(table.c.doc).where(table.c.id == key))).scalar_one())


async def test_define_then_change_by_proposal_with_read_models_and_gap(container):
    await _journey_and_objective(container)
    await run(container, sources.DefineDataSource("prom", "prometheus", "http://127.0.0.1:9090/", {"Authorization": "PROM_AUTH"}))
    await run(container, sources.ChangeDataSource("prom", "prometheus", "http://127.0.0.1:9091"))
    async with container.read_engine.connect() as conn:
        row = (await conn.execute(select(data_sources))).one()
    assert (row.id, row.url, row.retired, row.version) == ("prom", "http://127.0.0.1:9091", False, 2)
    assert orjson.loads(row.doc)["headers_from_env"] == {}

    result = await run(container, objective.DefineSli(OID, RATIO, rationale="5xx are the failures", checked=True))
    # The availability gap closes in the same transaction; the other gap stays open.
    assert [e.type for e in result.events] == ["SliDefined", "InstrumentationGapClosed"]
    gaps = {g["gap_id"]: g["open"] for g in (await _doc(container, journeys, "checkout"))["gaps"]}
    assert gaps == {"no-5xx": False, "no-traces": True}
    doc = await _doc(container, objectives, OID)
    assert doc["sli_definition"]["good"] == 'http_requests_total{code!~"5.."}' and doc["sli_definition"]["checked"]

    # Agreed: a change is a proposal, endorsed like a target; until then the old one holds.
    await run(container, journey.CloseInstrumentationGap("checkout", "no-traces", "otel"))
    await run(container, objective.ProposeTarget(OID, "p1", 0.999, "baseline"))
    for party in objective.PARTIES:
        await run(container, objective.EndorseProposal(OID, "p1", party), party)
    bad_based = {**RATIO, "good": None, "bad": 'http_requests_total{code=~"5.."}'}
    with pytest.raises(InvalidInput, match="proposal"):
        await run(container, objective.DefineSli(OID, bad_based))
    result = await run(container, objective.DefineSli(OID, bad_based, "s1", "count the failures", ("sre", "product")))
    assert [e.type for e in result.events] == ["SliChangeProposed"]
    doc = await _doc(container, objectives, OID)
    assert doc["sli_definition"]["good"] is not None and doc["proposals"][-1]["sli_definition"]["bad"]
    await run(container, objective.EndorseProposal(OID, "s1", "sre"), "sre")
    result = await run(container, objective.EndorseProposal(OID, "s1", "product"), "product")
    assert [e.type for e in result.events] == ["ProposalEndorsed", "TargetAgreed"]
    doc = await _doc(container, objectives, OID)
    assert doc["sli_definition"]["bad"] == 'http_requests_total{code=~"5.."}' and doc["agreed_target"] == 0.999

    # What the collector and baselines read (LogCatalog in service/collection/catalog.py).
    [target] = await container.catalog.targets()
    assert (target.objective_id, target.source.url) == (OID, "http://127.0.0.1:9091")
    assert target.definition.bad is not None and (await container.catalog.target(OID)) == target
    await run(container, objective.DraftObjective(
        "bare", "checkout", "No SLI yet", objective.SLI("availability"), objective.Window("rolling", 28),
        objective.Budgeting("occurrences")))
    with pytest.raises(Conflict, match="no SLI definition"):
        await container.catalog.target("bare")
    with pytest.raises(Conflict, match=f"still named by the SLI definition of objective\\(s\\) {OID}"):
        await run(container, sources.RetireDataSource("prom", "moved"))
    await run(container, objective.RetireObjective(OID, "replaced"))
    await run(container, sources.RetireDataSource("prom", "moved"))
    assert await container.catalog.targets() == []
    with pytest.raises(Conflict, match="not defined"):
        await container.catalog.target(OID)

    # The read models are the log's: a rebuild gives the same rows.
    before = [await _doc(container, objectives, OID), await _doc(container, data_sources, "prom")]
    await container.projections.rebuild(["objectives", "data_sources"])
    assert [await _doc(container, objectives, OID), await _doc(container, data_sources, "prom")] == before


@pytest.mark.parametrize("definition, error, field", [
    ({**RATIO, "source": "nowhere"}, NotFound, "definition.source"),
    ({**RATIO, "total": "rate(http_requests_total[5m])"}, InvalidInput, "definition.total"),
    ({**RATIO, "kind": "latency"}, InvalidInput, "definition.good"),
    ({"kind": "latency", "source": "prom", "histogram": "lat_seconds", "le": "0.3"}, InvalidInput, "definition.kind"),
])
async def test_refusals_name_the_field_and_append_nothing(container, definition, error, field):
    await _journey_and_objective(container)
    await run(container, sources.DefineDataSource("prom", "prometheus", "http://127.0.0.1:9090"))
    head = await container.store.head()
    with pytest.raises(error) as caught:
        await run(container, objective.DefineSli(OID, definition))
    assert caught.value.details.get("field") == field
    assert await container.store.head() == head


async def test_source_guards(container):
    await run(container, sources.DefineDataSource("prom", "prometheus", "http://127.0.0.1:9090"))
    head = await container.store.head()
    for command, error in [
        (sources.DefineDataSource("prom", "prometheus", "http://other:9090"), Conflict),
        (sources.ChangeDataSource("prom", "prometheus", "http://127.0.0.1:9090"), Conflict),  # nothing changes
        (sources.ChangeDataSource("gone", "prometheus", "http://127.0.0.1:9090"), NotFound),
        (sources.DefineDataSource("p2", "prometheus", "http://user:pw@host:9090"), InvalidInput),
    ]:
        with pytest.raises(error):
            await run(container, command)
    assert await container.store.head() == head
    with pytest.raises(DomainError) as caught:
        await run(container, sources.DefineDataSource("p3", "prometheus", "http://h:9090"), "product")
    assert caught.value.code == "FORBIDDEN"
