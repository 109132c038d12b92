"""Data sources and SLI definitions in the API.

- ``dataSources`` / ``dataSource(name)``: where SLI queries are sent (read model
  ``rm_data_sources``); ``defineDataSource``, ``changeDataSource``, ``retireDataSource``.
- ``Objective.sliDefinition`` and ``Proposal.sliDefinition`` (resolved here): the SLI as
  queries, and the one an open proposal would agree to.
- ``defineSli``: parsed and checked against the live source first
  (``service.sli_check``: BAD_USER_INPUT naming the field, NOT_FOUND for an unknown
  source, UNAVAILABLE when the source cannot answer); only then is ``DefineSli`` sent.
  A draft takes it directly; an agreed objective gets a proposal (``proposalId``,
  ``rationale``) that the parties endorse with ``endorseProposal`` like a target.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import orjson
import strawberry
from sqlalchemy import select
from strawberry.types import Info

from api.auth import current_principal
from api.metrics import record_command
from api.schema import enums, reads
from api.schema.connections import Connection, decode_cursor, page_size
from api.schema.inputs import command_input
from api.schema.objectives import ObjectivePayload, objective_payload
from api.schema.shared import EventRef, envelope_for, event_refs, page_connection, readable, run_command
from domain import objective as od
from domain import sources as sd
from domain.errors import DomainError
from domain.permissions import authorize
from projections.tables import data_sources
from service.sli_check import check_definition


# --- types ------------------------------------------------------------------------------


@strawberry.enum(description="What an SLI definition computes.")
class SliDefinitionKind(Enum):
    RATIO = "ratio"
    LATENCY = "latency"


@strawberry.enum(description="What several series of one expression mean.")
class SeriesMode(Enum):
    SUM = "sum"
    SINGLE = "single"


@strawberry.type(description="A request header whose value the server reads from an environment variable.")
class HeaderFromEnv:
    header: str
    env_var: str = strawberry.field(description="The variable's name; its value is never stored.")


@strawberry.type(description="Where SLI queries are sent: a Prometheus, by URL.")
class DataSource:
    name: strawberry.ID
    kind: str = strawberry.field(description="prometheus")
    url: str
    headers_from_env: list[HeaderFromEnv]
    retired: bool
    retirement_reason: str | None
    version: int = strawberry.field(description="The source stream's version (for expectedVersion).")
    defined_by: str | None
    defined_at: datetime
    updated_at: datetime


@strawberry.type(description="An SLI as queries against a data source; only the fields of its kind are set.")
class SliDefinition:
    kind: SliDefinitionKind
    source: strawberry.ID
    good: str | None = strawberry.field(description="Ratio: the good events' counters (or bad).")
    bad: str | None = strawberry.field(description="Ratio: the bad events' counters (or good).")
    total: str | None = strawberry.field(description="Ratio: all events' counters.")
    histogram: str | None = strawberry.field(description="Latency: the histogram's base name and matchers.")
    le: str | None = strawberry.field(description="Latency: the bucket's upper bound in seconds, as labelled.")
    series: SeriesMode
    slice_minutes: int | None = strawberry.field(description="Timeslice objectives: the slice length.")
    slice_good_ratio: float | None = strawberry.field(description="Timeslice objectives: a slice is good at or above.")
    checked: bool = strawberry.field(description="The data source accepted the queries before they were recorded.")


def from_source(s: sd.SourceState) -> DataSource:
    return DataSource(
        name=strawberry.ID(s.name), kind=s.kind, url=s.url,
        headers_from_env=[HeaderFromEnv(header=h, env_var=v) for h, v in s.source().headers_from_env],
        retired=s.retired, retirement_reason=s.retirement_reason, version=s.version,
        defined_by=s.defined_by, defined_at=s.defined_at, updated_at=s.updated_at,
    )


def from_query(q: od.SliQuery | None) -> SliDefinition | None:
    if q is None:
        return None
    return SliDefinition(
        kind=SliDefinitionKind(q.kind), source=strawberry.ID(q.source), good=q.good, bad=q.bad, total=q.total,
        histogram=q.histogram, le=q.le, series=SeriesMode(q.series), slice_minutes=q.slice_minutes,
        slice_good_ratio=q.slice_good_ratio, checked=q.checked,
    )


# --- inputs -----------------------------------------------------------------------------


@strawberry.input(description="Header name -> the environment variable holding its value (never the value).")
class HeaderFromEnvInput:
    header: str
    env_var: str


@command_input
class DefineDataSourceInput:
    name: strawberry.ID
    url: str = strawberry.field(description="http(s)://host[:port][/path]; no credentials, query or fragment.")
    kind: str = strawberry.field(default="prometheus", description="prometheus")
    headers_from_env: list[HeaderFromEnvInput] | None = None


@command_input
class ChangeDataSourceInput:
    name: strawberry.ID
    url: str
    kind: str = strawberry.field(default="prometheus", description="prometheus")
    headers_from_env: list[HeaderFromEnvInput] | None = None


@command_input
class RetireDataSourceInput:
    name: strawberry.ID
    reason: str


@strawberry.input(description="A timeslice objective's slice rule (default: the objective's own).")
class SliceRuleInput:
    minutes: int
    good_ratio: float


@strawberry.input(description="ratio: good or bad, and total (counter selectors, joined by `or`); "
                              "latency: histogram and le.")
class SliDefinitionInput:
    kind: SliDefinitionKind
    source: strawberry.ID
    good: str | None = None
    bad: str | None = None
    total: str | None = None
    histogram: str | None = None
    le: str | None = None
    series: SeriesMode | None = strawberry.field(default=None, description="Default SUM.")
    slice: SliceRuleInput | None = None


@command_input
class DefineSliInput:
    objective_id: strawberry.ID
    definition: SliDefinitionInput
    proposal_id: strawberry.ID | None = strawberry.field(
        default=None, description="An agreed objective only: the proposal this change opens.")
    rationale: str | None = strawberry.field(default=None, description="Required on an agreed objective.")
    required_parties: list[enums.Party] | None = strawberry.field(
        default=None, description="An agreed objective only: who must endorse the change; default all four.")


def definition_of(d: SliDefinitionInput) -> dict[str, Any]:
    """The plain form the domain parses: the fields given, nothing else."""
    out: dict[str, Any] = {"kind": d.kind.value, "source": str(d.source)}
    for name in ("good", "bad", "total", "histogram", "le"):
        if getattr(d, name) is not None:
            out[name] = getattr(d, name)
    if d.series is not None:
        out["series"] = d.series.value
    if d.slice is not None:
        out["slice"] = {"minutes": d.slice.minutes, "good_ratio": d.slice.good_ratio}
    return out


def _headers(items: list[HeaderFromEnvInput] | None) -> dict[str, str] | None:
    return None if items is None else {h.header: h.env_var for h in items}


# --- reads --------------------------------------------------------------------------------


async def source_by_name(container: Any, name: str) -> sd.SourceState | None:
    async with container.read_engine.connect() as conn:
        doc = (await conn.execute(select(data_sources.c.doc).where(data_sources.c.id == name))).scalar()
    return None if doc is None else sd.from_dict(orjson.loads(doc))


@strawberry.type
class DataSourcePayload:
    data_source: DataSource
    events: list[EventRef]
    replayed: bool


async def _source_payload(info: Info, name: str, input: Any, build: Any) -> DataSourcePayload:
    result = await run_command(info, name, input, build)
    source_name = result.stream_id.removeprefix(f"{sd.CATEGORY}-")
    state = readable(await source_by_name(info.context["container"], source_name), f"data source {source_name}",
                     name=source_name)
    return DataSourcePayload(data_source=from_source(state), events=event_refs(result.events), replayed=result.replayed)


@strawberry.type
class SourcesQuery:
    @strawberry.field(description="Data sources (retired ones too), oldest first.")
    async def data_sources(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[DataSource]:
        current_principal(info)
        container = info.context["container"]
        size = page_size(first, container.settings.max_page_size)
        page = await reads.data_source_page(container, size, decode_cursor(after))
        return page_connection(page, from_source)

    @strawberry.field(description="A data source by name, or null.")
    async def data_source(self, info: Info, name: strawberry.ID) -> DataSource | None:
        current_principal(info)
        state = await source_by_name(info.context["container"], str(name))
        return None if state is None else from_source(state)


@strawberry.type
class SourcesMutation:
    @strawberry.mutation(description="Define a data source (sre, engineering). Secrets are never stored: "
                                     "headers name the environment variables that hold them.")
    async def define_data_source(self, info: Info, input: DefineDataSourceInput) -> DataSourcePayload:
        return await _source_payload(info, "DefineDataSource", input, lambda: sd.DefineDataSource(
            str(input.name), input.kind, input.url, _headers(input.headers_from_env)))

    @strawberry.mutation(description="Change a data source's URL or headers; SLI definitions naming it follow.")
    async def change_data_source(self, info: Info, input: ChangeDataSourceInput) -> DataSourcePayload:
        return await _source_payload(info, "ChangeDataSource", input, lambda: sd.ChangeDataSource(
            str(input.name), input.kind, input.url, _headers(input.headers_from_env)))

    @strawberry.mutation(description="Retire a data source: no SLI definition may name it after. CONFLICT (with "
                                     "objective_ids) while a live objective's SLI, or its open proposal's, names it.")
    async def retire_data_source(self, info: Info, input: RetireDataSourceInput) -> DataSourcePayload:
        return await _source_payload(info, "RetireDataSource", input, lambda: sd.RetireDataSource(
            str(input.name), input.reason))

    @strawberry.mutation(description="Define an objective's SLI as queries (sre, engineering), checked against the "
                                     "live source first. Draft: set directly; agreed: a proposal endorsed like a "
                                     "target. Closes the journey's open instrumentation gaps of the SLI's kind.")
    async def define_sli(self, info: Info, input: DefineSliInput) -> ObjectivePayload:
        principal = current_principal(info)
        parties = od.PARTIES if input.required_parties is None else tuple(p.value for p in input.required_parties)
        command = od.DefineSli(
            str(input.objective_id), definition_of(input.definition),
            None if input.proposal_id is None else str(input.proposal_id), input.rationale, parties, checked=True)
        container = info.context["container"]
        try:
            # Who may, before the source is asked anything; then the source itself, unless
            # this is a retry of a command already recorded: that is answered from the
            # record (the bus replays it), whether or not the source answers now.
            authorize(command, principal.roles)
            if await container.bus.recorded(envelope_for(info, input, command)) is None:
                await check_definition(container, command.definition)
        except DomainError as error:
            record_command("DefineSli", error.code)
            raise
        return await objective_payload(info, "DefineSli", input, lambda: command)
